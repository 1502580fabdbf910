import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SentinelError } from '../../../src/errors/index.js';
import {
  align4,
  encodeAttributes,
  indexAttributes,
  parseAttributes,
  readBytes,
  readNested,
  readS32,
  readString,
  readU16,
  readU16Be,
  readU32,
  readU64,
  sharedBigint,
  readU8,
  stringAttr,
  u16Attr,
  u16BeAttr,
  u32Attr,
  u64Attr,
  type AttrSpec,
  NlAttr,
} from '../../../src/netlink/attributes.js';
import { expectSentinelError } from '../../support/errors.js';
import { hex, toHex } from '../../support/ipvs-messages.js';

function attr(type: number, data: readonly number[]): NlAttr {
  const bytes = Uint8Array.from(data);
  return new NlAttr(type, false, false, bytes, new DataView(bytes.buffer), 0, bytes.byteLength);
}

describe('align4', () => {
  it.each([
    [0, 0],
    [1, 4],
    [4, 4],
    [5, 8],
    [9, 12],
    [65535, 65536],
  ])('align4(%i) = %i', (n, want) => {
    expect(align4(n)).toBe(want);
  });
});

describe('integer readers check the width before reading', () => {
  type Reader = (a: NlAttr, context: string, name: string) => number | bigint;
  const readers: [string, Reader, number, readonly number[], number | bigint][] = [
    ['readU8', readU8, 1, [0xfe], 0xfe],
    ['readU16', readU16, 2, [0x34, 0x12], 0x1234],
    ['readU16Be', readU16Be, 2, [0x12, 0x34], 0x1234],
    ['readU32', readU32, 4, [0xff, 0xff, 0xff, 0xff], 0xffffffff],
    ['readS32', readS32, 4, [0xff, 0xff, 0xff, 0xff], -1],
    ['readU64', readU64, 8, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 18446744073709551615n],
  ];

  it.each(readers)('%s reads exactly %i bytes in its byte order', (_name, read, _width, bytes, want) => {
    expect(read(attr(7, bytes), 'ctx', 'FIELD')).toBe(want);
  });

  it.each(readers)('%s reads the leading bytes of a longer payload (liberal, as the kernel)', (_name, read, _width, bytes, want) => {
    expect(read(attr(7, [...bytes, 0xaa, 0xbb]), 'ctx', 'FIELD')).toBe(want);
  });

  it.each(readers.flatMap(([name, read, width]) => Array.from({ length: width }, (_, short) => [name, read, width, short] as const)))(
    '%s with %i needed rejects a %i-byte payload as NETLINK_DECODE naming the field',
    (_name, read, width, short) => {
      const err = expectSentinelError(() => read(attr(9, new Array<number>(short).fill(1)), 'service', 'PORT'), 'NETLINK_DECODE');
      expect(err.message).toBe(`PORT (type 9) has ${short} bytes, needs ${width}`);
      expect(err.op).toBe('decode service');
    },
  );

  it('readU16 and readU16Be differ only in byte order', () => {
    const a = attr(4, [0x00, 0x50]);
    expect(readU16Be(a, 'c', 'PORT')).toBe(80);
    expect(readU16(a, 'c', 'PORT')).toBe(0x5000);
  });

  it('readU64 keeps values above 2^53 exact', () => {
    const a = attr(4, [0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00]);
    expect(readU64(a, 'c', 'x')).toBe(2n ** 53n + 1n);
  });

  it('sharedBigint keeps every value, small ones as one shared instance each', () => {
    for (const v of [0n, 1n, 1023n, 1024n, 2n ** 64n - 1n]) expect(sharedBigint(v)).toBe(v);
    // Values of a netlink read, at the edges of the shared range: equal whichever instance they are.
    for (const v of [0, 1, 1023, 1024, 4096]) {
      const bytes = [v & 0xff, (v >> 8) & 0xff, 0, 0, 0, 0, 0, 0];
      expect(readU64(attr(4, bytes), 'c', 'x')).toBe(BigInt(v));
    }
  });
});

describe('readBytes', () => {
  it('returns the first `width` bytes', () => {
    expect([...readBytes(attr(3, [10, 0, 0, 1, 0, 0, 0, 0]), 4, 'c', 'ADDR')]).toEqual([10, 0, 0, 1]);
  });

  it.each([0, 3, 15])('rejects a %i-byte payload when 16 are needed', (n) => {
    expectSentinelError(() => readBytes(attr(3, new Array<number>(n).fill(0)), 16, 'destination', 'ADDR'), 'NETLINK_DECODE', /ADDR \(type 3\) has \d+ bytes, needs 16/);
  });
});

describe('readString', () => {
  it.each<[string, number[], string]>([
    ['NUL-terminated', [0x72, 0x72, 0x00], 'rr'],
    ['missing NUL (seesaw and cloudflare fixtures)', [0x77, 0x6c, 0x63], 'wlc'],
    ['trailing NULs stripped', [0x73, 0x68, 0x00, 0x00, 0x00], 'sh'],
    ['empty payload', [], ''],
    ['only a NUL', [0x00], ''],
    ['text after the first NUL ignored', [0x61, 0x00, 0x62], 'a'],
  ])('%s', (_name, bytes, want) => {
    expect(readString(attr(6, bytes))).toBe(want);
  });
});

describe('parseAttributes', () => {
  it('splits a run of attributes and returns views into the buffer', () => {
    const buf = hex('06 00 01 00 02 00 00 00   08 00 05 00 01 10 00 00');
    const attrs = parseAttributes(buf, 'service');
    expect(attrs.map((a) => [a.type, toHex(a.data)])).toEqual([
      [1, '02 00'],
      [5, '01 10 00 00'],
    ]);
    expect(attrs[0]?.data.buffer).toBe(buf.buffer);
  });

  it('works on a subarray that does not start at offset 0 of its buffer', () => {
    const whole = hex('ff ff ff   06 00 01 00 0a 00 00 00');
    const attrs = parseAttributes(whole.subarray(3), 'service');
    expect(attrs).toHaveLength(1);
    expect(readU16(attrs[0] as NlAttr, 'service', 'AF')).toBe(10);
  });

  it('returns nothing for an empty buffer', () => {
    expect(parseAttributes(new Uint8Array(0), 'x')).toEqual([]);
  });

  it.each<[string, string, number, boolean, boolean]>([
    ['NLA_F_NESTED masked', '04 00 01 80', 1, true, false],
    ['NLA_F_NET_BYTEORDER masked', '04 00 04 40', 4, false, true],
    ['both bits masked', '04 00 ff ff', 0x3fff, true, true],
    ['no flag bits', '04 00 0c 00', 12, false, false],
  ])('%s', (_name, bytes, type, nested, netByteOrder) => {
    const [a] = parseAttributes(hex(bytes), 'x');
    expect(a).toMatchObject({ type, nested, netByteOrder });
    expect(a?.data.byteLength).toBe(0);
  });

  it('keeps unknown attribute types instead of dropping them', () => {
    const buf = encodeAttributes([u32Attr(1, 1), u32Attr(0x3ffe, 2), u16Attr(200, 3)]);
    expect(parseAttributes(buf, 'x').map((a) => a.type)).toEqual([1, 0x3ffe, 200]);
  });

  it('parses nested attributes explicitly, with or without NLA_F_NESTED', () => {
    const inner = [u16Attr(1, 2), u32Attr(5, 4097)];
    for (const flag of [true, false]) {
      const [outer] = parseAttributes(encodeAttributes([{ type: 1, nested: inner }], flag), 'top');
      expect(outer?.nested).toBe(flag);
      const children = readNested(outer as NlAttr, 'service');
      expect(children.map((c) => c.type)).toEqual([1, 5]);
      expect(readU32(children[1] as NlAttr, 'service', 'FWMARK')).toBe(4097);
    }
  });

  it('steps over padding: a 5-byte payload is followed by 3 pad bytes', () => {
    const buf = hex('09 00 06 00 77 6c 63 00 00 00 00 00   08 00 08 00 2c 01 00 00');
    const attrs = parseAttributes(buf, 'x');
    expect(attrs.map((a) => a.type)).toEqual([6, 8]);
    expect(attrs[0]?.data.byteLength).toBe(5);
  });

  it('accepts a last attribute whose padding is missing (nla_len reaches the end)', () => {
    const attrs = parseAttributes(hex('05 00 0d 00 01'), 'x');
    expect(attrs.map((a) => toHex(a.data))).toEqual(['01']);
  });

  it.each(['00', '00 00', '00 00 00'])('tolerates trailing zero padding %s', (pad) => {
    expect(parseAttributes(hex(`08 00 01 00 01 00 00 00 ${pad}`), 'x')).toHaveLength(1);
  });

  it.each(['01', '00 00 07', 'ff ff'])('rejects non-zero trailing bytes %s that cannot be a header', (garbage) => {
    const err = expectSentinelError(() => parseAttributes(hex(`08 00 01 00 01 00 00 00 ${garbage}`), 'service'), 'NETLINK_DECODE');
    expect(err.message).toMatch(/trailing bytes do not form an attribute header/);
    expect(err.op).toBe('decode service');
  });

  it('rejects a truncated attribute with the context, type and sizes', () => {
    const err = expectSentinelError(() => parseAttributes(hex('06 00 01 00 02 00 00 00   14 00 03 00 0a 00 00 01'), 'service'), 'NETLINK_DECODE');
    expect(err.op).toBe('decode service');
    expect(err.message).toBe('attribute type 3 at offset 8 is truncated: length 20, 8 bytes left');
    expect(err.toLine()).toMatch(/^NETLINK_DECODE \(decode service\): /);
  });

  it.each(['00 00 01 00', '03 00 01 00', '00 00 00 00 00 00 00 00'])('rejects an attribute length below the 4-byte header: %s', (bytes) => {
    expectSentinelError(() => parseAttributes(hex(bytes), 'x'), 'NETLINK_DECODE', /has length \d \(< 4\)/);
  });

  it('reports a truncated attribute inside a nest with the nest context', () => {
    const outer = encodeAttributes([{ type: 1, data: hex('14 00 03 00 0a 00 00 01') }]);
    const [nest] = parseAttributes(outer, 'service message');
    expectSentinelError(() => readNested(nest as NlAttr, 'service'), 'NETLINK_DECODE', /type 3 .* truncated/);
  });
});

describe('indexAttributes', () => {
  it('keeps the last attribute of a type, as nla_parse does', () => {
    const index = indexAttributes(parseAttributes(encodeAttributes([u32Attr(4, 1), u32Attr(5, 2), u32Attr(4, 3)]), 'x'));
    expect(readU32(index.get(4) as NlAttr, 'x', 'x')).toBe(3);
    expect([index.has(4), index.has(5), index.has(6)]).toEqual([true, true, false]);
  });
});

describe('encodeAttributes', () => {
  it.each<[string, AttrSpec, string]>([
    ['u16 host order', u16Attr(1, 2), '06 00 01 00 02 00 00 00'],
    ['u16 big-endian', u16BeAttr(4, 80), '06 00 04 00 00 50 00 00'],
    ['u32 host order', u32Attr(5, 4097), '08 00 05 00 01 10 00 00'],
    ['u64 host order', u64Attr(4, 0x0102030405060708n), '0c 00 04 00 08 07 06 05 04 03 02 01'],
    ['string with NUL and padding', stringAttr(2, 'IPVS'), '09 00 02 00 49 50 56 53 00 00 00 00'],
    ['empty payload', { type: 11, data: new Uint8Array(0) }, '04 00 0b 00'],
    ['NLA_F_NET_BYTEORDER on request', { type: 4, data: hex('00 50'), netByteOrder: true }, '06 00 04 40 00 50 00 00'],
  ])('%s', (_name, spec, want) => {
    expect(toHex(encodeAttributes([spec]))).toBe(want);
  });

  it('sets NLA_F_NESTED on nests like libnl, and leaves it off like the kernel when asked', () => {
    const spec: AttrSpec = { type: 1, nested: [u16Attr(1, 2)] };
    expect(toHex(encodeAttributes([spec]))).toBe('0c 00 01 80 06 00 01 00 02 00 00 00');
    expect(toHex(encodeAttributes([spec], false))).toBe('0c 00 01 00 06 00 01 00 02 00 00 00');
  });

  it('counts the children padding in the nest length', () => {
    const bytes = encodeAttributes([{ type: 2, nested: [{ type: 1, data: hex('aa') }, { type: 2, data: hex('bb') }] }], false);
    expect(toHex(bytes)).toBe('14 00 02 00 05 00 01 00 aa 00 00 00 05 00 02 00 bb 00 00 00');
  });

  // Regression: a nest longer than nla_len can hold (u16) used to be written with a wrapped length.
  it('refuses an attribute longer than 65535 bytes instead of wrapping nla_len', () => {
    const big: AttrSpec = { type: 1, nested: [{ type: 2, data: new Uint8Array(40000) }, { type: 3, data: new Uint8Array(40000) }] };
    expectSentinelError(() => encodeAttributes([big]), 'INTERNAL', /65535/);
    expectSentinelError(() => encodeAttributes([{ type: 1, data: new Uint8Array(65532) }]), 'INTERNAL', /65535/);
    expect(encodeAttributes([{ type: 1, data: new Uint8Array(65531) }]).byteLength).toBe(65536);
  });

  it.each([-1, 0x4000, 0x8001, 1.5])('refuses type %s outside 0..0x3fff (it would collide with the flag bits)', (type) => {
    expectSentinelError(() => encodeAttributes([{ type, data: new Uint8Array(0) }]), 'INTERNAL', /type/);
  });
});

// ---- properties ---------------------------------------------------------------------------------

type Tree = { type: number; data: Uint8Array; netByteOrder: boolean } | { type: number; nested: Tree[] };

const typeArb = fc.integer({ min: 1, max: 0x3fff });
const leafArb: fc.Arbitrary<Tree> = fc.record({ type: typeArb, data: fc.uint8Array({ minLength: 0, maxLength: 300 }), netByteOrder: fc.boolean() });

function treeArb(depth: number): fc.Arbitrary<Tree> {
  if (depth === 0) return leafArb;
  return fc.oneof(leafArb, fc.record({ type: typeArb, nested: fc.array(treeArb(depth - 1), { maxLength: 5 }) }));
}

function toSpec(t: Tree): AttrSpec {
  return 'nested' in t ? { type: t.type, nested: t.nested.map(toSpec) } : { type: t.type, data: t.data, netByteOrder: t.netByteOrder };
}

function expectMatches(trees: readonly Tree[], bytes: Uint8Array, nestedFlag: boolean): void {
  const attrs = parseAttributes(bytes, 'property');
  expect(attrs.map((a) => a.type)).toEqual(trees.map((t) => t.type));
  trees.forEach((t, i) => {
    const a = attrs[i] as NlAttr;
    if ('nested' in t) {
      expect(a.nested).toBe(nestedFlag);
      expect(a.netByteOrder).toBe(false);
      expectMatches(t.nested, a.data, nestedFlag);
    } else {
      expect(a.nested).toBe(false);
      expect(a.netByteOrder).toBe(t.netByteOrder);
      expect(toHex(a.data)).toBe(toHex(t.data));
    }
  });
}

describe('properties', () => {
  it('encodeAttributes → parseAttributes round-trips any tree (types 1..0x3fff, payloads 0..300 bytes, depth ≤ 3)', () => {
    fc.assert(
      fc.property(fc.array(treeArb(3), { maxLength: 6 }), fc.boolean(), (trees, nestedFlag) => {
        const bytes = encodeAttributes(trees.map(toSpec), nestedFlag);
        expect(bytes.byteLength % 4).toBe(0);
        expectMatches(trees, bytes, nestedFlag);
      }),
      { numRuns: 300 },
    );
  });

  /** Parse as deep as the bytes allow and read every integer width: only NETLINK_DECODE may escape. */
  function parseEverything(buf: Uint8Array, depth: number): void {
    for (const a of parseAttributes(buf, 'fuzz')) {
      for (const read of [readU8, readU16, readU16Be, readU32, readS32, readU64]) {
        try {
          read(a, 'fuzz', 'X');
        } catch (err) {
          if (!(err instanceof SentinelError && err.code === 'NETLINK_DECODE')) throw err;
        }
      }
      readString(a);
      if (depth > 0) {
        try {
          parseEverything(a.data, depth - 1);
        } catch (err) {
          if (!(err instanceof SentinelError && err.code === 'NETLINK_DECODE')) throw err;
        }
      }
    }
  }

  it('parseAttributes on arbitrary bytes returns or throws a NETLINK_DECODE SentinelError, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.nat({ max: 3 }), (bytes, skip) => {
        // A view that does not start at offset 0, as attribute payloads never do.
        const buf = bytes.subarray(Math.min(skip, bytes.byteLength));
        try {
          parseEverything(buf, 3);
        } catch (err) {
          expect(err).toBeInstanceOf(SentinelError);
          expect((err as SentinelError).code).toBe('NETLINK_DECODE');
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('arbitrary bytes built to look like attributes (plausible lengths) are handled the same way', () => {
    const chunk = fc.tuple(fc.integer({ min: 0, max: 64 }), typeArb, fc.uint8Array({ maxLength: 64 })).map(([len, type, data]) => {
      const out = new Uint8Array(4 + data.byteLength);
      new DataView(out.buffer).setUint16(0, len, true);
      new DataView(out.buffer).setUint16(2, type, true);
      out.set(data, 4);
      return out;
    });
    fc.assert(
      fc.property(fc.array(chunk, { maxLength: 8 }), (chunks) => {
        const buf = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
        let o = 0;
        for (const c of chunks) {
          buf.set(c, o);
          o += c.byteLength;
        }
        try {
          parseEverything(buf, 3);
        } catch (err) {
          expect(err).toBeInstanceOf(SentinelError);
          expect((err as SentinelError).code).toBe('NETLINK_DECODE');
        }
      }),
      { numRuns: 1000 },
    );
  });
});
