/**
 * rtnetlink links and addresses (include/uapi/linux/rtnetlink.h, if_link.h, if_addr.h): the
 * RTM_GETLINK / RTM_GETADDR dump requests, the struct ifinfomsg / ifaddrmsg replies, and their
 * assembly into NodeInterface (what `ip -j addr` shows). Pure: bytes in, values out. The encoders
 * of replies exist for tests, which build kernel-shaped datagrams with them.
 */
import type { NodeInterface } from '../desired/types.js';
import { SentinelError } from '../errors/index.js';
import type { AddressFamily } from '../ipvs/types.js';
import { encodeAttributes, indexAttributes, parseAttributes, readString, stringAttr, type AttrSpec } from '../netlink/attributes.js';
import {
  encodeRequest,
  messageStatus,
  NLM_F_DUMP,
  NLM_F_DUMP_INTR,
  NLM_F_MULTI,
  NLM_F_REQUEST,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_HDRLEN,
  NLMSG_NOOP,
  NLMSG_OVERRUN,
  parseMessages,
  type NlMessage,
} from '../netlink/message.js';
import { formatAddress } from '../util/ip.js';

export const RTM_NEWLINK = 16;
export const RTM_GETLINK = 18;
export const RTM_NEWADDR = 20;
export const RTM_GETADDR = 22;

export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_INET6 = 10;

export const IFLA_ADDRESS = 1;
export const IFLA_IFNAME = 3;
export const IFA_ADDRESS = 1;
export const IFA_LOCAL = 2;
export const IFA_LABEL = 3;
export const IFA_FLAGS = 8;

export const IFF_UP = 0x1;
export const IFF_LOOPBACK = 0x8;
export const IFF_NOARP = 0x80;

export const RT_SCOPE_UNIVERSE = 0;
export const RT_SCOPE_LINK = 253;
export const RT_SCOPE_HOST = 254;

const IFINFOMSG_LEN = 16;
const IFADDRMSG_LEN = 8;

export interface RtLink {
  index: number;
  name: string;
  /** ARPHRD_* device type (1 ether, 772 loopback). */
  type: number;
  /** IFF_* flags. */
  flags: number;
}

export interface RtAddress {
  index: number;
  family: AddressFamily;
  prefixLength: number;
  scope: number;
  /** The interface's own address: IFA_LOCAL when present (IPv4, where IFA_ADDRESS may be a peer), else IFA_ADDRESS. */
  address: string;
  /** IFA_ADDRESS when it differs from IFA_LOCAL (point-to-point peer), else null. */
  peer: string | null;
  label: string | null;
}

function decodeError(context: string, message: string): SentinelError {
  return new SentinelError('NETLINK_DECODE', `decode ${context}`, message);
}

/** RTM_GETLINK or RTM_GETADDR dump request for every interface / address of every family. */
export function encodeDumpRequest(type: typeof RTM_GETLINK | typeof RTM_GETADDR, seq: number, pid = 0): Uint8Array {
  // The kernel reads an ifinfomsg / ifaddrmsg header; family AF_UNSPEC means "all".
  const header = new Uint8Array(type === RTM_GETLINK ? IFINFOMSG_LEN : IFADDRMSG_LEN);
  header[0] = AF_UNSPEC;
  return encodeRequest({ type, flags: NLM_F_REQUEST | NLM_F_DUMP, seq, pid, header });
}

export function decodeLink(message: NlMessage): RtLink {
  const context = 'rtnetlink link';
  if (message.payload.byteLength < IFINFOMSG_LEN) {
    throw decodeError(context, `RTM_NEWLINK payload of ${message.payload.byteLength} bytes is shorter than struct ifinfomsg (${IFINFOMSG_LEN})`);
  }
  const view = new DataView(message.payload.buffer, message.payload.byteOffset, IFINFOMSG_LEN);
  const attrs = indexAttributes(parseAttributes(message.payload.subarray(IFINFOMSG_LEN), context));
  const index = view.getInt32(4, true);
  const ifname = attrs.get(IFLA_IFNAME);
  if (ifname === undefined) throw decodeError(context, `link ${index} has no IFLA_IFNAME`);
  return { index, name: readString(ifname), type: view.getUint16(2, true), flags: view.getUint32(8, true) };
}

function familyOf(value: number): AddressFamily | null {
  return value === AF_INET ? 'inet' : value === AF_INET6 ? 'inet6' : null;
}

/** Decode an RTM_NEWADDR; null for families other than IPv4/IPv6 (none are dumped today, but the kernel may add some). */
export function decodeAddress(message: NlMessage): RtAddress | null {
  const context = 'rtnetlink address';
  if (message.payload.byteLength < IFADDRMSG_LEN) {
    throw decodeError(context, `RTM_NEWADDR payload of ${message.payload.byteLength} bytes is shorter than struct ifaddrmsg (${IFADDRMSG_LEN})`);
  }
  const p = message.payload;
  const family = familyOf(p[0] ?? 0);
  if (family === null) return null;
  const width = family === 'inet' ? 4 : 16;
  const view = new DataView(p.buffer, p.byteOffset, IFADDRMSG_LEN);
  const attrs = indexAttributes(parseAttributes(p.subarray(IFADDRMSG_LEN), context));
  const read = (type: number, name: string): string | null => {
    const attr = attrs.get(type);
    if (attr === undefined) return null;
    if (attr.data.byteLength !== width) throw decodeError(context, `${name} is ${attr.data.byteLength} bytes, expected ${width} for ${family}`);
    return formatAddress(family, attr.data);
  };
  const local = read(IFA_LOCAL, 'IFA_LOCAL');
  const addr = read(IFA_ADDRESS, 'IFA_ADDRESS');
  const address = local ?? addr;
  const index = view.getUint32(4, true);
  if (address === null) throw decodeError(context, `address on link ${index} has neither IFA_LOCAL nor IFA_ADDRESS`);
  const label = attrs.get(IFA_LABEL);
  return {
    index,
    family,
    prefixLength: p[1] ?? 0,
    scope: p[3] ?? 0,
    address,
    peer: local !== null && addr !== null && addr !== local ? addr : null,
    label: label === undefined ? null : readString(label),
  };
}

/**
 * One dump reply, decoded datagram by datagram as it is received for request `seq` (so no datagram
 * is kept past the socket's next receive, and none is parsed twice). `decode` turns a message into
 * an item, or null to skip it. An NLMSG_ERROR is thrown as NETLINK_PROTOCOL; a dump interrupted by a
 * concurrent change (NLM_F_DUMP_INTR) sets `interrupted`, and the caller dumps again.
 */
export class DumpCollector<T> {
  readonly items: T[] = [];
  done = false;
  interrupted = false;

  constructor(
    private readonly seq: number,
    private readonly context: string,
    private readonly decode: (message: NlMessage) => T | null,
  ) {}

  /** Takes one received datagram; true once the reply's NLMSG_DONE was in it. */
  add(datagram: Uint8Array): boolean {
    if (this.done) return true;
    for (const message of parseMessages(datagram, this.context)) {
      if (message.seq !== this.seq) continue; // a stale reply of an earlier request
      if ((message.flags & NLM_F_DUMP_INTR) !== 0) this.interrupted = true;
      if (message.type === NLMSG_DONE) {
        this.done = true;
        return true;
      }
      if (message.type === NLMSG_ERROR) {
        const errno = -messageStatus(message, this.context);
        if (errno === 0) continue;
        throw new SentinelError('NETLINK_PROTOCOL', `dump ${this.context}`, `the kernel answered the dump with errno ${errno}`);
      }
      if (message.type === NLMSG_NOOP || message.type === NLMSG_OVERRUN) continue;
      const item = this.decode(message);
      if (item !== null) this.items.push(item);
    }
    return false;
  }
}

/**
 * Interfaces with their addresses, ordered by interface index like `ip addr`; addresses in the
 * kernel's order. Addresses of an index with no link (a race between the two dumps) are dropped.
 */
export function assembleInterfaces(links: readonly RtLink[], addresses: readonly RtAddress[]): NodeInterface[] {
  return [...links]
    .sort((a, b) => a.index - b.index)
    .map((link) => ({
      name: link.name,
      loopback: (link.flags & IFF_LOOPBACK) !== 0,
      addresses: addresses
        .filter((a) => a.index === link.index)
        .map((a) => ({ address: a.address, prefixLength: a.prefixLength, family: a.family })),
    }));
}

// ---- reply encoders (kernel-shaped datagrams for tests and recordings) -------------------------

function message(type: number, seq: number, pid: number, body: Uint8Array, flags = NLM_F_MULTI): Uint8Array {
  const out = new Uint8Array(NLMSG_HDRLEN + body.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, out.byteLength, true);
  view.setUint16(4, type, true);
  view.setUint16(6, flags, true);
  view.setUint32(8, seq, true);
  view.setUint32(12, pid, true);
  out.set(body, NLMSG_HDRLEN);
  return out;
}

export function encodeLinkMessage(link: RtLink, seq: number, pid: number, extra: readonly AttrSpec[] = []): Uint8Array {
  const attrs = encodeAttributes([stringAttr(IFLA_IFNAME, link.name), ...extra], false);
  const body = new Uint8Array(IFINFOMSG_LEN + attrs.byteLength);
  const view = new DataView(body.buffer);
  view.setUint16(2, link.type, true);
  view.setInt32(4, link.index, true);
  view.setUint32(8, link.flags, true);
  body.set(attrs, IFINFOMSG_LEN);
  return message(RTM_NEWLINK, seq, pid, body);
}

export function encodeAddressMessage(
  addr: { index: number; family: AddressFamily; prefixLength: number; scope: number; local: Uint8Array | null; address: Uint8Array | null; label?: string },
  seq: number,
  pid: number,
): Uint8Array {
  const specs: AttrSpec[] = [];
  if (addr.address !== null) specs.push({ type: IFA_ADDRESS, data: addr.address });
  if (addr.local !== null) specs.push({ type: IFA_LOCAL, data: addr.local });
  if (addr.label !== undefined) specs.push(stringAttr(IFA_LABEL, addr.label));
  const attrs = encodeAttributes(specs, false);
  const body = new Uint8Array(IFADDRMSG_LEN + attrs.byteLength);
  const view = new DataView(body.buffer);
  body[0] = addr.family === 'inet' ? AF_INET : AF_INET6;
  body[1] = addr.prefixLength;
  body[3] = addr.scope;
  view.setUint32(4, addr.index, true);
  body.set(attrs, IFADDRMSG_LEN);
  return message(RTM_NEWADDR, seq, pid, body);
}

/** NLMSG_DONE as the kernel ends a dump: a 4-byte status 0. */
export function encodeDone(seq: number, pid: number, flags = NLM_F_MULTI): Uint8Array {
  return message(NLMSG_DONE, seq, pid, new Uint8Array(4), flags);
}

/** Concatenate messages into one datagram (each is already 4-byte aligned). */
export function datagram(...messages: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(messages.reduce((n, m) => n + m.byteLength, 0));
  let offset = 0;
  for (const m of messages) {
    out.set(m, offset);
    offset += m.byteLength;
  }
  return out;
}
