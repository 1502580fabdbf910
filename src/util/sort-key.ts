/**
 * Precomputed sort keys for canonical addresses, so sorting 100,000 real servers parses each
 * address once instead of once per comparison. The order equals util/ip.ts compareAddresses():
 * IPv4 before IPv6, then numerically.
 */
import { parseIPv6 } from './ip.js';

/** IPv4 → its 32-bit value (a number); IPv6 → "6" + 32 hex digits; anything else → "7" + text. */
export type AddressSortKey = number | string;

/** Dotted IPv4 as a number, by a character loop (no split, no regex); -1 if not dotted decimal. */
function ipv4Value(address: string): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < address.length; i++) {
    const c = address.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || octet > 255) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      octet = octet * 10 + (c - 48);
      digits++;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0 || octet > 255) return -1;
  return value * 256 + octet;
}

export function addressSortKey(address: string): AddressSortKey {
  const v4 = ipv4Value(address);
  if (v4 >= 0) return v4;
  const bytes = parseIPv6(address);
  if (!bytes) return `7${address}`;
  let key = '6';
  for (const b of bytes) key += b.toString(16).padStart(2, '0');
  return key;
}

export function compareSortKeys(a: AddressSortKey, b: AddressSortKey): number {
  if (typeof a === 'number') return typeof b === 'number' ? a - b : -1;
  if (typeof b === 'number') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Unique addresses sorted as compareAddresses() would. */
export function sortAddresses(addresses: Iterable<string>): string[] {
  return [...new Set(addresses)]
    .map((a) => ({ a, k: addressSortKey(a) }))
    .sort((x, y) => compareSortKeys(x.k, y.k))
    .map((x) => x.a);
}
