/** Boots the real-IPVS guest, runs the demo script in it and streams what it shows. */
import { imageNodeOptions } from '../bench/agent-scale.js';
import { runInGuest } from '../test/guest/harness.js';

console.log('Booting a Debian kernel with IPVS under QEMU (software emulation, ~15 s)…');
// The agent runs with the image's NODE_OPTIONS, as the DaemonSet runs it.
const result = await runInGuest({ script: `AGENT_NODE_OPTIONS='${imageNodeOptions()}' bash scripts/demo-guest.sh`, timeoutMs: 240_000 });
process.stdout.write(result.stdout);
if (result.exitCode !== 0) {
  process.stderr.write(result.stderr);
  if (result.exitCode === null) process.stderr.write(result.console.slice(-3000));
  console.error(`demo failed (exit ${String(result.exitCode)})`);
  process.exit(1);
}
console.log(`\nDemo finished in ${(result.durationMs / 1000).toFixed(1)} s.`);
