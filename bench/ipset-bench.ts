/**
 * ipset read speed on this machine's own kernel at 10,000 Services (test/support/ipset-scale.ts:
 * ~44,000 members in six kube-proxy sets), in a throw-away network namespace: the agent's read
 * (src/ipset/node.ts: a headers-only list, then each KUBE-* set by name) and the ipsets check's
 * compare (src/checks/ipsets.ts diffIpset against the desired sets), and `ipset save` /
 * `ipset list -t` for scale. Root only (`unshare -n`); prints numbers, asserts nothing.
 *
 *   npm run bench ipset        (or: npx tsx bench/ipset-bench.ts)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { diffIpset } from '../src/checks/ipsets.js';
import type { DesiredIpset } from '../src/desired/types.js';
import { ipsetEntryText, parseIpsetEntry } from '../src/ipset/entry.js';
import { readNodeIpsets } from '../src/ipset/node.js';
import { readIpset, readIpsets } from '../src/ipset/reader.js';
import { IpsetReuse } from '../src/ipset/reuse.js';
import type { IpsetDump, IpsetType } from '../src/ipset/types.js';
import { kubeProxySetsRestore } from '../test/support/ipset-scale.js';

const SERVICES = Number(process.env.IPSET_BENCH_SERVICES ?? 10_000);
const RUNS = 20;

export function runIpsetBench(): void {
  if (process.getuid?.() !== 0) {
    console.log('  skipped: needs root for `unshare -n`');
    return;
  }
  const run = spawnSync('unshare', ['-n', process.execPath, '--import', 'tsx', fileURLToPath(import.meta.url)], {
    stdio: 'inherit',
    env: { ...process.env, IPSET_BENCH_IN_NETNS: '1' },
  });
  if (run.status !== 0) throw new Error(`ipset bench failed (exit ${run.status ?? run.signal})`);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const fastest = (xs: number[]): number => Math.min(...xs);
const ms = (x: number): string => `${x.toFixed(1)} ms`;

function timed(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

async function inNetns(): Promise<void> {
  const { restore, entries } = kubeProxySetsRestore(SERVICES);
  const loadMs = timed(() => execFileSync('ipset', ['restore'], { input: restore }));

  // What the check will hold: the desired members per set, keyed by their canonical text.
  const desired = new Map<string, Set<string>>();
  const types = new Map<string, IpsetType>();
  for (const line of restore.split('\n')) {
    const [verb, name, arg] = line.split(' ');
    if (verb === 'create' && name !== undefined && arg !== undefined) {
      types.set(name, arg);
      desired.set(name, new Set());
    } else if (verb === 'add' && name !== undefined && arg !== undefined) {
      const entry = parseIpsetEntry(types.get(name) ?? '', arg);
      if (entry === null) throw new Error(`bench: cannot parse ${line}`);
      desired.get(name)?.add(ipsetEntryText(entry));
    }
  }

  const wanted: DesiredIpset[] = [...desired].map(([name, entries]) => ({ name, family: 'inet', type: (types.get(name) ?? 'hash:ip') as DesiredIpset['type'], entries: [...entries].sort() }));
  const stats = readIpsets().stats;
  // The agent's gate reads /proc/modules; this kernel has ip_set built in, as a kernel without modules would.
  const modules = { release: null, loaded: null, builtin: null, procNetIpvs: null, conntrackSysctls: null, problems: [] };

  // As the agent reads: one IpsetReuse across polls (src/ipset/reuse.ts), so a set listed byte for
  // byte as last time is not decoded nor compared again. Three kinds of poll, interleaved: nothing
  // changed (the usual poll), one member of KUBE-CLUSTER-IP added since the last one (one set
  // decoded and compared afresh), and a cold read without the reuse (the first poll's cost).
  const reuse = new IpsetReuse<IpsetDump>();
  const kinds = ['unchanged', 'one set changed', 'cold'] as const;
  const read = new Map<string, number[]>(kinds.map((k) => [k, []]));
  const compare = new Map<string, number[]>(kinds.map((k) => [k, []]));
  let members = 0;
  let differences = 0;
  const poll = async (kind: (typeof kinds)[number]): Promise<void> => {
    const t0 = performance.now();
    const node = await readNodeIpsets({ modules: () => Promise.resolve(modules), headers: () => readIpsets({ headersOnly: true }).sets, set: (name) => readIpset(name, kind === 'cold' ? {} : { reuse }) });
    read.get(kind)?.push(performance.now() - t0);
    if (!node.readable) throw new Error(`bench: ${node.reason}`);
    const sets = node.sets;
    compare.get(kind)?.push(
      timed(() => {
        members = 0;
        differences = 0;
        for (const set of wanted) differences += diffIpset(set, sets.get(set.name)).length;
        for (const set of sets.values()) members += set.entries.length;
      }),
    );
  };
  await poll('unchanged');
  for (let i = 0; i < RUNS; i++) {
    await poll('unchanged');
    // A member the desired sets do not hold, then gone again: each of these polls sees one change.
    execFileSync('ipset', i % 2 === 0 ? ['add', 'KUBE-CLUSTER-IP', '10.255.255.254,tcp:9'] : ['del', 'KUBE-CLUSTER-IP', '10.255.255.254,tcp:9']);
    await poll('one set changed');
    await poll('cold');
  }
  if (RUNS % 2 === 1) execFileSync('ipset', ['del', 'KUBE-CLUSTER-IP', '10.255.255.254,tcp:9']);
  await poll('unchanged');
  const saveMs = median(Array.from({ length: 5 }, () => timed(() => execFileSync('ipset', ['save'], { maxBuffer: 256 * 1024 * 1024 }))));
  const headersMs = median(Array.from({ length: 5 }, () => timed(() => execFileSync('ipset', ['list', '-t']))));

  console.log(`ipset read at ${SERVICES.toLocaleString('en')} Services (this machine's kernel, unshare -n; median and fastest of ${RUNS} of each kind, interleaved; load ${loadavg()[0]?.toFixed(1)})`);
  console.log(`  members                ${members.toLocaleString('en')} of ${entries.toLocaleString('en')} restored in ${ms(loadMs)}; ${differences} differences`);
  console.log(`  dump                   ${stats.datagrams} datagrams, ${(stats.bytes / 1024).toFixed(0)} KiB; ${reuse.reused} set reads answered by the last decode, ${reuse.decoded} decoded`);
  const row = (label: string, xs: number[]): void => console.log(`  ${label.padEnd(38)} ${ms(median(xs)).padStart(9)} ${ms(fastest(xs)).padStart(9)}`);
  for (const kind of kinds) {
    const r = read.get(kind) ?? [];
    const c = compare.get(kind) ?? [];
    row(`${kind}: read + decode`, r);
    row(`${kind}: compare (the check)`, c);
    row(`${kind}: read + compare`, r.map((x, i) => x + (c[i] ?? 0)));
  }
  console.log('  (target: read + compare ≤ 50 ms on the host)');
  console.log(`  ipset save             ${ms(saveMs)}    ipset list -t  ${ms(headersMs)}`);
}

if (process.env.IPSET_BENCH_IN_NETNS === '1') await inNetns();
else if (process.argv[1] === fileURLToPath(import.meta.url)) runIpsetBench();
