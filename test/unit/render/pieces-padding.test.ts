import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { numberLength, PieceWriter } from '../../../src/render/pieces.js';

/** What `write` puts in pieces of `pieceBytes` (small ones make every write cross a piece's end now and then). */
function written(write: (w: PieceWriter) => void, pieceBytes = 64): string {
  const w = new PieceWriter({ pieceBytes });
  write(w);
  return Buffer.concat(w.finish()).toString('utf8');
}

describe('PieceWriter padding (the ipvsadm-like table)', () => {
  it.each([-3, 0, 1, 12, 64, 65, 200])('spaces(%d) writes as many spaces as padStart would add', (n) => {
    expect(written((w) => w.spaces(n))).toBe(''.padStart(n));
  });

  /** Every power of ten up to 2^53 and its neighbours: where a digit count changes. */
  const boundaries = Array.from({ length: 16 }, (_, i) => 10 ** i).flatMap((p) => [p - 1, p, p + 1]).concat(2 ** 53 - 1);

  it.each(boundaries)('uintPadStart(%d) and numberLength at a digit-count boundary', (n) => {
    expect(written((w) => w.uintPadStart(n, 18))).toBe(String(n).padStart(18));
    expect(written((w) => w.uint(n))).toBe(String(n));
    expect(numberLength(n)).toBe(String(n).length);
  });

  it('uintPadStart is String(n).padStart(width) for any safe integer and width', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), fc.nat(30), (n, width) => {
        expect(written((w) => w.uintPadStart(n, width))).toBe(String(n).padStart(width));
      }),
    );
  });

  it('bigintPadStart is v.toString().padStart(width) for any bigint and width, past 2^53 and below zero', () => {
    fc.assert(
      fc.property(fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }), fc.constantFrom(0n, 2n ** 53n - 1n, 2n ** 53n, -1n)), fc.nat(30), (v, width) => {
        expect(written((w) => w.bigintPadStart(v, width))).toBe(v.toString().padStart(width));
      }),
    );
  });

  it('numberLength is String(n).length for any number', () => {
    fc.assert(
      fc.property(fc.oneof(fc.maxSafeNat(), fc.double(), fc.integer(), fc.constantFrom(-0, NaN, Infinity, 1e21, 2 ** 53, 2 ** 64, 0.1)), (n) => {
        expect(numberLength(n)).toBe(String(n).length);
      }),
    );
  });

  it('nonAscii says whether anything but ASCII was written', () => {
    const flag = (write: (w: PieceWriter) => void): boolean => {
      const w = new PieceWriter();
      write(w);
      return w.nonAscii;
    };
    expect(flag((w) => (w.text('10.96.0.1:443 rr'), w.uint(7), w.bigintPadStart(2n ** 64n - 1n, 24), w.spaces(3)))).toBe(false);
    expect(flag((w) => w.text('ünï'))).toBe(true);
    expect(flag((w) => w.jsonString('😀'))).toBe(true);
    expect(flag((w) => w.raw(new Uint8Array([0x41])))).toBe(true);
  });
});
