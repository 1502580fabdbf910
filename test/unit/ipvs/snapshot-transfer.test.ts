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

  it('gives back any table the decoder can make', () => {
    // Plain objects, as the decoder makes (fast-check's records have no prototype by default).
    const PLAIN = { noNullPrototype: true };
    const counter = fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }));
    const stats = fc.oneof(
      fc.constant(ZERO_STATS),
      fc.record({ conns: counter, inPkts: counter, outPkts: counter, inBytes: counter, outBytes: counter, cps: counter, inPps: counter, outPps: counter, inBps: counter, outBps: counter }, PLAIN).filter((s) => Object.values(s).some((v) => v !== 0n)),
    );
    const u32 = fc.integer({ min: 0, max: 2 ** 32 - 1 });
    const realServer = fc.record({
      address: fc.string({ maxLength: 39 }),
      addressFamily: fc.constantFrom('inet' as const, 'inet6' as const),
      port: fc.integer({ min: 0, max: 65535 }),
      forward: fc.constantFrom('masq' as const, 'local' as const, 'tunnel' as const, 'route' as const, 'bypass' as const),
      weight: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      upperThreshold: u32,
      lowerThreshold: u32,
      activeConns: u32,
      inactiveConns: u32,
      persistentConns: u32,
      tunnel: fc.option(fc.record({ type: fc.constantFrom('ipip' as const, 'gue' as const, 'gre' as const), port: fc.integer({ min: 0, max: 65535 }), flags: fc.array(fc.constantFrom('csum', 'remcsum')) }, PLAIN), { nil: null }),
      stats,
    }, PLAIN);
    const virtualServer = fc.record({
      key: fc.string(),
      family: fc.constantFrom('inet' as const, 'inet6' as const),
      protocol: fc.constantFrom('TCP' as const, 'UDP' as const, 'SCTP' as const, null),
      address: fc.option(fc.string(), { nil: null }),
      port: fc.option(fc.integer({ min: 0, max: 65535 }), { nil: null }),
      fwmark: fc.option(u32, { nil: null }),
      scheduler: fc.string({ maxLength: 16 }),
      flagBits: u32,
      persistent: fc.boolean(),
      timeout: u32,
      netmask: fc.integer({ min: 0, max: 128 }),
      pe: fc.option(fc.string({ maxLength: 16 }), { nil: null }),
      stats,
      destinations: fc.array(realServer, { maxLength: 6 }),
    }, PLAIN);
    const snapshot = fc.record({
      readAt: fc.date({ noInvalidDate: true }),
      durationMs: fc.double({ min: 0, max: 1e6, noNaN: true }),
      info: fc.option(fc.record({ version: fc.string(), connTableSize: u32 }, PLAIN), { nil: null }),
      timeouts: fc.option(fc.record({ tcp: fc.option(u32, { nil: null }), tcpFin: fc.option(u32, { nil: null }), udp: fc.option(u32, { nil: null }) }, PLAIN), { nil: null }),
      services: fc.array(virtualServer, { maxLength: 8 }),
      unknownAttributes: fc.array(fc.string({ maxLength: 12 }), { maxLength: 3 }),
    }, PLAIN);
    fc.assert(
      fc.property(snapshot, (original) => {
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
      ['more real servers than numbers', { ...good, numbers: copy((a) => (a[12] = 1e9)) }, /1000000000 real servers/],
      ['counters missing', { ...good, counters: good.counters.slice(0, 5) }, /counters, more needed/],
      ['a tunnel of no real server', { ...good, tunnels: [...good.tunnels, { destination: 1e6, tunnel: { type: 'ipip', port: 0, flags: [] } }] }, /tunnel of real server 1000000/],
    ];
    for (const [, packed, message] of cases) expect(() => unpackSnapshot(packed)).toThrow(message);
  });
});
