import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ascii, PiecePool, PieceWriter } from '../../../src/render/pieces.js';

/** Writes with `write`, in pieces of `pieceBytes`, and returns the pieces. */
function pieces(write: (w: PieceWriter) => void, pieceBytes?: number): Buffer[] {
  const w = new PieceWriter({ pieceBytes });
  write(w);
  return w.finish();
}

const written = (write: (w: PieceWriter) => void, pieceBytes?: number): string => Buffer.concat(pieces(write, pieceBytes)).toString('utf8');

describe('PieceWriter', () => {
  it.each([0, 1, 9, 10, 99, 100, 101, 999, 1000, 65535, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 1e15 - 1, 1e15, 2 ** 53 - 1])('uint(%d) is its decimal text', (n) => {
    expect(written((w) => w.uint(n))).toBe(String(n));
  });

  it('uint and number write integers exactly as String() does', () => {
    fc.assert(fc.property(fc.maxSafeNat(), (n) => written((w) => w.uint(n)) === String(n)));
    fc.assert(fc.property(fc.oneof(fc.double(), fc.maxSafeInteger(), fc.constantFrom(-0, NaN, Infinity, -Infinity, 1e21, 2 ** 64, 0.1, -1)), (n) => written((w) => w.number(n)) === String(n)));
  });

  it.each([0n, 1n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 64n - 1n, 2n ** 64n, -1n, -(2n ** 63n)])('bigint(%s) has every digit', (v) => {
    expect(written((w) => w.bigint(v))).toBe(v.toString());
  });

  it('bigint writes any bigint exactly', () => {
    fc.assert(fc.property(fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }), (v) => written((w) => w.bigint(v)) === v.toString()));
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (v) => written((w) => w.bigint(v)) === v.toString()));
  });

  it.each(['', 'plain', 'a"b', 'back\\slash', 'line\nfeed', 'tab\t', '\u0000\u001f\u007f', 'ünïcödé', '😀', 'lone \ud800 surrogate', '\u2028\u2029'])('jsonString(%j) is JSON.stringify', (s) => {
    expect(written((w) => w.jsonString(s))).toBe(JSON.stringify(s));
  });

  it('jsonString and text agree with JSON.stringify and UTF-8 for any string', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => written((w) => w.jsonString(s)) === JSON.stringify(s)));
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => Buffer.concat(pieces((w) => w.text(s))).equals(Buffer.from(s, 'utf8'))));
  });

  it('writes fixed text of any length, short (word by word) or long', () => {
    for (const text of ['', 'a', 'abc', 'abcd', 'abcde', '{"conns": ', 'x'.repeat(64), 'y'.repeat(65), 'z'.repeat(1000)]) {
      expect(written((w) => w.ascii(ascii(text)))).toBe(text);
    }
    expect(() => ascii('ü')).toThrow(/not ASCII/);
  });

  /** Makes one write; returns the text it should have added. */
  type Write = { kind: 'text' | 'json' | 'ascii'; s: string } | { kind: 'uint'; n: number } | { kind: 'bigint'; v: bigint };
  function apply(w: PieceWriter, x: Write): string {
    switch (x.kind) {
      case 'text':
        w.text(x.s);
        return x.s;
      case 'json':
        w.jsonString(x.s);
        return JSON.stringify(x.s);
      case 'ascii':
        w.ascii(ascii(x.s));
        return x.s;
      case 'uint':
        w.uint(x.n);
        return String(x.n);
      case 'bigint':
        w.bigint(x.v);
        return x.v.toString();
    }
  }

  it('splits the output into pieces of about pieceBytes, whatever the write sizes, losing nothing', () => {
    const write: fc.Arbitrary<Write> = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 40 }).map((s) => ({ kind: 'text' as const, s })),
      fc.string({ unit: 'binary-ascii', maxLength: 80 }).map((s) => ({ kind: 'json' as const, s })),
      fc.maxSafeNat().map((n) => ({ kind: 'uint' as const, n })),
      fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((v) => ({ kind: 'bigint' as const, v })),
      fc.string({ unit: fc.constantFrom('a', '{', '"', ':', ' ', '\n'), maxLength: 100 }).map((s) => ({ kind: 'ascii' as const, s })),
    );
    fc.assert(
      fc.property(fc.array(write, { maxLength: 60 }), fc.integer({ min: 1, max: 64 }), (writes, pieceBytes) => {
        let expected = '';
        const out = pieces((w) => {
          for (const x of writes) expected += apply(w, x);
        }, pieceBytes);
        expect(Buffer.concat(out).toString('utf8')).toBe(expected);
        expect(out.every((p) => p.length > 0)).toBe(true);
      }),
    );
  });

  it('take() hands over the filled pieces while the writer goes on in the current one', () => {
    const w = new PieceWriter({ pieceBytes: 8 });
    w.ascii(ascii('01234'));
    expect(w.ready).toBe(false);
    expect(w.take()).toEqual([]);
    w.ascii(ascii('56789')); // does not fit: the first piece is filled
    expect(w.ready).toBe(true);
    expect(w.take().map(String)).toEqual(['01234']);
    expect(w.ready).toBe(false);
    w.uint(42);
    expect(Buffer.concat(w.finish()).toString()).toBe('5678942');
    expect(w.finish()).toEqual([]);
  });
});

describe('PiecePool', () => {
  const fill = (w: PieceWriter, text: string): void => w.ascii(ascii(text));

  it('hands the buffers of pieces given back to the next writer, and the output stays right', () => {
    const pool = new PiecePool(8);
    const first = new PieceWriter({ pool });
    fill(first, '01234567');
    fill(first, 'abcdefgh');
    const pieces = first.finish();
    expect(pieces.map(String)).toEqual(['01234567', 'abcdefgh']);
    for (const p of pieces) pool.give(p);
    const second = new PieceWriter({ pool });
    fill(second, 'ABCDEFGH');
    fill(second, 'xy');
    const again = second.finish();
    expect(again.map(String)).toEqual(['ABCDEFGH', 'xy']);
    expect(new Set(again.map((p) => p.buffer))).toEqual(new Set(pieces.map((p) => p.buffer)));
  });

  it('a reused buffer pads with spaces, not with what the last writer left in it (spaces() writes nothing)', () => {
    const pool = new PiecePool(8);
    const first = new PieceWriter({ pool });
    fill(first, '01234567');
    fill(first, 'abcdefgh');
    const pieces = first.finish();
    for (const p of pieces) pool.give(p);
    const second = new PieceWriter({ pool });
    second.spaces(3);
    fill(second, 'x');
    second.spaces(6); // does not fit: the second reused buffer
    fill(second, 'y');
    const again = second.finish();
    expect(new Set(again.map((p) => p.buffer))).toEqual(new Set(pieces.map((p) => p.buffer)));
    expect(again.map(String)).toEqual(['   x', `${''.padEnd(6)}y`]);
  });

  it('pads a reused buffer after text written before the first padding, and again after more text', () => {
    const pool = new PiecePool(16);
    const first = new PieceWriter({ pool });
    fill(first, '0123456789abcdef');
    for (const p of first.finish()) pool.give(p);
    const second = new PieceWriter({ pool });
    fill(second, 'ab'); // no padding yet: the piece is not filled
    second.spaces(2); // fills from here on, past 'ab'
    fill(second, 'c');
    second.spaces(3);
    fill(second, 'd');
    expect(second.finish().map(String)).toEqual(['ab  c   d']);
  });

  it('takes back only its own buffers, each once, up to its capacity', () => {
    const pool = new PiecePool(8, 1);
    const w = new PieceWriter({ pool });
    fill(w, '01234567');
    fill(w, 'abcdefgh');
    fill(w, 'ABCDEFGH');
    const [a, b, c] = w.finish();
    pool.give(Buffer.alloc(8)); // not from this pool
    pool.give(a as Buffer);
    pool.give(a as Buffer); // twice: ignored
    pool.give(b as Buffer); // over capacity: dropped
    const next = new PieceWriter({ pool });
    fill(next, '--------');
    fill(next, '++++++++');
    const reused = next.finish();
    expect(reused[0]?.buffer).toBe(a?.buffer);
    expect([b?.buffer, c?.buffer]).not.toContain(reused[1]?.buffer);
    expect(reused.map(String)).toEqual(['--------', '++++++++']);
  });

  it('a value larger than a piece gets a buffer of its own, never pooled', () => {
    const pool = new PiecePool(8);
    const w = new PieceWriter({ pool });
    fill(w, 'x'.repeat(20));
    const [big] = w.finish();
    expect(String(big)).toBe('x'.repeat(20));
    pool.give(big as Buffer);
    const next = new PieceWriter({ pool });
    fill(next, 'y');
    expect(next.finish()[0]?.buffer).not.toBe(big?.buffer);
  });
});
