/**
 * ctnetlink dump requests and replies (include/uapi/linux/netfilter/nfnetlink_conntrack.h), pure.
 *
 * The request asks for one family (nfgen_family: ctnetlink_dump_table in
 * net/netfilter/nf_conntrack_netlink.c skips entries of another l3 protocol) and, with `udpOnly`,
 * for UDP only: CTA_FILTER with CTA_FILTER_ORIG_FLAGS = CTA_FILTER_FLAG(CTA_PROTO_NUM) and a
 * CTA_TUPLE_ORIG holding CTA_PROTO_NUM = IPPROTO_UDP (ctnetlink_alloc_filter, 5.6+). Older kernels
 * parse the request without strict validation and ignore the attribute, so the decoder still checks
 * each entry's protocol: an entry of another protocol is skipped after reading three attribute
 * headers and one byte, without building anything.
 */
import { SentinelError } from '../errors/index.js';
import type { AttrSpec } from '../netlink/attributes.js';
import { align4, NLA_HDRLEN, NLA_TYPE_MASK, u32Attr } from '../netlink/attributes.js';
import type { NlMessage } from '../netlink/message.js';
import { encodeNfnlDumpRequest, NFGENMSG_LEN, tooLarge } from '../netlink/nfnetlink.js';
import type { AddressFamily } from '../ipvs/types.js';
import { formatIPv6 } from '../util/ip.js';
import { AF_INET, AF_INET6, CTA, CTA_FILTER, CTA_FILTER_FLAG_PROTO_NUM, CTA_IP, CTA_PROTO, CTA_TUPLE, IPCTNL_MSG_CT_GET, IPCTNL_MSG_CT_NEW, IPPROTO_UDP, NFNL_SUBSYS_CTNETLINK } from './constants.js';
import type { ConntrackTuple, UdpConntrackEntry } from './types.js';

export interface ConntrackRequestSpec {
  seq: number;
  pid?: number;
  family: AddressFamily;
  /** Ask the kernel to send UDP entries only (CTA_FILTER). */
  udpOnly: boolean;
}

export function familyNumber(family: AddressFamily): number {
  return family === 'inet' ? AF_INET : AF_INET6;
}

/** IPCTNL_MSG_CT_GET with NLM_F_DUMP: what `conntrack -L -f <family> [-p udp]` sends. */
export function encodeConntrackDumpRequest(spec: ConntrackRequestSpec): Uint8Array {
  const attributes: AttrSpec[] = spec.udpOnly
    ? [
        { type: CTA.TUPLE_ORIG, nested: [{ type: CTA_TUPLE.PROTO, nested: [{ type: CTA_PROTO.NUM, data: Uint8Array.of(IPPROTO_UDP) }] }] },
        { type: CTA.FILTER, nested: [u32Attr(CTA_FILTER.ORIG_FLAGS, CTA_FILTER_FLAG_PROTO_NUM), u32Attr(CTA_FILTER.REPLY_FLAGS, 0)] },
      ]
    : [];
  return encodeNfnlDumpRequest({
    subsys: NFNL_SUBSYS_CTNETLINK,
    msg: IPCTNL_MSG_CT_GET,
    seq: spec.seq,
    pid: spec.pid ?? 0,
    family: familyNumber(spec.family),
    attributes,
  });
}

export interface ConntrackDecoderLimits {
  /** Entries of any protocol one dump may send. */
  maxScanned: number;
  /** UDP entries kept. */
  maxEntries: number;
}

function decodeError(context: string, message: string): SentinelError {
  return new SentinelError('NETLINK_DECODE', `decode ${context}`, message);
}

/**
 * Walks the attributes in [start, end) of `view` in place and returns the payload offset of the
 * first of `type` (its length in `found.length`), or -1. Every header it passes is checked.
 */
function findAttr(view: DataView, start: number, end: number, type: number, found: { length: number }, context: string): number {
  let offset = start;
  while (offset + NLA_HDRLEN <= end) {
    const len = view.getUint16(offset, true);
    const attrType = view.getUint16(offset + 2, true) & NLA_TYPE_MASK;
    if (len < NLA_HDRLEN) throw decodeError(context, `attribute at offset ${offset - start} has length ${len} (< ${NLA_HDRLEN})`);
    if (offset + len > end) throw decodeError(context, `attribute type ${attrType} at offset ${offset - start} is truncated: length ${len}, ${end - offset} bytes left`);
    if (attrType === type) {
      found.length = len - NLA_HDRLEN;
      return offset + NLA_HDRLEN;
    }
    offset += align4(len);
  }
  return -1;
}

const IP_WIDTH = { inet: 4, inet6: 16 } as const;

/**
 * The text of the IPv4 addresses decoded, shared by every entry that names one: a dump's entries
 * name a few Service IPs and endpoints and the clients of each, so 10,000 entries hold a few
 * thousand strings instead of 40,000, and a reader that keeps one across reads allocates none for
 * the addresses it saw last time. Two generations: what the last read named and what this one names
 * (`endRead()` between reads), so it never holds more than the addresses of those two.
 */
export class AddressTexts {
  private current = new Map<number, string>();
  private previous = new Map<number, string>();

  /** The dotted quad of `address` (network order, as a u32), as formatIPv4 writes it. */
  ipv4(address: number): string {
    let text = this.current.get(address);
    if (text !== undefined) return text;
    text = this.previous.get(address) ?? `${address >>> 24}.${(address >>> 16) & 0xff}.${(address >>> 8) & 0xff}.${address & 0xff}`;
    this.current.set(address, text);
    return text;
  }

  /** How many texts are held. */
  get size(): number {
    let size = this.current.size;
    for (const address of this.previous.keys()) if (!this.current.has(address)) size++;
    return size;
  }

  /** Forget the addresses the read before this one named and no read since. */
  endRead(): void {
    this.previous = this.current;
    this.current = new Map();
  }
}

/**
 * Decodes the replies of one family's dump, entry by entry as each datagram arrives, keeping the UDP
 * entries. Bounded: past `maxScanned` entries of any protocol or `maxEntries` UDP ones the dump is
 * abandoned (NETLINK_DUMP_TOO_LARGE), so a node with millions of entries cannot make the agent large.
 */
export class UdpConntrackDecoder {
  readonly entries: UdpConntrackEntry[] = [];
  scanned = 0;
  skipped = 0;
  private readonly found = { length: 0 };
  private buffer: ArrayBufferLike | null = null;
  private view: DataView | null = null;

  constructor(
    private readonly family: AddressFamily,
    private readonly limits: ConntrackDecoderLimits,
    private readonly context = 'conntrack list',
    private readonly addresses = new AddressTexts(),
  ) {}

  /** One reply message of the dump (its payload is a view into the current datagram). */
  add(message: NlMessage): void {
    const subsys = message.type >> 8;
    const msg = message.type & 0xff;
    if (subsys !== NFNL_SUBSYS_CTNETLINK || msg !== IPCTNL_MSG_CT_NEW) {
      throw new SentinelError('NETLINK_PROTOCOL', `decode ${this.context}`, `the dump answered with message type ${subsys}/${msg}, not a conntrack entry (${NFNL_SUBSYS_CTNETLINK}/${IPCTNL_MSG_CT_NEW})`);
    }
    const p = message.payload;
    if (p.byteLength < NFGENMSG_LEN) throw decodeError(this.context, `conntrack message of ${p.byteLength} bytes is shorter than struct nfgenmsg (${NFGENMSG_LEN})`);
    if (++this.scanned > this.limits.maxScanned) throw tooLarge(this.context, `${this.limits.maxScanned} entries`);
    const view = this.viewOf(p);
    const start = p.byteOffset + NFGENMSG_LEN;
    const end = p.byteOffset + p.byteLength;
    const family = p[0] === AF_INET ? 'inet' : p[0] === AF_INET6 ? 'inet6' : null;
    if (family !== this.family) {
      // The kernel filters by nfgen_family; an entry of another family is not this dump's to keep.
      this.skipped++;
      return;
    }

    const found = this.found;
    const orig = findAttr(view, start, end, CTA.TUPLE_ORIG, found, this.context);
    if (orig < 0) throw decodeError(this.context, 'a conntrack entry without CTA_TUPLE_ORIG');
    const origEnd = orig + found.length;
    // The cheap test first: an entry of another protocol costs these few reads and nothing else.
    if (this.protocolOf(view, orig, origEnd) !== IPPROTO_UDP) {
      this.skipped++;
      return;
    }
    if (this.entries.length >= this.limits.maxEntries) throw tooLarge(this.context, `${this.limits.maxEntries} UDP entries`);
    const original = this.tuple(view, orig, origEnd, 'CTA_TUPLE_ORIG');
    const replyAt = findAttr(view, start, end, CTA.TUPLE_REPLY, found, this.context);
    if (replyAt < 0) throw decodeError(this.context, 'a conntrack entry without CTA_TUPLE_REPLY');
    const reply = this.tuple(view, replyAt, replyAt + found.length, 'CTA_TUPLE_REPLY');
    const timeoutAt = findAttr(view, start, end, CTA.TIMEOUT, found, this.context);
    const timeout = timeoutAt < 0 ? null : this.u32Be(view, timeoutAt, found.length, 'CTA_TIMEOUT');
    const zoneAt = findAttr(view, start, end, CTA.ZONE, found, this.context);
    const zone = zoneAt < 0 ? 0 : this.u16Be(view, zoneAt, found.length, 'CTA_ZONE');
    this.entries.push({ family, original, reply, timeout, zone });
  }

  private viewOf(p: Uint8Array): DataView {
    // The socket receives every datagram into one buffer: one DataView over it serves the dump.
    if (this.buffer !== p.buffer || this.view === null) {
      this.buffer = p.buffer;
      this.view = new DataView(p.buffer);
    }
    return this.view;
  }

  private protocolOf(view: DataView, start: number, end: number): number {
    const found = this.found;
    const proto = findAttr(view, start, end, CTA_TUPLE.PROTO, found, this.context);
    if (proto < 0) throw decodeError(this.context, 'CTA_TUPLE_ORIG without CTA_TUPLE_PROTO');
    const num = findAttr(view, proto, proto + found.length, CTA_PROTO.NUM, found, this.context);
    if (num < 0 || found.length < 1) throw decodeError(this.context, 'CTA_TUPLE_PROTO without a CTA_PROTO_NUM byte');
    return view.getUint8(num);
  }

  private tuple(view: DataView, start: number, end: number, name: string): ConntrackTuple {
    const found = this.found;
    const ip = findAttr(view, start, end, CTA_TUPLE.IP, found, this.context);
    if (ip < 0) throw decodeError(this.context, `${name} without CTA_TUPLE_IP`);
    const ipEnd = ip + found.length;
    const v4 = this.family === 'inet';
    const src = this.address(view, ip, ipEnd, v4 ? CTA_IP.V4_SRC : CTA_IP.V6_SRC, `${name} source`);
    const dst = this.address(view, ip, ipEnd, v4 ? CTA_IP.V4_DST : CTA_IP.V6_DST, `${name} destination`);
    const proto = findAttr(view, start, end, CTA_TUPLE.PROTO, found, this.context);
    if (proto < 0) throw decodeError(this.context, `${name} without CTA_TUPLE_PROTO`);
    const protoEnd = proto + found.length;
    const sport = findAttr(view, proto, protoEnd, CTA_PROTO.SRC_PORT, found, this.context);
    const srcPort = sport < 0 ? -1 : this.u16Be(view, sport, found.length, `${name} CTA_PROTO_SRC_PORT`);
    const dport = findAttr(view, proto, protoEnd, CTA_PROTO.DST_PORT, found, this.context);
    const dstPort = dport < 0 ? -1 : this.u16Be(view, dport, found.length, `${name} CTA_PROTO_DST_PORT`);
    if (srcPort < 0 || dstPort < 0) throw decodeError(this.context, `${name} of a UDP entry without its ports`);
    return { src, dst, srcPort, dstPort };
  }

  private address(view: DataView, start: number, end: number, type: number, what: string): string {
    const found = this.found;
    const at = findAttr(view, start, end, type, found, this.context);
    const width = IP_WIDTH[this.family];
    if (at < 0) throw decodeError(this.context, `${what} address missing`);
    if (found.length < width) throw decodeError(this.context, `${what} address has ${found.length} bytes, needs ${width}`);
    if (width === 4) return this.addresses.ipv4(view.getUint32(at, false));
    return formatIPv6(new Uint8Array(view.buffer, at, width));
  }

  private u16Be(view: DataView, at: number, length: number, name: string): number {
    if (length < 2) throw decodeError(this.context, `${name} has ${length} bytes, needs 2`);
    return view.getUint16(at, false);
  }

  private u32Be(view: DataView, at: number, length: number, name: string): number {
    if (length < 4) throw decodeError(this.context, `${name} has ${length} bytes, needs 4`);
    return view.getUint32(at, false);
  }
}

/** `conntrack -L` words for a tuple: "src=… dst=… sport=… dport=…". */
export function tupleText(t: ConntrackTuple): string {
  return `src=${t.src} dst=${t.dst} sport=${t.srcPort} dport=${t.dstPort}`;
}
