import { describe, expect, it } from 'vitest';
import { canonicalAddress, formatAddress, parseAddress } from '../../../src/util/ip.js';

// canonicalAddress() recognises canonical dotted IPv4 without parsing it; every other text goes
// through parse and format. Both paths must give the same answer.
function slow(text: string): string | null {
  const parsed = parseAddress(text.trim());
  return parsed ? formatAddress(parsed.family, parsed.bytes) : null;
}

describe('canonicalAddress', () => {
  it.each([
    ['10.96.0.1', '10.96.0.1'],
    ['0.0.0.0', '0.0.0.0'],
    ['255.255.255.255', '255.255.255.255'],
    [' 10.96.0.1 ', '10.96.0.1'],
    ['256.1.1.1', null],
    ['1.2.3', null],
    ['1.2.3.4.5', null],
    ['1..3.4', null],
    ['1.2.3.4/32', null],
    ['1.2.3.', null],
    ['.1.2.3', null],
    ['1.2.3.1000', null],
    ['FD00:10:96:0:0:0:0:1', 'fd00:10:96::1'],
    ['::ffff:10.0.0.1', '::ffff:10.0.0.1'],
    ['not an address', null],
    ['', null],
  ])('%j → %j', (text, want) => {
    expect(canonicalAddress(text)).toBe(want);
  });

  it('agrees with parse-and-format on dotted texts of every shape', () => {
    const octets = ['0', '00', '01', '1', '9', '10', '99', '100', '255', '256', '999', '0255'];
    let checked = 0;
    for (const a of octets) {
      for (const b of octets) {
        for (const text of [`${a}.${b}.0.1`, `10.${a}.${b}.7`, `${a}.1.2.${b}`]) {
          expect(canonicalAddress(text), text).toBe(slow(text));
          checked++;
        }
      }
    }
    expect(checked).toBe(octets.length * octets.length * 3);
  });
});
