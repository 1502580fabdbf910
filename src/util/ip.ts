/**
 * IP address text/byte conversions and CIDR matching, without node:net so the core stays pure.
 * IPv6 text follows RFC 5952 (lower case, longest zero run compressed, IPv4-mapped as ::ffff:a.b.c.d),
 * which is what Go's net.IP.String() — and therefore kube-proxy and node_exporter — print.
 */
import type { AddressFamily } from '../ipvs/types.js';

export function formatIPv4(bytes: Uint8Array, offset = 0): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

export function formatIPv6(bytes: Uint8Array, offset = 0): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(((bytes[offset + 2 * i] ?? 0) << 8) | (bytes[offset + 2 * i + 1] ?? 0));
  // IPv4-mapped ::ffff:a.b.c.d
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${formatIPv4(bytes, offset + 12)}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLen < 2) return hex.join(':');
  const head = hex.slice(0, bestStart).join(':');
  const tail = hex.slice(bestStart + bestLen).join(':');
  return `${head}::${tail}`;
}

export function formatAddress(family: AddressFamily, bytes: Uint8Array, offset = 0): string {
  return family === 'inet' ? formatIPv4(bytes, offset) : formatIPv6(bytes, offset);
}

/**
 * Parse dotted IPv4 into 4 bytes, or null: four octets of one to three digits (leading zeros
 * allowed), each at most 255. A character loop, not a split and a regular expression per octet:
 * every ipset member, CIDR and address check comes through here, by the hundred thousand on a
 * large node.
 */
export function parseIPv4(text: string): Uint8Array | null {
  const n = text.length;
  if (n < 7 || n > 15) return null;
  const out = new Uint8Array(4);
  let octet = 0;
  let digits = 0;
  let value = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || octet === 3) return null;
      out[octet++] = value;
      digits = 0;
      value = 0;
    } else if (c >= 48 && c <= 57) {
      value = value * 10 + (c - 48);
      if (++digits > 3 || value > 255) return null;
    } else return null;
  }
  if (octet !== 3 || digits === 0) return null;
  out[3] = value;
  return out;
}

/** Parse IPv6 text (with optional embedded IPv4 tail and zone stripped) into 16 bytes, or null. */
export function parseIPv6(input: string): Uint8Array | null {
  const text = input.split('%')[0] ?? '';
  if (text.length === 0 || !text.includes(':')) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const toGroups = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    const pieces = part.split(':');
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i] ?? '';
      if (i === pieces.length - 1 && piece.includes('.')) {
        const v4 = parseIPv4(piece);
        if (!v4) return null;
        out.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(piece)) return null;
      out.push(parseInt(piece, 16));
    }
    return out;
  };
  const head = toGroups(halves[0] ?? '');
  const tail = halves.length === 2 ? toGroups(halves[1] ?? '') : [];
  if (!head || !tail) return null;
  let groups: number[];
  if (halves.length === 2) {
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return null;
    groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  } else {
    groups = head;
  }
  if (groups.length !== 8) return null;
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

export interface ParsedAddress {
  family: AddressFamily;
  bytes: Uint8Array;
}

export function parseAddress(text: string): ParsedAddress | null {
  const v4 = parseIPv4(text);
  if (v4) return { family: 'inet', bytes: v4 };
  const v6 = parseIPv6(text);
  if (v6) return { family: 'inet6', bytes: v6 };
  return null;
}

export function addressFamilyOf(text: string): AddressFamily | null {
  // Every endpoint of every EndpointSlice comes through here (src/cluster/convert.ts): most are canonical IPv4, told without bytes.
  if (isCanonicalIPv4(text)) return 'inet';
  return parseAddress(text)?.family ?? null;
}

/**
 * Whether text is already an IPv4 address in canonical dotted-decimal form (four octets of at most
 * 255, no leading zeros, nothing else), by a character loop: most addresses the agent handles are,
 * and recognising them costs a fraction of parsing and formatting them again.
 */
function isCanonicalIPv4(text: string): boolean {
  let dots = 0;
  let digits = 0;
  let octet = 0;
  let leadingZero = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return false;
      dots++;
      digits = 0;
      octet = 0;
      leadingZero = false;
    } else if (c >= 48 && c <= 57) {
      if (leadingZero || digits === 3) return false;
      if (digits === 0 && c === 48) leadingZero = true;
      octet = octet * 10 + (c - 48);
      if (octet > 255) return false;
      digits++;
    } else {
      return false;
    }
  }
  return dots === 3 && digits > 0;
}

/** Canonical text of an address (RFC 5952 for IPv6), or null when it is not an address. */
export function canonicalAddress(text: string): string | null {
  if (isCanonicalIPv4(text)) return text;
  const parsed = parseAddress(text.trim());
  if (!parsed) return null;
  return formatAddress(parsed.family, parsed.bytes);
}

export interface Cidr {
  family: AddressFamily;
  bytes: Uint8Array;
  prefixLength: number;
  text: string;
}

export function parseCidr(text: string): Cidr | null {
  const [addr, len, extra] = text.trim().split('/');
  if (addr === undefined || len === undefined || extra !== undefined || !/^\d{1,3}$/.test(len)) return null;
  const parsed = parseAddress(addr);
  if (!parsed) return null;
  const prefixLength = Number(len);
  if (prefixLength > parsed.bytes.length * 8) return null;
  return { family: parsed.family, bytes: parsed.bytes, prefixLength, text: `${formatAddress(parsed.family, parsed.bytes)}/${prefixLength}` };
}

export function cidrContains(cidr: Cidr, address: string): boolean {
  const parsed = parseAddress(address);
  if (!parsed || parsed.family !== cidr.family) return false;
  let bits = cidr.prefixLength;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((parsed.bytes[i] ?? 0) & mask) !== ((cidr.bytes[i] ?? 0) & mask)) return false;
  }
  return true;
}

/** "10.0.0.1:80" or "[fd00::1]:80" — how ipvsadm and the interface contract write an endpoint. */
export function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Byte-wise comparison of two canonical addresses: IPv4 before IPv6, then numerically. */
export function compareAddresses(a: string, b: string): number {
  const pa = parseAddress(a);
  const pb = parseAddress(b);
  if (!pa || !pb) return a < b ? -1 : a > b ? 1 : 0;
  if (pa.bytes.length !== pb.bytes.length) return pa.bytes.length - pb.bytes.length;
  for (let i = 0; i < pa.bytes.length; i++) {
    const d = (pa.bytes[i] ?? 0) - (pb.bytes[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
