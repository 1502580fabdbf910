/**
 * A reader that reads once (`reuse: false`, the `ipvs` command's): the same snapshot, and the same
 * JSON, as a reusing reader's first read of the same table — real servers sorted, a repeated one
 * the last listed — with nothing kept for a next read.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IpvsReader } from '../../../src/ipvs/reader.js';
import type { IpvsSnapshot } from '../../../src/ipvs/types.js';
import { renderSnapshotJson } from '../../../src/render/snapshot-json.js';
import { FakeIpvsKernel, type FakeService, type FakeTable } from '../../support/fake-ipvs-kernel.js';
import type { DestSpec } from '../../support/ipvs-messages.js';

async function readWith(table: FakeTable, reuse: boolean, batchSize = 3): Promise<IpvsSnapshot> {
  const kernel = new FakeIpvsKernel(table);
  kernel.batchSize = batchSize;
  return new IpvsReader({ open: kernel.open, now: () => new Date(0), monotonicMs: () => 0, yieldEvery: 2, reuse }).read();
}

const TCP = (address: string, port = 80): FakeService['service'] => ({ protocol: 'TCP', address, port });

const TABLES: [string, FakeService[]][] = [
  ['an empty table', []],
  ['a virtual server without real servers', [{ service: TCP('10.96.0.1'), destinations: [] }]],
  [
    'real servers listed in reverse (the kernel adds each at the head of the list)',
    [{ service: TCP('10.96.0.10', 443), destinations: [{ address: '10.244.2.10', port: 8443 }, { address: '10.244.2.9', port: 8443 }, { address: '10.244.10.3', port: 8443, weight: 0 }] }],
  ],
  [
    'a real server repeated across dump batches: the last listed counts',
    [{ service: TCP('10.96.0.1'), destinations: [{ address: '10.244.2.10', port: 80, weight: 1 }, { address: '10.244.1.3', port: 80 }, { address: '10.244.2.10', port: 80, weight: 7 }] }],
  ],
  [
    'IPv6, fwmark and counters',
    [
      { service: { family: 'inet6', fwmark: 4001, stats: { conns: 5n, inBytes: 2n ** 40n } }, destinations: [{ address: 'fd00:10::2', port: 53, stats: { conns: 3n } }, { address: 'fd00:10::1', port: 53, activeConns: 2 }] },
      { service: TCP('fd00::1'), destinations: [{ address: 'fd00:10::a', port: 80, forward: 'tunnel', tunnel: { type: 'gue', port: 6080 } }] },
      { service: TCP('10.96.0.2', 53), destinations: [{ address: '10.244.1.1', port: 53 }, { address: '10.244.1.1', port: 54 }] },
    ],
  ],
];

describe('IpvsReader, reuse: false', () => {
  it.each(TABLES)('reads %s as a reusing reader first does', async (_what, services) => {
    const once = await readWith({ services }, false);
    const reusing = await readWith({ services }, true);
    expect(once).toEqual(reusing);
    expect(renderSnapshotJson(once, { node: 'worker-1', pretty: true })).toBe(renderSnapshotJson(reusing, { node: 'worker-1', pretty: true }));
  });

  it('keeps nothing between reads: a second read shares no object with the first', async () => {
    const services: FakeService[] = [{ service: TCP('10.96.0.1'), destinations: [{ address: '10.244.1.2', port: 80, stats: { conns: 1n } }] }];
    const kernel = new FakeIpvsKernel({ services });
    const reader = new IpvsReader({ open: kernel.open, now: () => new Date(0), monotonicMs: () => 0, reuse: false });
    const a = await reader.read();
    const b = await reader.read();
    expect(b).toEqual(a);
    expect(b.services[0]).not.toBe(a.services[0]);
    expect(b.services[0]?.destinations[0]).not.toBe(a.services[0]?.destinations[0]);
  });

  const dest: fc.Arbitrary<DestSpec> = fc.record({
    address: fc.oneof(
      fc.tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 255 })).map(([a, b]) => `10.244.${a}.${b}`),
      fc.integer({ min: 1, max: 40 }).map((n) => `fd00:10::${n.toString(16)}`),
    ),
    port: fc.constantFrom(53, 80, 8080),
    weight: fc.integer({ min: 0, max: 3 }),
    activeConns: fc.integer({ min: 0, max: 2 }),
  });
  const service = (i: number): fc.Arbitrary<FakeService> =>
    fc.record({
      service: fc.constant(i % 5 === 4 ? { family: 'inet6' as const, fwmark: 4000 + i } : TCP(i % 3 === 2 ? `fd00::${i + 1}` : `10.96.0.${i + 1}`)),
      // Not unique: a dump may repeat a real server.
      destinations: fc.array(dest, { maxLength: 8 }),
    });
  const table = fc.integer({ min: 0, max: 8 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => service(i))));

  it('reads any table as a reusing reader first does', async () => {
    await fc.assert(
      fc.asyncProperty(table, fc.integer({ min: 1, max: 4 }), async (services, batchSize) => {
        const once = await readWith({ services }, false, batchSize);
        const reusing = await readWith({ services }, true, batchSize);
        expect(once).toEqual(reusing);
        expect(renderSnapshotJson(once, { node: null, pretty: true })).toBe(renderSnapshotJson(reusing, { node: null, pretty: true }));
      }),
      { numRuns: 200 },
    );
  });
});
