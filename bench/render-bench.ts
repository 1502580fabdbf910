/**
 * Renderer benchmark (issue 17): a synthetic N × 10 IPVS table (IPv4 ClusterIPs, TCP, rr, masq,
 * weight 1, counters of a busy node), the Service of every virtual server, and a drift report
 * with a few findings; times what `check` prints (renderCheck), the plain table of
 * `ipvs-sentinel ipvs` (renderTable) and the JSON of `ipvs --output json` (snapshotJsonPieces,
 * indented) and of `/ipvs` (one line), at 5,000 and 10,000 Services. Prints the median and the
 * range of several rounds after it; the first run of the first case (check) is
 * what a one-shot `check` process pays, nothing compiled yet.
 *
 *   npx tsx bench/render-bench.ts [sizes] [rounds]     e.g. 5000,10000 7
 *   npm run bench render
 */
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import type { HealthCheck } from '../src/agent/view.js';
import type { DriftReport, ServicePortRef, TrackedFinding } from '../src/drift/types.js';
import { SVC_FLAG } from '../src/ipvs/flags.js';
import type { IpvsSnapshot, IpvsStats, RealServer, VirtualServer } from '../src/ipvs/types.js';
import { renderCheck } from '../src/render/check.js';
import { snapshotJsonPieces } from '../src/render/snapshot-json.js';
import type { ServiceLookup } from '../src/render/snapshot.js';
import { renderTable } from '../src/render/table.js';

const REAL_SERVERS = 10;

/** Counters that grow with i, so the numbers have the widths of a node that has served for a while. */
function stats(i: number, rates: boolean): IpvsStats {
  const conns = BigInt(1 + ((i * 7919) % 50_000));
  const inPkts = conns * 12n;
  const outPkts = conns * 10n;
  const r = rates ? BigInt(i % 7) : 0n;
  return { conns, inPkts, outPkts, inBytes: inPkts * 900n, outBytes: outPkts * 1400n, cps: r, inPps: r * 12n, outPps: r * 10n, inBps: r * 10_800n, outBps: r * 14_000n };
}

export interface RenderInput {
  snapshot: IpvsSnapshot;
  lookup: ServiceLookup;
  report: DriftReport;
  checks: HealthCheck[];
}

/** Service i: ClusterIP 10.96.x.y:80 → endpoints 10.(100+…).….…:8080; findings on a few of them. */
export function buildRenderInput(services: number): RenderInput {
  const list: VirtualServer[] = [];
  const refs = new Map<string, ServicePortRef>();
  let endpoint = 0;
  for (let i = 0; i < services; i++) {
    const address = `10.96.${(i >> 8) & 0xff}.${i & 0xff}`;
    const key = `TCP/${address}:80`;
    const destinations = Array.from({ length: REAL_SERVERS }, (_, j): RealServer => {
      const n = endpoint++;
      return {
        address: `10.${100 + (n >> 16)}.${(n >> 8) & 0xff}.${n & 0xff}`,
        addressFamily: 'inet',
        port: 8080,
        forward: 'masq',
        weight: 1,
        upperThreshold: 0,
        lowerThreshold: 0,
        activeConns: (n * 31) % 40,
        inactiveConns: (n * 17) % 300,
        persistentConns: 0,
        tunnel: null,
        stats: stats(n, j % 3 === 0),
      };
    });
    list.push({ key, family: 'inet', protocol: 'TCP', address, port: 80, fwmark: null, scheduler: 'rr', flagBits: SVC_FLAG.hashed, persistent: false, timeout: 0, netmask: 32, pe: null, stats: stats(i * 10, true), destinations });
    refs.set(key, { namespace: `ns-${i % 50}`, name: `svc-${i}`, port: 'http' });
  }
  const snapshot: IpvsSnapshot = { readAt: new Date(0), durationMs: 0, info: { version: '1.2.1', connTableSize: 4096 }, timeouts: { tcp: 900, tcpFin: 120, udp: 300 }, services: list, unknownAttributes: [] };
  const lookup: ServiceLookup = (key) => refs.get(key) ?? null;

  const findings: TrackedFinding[] = [];
  const finding = (f: Partial<TrackedFinding> & Pick<TrackedFinding, 'kind' | 'subject'>): void => {
    findings.push({
      severity: 'warning',
      virtualServer: null,
      realServer: null,
      service: null,
      expected: null,
      actual: null,
      message: `${f.kind} on ${f.subject}: kube-proxy's next sync repairs this.`,
      selfHealing: true,
      id: `${f.kind}/${f.subject}`,
      firstSeen: new Date(0),
      confirmed: true,
      ...f,
    });
  };
  // One in a hundred Services has a weight off, one a missing real server; one Service is missing whole, one module too.
  for (let i = 0; i < services; i += 100) {
    const vs = list[i] as VirtualServer;
    const rs = vs.destinations[3] as RealServer;
    const rsKey = `${rs.address}:${rs.port}`;
    finding({ kind: 'weight-mismatch', virtualServer: vs.key, realServer: rsKey, subject: `${vs.key} -> ${rsKey}`, service: refs.get(vs.key) ?? null, confirmed: i % 200 === 0 });
    const other = list[i + 1];
    if (other) finding({ kind: 'missing-real-server', severity: 'critical', virtualServer: other.key, realServer: '10.250.0.1:8080', subject: `${other.key} -> 10.250.0.1:8080`, service: refs.get(other.key) ?? null });
  }
  finding({ kind: 'missing-virtual-server', severity: 'critical', virtualServer: 'TCP/10.97.0.1:80', subject: 'TCP/10.97.0.1:80', service: { namespace: 'ns-x', name: 'gone', port: 'http' } });
  const report: DriftReport = { node: 'worker-1', checkedAt: new Date(0), status: 'drift', reason: null, findings };
  const checks: HealthCheck[] = [
    { name: 'ipvs', ok: true, reason: null },
    { name: 'cluster', ok: true, reason: null },
    { name: 'drift', ok: false, reason: `${findings.length} findings` },
  ];
  return { snapshot, lookup, report, checks };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/**
 * The first run's milliseconds (the one `check`, a process of its own, pays: nothing compiled yet
 * when it is the first case), then the median, min and max of `rounds` runs after it, and the output's size.
 */
async function measure(render: () => number, rounds: number): Promise<{ first: number; median: number; min: number; max: number; bytes: number }> {
  const first = performance.now();
  let bytes = render();
  const firstMs = performance.now() - first;
  const times: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const start = performance.now();
    bytes = render();
    times.push(performance.now() - start);
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { first: firstMs, median: median(times), min: Math.min(...times), max: Math.max(...times), bytes };
}

function jsonBytes(snapshot: IpvsSnapshot, pretty: boolean, lookup?: ServiceLookup): number {
  let bytes = 0;
  for (const piece of snapshotJsonPieces(snapshot, { node: 'worker-1', pretty, lookup })) bytes += piece.length;
  return bytes;
}

const ms = (n: number): string => `${n.toFixed(1)} ms`;

export async function runRenderBench(sizesArg?: string, roundsArg?: string): Promise<void> {
  const sizes = (sizesArg ?? '5000,10000').split(',').map(Number);
  const rounds = Number(roundsArg ?? 7);
  for (const size of sizes) {
    const input = buildRenderInput(size);
    const cases: [string, () => number][] = [
      ['check (renderCheck)', () => renderCheck({ ...input, configSource: 'configz', scheduler: 'rr' }).length],
      ['ipvs (renderTable)', () => renderTable(input.snapshot).length],
      ['ipvs --output json (indented)', () => jsonBytes(input.snapshot, true)],
      ['/ipvs (one line, with Services)', () => jsonBytes(input.snapshot, false, input.lookup)],
    ];
    for (const [name, render] of cases) {
      const m = await measure(render, rounds);
      console.log(`render ${size} × ${REAL_SERVERS}: ${name.padEnd(32)} first ${ms(m.first)}, then median ${ms(m.median)} (min ${ms(m.min)}, max ${ms(m.max)}), ${(m.bytes / 1e6).toFixed(1)} MB; ${rounds} rounds`);
    }
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await runRenderBench(process.argv[2], process.argv[3]);
