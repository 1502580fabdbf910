import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ServicePortRef } from '../../../src/drift/types.js';
import type { IpvsSnapshot, IpvsStats, RealServer, VirtualServer } from '../../../src/ipvs/types.js';
import { BACKEND_FAMILIES, ipvsMetricsPieces, renderIpvsMetrics, VS_FAMILIES, type Family, type IpvsMetricsOptions } from '../../../src/render/ipvs-metrics.js';
import type { ServiceLookup } from '../../../src/render/snapshot.js';
import { rs, serviceRef, snapshot, vs, zeroStats } from '../../support/builders.js';

const PREFIX = 'ipvs_sentinel_';

/**
 * The exposition as the renderer wrote it before it wrote pieces — strings joined once, label sets
 * that coincide (fwmark services of two families with one mark) summed in first-seen order: the
 * oracle the piece writer must match byte for byte.
 */
function referenceIpvsMetrics(snap: IpvsSnapshot | null, options: IpvsMetricsOptions): string {
  const esc = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  const rows = (width: number) => ({ labels: [] as string[], values: [] as number[][], at: new Map<string, number>(), width });
  type Rows = ReturnType<typeof rows>;
  const add = (r: Rows, labels: string, values: number[], mayCoincide: boolean): void => {
    const at = mayCoincide ? r.at.get(labels) : undefined;
    if (at !== undefined) r.values[at] = (r.values[at] ?? []).map((v, i) => v + (values[i] ?? 0));
    else {
      if (mayCoincide) r.at.set(labels, r.labels.length);
      r.labels.push(labels);
      r.values.push(values);
    }
  };
  const vsRows = rows(5);
  const rsRows = rows(3);
  for (const v of snap?.services ?? []) {
    const ref = options.lookup?.(v.key) ?? null;
    const local =
      v.fwmark !== null
        ? `local_address="",local_port="0",local_mark="${(v.fwmark >>> 0).toString(16).toUpperCase().padStart(8, '0')}",proto="FWM"`
        : `local_address="${v.address ?? ''}",local_port="${v.port ?? 0}",local_mark="",proto="${v.protocol ?? ''}"`;
    const service = ref ? `namespace="${esc(ref.namespace)}",service="${esc(ref.name)}",port_name="${esc(ref.port)}"` : 'namespace="",service="",port_name=""';
    const s = v.stats;
    add(vsRows, `${local},${service}} `, [s.conns, s.inPkts, s.outPkts, s.inBytes, s.outBytes].map(Number), v.fwmark !== null);
    if (options.backendMetrics) for (const d of v.destinations) add(rsRows, `${local},remote_address="${d.address}",remote_port="${d.port}",${service}} `, [d.activeConns, d.inactiveConns, d.weight], v.fwmark !== null);
  }
  const format = (x: number): string => (Number.isNaN(x) ? 'NaN' : x === Infinity ? '+Inf' : x === -Infinity ? '-Inf' : String(x));
  const out: string[] = [];
  const families = (fs: readonly Family[], r: Rows): void =>
    fs.forEach((f, column) => {
      const name = options.prefix + f.suffix;
      if (out.length > 0) out.push('\n');
      out.push(`# HELP ${name} ${f.help}\n# TYPE ${name} ${f.type}\n`);
      r.labels.forEach((labels, i) => out.push(`${name}{${labels}${format(r.values[i]?.[column] ?? 0)}\n`));
    });
  families(VS_FAMILIES, vsRows);
  if (options.backendMetrics) families(BACKEND_FAMILIES, rsRows);
  return out.join('');
}

const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const statsArb: fc.Arbitrary<IpvsStats> = fc.record({ conns: u64, inPkts: u64, outPkts: u64, inBytes: u64, outBytes: u64 }).map((c) => ({ ...zeroStats(), ...c }));
// Few addresses and marks, so fwmark services of two families share label sets and must be summed.
const rsArb: fc.Arbitrary<RealServer> = fc
  .record({
    hostPort: fc.constantFrom('10.0.0.7:0', '10.0.0.8:80', '[fd00::7]:0', '[fd00::8]:8080', '192.168.1.10:6443'),
    activeConns: fc.nat(),
    inactiveConns: fc.nat(),
    weight: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  })
  .map(({ hostPort, ...counts }) => rs(hostPort, counts));
const keyArb = fc.constantFrom('FWM/4097/inet', 'FWM/4097/inet6', 'FWM/268439552/inet', 'TCP/10.96.0.1:443', 'UDP/[fd00::10]:53', 'SCTP/10.96.0.50:3868', 'TCP/10.96.0.2:80');
const vsArb: fc.Arbitrary<VirtualServer> = fc
  .record({ key: keyArb, stats: statsArb, destinations: fc.uniqueArray(rsArb, { selector: (d) => `${d.address}:${d.port}`, maxLength: 4 }) })
  .map(({ key, stats, destinations }) => vs(key, destinations, { stats }));
const oddString = fc.oneof(fc.string({ unit: 'binary', maxLength: 10 }), fc.constantFrom('', 'a"b', 'back\\slash', 'new\nline', 'ünï'));
const refArb: fc.Arbitrary<ServicePortRef | null> = fc.option(fc.record({ namespace: oddString, name: oddString, port: oddString }), { nil: null });

describe('renderIpvsMetrics', () => {
  it('writes byte for byte what the string renderer wrote, on random tables with coinciding fwmark label sets', () => {
    fc.assert(
      fc.property(fc.array(vsArb, { maxLength: 7 }), fc.array(refArb, { maxLength: 7 }), fc.boolean(), fc.integer({ min: 1, max: 400 }), (services, refs, backendMetrics, pieceBytes) => {
        const snap = snapshot(services);
        const lookup: ServiceLookup = (key) => refs[services.findIndex((s) => s.key === key)] ?? null;
        const options = { lookup, backendMetrics, prefix: PREFIX };
        const pieces = [...ipvsMetricsPieces(snap, { ...options, pieceBytes })];
        expect(Buffer.concat(pieces).toString('utf8')).toBe(referenceIpvsMetrics(snap, options));
      }),
      { numRuns: 300 },
    );
  });

  it('sums the two fwmark services of one mark into one series, per family and per real server', () => {
    const snap = snapshot([
      vs('FWM/4097/inet', [rs('10.0.0.7:0', { activeConns: 2, weight: 1 })], { stats: { ...zeroStats(), conns: 3n } }),
      vs('FWM/4097/inet6', [rs('10.0.0.7:0', { activeConns: 5, weight: 1 }), rs('[fd00::9]:0')], { stats: { ...zeroStats(), conns: 4n } }),
    ]);
    const text = renderIpvsMetrics(snap, { backendMetrics: true, prefix: PREFIX });
    expect(text).toContain('ipvs_sentinel_connections_total{local_address="",local_port="0",local_mark="00001001",proto="FWM",namespace="",service="",port_name=""} 7\n');
    expect(text.match(/^ipvs_sentinel_connections_total\{/gm)).toHaveLength(1);
    expect(text).toContain('ipvs_sentinel_backend_connections_active{local_address="",local_port="0",local_mark="00001001",proto="FWM",remote_address="10.0.0.7",remote_port="0",namespace="",service="",port_name=""} 7\n');
    expect(text).toContain('ipvs_sentinel_backend_weight{local_address="",local_port="0",local_mark="00001001",proto="FWM",remote_address="10.0.0.7",remote_port="0",namespace="",service="",port_name=""} 2\n');
    expect(text.match(/^ipvs_sentinel_backend_weight\{/gm)).toHaveLength(2);
  });

  it('writes 64-bit counters as prom-client writes floats, and escapes label values', () => {
    const snap = snapshot([vs('TCP/10.96.0.1:443', [rs('10.0.0.1:80', { weight: -1 })], { stats: { ...zeroStats(), conns: 2n ** 64n - 1n, inPkts: 2n ** 53n + 1n, outPkts: 12345678901234n } })]);
    const text = renderIpvsMetrics(snap, { lookup: () => ({ namespace: 'n"s', name: 'a\\b', port: 'x\ny' }), backendMetrics: true, prefix: PREFIX });
    expect(text).toContain('ipvs_sentinel_connections_total{local_address="10.96.0.1",local_port="443",local_mark="",proto="TCP",namespace="n\\"s",service="a\\\\b",port_name="x\\ny"} 18446744073709552000\n');
    expect(text).toContain('ipvs_sentinel_incoming_packets_total{local_address="10.96.0.1",local_port="443",local_mark="",proto="TCP",namespace="n\\"s",service="a\\\\b",port_name="x\\ny"} 9007199254740992\n');
    expect(text).toContain('} 12345678901234\n');
    expect(text).toContain('remote_address="10.0.0.1",remote_port="80",namespace="n\\"s",service="a\\\\b",port_name="x\\ny"} -1\n');
  });

  it('with no snapshot: every family with HELP and TYPE and no series, separated by blank lines', () => {
    const text = renderIpvsMetrics(null, { backendMetrics: true, prefix: PREFIX });
    expect(text).toBe(referenceIpvsMetrics(null, { backendMetrics: true, prefix: PREFIX }));
    expect(text.split('\n\n')).toHaveLength(VS_FAMILIES.length + BACKEND_FAMILIES.length);
    expect(text.endsWith('counter\n') || text.endsWith('gauge\n')).toBe(true);
  });

  it('is lazy and hands a large table out in many pieces', () => {
    let lookups = 0;
    const big = snapshot(Array.from({ length: 500 }, (_, i) => vs(`TCP/10.96.${i >> 8}.${i & 255}:80`, [rs(`10.244.${i >> 8}.${i & 255}:8080`), rs(`10.245.${i >> 8}.${i & 255}:8080`)])));
    const lookup: ServiceLookup = () => (lookups++, serviceRef('shop/web:http'));
    const pieces = ipvsMetricsPieces(big, { lookup, backendMetrics: true, prefix: PREFIX, pieceBytes: 8192 });
    expect(lookups).toBe(0);
    const all = [...pieces];
    expect(lookups).toBe(500);
    expect(all.length).toBeGreaterThan(20);
    expect(Buffer.concat(all).toString()).toBe(referenceIpvsMetrics(big, { lookup: () => serviceRef('shop/web:http'), backendMetrics: true, prefix: PREFIX }));
  });
});
