/**
 * The IPVS codec (src/ipvs/codec.ts) and the reader's dump loop (src/ipvs/reader.ts) against hostile
 * replies. Kernel-shaped messages built by test/support/ipvs-messages.ts decode to exactly what was
 * put in; any other bytes — hostile attribute trees, kernel-shaped messages with attributes replaced
 * by payloads of any width, byte mutations — decode to a value or NETLINK_DECODE, and a decoded
 * service's identity can always be sent back in its GET_DEST request. A socket answering every
 * request with garbage ends every read with a snapshot or one of the reader's codes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeDestMessage, decodeInfo, decodeServiceMessage, decodeTimeouts, serviceKeyOfMessage, ZERO_STATS } from '../../../src/ipvs/codec.js';
import { IPVS_CMD, IPVS_CMD_ATTR, IPVS_DEST_ATTR, IPVS_INFO_ATTR, IPVS_STATS_ATTR, IPVS_SVC_ATTR } from '../../../src/ipvs/constants.js';
import { realServerKey, virtualServerKey } from '../../../src/ipvs/identity.js';
import { IpvsReader } from '../../../src/ipvs/reader.js';
import type { AddressFamily, ForwardMethod, IpvsStats, Protocol, RealServer, VirtualServer } from '../../../src/ipvs/types.js';
import { encodeAttributes, u32Attr, type AttrSpec } from '../../../src/netlink/attributes.js';
import { encodeRequest, NLM_F_DUMP_INTR, NLM_F_MULTI, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NLMSG_OVERRUN, NLMSG_HDRLEN } from '../../../src/netlink/message.js';
import { canonicalAddress, formatAddress } from '../../../src/util/ip.js';
import { destAttrs, destMessage, serviceAttrs, serviceMessage, type DestSpec, type ServiceSpec, type StatsNests } from '../../support/ipvs-messages.js';
import { concat, expectCoded, HostileSocket, leafPayload, lyingLength, mutateAll, mutation, nlMessage, seqOf, soup, soupBytes, valueOrCoded, type SoupAttr } from './hostile.js';

const DECODE = ['NETLINK_DECODE'] as const;
const READER_CODES = ['NETLINK_DECODE', 'NETLINK_PROTOCOL', 'NETLINK_IO', 'IPVS_DUMP_RETRIES_EXHAUSTED', 'IPVS_PERMISSION_DENIED', 'IPVS_UNAVAILABLE'] as const;
const FAMILY_ID = 0x1c;

// ---- well-formed messages: the round trip ---------------------------------------------------------

const u32 = fc.nat({ max: 0xffffffff });
const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const family = fc.constantFrom<AddressFamily>('inet', 'inet6');
const addressOf = (f: AddressFamily): fc.Arbitrary<string> => fc.uint8Array({ minLength: f === 'inet' ? 4 : 16, maxLength: f === 'inet' ? 4 : 16 }).map((b) => formatAddress(f, b));
/** Names as the kernel holds them: no NUL (readString stops there), any other character. */
const name = fc.string({ unit: 'grapheme', maxLength: 15 }).filter((s) => !s.includes('\0'));
const statsValues = fc.record(
  { conns: u64, inPkts: u64, outPkts: u64, inBytes: u64, outBytes: u64, cps: u64, inPps: u64, outPps: u64, inBps: u64, outBps: u64 },
  { requiredKeys: [] },
);
const statsNests = fc.constantFrom<StatsNests>('both', 'stats', 'stats64', 'none');
/** Attribute types after the last one each nest knows: a newer kernel's. */
const extras = (firstUnknown: number): fc.Arbitrary<AttrSpec[]> => fc.array(fc.record({ type: fc.integer({ min: firstUnknown, max: 0x3fff }), data: leafPayload }), { maxLength: 2 });

const NARROW = new Set<keyof IpvsStats>(['conns', 'inPkts', 'outPkts', 'cps', 'inPps', 'outPps', 'inBps', 'outBps']);

/** What decodeStats must give for values sent in `nests` (STATS alone truncates all but the byte counters to u32). */
function expectedStats(values: Partial<Record<keyof IpvsStats, bigint>>, nests: StatsNests): IpvsStats {
  if (nests === 'none') return ZERO_STATS;
  const out = { ...ZERO_STATS } as Record<keyof IpvsStats, bigint>;
  for (const key of Object.keys(out) as (keyof IpvsStats)[]) {
    const v = values[key] ?? 0n;
    out[key] = nests === 'stats' && NARROW.has(key) ? BigInt.asUintN(32, v) : v;
  }
  return out;
}

const serviceCase = fc
  .record({
    family,
    fwmark: fc.option(u32),
    protocol: fc.constantFrom<Protocol>('TCP', 'UDP', 'SCTP'),
    port: fc.integer({ min: 0, max: 0xffff }),
    scheduler: name,
    pe: fc.option(name),
    flags: u32,
    mask: u32,
    timeout: u32,
    stats: statsValues,
    statsNests,
    pad: fc.boolean(),
    extra: extras(13),
  })
  .chain((c) => fc.record({ address: addressOf(c.family), netmask: fc.integer({ min: 0, max: c.family === 'inet' ? 32 : 128 }) }).map((a) => ({ ...c, ...a })));

const destCase = fc
  .record({
    serviceFamily: family,
    family: fc.option(family),
    port: fc.integer({ min: 0, max: 0xffff }),
    forward: fc.constantFrom<ForwardMethod>('masq', 'local', 'tunnel', 'route', 'bypass'),
    weight: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    upperThreshold: u32,
    lowerThreshold: u32,
    activeConns: u32,
    inactiveConns: u32,
    persistentConns: u32,
    tunnel: fc.record({ type: fc.integer({ min: 0, max: 255 }), port: fc.integer({ min: 0, max: 0xffff }), flags: fc.integer({ min: 0, max: 0xffff }) }),
    stats: statsValues,
    statsNests,
    pad: fc.boolean(),
    extra: extras(16),
  })
  .chain((c) => addressOf(c.family ?? c.serviceFamily).map((address) => ({ ...c, address })));

describe('IPVS messages the kernel could send read back exactly', () => {
  it('NEW_SERVICE: identity, scheduler, flags & mask, persistence, netmask, counters (STATS64 over STATS), unknown attributes named', () => {
    fc.assert(
      fc.property(serviceCase, (c) => {
        const spec: ServiceSpec = { ...c, fwmark: c.fwmark ?? undefined, pe: c.pe ?? undefined };
        const sink = new Set<string>();
        const { service, identity } = decodeServiceMessage(serviceMessage(spec), sink);
        const ident = c.fwmark === null ? { protocol: c.protocol, address: c.address, port: c.port, fwmark: null } : { protocol: null, address: null, port: null, fwmark: c.fwmark };
        const expected: VirtualServer = {
          key: virtualServerKey({ family: c.family, ...ident }),
          family: c.family,
          ...ident,
          scheduler: c.scheduler,
          flagBits: (c.flags & c.mask) >>> 0,
          persistent: (c.flags & c.mask & 1) !== 0,
          timeout: c.timeout,
          netmask: c.netmask,
          pe: c.pe === null || c.pe === '' ? null : c.pe,
          stats: expectedStats(c.stats, c.statsNests),
          destinations: [],
        };
        expect(service).toEqual(expected);
        expect(serviceKeyOfMessage(serviceMessage(spec))).toBe(expected.key);
        expect([...sink].sort()).toEqual([...new Set(c.extra.map((e) => `service:${e.type}`))].sort());
        // The identity is what the kernel sent, attribute for attribute: the GET_DEST request carries it back.
        const sent = new Map(serviceAttrs(spec).map((a) => [a.type, 'data' in a ? [...a.data] : null]));
        expect(identity.map((a) => [a.type, 'data' in a ? [...a.data] : null])).toEqual(identity.map((a) => [a.type, sent.get(a.type)]));
      }),
      { numRuns: 300 },
    );
  });

  it('NEW_DEST: address (ADDR_FAMILY or the service family), port, forwarding, signed weight, thresholds, connections, tunnel, counters', () => {
    const TUNNEL = ['ipip', 'gue', 'gre'];
    fc.assert(
      fc.property(destCase, (c) => {
        const spec: DestSpec = { ...c, addressFamily: c.family };
        const sink = new Set<string>();
        const dest = decodeDestMessage(destMessage(spec), c.serviceFamily, sink);
        const expected: RealServer = {
          address: c.address,
          addressFamily: c.family ?? c.serviceFamily,
          port: c.port,
          forward: c.forward,
          weight: c.weight,
          upperThreshold: c.upperThreshold,
          lowerThreshold: c.lowerThreshold,
          activeConns: c.activeConns,
          inactiveConns: c.inactiveConns,
          persistentConns: c.persistentConns,
          tunnel:
            c.forward === 'tunnel'
              ? { type: TUNNEL[c.tunnel.type] ?? `type-${c.tunnel.type}`, port: c.tunnel.port, flags: [...(c.tunnel.flags & 1 ? ['csum'] : []), ...(c.tunnel.flags & 2 ? ['remcsum'] : [])] }
              : null,
          stats: expectedStats(c.stats, c.statsNests),
        } as RealServer;
        expect(dest).toEqual(expected);
        expect([...sink].sort()).toEqual([...new Set(c.extra.map((e) => `dest:${e.type}`))].sort());
      }),
      { numRuns: 300 },
    );
  });

  it('SET_INFO and SET_CONFIG: version code as a.b.c, table size, each timeout or null', () => {
    fc.assert(
      fc.property(u32, fc.option(u32), fc.option(u32), fc.option(u32), fc.option(u32), (version, size, tcp, fin, udp) => {
        const info = encodeAttributes([u32Attr(IPVS_INFO_ATTR.VERSION, version), ...(size === null ? [] : [u32Attr(IPVS_INFO_ATTR.CONN_TAB_SIZE, size)])], false);
        expect(decodeInfo(info)).toEqual({ version: `${(version >>> 16) & 0xff}.${(version >>> 8) & 0xff}.${version & 0xff}`, connTableSize: size ?? 0 });
        const specs = [[IPVS_CMD_ATTR.TIMEOUT_TCP, tcp], [IPVS_CMD_ATTR.TIMEOUT_TCP_FIN, fin], [IPVS_CMD_ATTR.TIMEOUT_UDP, udp]] as const;
        const config = encodeAttributes(specs.flatMap(([type, v]) => (v === null ? [] : [u32Attr(type, v)])), false);
        expect(decodeTimeouts(config)).toEqual({ tcp, tcpFin: fin, udp });
      }),
      { numRuns: 200 },
    );
  });
});

// ---- hostile messages ---------------------------------------------------------------------------

const SVC_TYPES = [...Object.values(IPVS_SVC_ATTR), ...Object.values(IPVS_STATS_ATTR)];
const DEST_TYPES = [...Object.values(IPVS_DEST_ATTR), ...Object.values(IPVS_STATS_ATTR)];

/** A kernel-shaped nest with some attributes left out and others replaced by payloads of any width. */
function reshaped<S>(attrs: (spec: S) => AttrSpec[], types: readonly number[], spec: fc.Arbitrary<S>): fc.Arbitrary<AttrSpec[]> {
  return fc
    .tuple(spec, fc.subarray([...types]), fc.dictionary(fc.constantFrom(...types.map(String)), leafPayload, { maxKeys: 4 }), fc.boolean())
    .map(([s, omit, replace, shuffle]) => {
      const out = attrs(s)
        .filter((a) => !omit.includes(a.type))
        .map((a): AttrSpec => (replace[String(a.type)] === undefined ? a : { type: a.type, data: replace[String(a.type)] as Uint8Array }));
      return shuffle ? out.reverse() : out;
    });
}

const serviceSpec: fc.Arbitrary<ServiceSpec> = serviceCase.map((c) => ({ ...c, fwmark: c.fwmark ?? undefined, pe: c.pe ?? undefined }));
const destSpec: fc.Arbitrary<DestSpec> = destCase.map((c) => ({ ...c, addressFamily: c.family }));

const asSoup = (nested: AttrSpec[] | SoupAttr[], type: number): SoupAttr => ({ type, flags: 0, lie: null, body: nested as SoupAttr[] });

/** The payload of a NEW_SERVICE / NEW_DEST reply, built three hostile ways. */
function hostilePayload(top: number, inner: readonly number[], shaped: fc.Arbitrary<AttrSpec[]>): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    // a hostile tree inside the nest the decoder looks for, hostile siblings around it
    fc.tuple(soup(inner, 2), soup([top], 1, 2)).map(([tree, siblings]) => soupBytes([asSoup(tree, top), ...siblings])),
    // kernel-shaped, attributes missing or of any width
    shaped.map((nested) => encodeAttributes([{ type: top, nested }], false)),
    // kernel-shaped, then bytes flipped, cut, inserted, lengths overwritten
    fc.tuple(shaped, fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([nested, ms]) => mutateAll(encodeAttributes([{ type: top, nested }], false), ms)),
  );
}

const servicePayload = hostilePayload(IPVS_CMD_ATTR.SERVICE, SVC_TYPES, reshaped(serviceAttrs, Object.values(IPVS_SVC_ATTR), serviceSpec));
const destPayload = hostilePayload(IPVS_CMD_ATTR.DEST, DEST_TYPES, reshaped(destAttrs, Object.values(IPVS_DEST_ATTR), destSpec));

/** The GET_DEST request the reader sends for a decoded service: its identity must always be sendable. */
function destRequest(identity: AttrSpec[]): Uint8Array {
  return encodeRequest({ type: FAMILY_ID, flags: 0x301, seq: 1, genl: { cmd: IPVS_CMD.GET_DEST, version: 1 }, attributes: [{ type: IPVS_CMD_ATTR.SERVICE, nested: identity }] });
}

function expectCanonical(address: string | null): void {
  if (address !== null) expect(canonicalAddress(address)).toBe(address);
}

describe('hostile IPVS messages decode to a value or NETLINK_DECODE', () => {
  it('NEW_SERVICE: the key agrees with serviceKeyOfMessage, the address is canonical, the identity goes back into a GET_DEST request', () => {
    fc.assert(
      fc.property(servicePayload, (payload) => {
        const decoded = valueOrCoded(DECODE, () => decodeServiceMessage(payload, new Set()));
        const key = valueOrCoded(DECODE, () => serviceKeyOfMessage(payload));
        if (decoded === undefined) return;
        expect(key).toBe(decoded.service.key);
        expectCanonical(decoded.service.address);
        expect(destRequest(decoded.identity).byteLength).toBeGreaterThan(NLMSG_HDRLEN);
      }),
      { numRuns: 1500 },
    );
  });

  it('NEW_DEST: a canonical address of the family it claims, a forwarding method, a tunnel only for tunnel', () => {
    fc.assert(
      fc.property(destPayload, family, (payload, serviceFamily) => {
        const dest = valueOrCoded(DECODE, () => decodeDestMessage(payload, serviceFamily, new Set()));
        if (dest === undefined) return;
        expectCanonical(dest.address);
        expect(dest.address.includes(':')).toBe(dest.addressFamily === 'inet6');
        expect(dest.tunnel !== null).toBe(dest.forward === 'tunnel');
      }),
      { numRuns: 1500 },
    );
  });

  it('SET_INFO and SET_CONFIG: any attribute tree', () => {
    fc.assert(
      fc.property(soup([1, 2, 3, 4, 5, 6], 1), fc.array(mutation, { maxLength: 2 }), (tree, ms) => {
        const bytes = mutateAll(soupBytes(tree), ms);
        valueOrCoded(DECODE, () => decodeInfo(bytes));
        valueOrCoded(DECODE, () => decodeTimeouts(bytes));
      }),
      { numRuns: 800 },
    );
  });

  /** AF, PROTOCOL and PORT, then an ADDR of `width` bytes as the nest's last attribute, its padding left out. */
  function identityOnly(width: number, af: number): Uint8Array {
    const head = encodeAttributes([
      { type: IPVS_SVC_ATTR.AF, data: Uint8Array.of(af, 0) },
      { type: IPVS_SVC_ATTR.PROTOCOL, data: Uint8Array.of(6, 0) },
      { type: IPVS_SVC_ATTR.PORT, data: Uint8Array.of(0, 80) },
    ]);
    const addr = new Uint8Array(4 + width);
    new DataView(addr.buffer).setUint16(0, 4 + width, true);
    new DataView(addr.buffer).setUint16(2, IPVS_SVC_ATTR.ADDR, true);
    addr.fill(0x0a, 4);
    const nest = concat([new Uint8Array(4), head, addr]);
    new DataView(nest.buffer).setUint16(0, nest.byteLength, true);
    new DataView(nest.buffer).setUint16(2, IPVS_CMD_ATTR.SERVICE, true);
    return nest;
  }

  it('an ADDR of any width up to what nla_len allows: NETLINK_DECODE below the family width, else a service whose identity is sendable', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff - 4 - 24 - 4 }), fc.constantFrom(2, 10), (width, af) => {
        const decoded = valueOrCoded(DECODE, () => decodeServiceMessage(identityOnly(width, af)));
        expect(decoded === undefined).toBe(width < (af === 2 ? 4 : 16));
        if (decoded === undefined) return;
        const addr = decoded.identity.find((a) => a.type === IPVS_SVC_ATTR.ADDR);
        expect(addr && 'data' in addr ? addr.data.byteLength : null).toBe(Math.min(width, 16));
        destRequest(decoded.identity);
      }),
      { numRuns: 300 },
    );
  });

  it('regression: a 65,503-byte ADDR (the most a service nest holds) decodes, and its GET_DEST request is not refused as INTERNAL', () => {
    // Found by the property above: the identity copied ADDR whole, so the GET_DEST nest came out one
    // byte past nla_len's 65,535 and encodeAttributes threw INTERNAL. The kernel reads 16 bytes of it.
    const { service, identity } = decodeServiceMessage(identityOnly(65503, 2));
    expect(service.key).toBe('TCP/10.10.10.10:80');
    const addr = identity.find((a) => a.type === IPVS_SVC_ATTR.ADDR);
    expect(addr && 'data' in addr ? addr.data.byteLength : null).toBe(16);
    expect(() => destRequest(identity)).not.toThrow();
  });
});

// ---- the reader's dump loop against a peer that answers garbage ------------------------------------

type Reply =
  | { kind: 'service' | 'dest'; payload: Uint8Array }
  | { kind: 'info' | 'config'; payload: Uint8Array }
  | { kind: 'done' | 'ack' | 'noop' | 'overrun' }
  | { kind: 'error'; errno: number }
  | { kind: 'interrupted' | 'other-seq' | 'other-pid' }
  | { kind: 'lying-length'; len: number }
  | { kind: 'garbage'; bytes: Uint8Array };

const reply: fc.Arbitrary<Reply> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('service' as const), payload: fc.oneof(serviceSpec.map(serviceMessage), servicePayload) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('dest' as const), payload: fc.oneof(destSpec.map(destMessage), destPayload) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('info' as const, 'config' as const), payload: soup([1, 2, 4, 5, 6], 0).map(soupBytes) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constantFrom('done' as const, 'ack' as const, 'noop' as const, 'overrun' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('error' as const), errno: fc.constantFrom(1, 2, 4, 11, 16, 22, 95, 105, -5, 0x7fffffff) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('interrupted' as const, 'other-seq' as const, 'other-pid' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('lying-length' as const), len: lyingLength }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('garbage' as const), bytes: fc.uint8Array({ maxLength: 40 }) }) },
);

const GENL_CMD = { service: IPVS_CMD.NEW_SERVICE, dest: IPVS_CMD.NEW_DEST, info: IPVS_CMD.SET_INFO, config: IPVS_CMD.SET_CONFIG } as const;

function replyBytes(r: Reply, seq: number, pid: number): Uint8Array {
  const genl = (cmd: number, payload: Uint8Array, flags = NLM_F_MULTI): Uint8Array => nlMessage({ type: FAMILY_ID, flags, seq, pid }, concat([Uint8Array.of(cmd, 1, 0, 0), payload]));
  const errno = (e: number): Uint8Array => {
    const p = new Uint8Array(20);
    new DataView(p.buffer).setInt32(0, -e, true);
    return nlMessage({ type: NLMSG_ERROR, seq, pid }, p);
  };
  switch (r.kind) {
    case 'service':
    case 'dest':
    case 'info':
    case 'config':
      return genl(GENL_CMD[r.kind], r.payload);
    case 'done':
      return nlMessage({ type: NLMSG_DONE, flags: NLM_F_MULTI, seq, pid }, new Uint8Array(4));
    case 'ack':
      return errno(0);
    case 'noop':
      return nlMessage({ type: NLMSG_NOOP, seq, pid }, new Uint8Array(0));
    case 'overrun':
      return nlMessage({ type: NLMSG_OVERRUN, seq, pid }, new Uint8Array(0));
    case 'error':
      return errno(r.errno);
    case 'interrupted':
      return nlMessage({ type: NLMSG_DONE, flags: NLM_F_MULTI | NLM_F_DUMP_INTR, seq, pid }, new Uint8Array(4));
    case 'other-seq':
      return nlMessage({ type: NLMSG_DONE, seq: seq + 1, pid }, new Uint8Array(4));
    case 'other-pid':
      return nlMessage({ type: NLMSG_DONE, seq, pid: pid + 1 }, new Uint8Array(4));
    case 'lying-length':
      return nlMessage({ type: FAMILY_ID, seq, pid, len: r.len }, Uint8Array.of(IPVS_CMD.NEW_SERVICE, 1, 0, 0));
    case 'garbage':
      return r.bytes;
  }
}

/** Mostly kernel-shaped replies, so that reads get past the first request. */
const plausible: fc.Arbitrary<Reply> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('service' as const), payload: serviceSpec.map(serviceMessage) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('dest' as const), payload: destSpec.map(destMessage) }) },
  { weight: 2, arbitrary: reply },
);
const end = fc.oneof(
  { weight: 6, arbitrary: fc.constant<Reply[]>([{ kind: 'done' }]) },
  { weight: 2, arbitrary: fc.constant<Reply[]>([{ kind: 'ack' }]) },
  { weight: 1, arbitrary: fc.constant<Reply[]>([]) },
);
/** Per request, its replies grouped into datagrams of 1–3 messages; one answer for all requests a quarter of the time. */
const script = fc
  .tuple(fc.array(fc.tuple(fc.array(plausible, { maxLength: 5 }), end, fc.integer({ min: 1, max: 3 })), { minLength: 1, maxLength: 6 }), fc.nat({ max: 3 }))
  .map(([answers, same]) => answers.slice(0, same === 0 ? 1 : answers.length).map(([replies, last, per]) => [[...replies, ...last], per] as const));

describe('the IPVS reader against a peer that answers garbage', () => {
  it('every read ends with a sorted, duplicate-free snapshot or one of the reader\'s codes, and every socket it opened is closed or kept', async () => {
    await fc.assert(
      fc.asyncProperty(script, fc.nat({ max: 9 }), async (plan, unknownFamily) => {
        const sockets: HostileSocket[] = [];
        const open = (): HostileSocket => {
          const socket = new HostileSocket(
            (request, count, s) => {
              const [replies, per] = plan[(count - 1) % plan.length] ?? [[], 1];
              const messages = replies.map((r) => replyBytes(r, seqOf(request), s.localPort));
              const datagrams: Uint8Array[] = [];
              for (let i = 0; i < messages.length; i += per) datagrams.push(concat(messages.slice(i, i + per)));
              return datagrams;
            },
            4242 + sockets.length,
            unknownFamily === 0 ? null : FAMILY_ID,
          );
          sockets.push(socket);
          return socket;
        };
        const reader = new IpvsReader({ open, yieldEvery: 4 });
        const snapshot = await (async () => {
          try {
            return await reader.read();
          } catch (err) {
            expectCoded(READER_CODES, err);
            return undefined;
          } finally {
            reader.close();
          }
        })();
        expect(sockets.every((s) => s.closed > 0)).toBe(true);
        if (snapshot === undefined) return;
        const keys = snapshot.services.map((s) => s.key);
        expect(keys).toEqual([...new Set(keys)].sort());
        for (const vs of snapshot.services) {
          const rs = vs.destinations.map(realServerKey);
          expect(rs).toEqual([...new Set(rs)]);
        }
      }),
      { numRuns: 300 },
    );
  });
});
