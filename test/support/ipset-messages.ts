/**
 * Kernel-shaped ipset list replies for tests, built as ip_set_dump_do (net/netfilter/ipset/ip_set_core.c)
 * builds them: NLM_F_MULTI messages typed NFNL_SUBSYS_IPSET << 8 | IPSET_CMD_LIST, nfgenmsg AF_INET,
 * PROTOCOL + SETNAME in every message, the type, family, revision and header DATA in a set's first,
 * members in ADT nests, a set continued over several messages when it has more than `perMessage`
 * members; big-endian fields flagged NLA_F_NET_BYTEORDER and nests NLA_F_NESTED, as a recorded
 * dump shows them. Then NLMSG_DONE.
 */
import { IPSET_ATTR, IPSET_ATTR_IPADDR_IPV4, IPSET_ATTR_IPADDR_IPV6, IPSET_ELEMENT_ATTR, IPSET_FLAG_NOMATCH, IPSET_HEADER_ATTR, IPSET_PROTOCOL } from '../../src/ipset/constants.js';
import { IPSET_LIST_MESSAGE_TYPE } from '../../src/ipset/codec.js';
import type { IpSet, IpsetEntry } from '../../src/ipset/types.js';
import { encodeAttributes, stringAttr, type AttrSpec } from '../../src/netlink/attributes.js';
import { NLM_F_MULTI, NLMSG_DONE, NLMSG_HDRLEN } from '../../src/netlink/message.js';
import { parseAddress } from '../../src/util/ip.js';

const PROTO_NUMBER: Record<string, number> = { tcp: 6, udp: 17, sctp: 132 };

const u8 = (type: number, value: number): AttrSpec => ({ type, data: new Uint8Array([value]) });

function be16(type: number, value: number): AttrSpec {
  const data = new Uint8Array(2);
  new DataView(data.buffer).setUint16(0, value, false);
  return { type, data, netByteOrder: true };
}

function be32(type: number, value: number): AttrSpec {
  const data = new Uint8Array(4);
  new DataView(data.buffer).setUint32(0, value, false);
  return { type, data, netByteOrder: true };
}

function address(type: number, text: string): AttrSpec {
  const parsed = parseAddress(text);
  if (parsed === null) throw new Error(`not an address: ${text}`);
  return { type, nested: [{ type: parsed.family === 'inet' ? IPSET_ATTR_IPADDR_IPV4 : IPSET_ATTR_IPADDR_IPV6, data: parsed.bytes, netByteOrder: true }] };
}

/** One member's DATA nest, in the kernel's attribute order. */
export function elementAttr(entry: IpsetEntry, extra: readonly AttrSpec[] = []): AttrSpec {
  const nested: AttrSpec[] = [];
  if (entry.ip !== null) nested.push(address(IPSET_ELEMENT_ATTR.IP, entry.ip));
  if (entry.cidr !== null) nested.push(u8(IPSET_ELEMENT_ATTR.CIDR, entry.cidr));
  if (entry.ip2 !== null) nested.push(address(IPSET_ELEMENT_ATTR.IP2, entry.ip2));
  if (entry.port !== null) nested.push(be16(IPSET_ELEMENT_ATTR.PORT, entry.port));
  if (entry.cidr2 !== null) nested.push(u8(IPSET_ELEMENT_ATTR.CIDR2, entry.cidr2));
  if (entry.protocol !== null) nested.push(u8(IPSET_ELEMENT_ATTR.PROTO, typeof entry.protocol === 'number' ? entry.protocol : (PROTO_NUMBER[entry.protocol] ?? 0)));
  if (entry.nomatch) nested.push(be32(IPSET_ELEMENT_ATTR.CADT_FLAGS, IPSET_FLAG_NOMATCH));
  return { type: IPSET_ATTR.DATA, nested: [...nested, ...extra] };
}

export function headerAttr(set: IpSet): AttrSpec {
  const h = set.header;
  const nested: AttrSpec[] = [];
  if (set.header.portRange) nested.push(be16(IPSET_HEADER_ATTR.PORT, set.header.portRange.from), be16(IPSET_HEADER_ATTR.PORT_TO, set.header.portRange.to));
  if (h.hashSize !== undefined) nested.push(be32(IPSET_HEADER_ATTR.HASHSIZE, h.hashSize));
  if (h.maxElem !== undefined) nested.push(be32(IPSET_HEADER_ATTR.MAXELEM, h.maxElem));
  nested.push(be32(IPSET_HEADER_ATTR.REFERENCES, h.references), be32(IPSET_HEADER_ATTR.MEMSIZE, h.memSize), be32(IPSET_HEADER_ATTR.ELEMENTS, h.elements));
  return { type: IPSET_ATTR.DATA, nested };
}

/** One netlink message: header, nfgenmsg, attributes. */
export function ipsetMessage(attributes: readonly AttrSpec[], seq: number, pid: number, type = IPSET_LIST_MESSAGE_TYPE, flags = NLM_F_MULTI): Uint8Array {
  const attrs = encodeAttributes(attributes);
  const out = new Uint8Array(NLMSG_HDRLEN + 4 + attrs.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, out.byteLength, true);
  view.setUint16(4, type, true);
  view.setUint16(6, flags, true);
  view.setUint32(8, seq, true);
  view.setUint32(12, pid, true);
  out[NLMSG_HDRLEN] = 2; // AF_INET, as start_msg() writes it
  out.set(attrs, NLMSG_HDRLEN + 4);
  return out;
}

export function doneMessage(seq: number, pid: number): Uint8Array {
  const out = new Uint8Array(NLMSG_HDRLEN + 4);
  const view = new DataView(out.buffer);
  view.setUint32(0, out.byteLength, true);
  view.setUint16(4, NLMSG_DONE, true);
  view.setUint16(6, NLM_F_MULTI, true);
  view.setUint32(8, seq, true);
  view.setUint32(12, pid, true);
  return out;
}

/** NLMSG_ERROR carrying -errno (and, as the kernel does, a copy of a request header). */
export function errorMessage(errno: number, seq: number, pid: number): Uint8Array {
  const out = new Uint8Array(NLMSG_HDRLEN + 4 + NLMSG_HDRLEN);
  const view = new DataView(out.buffer);
  view.setUint32(0, out.byteLength, true);
  view.setUint16(4, 2, true);
  view.setUint32(8, seq, true);
  view.setUint32(12, pid, true);
  view.setInt32(NLMSG_HDRLEN, -errno, true);
  return out;
}

export interface DumpShape {
  seq: number;
  pid: number;
  /** Members per message before a set continues in the next one. */
  perMessage?: number;
  /** Messages per datagram. */
  perDatagram?: number;
  headersOnly?: boolean;
}

/** The messages of a dump of `sets` (without NLMSG_DONE). */
export function ipsetDumpMessages(sets: readonly IpSet[], shape: DumpShape): Uint8Array[] {
  const perMessage = Math.max(1, shape.perMessage ?? 100);
  const messages: Uint8Array[] = [];
  for (const set of sets) {
    const common = [u8(IPSET_ATTR.PROTOCOL, IPSET_PROTOCOL), stringAttr(IPSET_ATTR.SETNAME, set.name)];
    const first = [
      ...common,
      stringAttr(IPSET_ATTR.TYPENAME, set.type),
      u8(IPSET_ATTR.FAMILY, set.family === 'inet' ? 2 : set.family === 'inet6' ? 10 : 0),
      u8(IPSET_ATTR.REVISION, set.revision),
      headerAttr(set),
    ];
    if (shape.headersOnly === true) {
      messages.push(ipsetMessage(first, shape.seq, shape.pid));
      continue;
    }
    let i = 0;
    do {
      const chunk = set.entries.slice(i, i + perMessage);
      const adt: AttrSpec = { type: IPSET_ATTR.ADT, nested: chunk.map((e) => elementAttr(e)) };
      messages.push(ipsetMessage([...(i === 0 ? first : common), adt], shape.seq, shape.pid));
      i += perMessage;
    } while (i < set.entries.length);
  }
  return messages;
}

/** Concatenate messages into one datagram. */
export function datagramOf(messages: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(messages.reduce((n, m) => n + m.byteLength, 0));
  let offset = 0;
  for (const m of messages) {
    out.set(m, offset);
    offset += m.byteLength;
  }
  return out;
}

/** The whole dump as datagrams, NLMSG_DONE in the last. */
export function ipsetDumpDatagrams(sets: readonly IpSet[], shape: DumpShape): Uint8Array[] {
  const messages = [...ipsetDumpMessages(sets, shape), doneMessage(shape.seq, shape.pid)];
  const per = Math.max(1, shape.perDatagram ?? 4);
  const datagrams: Uint8Array[] = [];
  for (let i = 0; i < messages.length; i += per) datagrams.push(datagramOf(messages.slice(i, i + per)));
  return datagrams;
}
