/**
 * An ipset member's text, both ways, as kube-proxy writes it (pkg/proxy/ipvs/ipset/ipset.go,
 * Entry.String): hash:ip `IP`; hash:ip,port `IP,proto:port`; hash:ip,port,ip `IP,proto:port,IP2`;
 * hash:ip,port,net `IP,proto:port,IP2/CIDR2`; bitmap:port `port`. The parser also takes what
 * `ipset save` prints, which differs only in leaving a host prefix (/32, /128) off the net part.
 * Addresses come out canonical, so two entries are equal exactly when their texts are. Pure.
 */
import { formatAddress, parseAddress } from '../util/ip.js';
import type { IpsetEntry, IpsetProtocol, IpsetType } from './types.js';

/** An entry with every field present (null when unset), always in the same order: one object shape for V8. */
export function ipsetEntry(fields: Partial<IpsetEntry>): IpsetEntry {
  return {
    ip: fields.ip ?? null,
    cidr: fields.cidr ?? null,
    protocol: fields.protocol ?? null,
    port: fields.port ?? null,
    ip2: fields.ip2 ?? null,
    cidr2: fields.cidr2 ?? null,
    nomatch: fields.nomatch ?? false,
  };
}

/** The entry in kube-proxy's text form (plus ` nomatch`, as ipset prints it, on an entry kube-proxy would never write). */
export function ipsetEntryText(entry: IpsetEntry): string {
  let text: string;
  if (entry.ip !== null) {
    text = entry.cidr === null ? entry.ip : `${entry.ip}/${entry.cidr}`;
    if (entry.port !== null) text += entry.protocol === null ? `,${entry.port}` : `,${entry.protocol}:${entry.port}`;
    if (entry.ip2 !== null) text += entry.cidr2 === null ? `,${entry.ip2}` : `,${entry.ip2}/${entry.cidr2}`;
  } else {
    text = entry.port === null ? '' : String(entry.port);
  }
  return entry.nomatch ? `${text} nomatch` : text;
}

const PROTOCOLS = new Set<string>(['tcp', 'udp', 'sctp']);

function parsePort(text: string): number | null {
  if (!/^\d{1,5}$/.test(text)) return null;
  const port = Number(text);
  return port <= 0xffff ? port : null;
}

/** "tcp:443" → protocol and port. */
function parseProtoPort(text: string): { protocol: IpsetProtocol; port: number } | null {
  const colon = text.indexOf(':');
  if (colon < 0) return null;
  const protocol = text.slice(0, colon).toLowerCase();
  const port = parsePort(text.slice(colon + 1));
  if (!PROTOCOLS.has(protocol) || port === null) return null;
  return { protocol: protocol as IpsetProtocol, port };
}

/**
 * "IP" or "IP/len": canonical address, its width in bits, and the prefix (null when absent). A
 * prefixed address is masked to its network, as the kernel stores it (`e.ip2 &= ip_set_netmask(cidr)`
 * in net/netfilter/ipset/ip_set_hash_ipportnet.c), so 203.0.113.7/24 lists as 203.0.113.0/24.
 */
function parseHost(text: string, allowPrefix: boolean): { ip: string; bits: number; prefix: number | null } | null {
  const slash = text.indexOf('/');
  const parsed = parseAddress(slash < 0 ? text : text.slice(0, slash));
  if (parsed === null) return null;
  const bits = parsed.bytes.byteLength * 8;
  if (slash < 0) return { ip: formatAddress(parsed.family, parsed.bytes), bits, prefix: null };
  const prefixText = text.slice(slash + 1);
  if (!allowPrefix || !/^\d{1,3}$/.test(prefixText)) return null;
  const prefix = Number(prefixText);
  if (prefix > bits) return null;
  const masked = parsed.bytes.map((byte, i) => {
    const keep = Math.min(8, Math.max(0, prefix - i * 8));
    return byte & ((0xff << (8 - keep)) & 0xff);
  });
  return { ip: formatAddress(parsed.family, masked), bits, prefix };
}

/**
 * Parse one member of a set of `type`, in kube-proxy's or `ipset save`'s form; null when the text
 * is not a member of that type. Only kube-proxy's five types are understood.
 */
export function parseIpsetEntry(type: IpsetType, input: string): IpsetEntry | null {
  let text = input.trim();
  let nomatch = false;
  if (text.endsWith(' nomatch')) {
    nomatch = true;
    text = text.slice(0, -' nomatch'.length).trim();
  }
  if (type === 'bitmap:port') {
    const port = parsePort(text);
    return port === null ? null : ipsetEntry({ port, nomatch });
  }
  const parts = text.split(',');
  const first = parseHost(parts[0] ?? '', false);
  if (first === null) return null;
  switch (type) {
    case 'hash:ip':
      return parts.length === 1 ? ipsetEntry({ ip: first.ip, nomatch }) : null;
    case 'hash:ip,port':
    case 'hash:ip,port,ip':
    case 'hash:ip,port,net': {
      const dimensions = type === 'hash:ip,port' ? 2 : 3;
      if (parts.length !== dimensions) return null;
      const pp = parseProtoPort(parts[1] ?? '');
      if (pp === null) return null;
      if (type === 'hash:ip,port') return ipsetEntry({ ip: first.ip, ...pp, nomatch });
      const second = parseHost(parts[2] ?? '', type === 'hash:ip,port,net');
      if (second === null || second.bits !== first.bits) return null;
      if (type === 'hash:ip,port,ip') return ipsetEntry({ ip: first.ip, ...pp, ip2: second.ip, nomatch });
      return ipsetEntry({ ip: first.ip, ...pp, ip2: second.ip, cidr2: second.prefix ?? second.bits, nomatch });
    }
    default:
      return null;
  }
}
