/**
 * fast-check arbitraries of IPVS snapshots as the decoder makes them (src/ipvs/codec.ts): plain
 * objects, the shared ZERO_STATS wherever every counter is 0. Random tables: every family and
 * protocol, fwmark services, tunnels, counters up to 2^64 − 1, and strings (Service names,
 * schedulers, pe, unknown attributes) with quotes, backslashes, control characters, non-ASCII and
 * lone surrogates.
 */
import fc from 'fast-check';
import { ZERO_STATS } from '../../src/ipvs/codec.js';
import type { ForwardMethod, IpvsSnapshot, IpvsStats, RealServer, VirtualServer } from '../../src/ipvs/types.js';
import { MAX_U64 } from './render-snapshot.js';

/** Plain objects, as the decoder makes (fast-check's records have no prototype by default). */
const PLAIN = { noNullPrototype: true } as const;

const u64 = fc.bigInt({ min: 0n, max: MAX_U64 });
export const oddString = fc.oneof(fc.string({ unit: 'binary', maxLength: 12 }), fc.constantFrom('', 'a"b', 'back\\slash', 'new\nline', '\u0000', 'ünï', '😀', '\ud800'));
const statsArb: fc.Arbitrary<IpvsStats> = fc.oneof(
  fc.record({ conns: u64, inPkts: u64, outPkts: u64, inBytes: u64, outBytes: u64, cps: u64, inPps: u64, outPps: u64, inBps: u64, outBps: u64 }, PLAIN),
  fc.record({ conns: u64, inPkts: u64, outPkts: u64, inBytes: u64, outBytes: u64 }, PLAIN).map((c) => ({ ...c, cps: 0n, inPps: 0n, outPps: 0n, inBps: 0n, outBps: 0n })),
  fc.constant(ZERO_STATS),
).map((s) => (Object.values(s).every((v) => v === 0n) ? ZERO_STATS : s));
const u32 = fc.integer({ min: 0, max: 2 ** 32 - 1 });
const rsArb: fc.Arbitrary<RealServer> = fc.record({
  address: fc.oneof(fc.ipV4(), fc.ipV6()),
  addressFamily: fc.constantFrom('inet' as const, 'inet6' as const),
  port: fc.integer({ min: 0, max: 65535 }),
  forward: fc.constantFrom<ForwardMethod>('masq', 'local', 'tunnel', 'route', 'bypass'),
  weight: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  upperThreshold: u32,
  lowerThreshold: u32,
  activeConns: u32,
  inactiveConns: u32,
  persistentConns: u32,
  tunnel: fc.option(fc.record({ type: fc.constantFrom('ipip' as const, 'gue' as const, 'gre' as const, 'type-7' as const), port: fc.integer({ min: 0, max: 65535 }), flags: fc.subarray(['csum', 'remcsum']) }, PLAIN), { nil: null }),
  stats: statsArb,
}, PLAIN);
const identityArb = fc.oneof(
  fc.record({ protocol: fc.constantFrom('TCP' as const, 'UDP' as const, 'SCTP' as const), address: fc.oneof(fc.ipV4(), fc.ipV6()), port: fc.integer({ min: 0, max: 65535 }) }, PLAIN).map(({ protocol, address, port }) => {
    const family = address.includes(':') ? ('inet6' as const) : ('inet' as const);
    return { key: `${protocol}/${family === 'inet6' ? `[${address}]` : address}:${port}`, family, protocol, address, port, fwmark: null };
  }),
  fc.record({ fwmark: u32, family: fc.constantFrom('inet' as const, 'inet6' as const) }, PLAIN).map(({ fwmark, family }) => ({ key: `FWM/${fwmark}/${family}`, family, protocol: null, address: null, port: null, fwmark })),
);
const vsArb: fc.Arbitrary<VirtualServer> = fc.record({
  identity: identityArb,
  scheduler: fc.oneof(fc.constantFrom('rr', 'wrr', 'sh', 'mh', 'lc'), oddString),
  flagBits: fc.integer({ min: 0, max: 0x7f }),
  persistent: fc.boolean(),
  timeout: u32,
  netmask: fc.integer({ min: 0, max: 128 }),
  pe: fc.option(fc.oneof(fc.constant('sip'), oddString), { nil: null }),
  stats: statsArb,
  destinations: fc.array(rsArb, { maxLength: 4 }),
}, PLAIN).map(({ identity, ...rest }) => ({ ...identity, ...rest }));
export const snapshotArb: fc.Arbitrary<IpvsSnapshot> = fc.record({
  readAt: fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2200-01-01T00:00:00Z'), noInvalidDate: true }),
  durationMs: fc.oneof(fc.double(), fc.nat()),
  info: fc.option(fc.record({ version: oddString, connTableSize: u32 }, PLAIN), { nil: null }),
  timeouts: fc.option(fc.record({ tcp: fc.option(u32, { nil: null }), tcpFin: fc.option(u32, { nil: null }), udp: fc.option(u32, { nil: null }) }, PLAIN), { nil: null }),
  services: fc.array(vsArb, { maxLength: 6 }),
  unknownAttributes: fc.oneof(fc.constant<string[]>([]), fc.array(oddString, { maxLength: 3 })),
}, PLAIN);
