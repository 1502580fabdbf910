/**
 * The address texts the conntrack decoder shares between entries and reads: exactly what formatIPv4
 * writes, and never more than the addresses of the last read and of the one under way.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AddressTexts } from '../../../src/conntrack/codec.js';
import { formatIPv4 } from '../../../src/util/ip.js';

const bytesOf = (address: number): Uint8Array => Uint8Array.of(address >>> 24, (address >>> 16) & 0xff, (address >>> 8) & 0xff, address & 0xff);

describe('AddressTexts', () => {
  it.each([
    [0x00000000, '0.0.0.0'],
    [0x0a600001, '10.96.0.1'],
    [0xc0a8380a, '192.168.56.10'],
    [0xffffffff, '255.255.255.255'],
  ])('writes %i as %s', (address, text) => {
    expect(new AddressTexts().ipv4(address)).toBe(text);
  });

  it('gives formatIPv4 text for any address, within a read and in the reads after it', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 20 }), { maxLength: 5 }), (reads) => {
        const texts = new AddressTexts();
        for (const read of reads) {
          for (const address of read) expect(texts.ipv4(address)).toBe(formatIPv4(bytesOf(address)));
          texts.endRead();
        }
      }),
    );
  });

  it('holds the addresses of the last read and of the one under way only', () => {
    const texts = new AddressTexts();
    const name = (from: number, count: number): void => {
      for (let i = 0; i < count; i++) texts.ipv4(from + i);
    };
    name(0, 100);
    texts.endRead();
    expect(texts.size).toBe(100);
    name(50, 100); // under way: 50..149, and 0..49 of the last read
    expect(texts.size).toBe(150);
    texts.endRead();
    expect(texts.size).toBe(100);
    name(1000, 10);
    texts.endRead();
    expect(texts.size).toBe(10);
  });
});
