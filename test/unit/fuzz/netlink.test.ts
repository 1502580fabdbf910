/**
 * Netlink framing and attributes (src/netlink/message.ts, src/netlink/attributes.ts) against bytes
 * that lie. What test/unit/netlink already holds (arbitrary bytes → only NETLINK_DECODE, the
 * encode → parse round trip of attribute trees) is not repeated: these properties add the bounds —
 * a decoded message or attribute never reaches outside the bytes it came in, a lying length never
 * becomes an allocation of that length, nests strictly shrink (so no NLA_F_NESTED loop and no depth
 * beyond the bytes) — and the request encoder's round trip through the reply parsers.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NLA_HDRLEN, parseAttributes, parseAttributesIn, readNested, readString, type NlAttr } from '../../../src/netlink/attributes.js';
import { encodeRequest, GENL_HDRLEN, messageStatus, NLMSG_DONE, NLMSG_ERROR, NLMSG_HDRLEN, parseGenl, parseMessages, type NlMessage } from '../../../src/netlink/message.js';
import { expectSentinelError } from '../../support/errors.js';
import { concat, leafPayload, lyingLength, nlMessage, soup, soupBytes, valueOrCoded, type SoupAttr } from './hostile.js';

const DECODE = ['NETLINK_DECODE'] as const;

/** A datagram of honest and lying messages, with stray bytes after them. */
const datagramParts = fc.array(
  fc.record({
    type: fc.integer({ min: 0, max: 0xffff }),
    flags: fc.integer({ min: 0, max: 0xffff }),
    seq: fc.nat({ max: 0xffffffff }),
    pid: fc.nat({ max: 0xffffffff }),
    len: fc.option(lyingLength, { freq: 4 }),
    payload: fc.uint8Array({ maxLength: 48 }),
  }),
  { maxLength: 6 },
);

function frame(parts: readonly { type: number; flags: number; seq: number; pid: number; len: number | null; payload: Uint8Array }[], tail: Uint8Array): Uint8Array {
  return concat([...parts.map((p) => nlMessage({ ...p, len: p.len ?? undefined }, p.payload)), tail]);
}

describe('netlink messages that lie', () => {
  it('parseMessages: honest messages come back field for field; a lying nlmsg_len is NETLINK_DECODE; payloads are views inside the datagram', () => {
    fc.assert(
      fc.property(datagramParts, fc.uint8Array({ maxLength: 15 }), fc.nat({ max: 7 }), (parts, tail, lead) => {
        // The datagram sits inside a larger buffer, as the socket's receive buffer lends it.
        const bytes = frame(parts, tail);
        const backing = new Uint8Array(lead + bytes.byteLength + 9);
        backing.set(bytes, lead);
        const datagram = backing.subarray(lead, lead + bytes.byteLength);
        const messages = valueOrCoded(DECODE, () => parseMessages(datagram, 'fuzz'));
        const honest = parts.every((p) => p.len === null);
        if (honest) {
          expect(messages, 'honest messages parse').toBeDefined();
          expect(messages?.map((m) => [m.type, m.flags, m.seq, m.pid, [...m.payload]])).toEqual(parts.map((p) => [p.type, p.flags, p.seq, p.pid, [...p.payload]]));
        }
        if (messages === undefined) return;
        expect(messages.length).toBeLessThanOrEqual(Math.floor(datagram.byteLength / NLMSG_HDRLEN));
        for (const m of messages) {
          expect(m.payload.buffer).toBe(backing.buffer);
          expect(m.payload.byteOffset).toBeGreaterThanOrEqual(datagram.byteOffset + NLMSG_HDRLEN);
          expect(m.payload.byteOffset + m.payload.byteLength).toBeLessThanOrEqual(datagram.byteOffset + datagram.byteLength);
        }
      }),
      { numRuns: 1500 },
    );
  });

  it.each([
    ['nlmsg_len 0xffffffff in a 16-byte datagram', nlMessage({ type: 16, seq: 1, pid: 1, len: 0xffffffff }, new Uint8Array(0))],
    ['nlmsg_len 0 (a loop if taken as a step)', nlMessage({ type: 16, seq: 1, pid: 1, len: 0 }, new Uint8Array(8))],
    ['nlmsg_len 15, shorter than the header', nlMessage({ type: 16, seq: 1, pid: 1, len: 15 }, new Uint8Array(8))],
    ['a second message running 1 byte past the end', concat([nlMessage({ type: 16, seq: 1, pid: 1 }, new Uint8Array(4)), nlMessage({ type: 16, seq: 1, pid: 1, len: 25 }, new Uint8Array(8))])],
  ])('%s is NETLINK_DECODE', (_what, datagram) => {
    expectSentinelError(() => parseMessages(datagram, 'fuzz'), 'NETLINK_DECODE', /length/);
  });

  it('parseGenl: cmd and version from any payload of 4 bytes or more, its attributes a view just after; NETLINK_DECODE below 4', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (payload) => {
        const message: NlMessage = { type: 0x1c, flags: 0, seq: 1, pid: 1, payload };
        const genl = valueOrCoded(DECODE, () => parseGenl(message, 'fuzz'));
        expect(genl === undefined).toBe(payload.byteLength < GENL_HDRLEN);
        if (genl === undefined) return;
        expect([genl.cmd, genl.version]).toEqual([payload[0], payload[1]]);
        expect(genl.attributes.buffer).toBe(payload.buffer);
        expect(genl.attributes.byteOffset).toBe(payload.byteOffset + GENL_HDRLEN);
        expect(genl.attributes.byteLength).toBe(payload.byteLength - GENL_HDRLEN);
      }),
      { numRuns: 300 },
    );
  });

  it('messageStatus: an s32 errno from any error or done payload; a short DONE is 0, a short ERROR NETLINK_DECODE', () => {
    fc.assert(
      fc.property(fc.constantFrom(NLMSG_ERROR, NLMSG_DONE), fc.uint8Array({ maxLength: 24 }), (type, payload) => {
        const status = valueOrCoded(DECODE, () => messageStatus({ type, flags: 0, seq: 1, pid: 1, payload }, 'fuzz'));
        if (payload.byteLength < 4) {
          expect(status).toBe(type === NLMSG_DONE ? 0 : undefined);
          return;
        }
        expect(status).toBe(new DataView(payload.buffer, payload.byteOffset).getInt32(0, true));
      }),
      { numRuns: 300 },
    );
  });

  it('encodeRequest → parseMessages → parseGenl / the family header → parseAttributes gives back every field', () => {
    const attrs = fc.array(fc.record({ type: fc.integer({ min: 0, max: 0x3fff }), data: leafPayload }), { maxLength: 5 });
    fc.assert(
      fc.property(
        fc.record({
          type: fc.integer({ min: 0, max: 0xffff }),
          flags: fc.integer({ min: 0, max: 0xffff }),
          seq: fc.nat({ max: 0xffffffff }),
          pid: fc.nat({ max: 0xffffffff }),
        }),
        fc.option(fc.record({ cmd: fc.integer({ min: 0, max: 255 }), version: fc.integer({ min: 0, max: 255 }) })),
        fc.option(fc.uint8Array({ minLength: 1, maxLength: 16 })),
        attrs,
        (head, genl, header, attributes) => {
          const bytes = encodeRequest({ ...head, ...(genl ? { genl } : {}), ...(header ? { header } : {}), attributes });
          const [message, ...more] = parseMessages(bytes, 'fuzz');
          expect(more).toEqual([]);
          expect(message && [message.type, message.flags, message.seq, message.pid]).toEqual([head.type, head.flags, head.seq, head.pid]);
          let rest = (message as NlMessage).payload;
          if (genl) {
            const g = parseGenl(message as NlMessage, 'fuzz');
            expect([g.cmd, g.version]).toEqual([genl.cmd, genl.version]);
            rest = g.attributes;
          }
          if (header) {
            expect([...rest.subarray(0, header.byteLength)]).toEqual([...header]);
            rest = rest.subarray((header.byteLength + 3) & ~3);
          }
          expect(parseAttributes(rest, 'fuzz').map((a) => [a.type, [...a.data]])).toEqual(attributes.map((a) => [a.type, [...a.data]]));
        },
      ),
      { numRuns: 300 },
    );
  });
});

/** Parse every attribute as a nest as far as the bytes allow, checking the bounds at each level. */
function walk(buffer: Uint8Array, view: DataView, start: number, end: number, depth: number, seen: { attrs: number; depth: number }): void {
  const attrs = valueOrCoded(DECODE, () => parseAttributesIn(buffer, view, start, end, 'fuzz'));
  if (attrs === undefined) return;
  expect(attrs.length).toBeLessThanOrEqual(Math.floor((end - start) / NLA_HDRLEN));
  seen.depth = Math.max(seen.depth, depth);
  for (const a of attrs) {
    seen.attrs++;
    // Inside the parent, strictly smaller than it: a nest can neither contain itself nor loop.
    expect(a.offset).toBeGreaterThanOrEqual(start + NLA_HDRLEN);
    expect(a.offset + a.length).toBeLessThanOrEqual(end);
    expect(a.length).toBeLessThan(end - start);
    expect(readString(a).length).toBeLessThanOrEqual(a.length);
    walk(buffer, view, a.offset, a.offset + a.length, depth + 1, seen);
  }
}

/** Is every nla_len in the tree the honest one (and no nest longer than nla_len can say)? */
function honest(attrs: readonly SoupAttr[]): boolean {
  return attrs.every((a) => a.lie === null && soupBytes([a]).byteLength <= 0xffff && (a.body instanceof Uint8Array || honest(a.body)));
}

/** The parsed tree equals the soup wherever the soup has nests (leaves may happen to parse as nests too). */
function expectTree(attrs: readonly NlAttr[], tree: readonly SoupAttr[]): void {
  expect(attrs.map((a) => a.type)).toEqual(tree.map((t) => t.type & 0x3fff));
  tree.forEach((t, i) => {
    const a = attrs[i] as NlAttr;
    expect([a.nested, a.netByteOrder]).toEqual([(t.flags & 0x8000) !== 0, (t.flags & 0x4000) !== 0]);
    if (t.body instanceof Uint8Array) expect([...a.data]).toEqual([...t.body]);
    else expectTree(readNested(a, 'fuzz'), t.body);
  });
}

describe('netlink attributes that lie', () => {
  it('any tree: lying lengths are NETLINK_DECODE, honest trees read back; every attribute inside its parent, every nest smaller than its parent', () => {
    fc.assert(
      fc.property(soup([], 4), fc.nat({ max: 3 }), (tree, lead) => {
        const bytes = soupBytes(tree);
        const backing = new Uint8Array(lead + bytes.byteLength);
        backing.set(bytes, lead);
        const view = new DataView(backing.buffer);
        const seen = { attrs: 0, depth: 0 };
        walk(backing, view, lead, backing.byteLength, 0, seen);
        // No level holds more attributes than 4-byte headers fit, so no walk does more than that in all.
        expect(seen.depth).toBeLessThanOrEqual(Math.floor(bytes.byteLength / NLA_HDRLEN));
        if (honest(tree)) expectTree(parseAttributes(backing.subarray(lead), 'fuzz'), tree);
      }),
      { numRuns: 800 },
    );
  });

  it('zero-length attributes (nla_len 4) are empty payloads; nla_len 0–3 is NETLINK_DECODE, never a loop', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 1, max: 64 }), (len, count) => {
        const one = new Uint8Array(4);
        new DataView(one.buffer).setUint16(0, len, true);
        const bytes = concat(Array.from({ length: count }, () => one));
        const attrs = valueOrCoded(DECODE, () => parseAttributes(bytes, 'fuzz'));
        if (len < NLA_HDRLEN) expect(attrs).toBeUndefined();
        else if (len === NLA_HDRLEN) expect(attrs?.map((a) => a.length)).toEqual(Array.from({ length: count }, () => 0));
      }),
      { numRuns: 200 },
    );
  });

  /** `depth` nests, each the only attribute of its parent, innermost a 1-byte payload; `lieAt` makes one nest claim 4 bytes too many. */
  function chain(depth: number, lieAt: number | null): Uint8Array {
    const bytes = new Uint8Array(depth * NLA_HDRLEN + 8);
    const view = new DataView(bytes.buffer);
    for (let level = 0; level <= depth; level++) {
      const offset = level * NLA_HDRLEN;
      const len = bytes.byteLength - 3 - offset; // the innermost leaf is 5 bytes, its padding left out of every nest
      view.setUint16(offset, level === lieAt ? len + 4 : len, true);
      view.setUint16(offset + 2, level === depth ? 1 : 1 | 0x8000, true);
    }
    return bytes;
  }

  it('NLA_F_NESTED as deep as 64 KiB allows (16,382 levels) is walked level by level, and a lie at any depth is NETLINK_DECODE there', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 16382 }), fc.option(fc.nat()), (depth, lie) => {
        const lieAt = lie === null ? null : lie % (depth + 1);
        const bytes = chain(depth, lieAt);
        expect(bytes.byteLength - 3).toBeLessThanOrEqual(0xffff);
        let level = 0;
        let attrs = valueOrCoded(DECODE, () => parseAttributes(bytes, 'fuzz'));
        while (attrs !== undefined && attrs[0]?.nested === true) {
          if (attrs.length !== 1) expect.fail(`level ${level} holds ${attrs.length} attributes`);
          const nest = attrs[0];
          attrs = valueOrCoded(DECODE, () => readNested(nest, 'fuzz'));
          level++;
        }
        if (lieAt === null) {
          expect(level).toBe(depth);
          expect(attrs?.[0]?.length).toBe(1);
        } else {
          expect(attrs).toBeUndefined();
          // A nest that claims too much is refused by its parent (the top one by the buffer): every level above it was read.
          expect(level).toBe(lieAt);
        }
      }),
      { numRuns: 60 },
    );
  });
});
