/** Reader speed on the real kernel: our read vs `ipvsadm -Sn`, in the same guest run. */
import { runInGuest } from '../test/guest/harness.js';

export async function runIpvsReadBench(): Promise<void> {
  console.log('IPVS read (real kernel in the QEMU guest; TCG emulation, compare only within one run)');
  const result = await runInGuest({
    script: 'modprobe -a ip_vs ip_vs_rr && guest_node_network && "$NODE" bench/ipvs-read.guest.mjs > "$OUT/bench.json"',
    memoryMb: 4096,
    timeoutMs: 900_000,
  });
  const text = result.output('bench.json');
  if (result.exitCode !== 0 || !text) throw new Error(`guest bench failed: ${result.stderr}\n${result.console.slice(-2000)}`);
  const rows = JSON.parse(text) as { services: number; realServers: number; loadMs: number; oursMs: number; ipvsadmMs: number; runs: number }[];
  console.log('  table            ipvsadm -R    ipvs-sentinel read   ipvsadm -Sn   ratio (ours/ipvsadm)');
  for (const r of rows) {
    console.log(
      `  ${`${r.services}×10`.padEnd(16)} ${`${(r.loadMs / 1000).toFixed(1)} s`.padStart(10)}    ${`${r.oursMs.toFixed(0)} ms`.padStart(17)}   ${`${r.ipvsadmMs.toFixed(0)} ms`.padStart(11)}   ${(r.oursMs / r.ipvsadmMs).toFixed(2)}`,
    );
  }
}
