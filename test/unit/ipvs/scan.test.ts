/**
 * The reader's fast path (src/ipvs/scan.ts) held side by side with the decoder (codec.ts) on random
 * kernel-shaped messages and on corrupted ones: whatever the scan takes, it reads exactly as the
 * decoder does, and it never takes what the decoder refuses.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeDestMessage, decodeServiceMessage, ZERO_STATS } from '../../../src/ipvs/codec.js';
import { IPVS_CMD_ATTR, IPVS_DEST_ATTR, IPVS_STATS_ATTR, IPVS_SVC_ATTR } from '../../../src/ipvs/constants.js';
import { sameRealServer, sameStats } from '../../../src/ipvs/reuse.js';
import { DestScan, ServiceScan } from '../../../src/ipvs/scan.js';
import type { IpvsStats, RealServer, VirtualServer } from '../../../src/ipvs/types.js';
import { encodeAttributes, u16Attr, u32Attr, u64Attr, type AttrSpec } from '../../../src/netlink/attributes.js';
import { encodeRequest } from '../../../src/netlink/message.js';
import { destAttrs, destMessage, serviceAttrs, serviceMessage, statsNest, type DestSpec, type ServiceSpec, type StatsValues } from '../../support/ipvs-messages.js';

/** A payload where the scan reads it: inside a bigger buffer, at an offset, as datagrams are. */
function placed(payload: Uint8Array, offset = 12): { bytes: Uint8Array; view: DataView; start: number; end: number } {
  const bytes = new Uint8Array(offset + payload.byteLength + 8).fill(0xa5);
  bytes.set(payload, offset);
  return { bytes, view: new DataView(bytes.buffer), start: offset, end: offset + payload.byteLength };
}

/** The message around `nested` (the DEST or SERVICE nest's attributes), with `stray` bytes after the last of them. */
function withStray(type: number, nested: AttrSpec[], stray: number[]): Uint8Array {
  const inner = encodeAttributes(nested, false);
  const len = 4 + inner.byteLength + stray.length;
  const out = new Uint8Array((len + 3) & ~3);
  new DataView(out.buffer).setUint16(0, len, true);
  new DataView(out.buffer).setUint16(2, type, true);
  out.set(inner, 4);
  out.set(stray, 4 + inner.byteLength);
  return out;
}

const bytesOf = (type: number, n: number): AttrSpec => ({ type, data: new Uint8Array(n).fill(1) });

function decodeOrError<T>(decode: () => T): T | 'error' {
  try {
    return decode();
  } catch {
    return 'error';
  }
}

const u64 = fc.oneof(
  fc.constant(0n),
  fc.bigInt({ min: 0n, max: 1023n }),
  fc.bigInt({ min: 0n, max: 2n ** 32n }),
  fc.bigInt({ min: 2n ** 53n - 2n, max: 2n ** 53n + 2n }),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
);
const statsValues: fc.Arbitrary<StatsValues> = fc.record(
  { conns: u64, inPkts: u64, outPkts: u64, inBytes: u64, outBytes: u64, cps: u64, inPps: u64, outPps: u64, inBps: u64, outBps: u64 },
  { requiredKeys: [] },
);
const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((b) => b.join('.'));
const ipv6 = fc.constantFrom('fd00::1', 'fd00:10::2', '2001:db8::a:b', '::ffff:10.0.0.1', 'fe80::1:2:3:4', '::');
const stats = { statsNests: fc.constantFrom<NonNullable<DestSpec['statsNests']>>('both', 'stats', 'stats64', 'none'), pad: fc.boolean() };

const destSpec: fc.Arbitrary<DestSpec> = fc.record(
  {
    address: fc.oneof(ipv4, ipv6),
    addressFamily: fc.constantFrom<DestSpec['addressFamily']>(undefined, null, 'inet', 'inet6', 7),
    port: fc.nat(65535),
    forward: fc.constantFrom<NonNullable<DestSpec['forward']>>('masq', 'local', 'tunnel', 'route', 'bypass', 5),
    weight: fc.oneof(fc.constant(1), fc.constant(0), fc.integer({ min: -5, max: 70000 })),
    upperThreshold: fc.nat(10),
    lowerThreshold: fc.nat(10),
    activeConns: fc.nat(3),
    inactiveConns: fc.nat(3),
    persistentConns: fc.nat(3),
    stats: statsValues,
    ...stats,
    extra: fc.constantFrom<AttrSpec[]>([], [u32Attr(16, 1)]),
    omit: fc.constantFrom<number[]>([], [IPVS_DEST_ATTR.WEIGHT], [IPVS_DEST_ATTR.PORT], [IPVS_DEST_ATTR.TUN_TYPE, IPVS_DEST_ATTR.TUN_PORT, IPVS_DEST_ATTR.TUN_FLAGS]),
  },
  { requiredKeys: ['address'] },
);

const serviceSpec: fc.Arbitrary<ServiceSpec> = fc.oneof(
  fc.record(
    {
      address: fc.oneof(ipv4, ipv6),
      protocol: fc.constantFrom<NonNullable<ServiceSpec['protocol']>>('TCP', 'UDP', 'SCTP', 99),
      port: fc.nat(65535),
      scheduler: fc.constantFrom('rr', 'wlc', 'mh', '', 'sé'),
      pe: fc.constantFrom(undefined, '', 'sip', 'pé'),
      flags: fc.constantFrom(0x2, 0x3, 0x12),
      timeout: fc.nat(20000),
      netmask: fc.nat(32),
      stats: statsValues,
      ...stats,
      extra: fc.constantFrom<AttrSpec[]>([], [u32Attr(13, 1)]),
      omit: fc.constantFrom<number[]>([], [IPVS_SVC_ATTR.PORT], [IPVS_SVC_ATTR.SCHED_NAME], [IPVS_SVC_ATTR.FLAGS, IPVS_SVC_ATTR.NETMASK]),
    },
    { requiredKeys: ['address'] },
  ),
  fc.record({ family: fc.constantFrom<'inet' | 'inet6'>('inet', 'inet6'), fwmark: fc.nat(0xffffffff), scheduler: fc.constantFrom('rr', 'sh'), stats: statsValues }, { requiredKeys: ['fwmark'] }),
);

/** `value` with one field of `rs` changed: what the scan must no longer call the same. */
function changedRealServers(rs: RealServer): RealServer[] {
  const other: IpvsStats = { ...rs.stats, outBps: rs.stats.outBps + 1n };
  return [
    { ...rs, address: rs.addressFamily === 'inet' ? '10.1.2.3' : 'fd00::abcd' },
    { ...rs, port: (rs.port + 1) % 65536 },
    { ...rs, weight: rs.weight + 1 },
    { ...rs, activeConns: rs.activeConns + 1 },
    { ...rs, forward: rs.forward === 'masq' ? 'route' : 'masq' },
    { ...rs, addressFamily: rs.addressFamily === 'inet' ? 'inet6' : 'inet' },
    { ...rs, stats: other },
  ];
}

describe('DestScan', () => {
  it('takes only what the decoder reads the same way, and builds exactly that real server', () => {
    fc.assert(
      fc.property(destSpec, fc.constantFrom<'inet' | 'inet6'>('inet', 'inet6'), (spec, serviceFamily) => {
        const payload = destMessage(spec);
        const decoded = decodeOrError(() => decodeDestMessage(payload, serviceFamily, new Set()));
        const { bytes, view, start, end } = placed(payload);
        const scan = new DestScan();
        if (!scan.scan(bytes, view, start, end, serviceFamily)) return;
        expect(decoded).not.toBe('error');
        const rs = decoded as RealServer;
        expect(scan.build()).toEqual(rs);
        expect(scan.sameIdentity(rs) && scan.sameSettings(rs) && scan.counters.same(rs.stats)).toBe(true);
        for (const other of changedRealServers(rs)) {
          const same = scan.sameIdentity(other) && scan.sameSettings(other) && scan.counters.same(other.stats);
          expect(same).toBe(sameRealServer(rs, other));
        }
        // Given the previous read's counters or address, the same real server, sharing them.
        const shared = scan.build(rs.stats, rs.address);
        expect(shared).toEqual(rs);
        expect(shared.stats).toBe(rs.stats);
        const rebuilt = scan.counters.build({ ...rs.stats });
        expect(rebuilt).toEqual(rs.stats);
        if (sameStats(rs.stats, ZERO_STATS)) expect(scan.counters.build()).toBe(ZERO_STATS);
      }),
      { numRuns: 400 },
    );
  });

  it('never takes a corrupted message the decoder refuses, and reads any it takes as the decoder does', () => {
    fc.assert(
      fc.property(destSpec, fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 3 }), fc.nat(), (spec, flips, cut) => {
        const whole = destMessage(spec);
        const payload = whole.slice(0, whole.byteLength - (cut % 9));
        for (const [at, value] of flips) payload[at % payload.byteLength] = value;
        const decoded = decodeOrError(() => decodeDestMessage(payload, 'inet', new Set()));
        const { bytes, view, start, end } = placed(payload, 3);
        const scan = new DestScan();
        if (!scan.scan(bytes, view, start, end, 'inet')) return;
        expect(decoded).not.toBe('error');
        expect(scan.build()).toEqual(decoded);
      }),
      { numRuns: 1500 },
    );
  });

  it.each<[string, Uint8Array]>([
    ['a WEIGHT of 2 bytes', destMessage({ override: { [IPVS_DEST_ATTR.WEIGHT]: bytesOf(IPVS_DEST_ATTR.WEIGHT, 2) } })],
    ['a PORT of 1 byte', destMessage({ override: { [IPVS_DEST_ATTR.PORT]: bytesOf(IPVS_DEST_ATTR.PORT, 1) } })],
    ['an IPv6 ADDR of 4 bytes', destMessage({ address: 'fd00::1', override: { [IPVS_DEST_ATTR.ADDR]: bytesOf(IPVS_DEST_ATTR.ADDR, 4) } })],
    ['an ADDR_FAMILY of 1 byte', destMessage({ override: { [IPVS_DEST_ATTR.ADDR_FAMILY]: bytesOf(IPVS_DEST_ATTR.ADDR_FAMILY, 1) } })],
    ['a STATS64 counter of 4 bytes', destMessage({ override: { [IPVS_DEST_ATTR.STATS64]: { type: IPVS_DEST_ATTR.STATS64, nested: [u32Attr(IPVS_STATS_ATTR.CONNS, 1)] } } })],
    ['a STATS byte counter of 4 bytes', destMessage({ statsNests: 'stats', override: { [IPVS_DEST_ATTR.STATS]: { type: IPVS_DEST_ATTR.STATS, nested: [u32Attr(IPVS_STATS_ATTR.INBYTES, 1)] } } })],
    ['a stray byte after the attributes', withStray(IPVS_CMD_ATTR.DEST, destAttrs({}), [1])],
    ['a stray byte in the counters', destMessage({ override: { [IPVS_DEST_ATTR.STATS64]: { type: IPVS_DEST_ATTR.STATS64, data: Uint8Array.of(...encodeAttributes([u64Attr(IPVS_STATS_ATTR.CONNS, 1n)], false), 7) } } })],
  ])('refuses what the decoder refuses: %s', (_, payload) => {
    expect(() => decodeDestMessage(payload, 'inet', new Set())).toThrow();
    const { bytes, view, start, end } = placed(payload);
    expect(new DestScan().scan(bytes, view, start, end, 'inet')).toBe(false);
  });

  it.each<[string, DestSpec]>([
    ['a tunnel', { address: '10.1.1.1', forward: 'tunnel' }],
    ['an attribute of a newer kernel', { address: '10.1.1.1', extra: [u32Attr(16, 1)] }],
    ['an unknown forwarding method', { address: '10.1.1.1', forward: 5 }],
    ['a missing port', { address: '10.1.1.1', omit: [IPVS_DEST_ATTR.PORT] }],
  ])('leaves %s to the decoder', (_, spec) => {
    const { bytes, view, start, end } = placed(destMessage(spec));
    expect(new DestScan().scan(bytes, view, start, end, 'inet')).toBe(false);
  });
});

describe('ServiceScan', () => {
  it('takes only what the decoder reads the same way, with the identity bytes of its GET_DEST request', () => {
    fc.assert(
      fc.property(serviceSpec, (spec) => {
        const payload = serviceMessage(spec);
        const decoded = decodeOrError(() => decodeServiceMessage(payload, new Set()));
        const { bytes, view, start, end } = placed(payload, 5);
        const scan = new ServiceScan();
        if (!scan.scan(bytes, view, start, end)) return;
        expect(decoded).not.toBe('error');
        const { service, identity } = decoded as ReturnType<typeof decodeServiceMessage>;
        expect(scan.sameIdentity(service)).toBe(true);
        const isAscii = (text: string): boolean => [...text].every((c) => c.charCodeAt(0) < 0x80);
        const ascii = isAscii(service.scheduler) && (service.pe === null || isAscii(service.pe));
        expect(scan.sameSettings(service)).toBe(ascii); // a non-ASCII name is the decoder's to read
        expect(scan.counters.same(service.stats)).toBe(true);
        expect(scan.counters.build()).toEqual(service.stats);
        // What the reader keeps for a new service: the decoder's object, key to destinations, in its order.
        const built = scan.build();
        if (ascii) {
          expect(built).toStrictEqual(service);
          expect(Object.keys(built ?? {})).toEqual(Object.keys(service));
        } else expect(built).toBeNull();
        const changed: VirtualServer[] = [
          { ...service, port: service.port === null ? null : (service.port + 1) % 65536 },
          { ...service, fwmark: service.fwmark === null ? null : service.fwmark + 1 },
          { ...service, address: service.address === null ? null : service.family === 'inet' ? '10.9.9.9' : 'fd00::9' },
          { ...service, family: service.family === 'inet' ? 'inet6' : 'inet' },
        ];
        for (const other of changed) if (other.key !== service.key || other.family !== service.family) expect(scan.sameIdentity({ ...other, key: 'x' })).toBe(false);
        for (const other of [{ ...service, scheduler: 'lc' }, { ...service, timeout: service.timeout + 1 }, { ...service, flagBits: service.flagBits ^ 1 }, { ...service, netmask: service.netmask - 1 }, { ...service, pe: 'other' }]) {
          expect(scan.sameSettings(other)).toBe(false);
        }
        // The identity its GET_DEST request carries: byte for byte what encodeRequest makes of the decoder's.
        const size = scan.writeIdentity(null, 0);
        const written = new Uint8Array(size);
        expect(scan.writeIdentity(written, 0)).toBe(size);
        expect(written).toEqual(encodeAttributes([{ type: IPVS_CMD_ATTR.SERVICE, nested: identity }]));
        const request = encodeRequest({ type: 0x1c, flags: 0x301, seq: 7, genl: { cmd: 8, version: 1 }, attributes: [{ type: IPVS_CMD_ATTR.SERVICE, nested: identity }] });
        expect(request.subarray(20)).toEqual(written);
      }),
      { numRuns: 400 },
    );
  });

  it.each<[string, Uint8Array]>([
    ['an AF of 1 byte', serviceMessage({ override: { [IPVS_SVC_ATTR.AF]: bytesOf(IPVS_SVC_ATTR.AF, 1) } })],
    ['a PORT of 1 byte', serviceMessage({ override: { [IPVS_SVC_ATTR.PORT]: bytesOf(IPVS_SVC_ATTR.PORT, 1) } })],
    ['FLAGS of 4 bytes', serviceMessage({ override: { [IPVS_SVC_ATTR.FLAGS]: bytesOf(IPVS_SVC_ATTR.FLAGS, 4) } })],
    ['a NETMASK of 2 bytes', serviceMessage({ override: { [IPVS_SVC_ATTR.NETMASK]: bytesOf(IPVS_SVC_ATTR.NETMASK, 2) } })],
    ['an IPv6 ADDR of 4 bytes', serviceMessage({ address: 'fd00::1', override: { [IPVS_SVC_ATTR.ADDR]: bytesOf(IPVS_SVC_ATTR.ADDR, 4) } })],
    ['a FWMARK of 2 bytes', serviceMessage({ fwmark: 1, override: { [IPVS_SVC_ATTR.FWMARK]: bytesOf(IPVS_SVC_ATTR.FWMARK, 2) } })],
    ['an unknown family', serviceMessage({ override: { [IPVS_SVC_ATTR.AF]: u16Attr(IPVS_SVC_ATTR.AF, 7) } })],
    ['a stray byte after the attributes', withStray(IPVS_CMD_ATTR.SERVICE, serviceAttrs({}), [1])],
    ['a STATS64 counter of 4 bytes', serviceMessage({ override: { [IPVS_SVC_ATTR.STATS64]: statsNest(IPVS_SVC_ATTR.STATS64, {}, false) } })],
  ])('refuses what the decoder refuses: %s', (_, payload) => {
    expect(() => decodeServiceMessage(payload, new Set())).toThrow();
    const { bytes, view, start, end } = placed(payload);
    expect(new ServiceScan().scan(bytes, view, start, end)).toBe(false);
  });

  it('leaves an ADDR longer than union nf_inet_addr to the decoder', () => {
    const { bytes, view, start, end } = placed(serviceMessage({ override: { [IPVS_SVC_ATTR.ADDR]: bytesOf(IPVS_SVC_ATTR.ADDR, 20) } }));
    expect(new ServiceScan().scan(bytes, view, start, end)).toBe(false);
  });

  it('never takes a corrupted message the decoder refuses', () => {
    fc.assert(
      fc.property(serviceSpec, fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 3 }), fc.nat(), (spec, flips, cut) => {
        const whole = serviceMessage(spec);
        const payload = whole.slice(0, whole.byteLength - (cut % 9));
        for (const [at, value] of flips) payload[at % payload.byteLength] = value;
        const decoded = decodeOrError(() => decodeServiceMessage(payload, new Set()));
        const { bytes, view, start, end } = placed(payload, 3);
        const scan = new ServiceScan();
        if (!scan.scan(bytes, view, start, end)) return;
        expect(decoded).not.toBe('error');
        const { service } = decoded as ReturnType<typeof decodeServiceMessage>;
        expect(scan.sameIdentity(service)).toBe(true);
        expect(scan.counters.build()).toEqual(service.stats);
        if (scan.sameSettings(service)) expect(scan.counters.same(service.stats)).toBe(true);
        const built = scan.build();
        if (built !== null) expect(built).toStrictEqual(service);
      }),
      { numRuns: 1500 },
    );
  });
});
