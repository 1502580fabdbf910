/**
 * Consecutive reads of a changing table (src/ipvs/kernel-order.ts, service-list.ts, reader.ts): each
 * read of a long-lived reader, which compares every message with what the last read saw at its
 * place, equals a fresh reader's read of the same table, and shares every virtual and real server
 * that did not change with the read before.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IpvsReader } from '../../../src/ipvs/reader.js';
import type { IpvsSnapshot, VirtualServer } from '../../../src/ipvs/types.js';
import { sameRealServer, sameStats } from '../../../src/ipvs/reuse.js';
import { FakeIpvsKernel, type FakeService, type FakeTable } from '../../support/fake-ipvs-kernel.js';
import type { DestSpec } from '../../support/ipvs-messages.js';

const reader = (kernel: FakeIpvsKernel): IpvsReader => new IpvsReader({ open: kernel.open, now: () => new Date(0), monotonicMs: () => 0, yieldEvery: 2 });

/** Reads `tables` one after the other with one reader (the fake kernel serves table k to read k). */
async function readInTurn(tables: FakeTable[]): Promise<IpvsSnapshot[]> {
  const kernel = new FakeIpvsKernel((dump) => tables[Math.min(Math.floor(dump / 2), tables.length - 1)] as FakeTable);
  kernel.batchSize = 3;
  const r = reader(kernel);
  const out: IpvsSnapshot[] = [];
  for (let k = 0; k < tables.length; k++) out.push(await r.read());
  return out;
}

async function readFresh(table: FakeTable): Promise<IpvsSnapshot> {
  return reader(new FakeIpvsKernel(table)).read();
}

/** Every virtual and real server of `next` equal to the one of the same identity in `before` is that object. */
function expectShared(before: IpvsSnapshot, next: IpvsSnapshot): void {
  const previous = new Map(before.services.map((vs) => [vs.key, vs]));
  for (const vs of next.services) {
    const old = previous.get(vs.key);
    if (old === undefined) continue;
    const oldDests = new Map(old.destinations.map((d) => [`${d.address}|${d.port}`, d]));
    for (const d of vs.destinations) {
      const o = oldDests.get(`${d.address}|${d.port}`);
      if (o !== undefined && sameRealServer(o, d)) expect(d).toBe(o);
      else if (o !== undefined && sameStats(o.stats, d.stats)) expect(d.stats).toBe(o.stats);
    }
    if (sameStats(old.stats, vs.stats)) expect(vs.stats).toBe(old.stats);
    const destsShared = vs.destinations.length === old.destinations.length && vs.destinations.every((d, i) => d === old.destinations[i]);
    if (destsShared) expect(vs.destinations).toBe(old.destinations);
    if (destsShared && equalSettings(old, vs)) expect(vs).toBe(old);
  }
}

function equalSettings(a: VirtualServer, b: VirtualServer): boolean {
  const { destinations: _a, stats: sa, ...restA } = a;
  const { destinations: _b, stats: sb, ...restB } = b;
  return sameStats(sa, sb) && JSON.stringify(restA) === JSON.stringify(restB);
}

const destAddress = fc.oneof(
  fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 255 })).map(([a, b]) => `10.244.${a}.${b}`),
  fc.integer({ min: 1, max: 40 }).map((n) => `fd00:10::${n.toString(16)}`),
);
const dest: fc.Arbitrary<DestSpec> = fc.record({ address: destAddress, port: fc.constantFrom(80, 8080, 53) });
const service = (i: number): fc.Arbitrary<FakeService> =>
  fc.record({
    service: fc.constant(i % 5 === 4 ? { family: 'inet6' as const, fwmark: 4000 + i } : { protocol: 'TCP' as const, address: i % 3 === 2 ? `fd00::${i + 1}` : `10.96.0.${i + 1}`, port: 80 }),
    destinations: fc.uniqueArray(dest, { maxLength: 6, selector: (d) => `${d.address}|${d.port}` }),
  });
const table: fc.Arbitrary<FakeService[]> = fc.integer({ min: 1, max: 7 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => service(i))));

/** One change between two reads, as kube-proxy, traffic or an operator make them. */
type Change = (services: FakeService[]) => FakeService[];
const pick = <T,>(list: readonly T[], n: number): T | undefined => (list.length === 0 ? undefined : list[n % list.length]);
const editDest = (services: FakeService[], n: number, edit: (d: DestSpec) => DestSpec): FakeService[] =>
  services.map((s, i) => (i !== n % services.length ? s : { ...s, destinations: (s.destinations ?? []).map((d, j) => (j === Math.floor(n / 7) % Math.max(1, (s.destinations ?? []).length) ? edit(d) : d)) }));
const change: fc.Arbitrary<Change> = fc.oneof(
  fc.nat().map((n) => (s: FakeService[]) => editDest(s, n, (d) => ({ ...d, activeConns: (d.activeConns ?? 0) + 1, stats: { conns: BigInt(n + 1), inBytes: 2n ** 40n + BigInt(n) } }))),
  fc.nat().map((n) => (s: FakeService[]) => editDest(s, n, (d) => ({ ...d, weight: n % 3 }))),
  fc.nat().map((n) => (s: FakeService[]) => editDest(s, n, (d) => ({ ...d, forward: 'tunnel', tunnel: { type: 'gue', port: 6080 } }))),
  fc.nat().map((n) => (s: FakeService[]) => s.map((x, i) => (i === n % s.length ? { ...x, destinations: [...(x.destinations ?? [])].reverse() } : x))),
  fc.tuple(fc.nat(), dest).map(([n, d]) => (s: FakeService[]) => s.map((x, i) => (i === n % s.length && !(x.destinations ?? []).some((e) => e.address === d.address && e.port === d.port) ? { ...x, destinations: [...(x.destinations ?? []), d] } : x))),
  fc.nat().map((n) => (s: FakeService[]) => s.map((x, i) => (i === n % s.length ? { ...x, destinations: (x.destinations ?? []).slice(1) } : x))),
  fc.nat().map((n) => (s: FakeService[]) => s.map((x, i) => (i === n % s.length ? { ...x, service: { ...x.service, stats: { conns: BigInt(n), outBps: 2n ** 60n } } } : x))),
  fc.nat().map((n) => (s: FakeService[]) => s.map((x, i) => (i === n % s.length ? { ...x, service: { ...x.service, scheduler: 'wlc' } } : x))),
  fc.constant((s: FakeService[]) => [...s].reverse()),
  fc.nat().map((n) => (s: FakeService[]) => s.filter((_, i) => s.length === 1 || i !== n % s.length)),
  fc.nat().map((n) => (s: FakeService[]) => {
    const twice = pick(s, n);
    return twice === undefined ? s : [...s, twice]; // the dump repeats an entry across batches
  }),
  fc.constant((s: FakeService[]) => s),
);

describe('reads of a changing table', () => {
  it('equal fresh reads of each table and share what did not change', async () => {
    await fc.assert(
      fc.asyncProperty(table, fc.array(change, { minLength: 1, maxLength: 5 }), async (first, changes) => {
        const tables: FakeTable[] = [{ services: first }];
        for (const c of changes) tables.push({ services: c((tables.at(-1) as FakeTable).services) });
        const snapshots = await readInTurn(tables);
        for (let k = 0; k < tables.length; k++) {
          const fresh = await readFresh(tables[k] as FakeTable);
          expect(snapshots[k]?.services).toEqual(fresh.services);
          if (k > 0) expectShared(snapshots[k - 1] as IpvsSnapshot, snapshots[k] as IpvsSnapshot);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('an unchanged table is the last read itself: every virtual server, real-server list and counters object', async () => {
    const services: FakeService[] = [
      { service: { protocol: 'TCP', address: '10.96.0.1', port: 443 }, destinations: [{ address: '192.168.1.10', port: 6443 }, { address: '192.168.1.9', port: 6443 }] },
      { service: { protocol: 'UDP', address: '10.96.0.10', port: 53 }, destinations: [{ address: '10.244.2.9', port: 53, stats: { conns: 3n } }] },
    ];
    const [a, b] = await readInTurn([{ services }, { services }]);
    expect(b?.services).toHaveLength(2);
    b?.services.forEach((vs, i) => expect(vs).toBe(a?.services[i]));
  });

  it('a first read of a dump that repeats a real server keeps one, the last listed, sorted among the others', async () => {
    const repeated: FakeService = {
      service: { protocol: 'TCP', address: '10.96.0.1', port: 80 },
      destinations: [
        { address: '10.244.2.10', port: 80, weight: 1 },
        { address: '10.244.1.3', port: 80 },
        { address: '10.244.2.10', port: 80, weight: 7 },
      ],
    };
    const [a, b] = await readInTurn([{ services: [repeated] }, { services: [repeated] }]);
    expect(a?.services[0]?.destinations.map((d) => [d.address, d.weight])).toEqual([
      ['10.244.1.3', 1],
      ['10.244.2.10', 7],
    ]);
    expect(b?.services[0]).toEqual(a?.services[0]);
  });

  it('keeps the sorted order when the kernel lists real servers unsorted, read after read', async () => {
    const unsorted: FakeService = {
      service: { protocol: 'TCP', address: '10.96.0.1', port: 80 },
      destinations: [{ address: '10.244.2.10', port: 80 }, { address: '10.244.10.3', port: 80 }, { address: '10.244.2.9', port: 80 }],
    };
    const busy = (conns: bigint): FakeService => ({ ...unsorted, destinations: unsorted.destinations?.map((d, i) => (i === 1 ? { ...d, stats: { conns } } : d)) });
    const [a, b, c] = await readInTurn([{ services: [busy(1n)] }, { services: [busy(2n)] }, { services: [busy(2n)] }]);
    const order = (s: IpvsSnapshot | undefined) => s?.services[0]?.destinations.map((d) => d.address);
    expect(order(a)).toEqual(['10.244.2.9', '10.244.2.10', '10.244.10.3']);
    expect(order(b)).toEqual(order(a));
    expect(b?.services[0]?.destinations[0]).toBe(a?.services[0]?.destinations[0]);
    expect(b?.services[0]?.destinations[2]?.stats.conns).toBe(2n);
    expect(c?.services[0]).toBe(b?.services[0]);
  });
});
