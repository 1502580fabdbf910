import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addressFamilyOf, parseAddress, parseIPv4 } from '../../../src/util/ip.js';

/** parseIPv4 as it was written before issue 17 made it a character loop: the readable definition it must keep. */
function referenceParseIPv4(text: string): number[] | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    out.push(n);
  }
  return out;
}

const parsed = (text: string): number[] | null => {
  const bytes = parseIPv4(text);
  return bytes === null ? null : [...bytes];
};

describe('parseIPv4', () => {
  it.each<[string, number[] | null]>([
    ['10.96.0.1', [10, 96, 0, 1]],
    ['0.0.0.0', [0, 0, 0, 0]],
    ['255.255.255.255', [255, 255, 255, 255]],
    ['010.001.002.003', [10, 1, 2, 3]],
    ['256.0.0.1', null],
    ['1.2.3.4.5', null],
    ['1.2.3', null],
    ['1..2.3', null],
    ['.1.2.3', null],
    ['1.2.3.', null],
    ['11..22.33', null],
    ['.11.22.33', null],
    ['11.22.33.', null],
    ['0001.2.3.4', null],
    [' 1.2.3.4', null],
    ['1.2.3.4 ', null],
    ['1.2.3.4/32', null],
    ['+1.2.3.4', null],
    ['1.2.3.0x1', null],
    ['١.2.3.4', null],
    ['::ffff:1.2.3.4', null],
    ['', null],
  ])('%j → %j', (text, want) => {
    expect(parsed(text)).toEqual(want);
  });

  const near = fc.string({ unit: fc.constantFrom('0', '1', '2', '5', '9', '.', '.', ':', ' ', 'a', '٣'), maxLength: 18 });
  const octet = fc.oneof(fc.constantFrom('', '0', '00', '000', '0000', '7', '25', '255', '256', '999', '1000', ' 1', '1a', '٣'), fc.nat(300).map(String));
  const dotted = fc.array(octet, { maxLength: 6 }).map((octets) => octets.join('.'));

  it('accepts and rejects exactly what the split-and-regex parser did', () => {
    fc.assert(
      fc.property(fc.oneof(dotted, near, fc.ipV4(), fc.ipV4Extended(), fc.string()), (text) => {
        expect(parsed(text)).toEqual(referenceParseIPv4(text));
      }),
      { numRuns: 5000 },
    );
  });

  it('addressFamilyOf answers as parseAddress does, with or without its canonical-IPv4 shortcut', () => {
    fc.assert(
      fc.property(fc.oneof(dotted, near, fc.ipV4(), fc.ipV4Extended(), fc.ipV6(), fc.string()), (text) => {
        expect(addressFamilyOf(text)).toBe(parseAddress(text)?.family ?? null);
      }),
      { numRuns: 5000 },
    );
  });

  it('leaves parseAddress telling IPv4 from IPv6 as before', () => {
    expect(parseAddress('10.0.0.1')?.family).toBe('inet');
    expect(parseAddress('::ffff:10.0.0.1')?.family).toBe('inet6');
    expect(parseAddress('10.0.0.256')).toBeNull();
  });
});
