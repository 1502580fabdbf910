import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SentinelError } from '../../../src/errors/index.js';
import { stringAttr, u16Attr, u16BeAttr, u32Attr, type AttrSpec } from '../../../src/netlink/attributes.js';
import {
  encodeRequest,
  messageStatus,
  NLM_F_ACK,
  NLM_F_DUMP,
  NLM_F_MULTI,
  NLM_F_REQUEST,
  NLMSG_DONE,
  NLMSG_ERROR,
  parseGenl,
  parseMessages,
  type NlMessage,
} from '../../../src/netlink/message.js';
import { expectSentinelError } from '../../support/errors.js';
import { datagram, doneMessage, errorMessage, hex, nlMessage, toHex } from '../../support/ipvs-messages.js';

describe('parseMessages', () => {
  it('splits a datagram at align4(nlmsg_len) and keeps the padding out of the payload', () => {
    const first = nlMessage({ type: 0x1c, flags: NLM_F_MULTI, seq: 7, pid: 4242 }, hex('01 01 00 00 aa')); // len 21 → next at 24
    const dgram = datagram(first, doneMessage(7, 4242));
    expect(first.byteLength).toBe(24);
    const messages = parseMessages(dgram, 'reply');
    expect(messages.map((m) => [m.type, m.flags, m.seq, m.pid, m.payload.byteLength])).toEqual([
      [0x1c, NLM_F_MULTI, 7, 4242, 5],
      [NLMSG_DONE, NLM_F_MULTI, 7, 4242, 4],
    ]);
    expect(toHex(messages[0]?.payload ?? new Uint8Array())).toBe('01 01 00 00 aa');
  });

  it('accepts a last message without its padding', () => {
    const msg = nlMessage({ type: 0x1c, seq: 1, pid: 1 }, hex('01 01 00 00 aa'));
    expect(parseMessages(msg.subarray(0, 21), 'reply')).toHaveLength(1);
  });

  it('returns nothing for an empty datagram and stops when fewer than 16 bytes remain', () => {
    expect(parseMessages(new Uint8Array(0), 'reply')).toEqual([]);
    expect(parseMessages(datagram(doneMessage(1, 1), new Uint8Array(8)), 'reply')).toHaveLength(1);
  });

  it('decodes a datagram that sits inside a larger buffer', () => {
    const inner = doneMessage(9, 10);
    const buf = new Uint8Array(3 + inner.byteLength);
    buf.set(inner, 3);
    expect(parseMessages(buf.subarray(3), 'reply')[0]).toMatchObject({ type: NLMSG_DONE, seq: 9, pid: 10 });
  });

  it.each<[string, Uint8Array, RegExp]>([
    ['length past the end', hex('30 00 00 00 1c 00 02 00 01 00 00 00 01 00 00 00 01 01 00 00'), /length 48 but the datagram has 20 bytes left/],
    ['length below the header', hex('0c 00 00 00 03 00 02 00 01 00 00 00 01 00 00 00'), /length 12/],
    ['zero length (would loop forever)', new Uint8Array(16), /length 0/],
    ['second message truncated', datagram(doneMessage(1, 1), hex('40 00 00 00 03 00 02 00 01 00 00 00 01 00 00 00')), /offset 20 has length 64/],
  ])('rejects a truncated message: %s', (_name, dgram, message) => {
    const err = expectSentinelError(() => parseMessages(dgram, 'reply to dump'), 'NETLINK_DECODE', message);
    expect(err.op).toBe('decode reply to dump');
  });

  it('never throws anything but NETLINK_DECODE on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          for (const m of parseMessages(bytes, 'fuzz')) {
            parseGenl(m, 'fuzz');
            messageStatus(m, 'fuzz');
          }
        } catch (err) {
          expect(err).toBeInstanceOf(SentinelError);
          expect((err as SentinelError).code).toBe('NETLINK_DECODE');
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('parseGenl', () => {
  const msg = (payload: Uint8Array): NlMessage => ({ type: 0x1c, flags: 0, seq: 1, pid: 1, payload });

  it('reads cmd and version and returns the attributes after the 4-byte header', () => {
    const g = parseGenl(msg(hex('05 01 00 00 08 00 01 00 00 00 00 00')), 'x');
    expect(g.cmd).toBe(5);
    expect(g.version).toBe(1);
    expect(toHex(g.attributes)).toBe('08 00 01 00 00 00 00 00');
  });

  it.each([0, 1, 3])('rejects a %i-byte payload as NETLINK_DECODE', (n) => {
    expectSentinelError(() => parseGenl(msg(new Uint8Array(n)), 'reply'), 'NETLINK_DECODE', /shorter than its 4-byte header/);
  });
});

describe('messageStatus', () => {
  const [ack] = parseMessages(errorMessage(3, 9, 0), 'x');
  const [eperm] = parseMessages(errorMessage(3, 9, 1), 'x');
  const [done] = parseMessages(doneMessage(3, 9), 'x');

  it.each<[string, NlMessage | undefined, number]>([
    ['ACK', ack, 0],
    ['EPERM', eperm, -1],
    ['DONE with status 0', done, 0],
  ])('%s', (_name, m, want) => {
    expect(messageStatus(m as NlMessage, 'x')).toBe(want);
  });

  it.each([0, 1, 3])('tolerates a DONE with a %i-byte payload', (n) => {
    expect(messageStatus({ type: NLMSG_DONE, flags: NLM_F_MULTI, seq: 1, pid: 1, payload: new Uint8Array(n) }, 'x')).toBe(0);
  });

  it('reads a negative DONE status', () => {
    expect(messageStatus({ type: NLMSG_DONE, flags: 0, seq: 1, pid: 1, payload: hex('f0 ff ff ff') }, 'x')).toBe(-16);
  });

  it.each([0, 3])('rejects an NLMSG_ERROR with a %i-byte payload', (n) => {
    expectSentinelError(() => messageStatus({ type: NLMSG_ERROR, flags: 0, seq: 1, pid: 1, payload: new Uint8Array(n) }, 'reply'), 'NETLINK_DECODE', /without its errno/);
  });
});

describe('encodeRequest reproduces libnl 3.7.0 byte for byte (docs/ipvs-netlink.md §3.2–§3.4)', () => {
  it('docs/ipvs-netlink.md §3.2: CTRL_CMD_GETFAMILY "IPVS", 32 bytes', () => {
    const want = hex(`
      20 00 00 00 10 00 05 00 01 00 00 00 00 00 00 00
      03 01 00 00
      09 00 02 00 49 50 56 53 00 00 00 00
    `);
    const got = encodeRequest({ type: 0x10, flags: NLM_F_REQUEST | NLM_F_ACK, seq: 1, genl: { cmd: 3, version: 1 }, attributes: [stringAttr(2, 'IPVS')] });
    expect(got.byteLength).toBe(32);
    expect(toHex(got)).toBe(toHex(want));
  });

  it('docs/ipvs-netlink.md §3.3: GET_SERVICE dump, 20 bytes, flags 0x0301', () => {
    const want = hex(`
      14 00 00 00 1c 00 01 03 07 00 00 00 00 00 00 00
      04 01 00 00
    `);
    const got = encodeRequest({ type: 0x1c, flags: NLM_F_REQUEST | NLM_F_DUMP, seq: 7, genl: { cmd: 4, version: 1 } });
    expect(NLM_F_REQUEST | NLM_F_DUMP).toBe(0x0301);
    expect(got.byteLength).toBe(20);
    expect(toHex(got)).toBe(toHex(want));
  });

  it('docs/ipvs-netlink.md §3.4: GET_DEST for TCP 10.0.0.1:80, seq 1234, 68 bytes with NLA_F_NESTED', () => {
    const want = hex(`
      44 00 00 00 1c 00 01 03 d2 04 00 00 00 00 00 00
      08 01 00 00
      30 00 01 80
      06 00 01 00 02 00 00 00
      06 00 02 00 06 00 00 00
      14 00 03 00 0a 00 00 01 00 00 00 00 00 00 00 00 00 00 00 00
      06 00 04 00 00 50 00 00
    `);
    const identity: AttrSpec[] = [
      u16Attr(1, 2),
      u16Attr(2, 6),
      { type: 3, data: hex('0a 00 00 01 00 00 00 00 00 00 00 00 00 00 00 00') },
      u16BeAttr(4, 80),
    ];
    const got = encodeRequest({ type: 0x1c, flags: NLM_F_REQUEST | NLM_F_DUMP, seq: 1234, genl: { cmd: 8, version: 1 }, attributes: [{ type: 1, nested: identity }] });
    expect(got.byteLength).toBe(68);
    expect(toHex(got)).toBe(toHex(want));
  });

  it('docs/ipvs-netlink.md §3.4: GET_DEST for the IPv6 fwmark 4097 service, 40 bytes', () => {
    const want = hex(`
      28 00 00 00 1c 00 01 03 09 00 00 00 00 00 00 00
      08 01 00 00
      14 00 01 80 06 00 01 00 0a 00 00 00 08 00 05 00 01 10 00 00
    `);
    const got = encodeRequest({
      type: 0x1c,
      flags: NLM_F_REQUEST | NLM_F_DUMP,
      seq: 9,
      genl: { cmd: 8, version: 1 },
      attributes: [{ type: 1, nested: [u16Attr(1, 10), u32Attr(5, 4097)] }],
    });
    expect(got.byteLength).toBe(40);
    expect(toHex(got)).toBe(toHex(want));
  });

  it('writes pid and a padded family header for classic protocols (rtnetlink)', () => {
    const got = encodeRequest({ type: 22, flags: NLM_F_REQUEST | NLM_F_DUMP, seq: 2, pid: 77, header: hex('0a 00 00 00 00 00 00 00 01') });
    expect(toHex(got)).toBe('1c 00 00 00 16 00 01 03 02 00 00 00 4d 00 00 00 0a 00 00 00 00 00 00 00 01 00 00 00');
  });

  it('produces messages parseMessages reads back', () => {
    const req = encodeRequest({ type: 0x1c, flags: 0x0305, seq: 0xfffffffe, pid: 0xffffffff, genl: { cmd: 15, version: 1 } });
    const [m] = parseMessages(req, 'x');
    expect(m).toMatchObject({ type: 0x1c, flags: 0x0305, seq: 0xfffffffe, pid: 0xffffffff });
    expect(parseGenl(m as NlMessage, 'x')).toMatchObject({ cmd: 15, version: 1 });
  });
});
