/**
 * The threaded reader's hand-over (src/ipvs/snapshot-transfer.ts): what unpackSnapshot rebuilds,
 * after a real structured clone with the arrays' buffers transferred, is the decoder's snapshot —
 * field for field and key order for key order, the shared ZERO_STATS where every counter is 0 —
 * for the recordings of the real kernel and for generated tables.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ZERO_STATS } from '../../../src/ipvs/codec.js';
import { IpvsReader } from '../../../src/ipvs/reader.js';
import { packSnapshot, unpackSnapshot, type PackedSnapshot } from '../../../src/ipvs/snapshot-transfer.js';
import type { IpvsSnapshot, IpvsStats, RealServer, VirtualServer } from '../../../src/ipvs/types.js';
import { ReplaySocket, type NetlinkRecording } from '../../../src/netlink/recording.js';
import { REPO_ROOT } from '../../guest/harness.js';
import { snapshotArb } from '../../support/ipvs-arbitraries.js';

async function recorded(name: string): Promise<IpvsSnapshot> {
  const recording = JSON.parse(readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'netlink', `${name}.json`), 'utf8')) as NetlinkRecording;
  const reader = new IpvsReader({ open: () => new ReplaySocket(recording), maxAttempts: 1, now: () => new Date('2026-11-21T00:00:00Z'), monotonicMs: () => 0 });
  try {
    return await reader.read();
  } finally {
    reader.close();
  }
}

/** As the worker posts it: structured clone, the two arrays' buffers transferred. */
function handOver(snapshot: IpvsSnapshot): { packed: PackedSnapshot; unpacked: IpvsSnapshot } {
  const packed = packSnapshot(snapshot);
  const cloned = structuredClone(packed, { transfer: [packed.numbers.buffer, packed.counters.buffer] });
  expect(packed.numbers.byteLength).toBe(0); // transferred, not copied
  return { packed: cloned, unpacked: unpackSnapshot(cloned) };
}

/** Every object's own keys in order, ZERO_STATS marked: deep equality does not look at either. */
function shape(snapshot: IpvsSnapshot): unknown {
  const stats = (s: IpvsStats): unknown => (s === ZERO_STATS ? 'ZERO_STATS' : Object.keys(s));
  const rs = (d: RealServer): unknown => [Object.keys(d), stats(d.stats), d.tunnel === null ? null : Object.keys(d.tunnel)];
  const vs = (v: VirtualServer): unknown => [Object.keys(v), stats(v.stats), v.destinations.map(rs)];
  return [Object.keys(snapshot), snapshot.services.map(vs)];
}

function expectSame(unpacked: IpvsSnapshot, original: IpvsSnapshot): void {
  expect(unpacked).toStrictEqual(original);
  expect(shape(unpacked)).toEqual(shape(original));
}

describe('snapshot hand-over from the reading thread', () => {
  it.each(['empty', 'wide', 'many-services'])('gives back the recorded %s table as the decoder read it', async (name) => {
    const original = await recorded(name);
    expectSame(handOver(original).unpacked, original);
  });

  it('keeps tunnels, IPv6, fwmark services, persistence engines and 64-bit counters', async () => {
    const wide = await recorded('wide');
    const base = wide.services.find((vs) => vs.destinations.length > 0) as VirtualServer;
    const big: IpvsStats = { ...ZERO_STATS, inBytes: 2n ** 64n - 1n, conns: 7n };
    const extra: VirtualServer[] = [
      { ...base, key: 'FWM/4097/inet6', family: 'inet6', protocol: null, address: null, port: null, fwmark: 4097, pe: 'sip', stats: big, destinations: [] },
      {
        ...base,
        key: 'UDP/[fd00::10]:53',
        family: 'inet6',
        protocol: 'UDP',
        address: 'fd00::10',
        port: 53,
        fwmark: null,
        scheduler: 'mh',
        destinations: [
          { ...(base.destinations[0] as RealServer), address: 'fd00::1:2', addressFamily: 'inet6', forward: 'tunnel', tunnel: { type: 'type-7', port: 0, flags: [] }, stats: big },
          { ...(base.destinations[0] as RealServer), address: '10.0.0.1', weight: -1, stats: ZERO_STATS },
        ],
      },
    ];
    const original: IpvsSnapshot = { ...wide, services: [...wide.services, ...extra], unknownAttributes: ['service:13'] };
    const { unpacked } = handOver(original);
    expectSame(unpacked, original);
    expect(unpacked.services.at(-1)?.destinations[0]?.stats.inBytes).toBe(2n ** 64n - 1n);
  });

  it('tells traffic from none by every bit of every counter: a single bit in either 32-bit half is kept', async () => {
    const wide = await recorded('wide');
    const base = wide.services.find((vs) => vs.destinations.length > 0) as VirtualServer;
    const fields = Object.keys(ZERO_STATS) as (keyof IpvsStats)[];
    const values = [1n, 1n << 31n, 1n << 32n, 1n << 63n];
    const destinations = fields.flatMap((field) => values.map((v) => ({ ...(base.destinations[0] as RealServer), stats: { ...ZERO_STATS, [field]: v } })));
    const original: IpvsSnapshot = { ...wide, services: [{ ...base, stats: { ...ZERO_STATS }, destinations }] };
    const { unpacked } = handOver(original);
    expect(unpacked.services[0]?.destinations.map((rs) => rs.stats)).toEqual(destinations.map((rs) => rs.stats));
    // An all-zero counters object that is not the shared one comes back as the shared one.
    expect(unpacked.services[0]?.stats).toBe(ZERO_STATS);
  });

  it('gives back any table the decoder can make', () => {
    fc.assert(
      fc.property(snapshotArb, (original) => {
        expectSame(handOver(original).unpacked, original);
      }),
    );
  });

  it('refuses what the decoder never makes rather than send it wrong', async () => {
    const wide = await recorded('wide');
    const vs = wide.services.find((v) => v.destinations.length > 0) as VirtualServer;
    const negative: IpvsSnapshot = { ...wide, services: [{ ...vs, stats: { ...ZERO_STATS, conns: -1n } }] };
    expect(() => packSnapshot(negative)).toThrow(/counter conns -1 is not a u64/);
    const unknownForward = { ...wide, services: [{ ...vs, destinations: [{ ...(vs.destinations[0] as RealServer), forward: 'teleport' as never }] }] };
    expect(() => packSnapshot(unknownForward)).toThrow(/unknown forwarding method teleport/);
  });

  it('refuses a pack whose arrays, lengths or indices do not add up, naming what is wrong', async () => {
    const wide = await recorded('wide');
    const good = packSnapshot(wide);
    const copy = (change: (numbers: Float64Array<ArrayBuffer>) => void): Float64Array<ArrayBuffer> => {
      const numbers = good.numbers.slice();
      change(numbers);
      return numbers;
    };
    const cases: [string, PackedSnapshot, RegExp][] = [
      ['not arrays', { ...good, numbers: [] as unknown as Float64Array<ArrayBuffer> }, /not a packed snapshot/],
      ['a service too many', { ...good, services: good.services + 1 }, /numbers, more needed/],
      ['a service too few', { ...good, services: good.services - 1 }, /left over/],
      ['an unknown family', { ...good, numbers: copy((a) => (a[0] = 7)) }, /family 7/],
      ['a fractional protocol', { ...good, numbers: copy((a) => (a[1] = 0.5)) }, /protocol 0.5/],
      ['a string past the text', { ...good, text: good.text.slice(0, 10) }, /string of length/],
      ['a service without a key', { ...good, numbers: copy((a) => (a[2] = -1)) }, /no service key/],
      ['more real servers than numbers', { ...good, numbers: copy((a) => (a[12] = 1e9)) }, /1000000000 real servers/],
      ['counters missing', { ...good, counters: good.counters.slice(0, 5) }, /counters, more needed/],
      ['a tunnel of no real server', { ...good, tunnels: [...good.tunnels, { destination: 1e6, tunnel: { type: 'ipip', port: 0, flags: [] } }] }, /tunnel of real server 1000000/],
    ];
    for (const [, packed, message] of cases) expect(() => unpackSnapshot(packed)).toThrow(message);
  });
});
