/**
 * NETLINK_NETFILTER: the nfnetlink framing and bounded dump loop (src/netlink/nfnetlink.ts), the
 * ipset list decoder (src/ipset/codec.ts) and the nftables table decoder (src/nftables/tables.ts)
 * against hostile replies. test/unit/ipset/property.test.ts already round-trips any kube-proxy sets
 * and corrupts the recorded dumps, test/unit/nftables/tables.test.ts corrupts the recorded table
 * dump: both only ask for "a SentinelError". These properties ask for the documented codes, build
 * messages the recordings never hold (any type name, family, header and member attributes, lying
 * lengths, prototype names), bound the dump loop, and round-trip the table decoder and the requests.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../../src/errors/index.js';
import { SentinelError } from '../../../src/errors/index.js';
import { encodeIpsetListRequest, IpsetDumpDecoder } from '../../../src/ipset/codec.js';
import { IPSET_ATTR, IPSET_ATTR_IPADDR_IPV4, IPSET_ATTR_IPADDR_IPV6, IPSET_ELEMENT_ATTR, IPSET_HEADER_ATTR } from '../../../src/ipset/constants.js';
import { readIpsets } from '../../../src/ipset/reader.js';
import { parseAttributes, readString, stringAttr, type AttrSpec } from '../../../src/netlink/attributes.js';
import { NLM_F_DUMP_INTR, NLM_F_MULTI, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NLMSG_OVERRUN, parseMessages, type NlMessage } from '../../../src/netlink/message.js';
import { encodeNfnlDumpRequest, nfnlMessageType, parseNfnl, runNfnlDump, type DumpLimits } from '../../../src/netlink/nfnetlink.js';
import { readNftTables } from '../../../src/nftables/reader.js';
import { decodeNftTable, NFT_NEWTABLE_MESSAGE_TYPE, NFTA_TABLE, type NftFamily } from '../../../src/nftables/tables.js';
import { canonicalAddress } from '../../../src/util/ip.js';
import { ipsetMessage } from '../../support/ipset-messages.js';
import { tableMessage, type TableSpec } from '../../support/nft-messages.js';
import { AWKWARD_NAMES, concat, expectCoded, HostileSocket, leafPayload, lyingLength, mutateAll, mutation, nlMessage, seqOf, soup, soupBytes, valueOrCoded } from './hostile.js';

const DECODE = ['NETLINK_DECODE'] as const;
const PID = 4242;

// ---- nfnetlink framing and the dump loop ----------------------------------------------------------

describe('nfnetlink framing', () => {
  it('encodeNfnlDumpRequest → parseMessages → parseNfnl gives back subsystem, message, family, version 0 and the attributes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 255 }),
        fc.nat({ max: 0xffffffff }),
        fc.array(fc.record({ type: fc.integer({ min: 0, max: 0x3fff }), data: leafPayload }), { maxLength: 4 }),
        (subsys, msg, family, seq, attributes) => {
          const [message, ...more] = parseMessages(encodeNfnlDumpRequest({ subsys, msg, seq, pid: PID, family, attributes }), 'fuzz');
          expect(more).toEqual([]);
          const nf = parseNfnl(message as NlMessage, 'fuzz');
          expect([nf.subsys, nf.msg, nf.family, nf.version, nf.resId, message?.seq, message?.pid]).toEqual([subsys, msg, family, 0, 0, seq, PID]);
          expect(parseAttributes(nf.attributes, 'fuzz').map((a) => [a.type, [...a.data]])).toEqual(attributes.map((a) => [a.type, [...a.data]]));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('parseNfnl: any payload of 4 bytes or more (res_id big-endian), NETLINK_DECODE below', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ maxLength: 12 }), (type, payload) => {
        const nf = valueOrCoded(DECODE, () => parseNfnl({ type, flags: 0, seq: 1, pid: 1, payload }, 'fuzz'));
        expect(nf === undefined).toBe(payload.byteLength < 4);
        if (nf !== undefined) expect([nf.subsys, nf.msg, nf.family, nf.resId]).toEqual([type >> 8, type & 0xff, payload[0], ((payload[2] ?? 0) << 8) | (payload[3] ?? 0)]);
      }),
      { numRuns: 200 },
    );
  });
});

type Reply =
  | { kind: 'data'; payload: Uint8Array }
  | { kind: 'done' | 'ack' | 'noop' | 'overrun' | 'interrupted' | 'other-seq' | 'other-pid' }
  | { kind: 'error'; errno: number }
  | { kind: 'lying-length'; len: number }
  | { kind: 'garbage'; bytes: Uint8Array };

function replyOf(payload: fc.Arbitrary<Uint8Array>, dataWeight = 4): fc.Arbitrary<Reply> {
  return fc.oneof(
    { weight: dataWeight, arbitrary: fc.record({ kind: fc.constant('data' as const), payload }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('done' as const, 'ack' as const, 'noop' as const, 'overrun' as const, 'interrupted' as const, 'other-seq' as const, 'other-pid' as const) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('error' as const), errno: fc.constantFrom(1, 2, 16, 22, 71, 105, 4097, -1) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('lying-length' as const), len: lyingLength }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('garbage' as const), bytes: fc.uint8Array({ maxLength: 40 }) }) },
  );
}

/** NLMSG_ERROR with -errno (0: an ACK) and room for the echoed request header. */
function errorMessage(errno: number, seq: number): Uint8Array {
  const p = new Uint8Array(20);
  new DataView(p.buffer).setInt32(0, -errno, true);
  return nlMessage({ type: NLMSG_ERROR, seq, pid: PID }, p);
}

/** `payload` of a data reply is everything after the netlink header (nfgenmsg and attributes). */
function replyBytes(r: Reply, type: number, seq: number): Uint8Array {
  switch (r.kind) {
    case 'data':
      return nlMessage({ type, flags: NLM_F_MULTI, seq, pid: PID }, r.payload);
    case 'done':
      return nlMessage({ type: NLMSG_DONE, flags: NLM_F_MULTI, seq, pid: PID }, new Uint8Array(4));
    case 'interrupted':
      return nlMessage({ type: NLMSG_DONE, flags: NLM_F_MULTI | NLM_F_DUMP_INTR, seq, pid: PID }, new Uint8Array(4));
    case 'other-seq':
      return nlMessage({ type, seq: seq + 7, pid: PID }, new Uint8Array(2));
    case 'other-pid':
      return nlMessage({ type: NLMSG_DONE, seq, pid: PID + 1 }, new Uint8Array(4));
    case 'noop':
      return nlMessage({ type: NLMSG_NOOP, seq, pid: PID }, new Uint8Array(0));
    case 'overrun':
      return nlMessage({ type: NLMSG_OVERRUN, seq, pid: PID }, new Uint8Array(0));
    case 'ack':
      return errorMessage(0, seq);
    case 'error':
      return errorMessage(r.errno, seq);
    case 'lying-length':
      return nlMessage({ type, seq, pid: PID, len: r.len }, new Uint8Array(8));
    case 'garbage':
      return r.bytes;
  }
}

/** Per request: replies, how many per datagram; every request after the plan's last gets its last answer. */
function planOf(reply: fc.Arbitrary<Reply>): fc.Arbitrary<(readonly [Reply[], number])[]> {
  const end = fc.constantFrom<Reply[]>([{ kind: 'done' }], [{ kind: 'done' }], [{ kind: 'done' }], []);
  return fc.array(fc.tuple(fc.array(reply, { maxLength: 6 }), end, fc.integer({ min: 1, max: 3 })).map(([r, e, per]) => [[...r, ...e], per] as const), { minLength: 1, maxLength: 4 });
}

function hostileSocket(plan: readonly (readonly [Reply[], number])[], type: number, index = 0): HostileSocket {
  return new HostileSocket((request) => {
    const [replies, per] = plan[Math.min(index, plan.length - 1)] ?? [[], 1];
    const messages = replies.map((r) => replyBytes(r, type, seqOf(request)));
    const datagrams: Uint8Array[] = [];
    for (let i = 0; i < messages.length; i += per) datagrams.push(concat(messages.slice(i, i + per)));
    return datagrams;
  }, PID);
}

/** Opens a fresh hostile socket per attempt (attempt n gets the plan's n-th answer) and remembers them. */
function opener(plan: readonly (readonly [Reply[], number])[], type: number): { open: () => HostileSocket; sockets: HostileSocket[] } {
  const sockets: HostileSocket[] = [];
  return {
    sockets,
    open: () => {
      const socket = hostileSocket(plan, type, sockets.length);
      sockets.push(socket);
      return socket;
    },
  };
}

describe('runNfnlDump against a peer that answers garbage', () => {
  it('hands on only replies of its own sequence and port, stays inside its datagram and byte bounds, and throws only coded errors', () => {
    const limits = fc.record({ maxDatagrams: fc.integer({ min: 1, max: 6 }), maxBytes: fc.integer({ min: 16, max: 400 }) });
    fc.assert(
      fc.property(planOf(replyOf(fc.uint8Array({ maxLength: 24 }))), limits, (plan, bounds: DumpLimits) => {
        const socket = hostileSocket(plan, 0x0a00);
        const seen: NlMessage[] = [];
        let outcome;
        try {
          outcome = runNfnlDump(socket, {
            context: 'fuzz',
            request: encodeNfnlDumpRequest({ subsys: 10, msg: 1, seq: 77, pid: PID, family: 0 }),
            seq: 77,
            limits: bounds,
            onMessage: (m) => seen.push({ ...m, payload: m.payload.slice() }),
            refusal: (errno) => new SentinelError('NFTABLES_PERMISSION_DENIED', 'fuzz', `errno ${errno}`),
          });
        } catch (err) {
          expectCoded(['NETLINK_DECODE', 'NETLINK_IO', 'NETLINK_DUMP_TOO_LARGE', 'NFTABLES_PERMISSION_DENIED'], err);
        }
        expect(socket.receives).toBeLessThanOrEqual(bounds.maxDatagrams);
        for (const m of seen) expect([m.seq, m.pid]).toEqual([77, PID]);
        if (outcome === undefined) return;
        expect(outcome.datagrams).toBeLessThanOrEqual(bounds.maxDatagrams);
        expect(outcome.bytes).toBeLessThanOrEqual(bounds.maxBytes);
      }),
      { numRuns: 500 },
    );
  });
});

// ---- nftables tables ------------------------------------------------------------------------------

const FAMILY_NAME: Record<number, NftFamily> = { 2: 'ip', 10: 'ip6', 1: 'inet', 3: 'arp', 7: 'bridge', 5: 'netdev' };
const tableName = fc.string({ unit: 'grapheme', maxLength: 20 }).filter((s) => !s.includes('\0'));
const table: fc.Arbitrary<TableSpec> = fc.record({
  family: fc.oneof(fc.constantFrom(1, 2, 3, 5, 7, 10), fc.integer({ min: 0, max: 255 })),
  name: tableName,
  use: fc.nat({ max: 0xffffffff }),
  flags: fc.nat({ max: 0xffffffff }),
  handle: fc.option(fc.nat({ max: Number.MAX_SAFE_INTEGER })),
});

const TABLE_TYPES = Object.values(NFTA_TABLE);
/** nfgenmsg of any family, then a hostile attribute tree or a table message's attributes with some replaced or cut. */
const tablePayload: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 12 }),
  fc.tuple(fc.uint8Array({ minLength: 4, maxLength: 4 }), soup(TABLE_TYPES, 1)).map(([nfgen, tree]) => concat([nfgen, soupBytes(tree)])),
  fc.tuple(table, fc.array(fc.record({ type: fc.constantFrom(...TABLE_TYPES, 9), data: leafPayload }), { maxLength: 3 }), fc.array(mutation, { maxLength: 3 })).map(([t, extra, ms]) =>
    mutateAll(tableMessage(t, 1, PID, extra).subarray(16), ms),
  ),
);

describe('nftables table replies', () => {
  it('NFT_MSG_NEWTABLE as nf_tables_fill_table_info writes it reads back: family word, name, use, flags, handle', () => {
    fc.assert(
      fc.property(table, (t) => {
        const [message] = parseMessages(tableMessage(t, 1, PID), 'fuzz');
        expect(decodeNftTable(message as NlMessage)).toEqual({ family: FAMILY_NAME[t.family] ?? t.family, name: t.name, use: t.use, flags: t.flags, handle: t.handle });
      }),
      { numRuns: 300 },
    );
  });

  it('any payload: a table or NETLINK_DECODE; a handle is never past 2^53', () => {
    fc.assert(
      fc.property(tablePayload, fc.constantFrom(NFT_NEWTABLE_MESSAGE_TYPE, NFT_NEWTABLE_MESSAGE_TYPE + 1, 0x0607), (payload, type) => {
        const t = valueOrCoded(DECODE, () => decodeNftTable({ type, flags: 0, seq: 1, pid: PID, payload }, new Set()));
        if (t === undefined) return;
        expect(t.handle === null || Number.isSafeInteger(t.handle)).toBe(true);
        expect(t.name.includes('\0')).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it('readNftTables against a peer that answers garbage: tables, or NETLINK_DECODE / NETLINK_PROTOCOL / NETLINK_DUMP_TOO_LARGE / NFTABLES_PERMISSION_DENIED; every socket closed', () => {
    fc.assert(
      fc.property(planOf(replyOf(fc.oneof(table.map((t) => tableMessage(t, 1, PID).subarray(16)), tablePayload))), fc.integer({ min: 1, max: 8 }), (plan, maxTables) => {
        const { open, sockets } = opener(plan, NFT_NEWTABLE_MESSAGE_TYPE);
        try {
          const read = readNftTables({ open, seq: 500, limits: { maxTables, maxDatagrams: 8 } });
          expect(read.tables.length).toBeLessThanOrEqual(maxTables);
        } catch (err) {
          expectCoded(['NETLINK_DECODE', 'NETLINK_PROTOCOL', 'NETLINK_DUMP_TOO_LARGE', 'NFTABLES_PERMISSION_DENIED'], err);
        }
        expect(sockets.length).toBeLessThanOrEqual(4);
        expect(sockets.every((s) => s.closed === 1)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });
});

// ---- ipset list replies -------------------------------------------------------------------------

const u8 = (type: number, value: number): AttrSpec => ({ type, data: Uint8Array.of(value) });
const anyPayload = (type: number): fc.Arbitrary<AttrSpec> => leafPayload.map((data) => ({ type, data }));
const be = (type: number, bytes: number, value: number): AttrSpec => {
  const data = new Uint8Array(bytes);
  for (let i = bytes - 1, v = value; i >= 0; i--, v = Math.floor(v / 256)) data[i] = v & 0xff;
  return { type, data };
};

/** An IP / IP2 nest: IPv4 or IPv6 of the right width most of the time, anything else sometimes. */
const addressNest = (type: number): fc.Arbitrary<AttrSpec> =>
  fc
    .oneof(
      fc.uint8Array({ minLength: 4, maxLength: 4 }).map((data): AttrSpec => ({ type: IPSET_ATTR_IPADDR_IPV4, data })),
      fc.uint8Array({ minLength: 16, maxLength: 16 }).map((data): AttrSpec => ({ type: IPSET_ATTR_IPADDR_IPV6, data })),
      fc.record({ type: fc.integer({ min: 0, max: 4 }), data: leafPayload }),
    )
    .chain((inner) => fc.array(fc.constant(inner), { minLength: 0, maxLength: 2 }))
    .map((nested) => ({ type, nested }));

const element: fc.Arbitrary<AttrSpec> = fc
  .array(
    fc.oneof(
      addressNest(IPSET_ELEMENT_ATTR.IP),
      addressNest(IPSET_ELEMENT_ATTR.IP2),
      fc.integer({ min: 0, max: 255 }).map((v) => u8(IPSET_ELEMENT_ATTR.CIDR, v)),
      fc.integer({ min: 0, max: 255 }).map((v) => u8(IPSET_ELEMENT_ATTR.CIDR2, v)),
      fc.integer({ min: 0, max: 0xffff }).map((v) => be(IPSET_ELEMENT_ATTR.PORT, 2, v)),
      fc.constantFrom(6, 17, 132, 0, 255).map((v) => u8(IPSET_ELEMENT_ATTR.PROTO, v)),
      fc.constantFrom(0, 4, 0xffffffff).map((v) => be(IPSET_ELEMENT_ATTR.CADT_FLAGS, 4, v)),
      fc.constantFrom(...Object.values(IPSET_ELEMENT_ATTR)).chain(anyPayload),
    ),
    { maxLength: 6 },
  )
  .map((nested) => ({ type: IPSET_ATTR.DATA, nested }));

/** The three every header has, most of the time; the two of hash types, sometimes. */
const headerNumbers = fc
  .tuple(fc.nat({ max: 4 }), fc.subarray([IPSET_HEADER_ATTR.HASHSIZE, IPSET_HEADER_ATTR.MAXELEM]), fc.constantFrom(IPSET_HEADER_ATTR.REFERENCES, IPSET_HEADER_ATTR.ELEMENTS, IPSET_HEADER_ATTR.MEMSIZE))
  .map(([drop, hash, dropped]) => [...[IPSET_HEADER_ATTR.REFERENCES, IPSET_HEADER_ATTR.ELEMENTS, IPSET_HEADER_ATTR.MEMSIZE].filter((t) => drop > 0 || t !== dropped), ...hash]);
const header: fc.Arbitrary<AttrSpec> = fc
  .tuple(
    headerNumbers,
    fc.option(fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }))),
    fc.array(fc.constantFrom(...Object.values(IPSET_HEADER_ATTR)).chain(anyPayload), { maxLength: 2 }),
  )
  .map(([numbers, range, odd]) => ({
    type: IPSET_ATTR.DATA,
    nested: [...numbers.map((t) => be(t, 4, 1000)), ...(range ? [be(IPSET_HEADER_ATTR.PORT, 2, range[0]), be(IPSET_HEADER_ATTR.PORT_TO, 2, range[1])] : []), ...odd],
  }));

/** One reply message of a list dump: PROTOCOL, SETNAME, maybe a set's header, maybe an ADT of members. */
const ipsetReply: fc.Arbitrary<Uint8Array> = fc
  .record({
    name: fc.constantFrom('KUBE-CLUSTER-IP', 'KUBE-NODE-PORT-TCP', 'constructor', ''),
    first: fc.boolean(),
    type: fc.constantFrom('hash:ip', 'hash:ip,port', 'hash:ip,port,ip', 'hash:ip,port,net', 'bitmap:port', ...AWKWARD_NAMES),
    family: fc.constantFrom(2, 10, 0, 7),
    header,
    adt: fc.option(fc.array(element, { maxLength: 4 })),
    shuffle: fc.boolean(),
  })
  .chain((m) => fc.tuple(fc.constant(m), fc.array(mutation, { maxLength: 2 }), fc.nat({ max: 5 })))
  .map(([m, ms, clean]) => {
    const attrs: AttrSpec[] = [u8(IPSET_ATTR.PROTOCOL, 6), stringAttr(IPSET_ATTR.SETNAME, m.name)];
    if (m.first) attrs.push(stringAttr(IPSET_ATTR.TYPENAME, m.type), u8(IPSET_ATTR.FAMILY, m.family), u8(IPSET_ATTR.REVISION, 3), m.header);
    if (m.adt) attrs.push({ type: IPSET_ATTR.ADT, nested: m.adt });
    const bytes = ipsetMessage(m.shuffle ? attrs.reverse() : attrs, 1, PID).subarray(16);
    return clean > 0 ? bytes : mutateAll(bytes, ms);
  });

describe('ipset list replies', () => {
  it('any messages: sets with unique names, canonical member addresses of the set\'s family, prefixes within it — or NETLINK_DECODE / NETLINK_DUMP_TOO_LARGE', () => {
    fc.assert(
      fc.property(fc.array(ipsetReply, { maxLength: 5 }), fc.integer({ min: 0, max: 12 }), fc.boolean(), (payloads, maxEntries, headersOnly) => {
        const decoder = new IpsetDumpDecoder({ maxEntries, headersOnly });
        const added = valueOrCoded(['NETLINK_DECODE', 'NETLINK_DUMP_TOO_LARGE'], () => {
          for (const payload of payloads) decoder.add({ type: 0x0607, flags: NLM_F_MULTI, seq: 1, pid: PID, payload });
          return true;
        });
        if (added === undefined) return;
        const dump = decoder.finish();
        expect(new Set(dump.sets.map((s) => s.name)).size).toBe(dump.sets.length);
        expect(dump.sets.reduce((n, s) => n + s.entries.length, 0)).toBeLessThanOrEqual(maxEntries);
        for (const set of dump.sets) {
          if (headersOnly) expect(set.entries).toEqual([]);
          for (const e of set.entries) {
            for (const ip of [e.ip, e.ip2]) {
              if (ip === null) continue;
              expect(canonicalAddress(ip)).toBe(ip);
              if (set.family !== null) expect(ip.includes(':')).toBe(set.family === 'inet6');
            }
            const bits = set.family === 'inet6' ? 128 : 32;
            for (const cidr of [e.cidr, e.cidr2]) if (cidr !== null) expect(cidr).toBeLessThanOrEqual(bits);
          }
        }
      }),
      { numRuns: 1500 },
    );
  });

  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])('regression: a set whose type is named %j lists its members (the type table is not looked up through Object.prototype)', (type) => {
    // Found by the property above: REQUIRED[type] found Object.prototype's members, and iterating
    // `constructor` (a function) threw "set.required is not iterable", a TypeError out of the dump.
    const decoder = new IpsetDumpDecoder({ maxEntries: 10 });
    const attrs: AttrSpec[] = [
      u8(IPSET_ATTR.PROTOCOL, 6),
      stringAttr(IPSET_ATTR.SETNAME, 'odd'),
      stringAttr(IPSET_ATTR.TYPENAME, type),
      u8(IPSET_ATTR.FAMILY, 2),
      u8(IPSET_ATTR.REVISION, 0),
      { type: IPSET_ATTR.DATA, nested: [be(IPSET_HEADER_ATTR.REFERENCES, 4, 0), be(IPSET_HEADER_ATTR.ELEMENTS, 4, 1), be(IPSET_HEADER_ATTR.MEMSIZE, 4, 64)] },
      { type: IPSET_ATTR.ADT, nested: [{ type: IPSET_ATTR.DATA, nested: [be(IPSET_ELEMENT_ATTR.PORT, 2, 80)] }] },
    ];
    decoder.add({ type: 0x0607, flags: NLM_F_MULTI, seq: 1, pid: PID, payload: ipsetMessage(attrs, 1, PID).subarray(16) });
    const [set] = decoder.finish().sets;
    expect(set?.type).toBe(type);
    expect(set?.entries).toEqual([{ ip: null, cidr: null, protocol: null, port: 80, ip2: null, cidr2: null, nomatch: false }]);
  });

  it('readIpsets against a peer that answers garbage: sets, or NETLINK_DECODE / NETLINK_PROTOCOL / NETLINK_DUMP_TOO_LARGE / IPSET_PERMISSION_DENIED; every socket closed', () => {
    const codes: ErrorCode[] = ['NETLINK_DECODE', 'NETLINK_PROTOCOL', 'NETLINK_DUMP_TOO_LARGE', 'IPSET_PERMISSION_DENIED'];
    fc.assert(
      fc.property(planOf(replyOf(ipsetReply)), fc.boolean(), (plan, headersOnly) => {
        const { open, sockets } = opener(plan, 0x0607);
        try {
          readIpsets({ open, seq: 900, headersOnly, limits: { maxEntries: 20, maxDatagrams: 8 } });
        } catch (err) {
          expectCoded(codes, err);
        }
        expect(sockets.length).toBeLessThanOrEqual(3);
        expect(sockets.every((s) => s.closed === 1)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('encodeIpsetListRequest: a set name of 1–31 printable characters goes out as SETNAME, anything else is refused before it is sent', () => {
    fc.assert(
      fc.property(fc.oneof(fc.stringMatching(/^[\x21-\x7e]{1,31}$/), fc.string({ maxLength: 40 })), fc.boolean(), (setName, headersOnly) => {
        const valid = /^[\x21-\x7e]{1,31}$/.test(setName);
        const bytes = valueOrCoded(['INTERNAL'], () => encodeIpsetListRequest({ seq: 1, setName, headersOnly }));
        expect(bytes !== undefined).toBe(valid);
        if (bytes === undefined) return;
        const nf = parseNfnl(parseMessages(bytes, 'fuzz')[0] as NlMessage, 'fuzz');
        expect(nfnlMessageType(nf.subsys, nf.msg)).toBe(0x0607);
        const name = parseAttributes(nf.attributes, 'fuzz').find((a) => a.type === IPSET_ATTR.SETNAME);
        expect(name && readString(name)).toBe(setName);
      }),
      { numRuns: 300 },
    );
  });
});
