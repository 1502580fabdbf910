/**
 * rtnetlink link and address dumps (src/node/rtnetlink.ts, the dump loop of src/node/kube-ipvs0.ts)
 * against hostile replies: what the reply encoders write reads back exactly; any struct ifinfomsg /
 * ifaddrmsg with any attributes after it is a value, a skipped family or NETLINK_DECODE; a peer that
 * answers RTM_GETLINK / RTM_GETADDR with garbage ends readNodeInterfaces with interfaces or a code.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AddressFamily } from '../../../src/ipvs/types.js';
import { NLM_F_DUMP_INTR, NLM_F_MULTI, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, parseMessages, type NlMessage } from '../../../src/netlink/message.js';
import { readNodeInterfaces } from '../../../src/node/kube-ipvs0.js';
import {
  AF_INET,
  AF_INET6,
  decodeAddress,
  decodeLink,
  encodeAddressMessage,
  encodeLinkMessage,
  IFA_ADDRESS,
  IFA_FLAGS,
  IFA_LABEL,
  IFA_LOCAL,
  IFLA_ADDRESS,
  IFLA_IFNAME,
  RTM_NEWADDR,
  RTM_NEWLINK,
  type RtLink,
} from '../../../src/node/rtnetlink.js';
import { canonicalAddress, formatAddress } from '../../../src/util/ip.js';
import { concat, expectCoded, HostileSocket, leafPayload, lyingLength, mutateAll, mutation, nlMessage, seqOf, soup, soupBytes, valueOrCoded } from './hostile.js';

const DECODE = ['NETLINK_DECODE'] as const;
const PID = 4242;

const name = fc.string({ unit: 'grapheme', maxLength: 15 }).filter((s) => !s.includes('\0'));
const link: fc.Arbitrary<RtLink> = fc.record({
  index: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  name,
  type: fc.integer({ min: 0, max: 0xffff }),
  flags: fc.nat({ max: 0xffffffff }),
});
const bytesOf = (f: AddressFamily): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: f === 'inet' ? 4 : 16, maxLength: f === 'inet' ? 4 : 16 });
const address = fc.constantFrom<AddressFamily>('inet', 'inet6').chain((family) =>
  fc.record({
    index: fc.nat({ max: 0xffffffff }),
    family: fc.constant(family),
    prefixLength: fc.integer({ min: 0, max: 255 }),
    scope: fc.integer({ min: 0, max: 255 }),
    local: fc.option(bytesOf(family)),
    address: fc.option(bytesOf(family)),
    label: fc.option(name, { nil: undefined }),
  }),
);

function only(bytes: Uint8Array): NlMessage {
  const [message, ...more] = parseMessages(bytes, 'fuzz');
  expect(more).toEqual([]);
  return message as NlMessage;
}

describe('rtnetlink replies the kernel could send read back exactly', () => {
  it('RTM_NEWLINK: index, name, type and flags, whatever other attributes follow', () => {
    // rtnl_fill_ifinfo puts dozens of attributes after IFLA_IFNAME; none of them may change the link.
    const others = fc.array(fc.record({ type: fc.integer({ min: 0, max: 0x3fff }).filter((t) => t !== IFLA_IFNAME), data: leafPayload }), { maxLength: 4 });
    fc.assert(
      fc.property(link, others, (l, extra) => {
        expect(decodeLink(only(encodeLinkMessage(l, 1, PID, extra)))).toEqual(l);
      }),
      { numRuns: 300 },
    );
  });

  it('RTM_NEWADDR: IFA_LOCAL is the address and a different IFA_ADDRESS the peer; prefix, scope, label', () => {
    fc.assert(
      fc.property(address, (a) => {
        const decoded = valueOrCoded(DECODE, () => decodeAddress(only(encodeAddressMessage(a, 1, PID))));
        const local = a.local === null ? null : formatAddress(a.family, a.local);
        const peer = a.address === null ? null : formatAddress(a.family, a.address);
        if (local === null && peer === null) {
          expect(decoded).toBeUndefined();
          return;
        }
        expect(decoded).toEqual({
          index: a.index,
          family: a.family,
          prefixLength: a.prefixLength,
          scope: a.scope,
          address: local ?? peer,
          peer: local !== null && peer !== null && peer !== local ? peer : null,
          label: a.label ?? null,
        });
      }),
      { numRuns: 300 },
    );
  });
});

/** A struct ifinfomsg / ifaddrmsg of any bytes (family byte often a real one), then any attributes. */
function hostileBody(headerLength: number, types: readonly number[]): fc.Arbitrary<Uint8Array> {
  const header = fc.tuple(fc.uint8Array({ minLength: headerLength, maxLength: headerLength }), fc.constantFrom(AF_INET, AF_INET6, 0, 7, 255)).map(([h, family]) => {
    const out = h.slice();
    out[0] = family;
    return out;
  });
  return fc.oneof(
    fc.uint8Array({ maxLength: headerLength + 8 }),
    fc.tuple(header, soup(types, 1), fc.array(mutation, { maxLength: 2 })).map(([h, tree, ms]) => mutateAll(concat([h, soupBytes(tree)]), ms)),
  );
}

const linkBody = hostileBody(16, [IFLA_ADDRESS, IFLA_IFNAME, 4, 13]);
const addressBody = hostileBody(8, [IFA_ADDRESS, IFA_LOCAL, IFA_LABEL, IFA_FLAGS]);

describe('hostile rtnetlink replies decode to a value or NETLINK_DECODE', () => {
  it('RTM_NEWLINK of any payload: a link with a name, or NETLINK_DECODE', () => {
    fc.assert(
      fc.property(linkBody, (payload) => {
        const l = valueOrCoded(DECODE, () => decodeLink({ type: RTM_NEWLINK, flags: 0, seq: 1, pid: PID, payload }));
        if (l !== undefined) expect(l.name.includes('\0')).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it('RTM_NEWADDR of any payload: a canonical address of its family, null for another family, or NETLINK_DECODE', () => {
    fc.assert(
      fc.property(addressBody, (payload) => {
        const a = valueOrCoded(DECODE, () => decodeAddress({ type: RTM_NEWADDR, flags: 0, seq: 1, pid: PID, payload }));
        if (a === undefined) return;
        if (a === null) {
          expect([AF_INET, AF_INET6]).not.toContain(payload[0]);
          return;
        }
        for (const text of [a.address, a.peer]) {
          if (text === null) continue;
          expect(canonicalAddress(text)).toBe(text);
          expect(text.includes(':')).toBe(a.family === 'inet6');
        }
      }),
      { numRuns: 1000 },
    );
  });
});

type Reply =
  | { kind: 'link'; payload: Uint8Array }
  | { kind: 'address'; payload: Uint8Array }
  | { kind: 'done' | 'ack' | 'noop' | 'interrupted' | 'other-seq' }
  | { kind: 'error'; errno: number }
  | { kind: 'lying-length'; len: number }
  | { kind: 'garbage'; bytes: Uint8Array };

const reply: fc.Arbitrary<Reply> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('link' as const), payload: fc.oneof({ weight: 4, arbitrary: link.map((l) => encodeLinkMessage(l, 0, 0).subarray(16)) }, { weight: 1, arbitrary: linkBody }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('address' as const), payload: fc.oneof({ weight: 4, arbitrary: address.map((a) => encodeAddressMessage(a, 0, 0).subarray(16)) }, { weight: 1, arbitrary: addressBody }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('done' as const, 'ack' as const, 'noop' as const, 'interrupted' as const, 'other-seq' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('error' as const), errno: fc.constantFrom(1, 16, 22, 105, -3) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('lying-length' as const), len: lyingLength }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('garbage' as const), bytes: fc.uint8Array({ maxLength: 40 }) }) },
);

/** NLMSG_ERROR with -errno (0: an ACK) and room for the echoed request header. */
function errorMessage(errno: number, seq: number): Uint8Array {
  const p = new Uint8Array(20);
  new DataView(p.buffer).setInt32(0, -errno, true);
  return nlMessage({ type: NLMSG_ERROR, seq, pid: PID }, p);
}

function replyBytes(r: Reply, seq: number): Uint8Array {
  switch (r.kind) {
    case 'link':
      return nlMessage({ type: RTM_NEWLINK, flags: NLM_F_MULTI, seq, pid: PID }, r.payload);
    case 'address':
      return nlMessage({ type: RTM_NEWADDR, flags: NLM_F_MULTI, seq, pid: PID }, r.payload);
    case 'done':
      return nlMessage({ type: NLMSG_DONE, flags: NLM_F_MULTI, seq, pid: PID }, new Uint8Array(4));
    case 'interrupted':
      return nlMessage({ type: NLMSG_DONE, flags: NLM_F_MULTI | NLM_F_DUMP_INTR, seq, pid: PID }, new Uint8Array(4));
    case 'other-seq':
      return nlMessage({ type: RTM_NEWLINK, seq: seq ^ 0x80000000, pid: PID }, new Uint8Array(3));
    case 'noop':
      return nlMessage({ type: NLMSG_NOOP, seq, pid: PID }, new Uint8Array(0));
    case 'ack':
      return errorMessage(0, seq);
    case 'error':
      return errorMessage(r.errno, seq);
    case 'lying-length':
      return nlMessage({ type: RTM_NEWLINK, seq, pid: PID, len: r.len }, new Uint8Array(16));
    case 'garbage':
      return r.bytes;
  }
}

describe('readNodeInterfaces against a peer that answers garbage', () => {
  it('gives interfaces with canonical addresses after at most three dumps of each kind, or NETLINK_DECODE / NETLINK_PROTOCOL / NETLINK_IO', () => {
    const answer = fc.tuple(fc.array(reply, { maxLength: 6 }), fc.constantFrom<Reply[]>([{ kind: 'done' }], [{ kind: 'done' }], []), fc.integer({ min: 1, max: 3 }));
    fc.assert(
      fc.property(fc.array(answer, { minLength: 1, maxLength: 4 }), (plan) => {
        const socket = new HostileSocket((request, count) => {
          const [replies, end, per] = plan[(count - 1) % plan.length] ?? [[], [], 1];
          const messages = [...replies, ...end].map((r) => replyBytes(r, seqOf(request)));
          const datagrams: Uint8Array[] = [];
          for (let i = 0; i < messages.length; i += per) datagrams.push(concat(messages.slice(i, i + per)));
          return datagrams;
        }, PID);
        let interfaces;
        try {
          interfaces = readNodeInterfaces({ socket, seq: 100 });
        } catch (err) {
          expectCoded(['NETLINK_DECODE', 'NETLINK_PROTOCOL', 'NETLINK_IO'], err);
          return;
        }
        // Two dumps of at most three attempts each, every datagram of them read once.
        expect(socket.sent.length).toBeLessThanOrEqual(6);
        for (const i of interfaces) for (const a of i.addresses) expect(canonicalAddress(a.address)).toBe(a.address);
      }),
      { numRuns: 500 },
    );
  });
});
