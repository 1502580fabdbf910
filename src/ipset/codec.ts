/**
 * The ipset list dump (IPSET_CMD_LIST, protocol 6; include/uapi/linux/netfilter/ipset/ip_set.h and
 * ip_set_dump_do in net/netfilter/ipset/ip_set_core.c): the request, and the replies decoded into
 * typed sets. The first message of a set carries TYPENAME, FAMILY, REVISION and the header DATA nest;
 * every message then carries an ADT nest of element DATA nests, and a large set continues over more
 * messages that repeat only PROTOCOL and SETNAME — merged here into one set. Every width is checked,
 * a truncated or lying length is NETLINK_DECODE, and attribute types this decoder does not know are
 * reported, never guessed at. Pure: bytes in, values out.
 */
import { SentinelError } from '../errors/index.js';
import {
  align4,
  indexAttributes,
  NLA_HDRLEN,
  NLA_TYPE_MASK,
  parseAttributesIn,
  readString,
  readU8,
  stringAttr,
  type AttrSpec,
  type NlAttr,
} from '../netlink/attributes.js';
import type { NlMessage } from '../netlink/message.js';
import { encodeNfnlDumpRequest, NFNL_SUBSYS_IPSET, NFPROTO, tooLarge } from '../netlink/nfnetlink.js';
import { formatIPv4, formatIPv6 } from '../util/ip.js';
import {
  IPPROTO_NAME,
  IPSET_ATTR,
  IPSET_ATTR_IPADDR_IPV4,
  IPSET_ATTR_IPADDR_IPV6,
  IPSET_CMD,
  IPSET_ELEMENT_ATTR,
  IPSET_FLAG_LIST_HEADER,
  IPSET_FLAG_NOMATCH,
  IPSET_HEADER_ATTR,
  IPSET_MAXNAMELEN,
  IPSET_PROTOCOL,
} from './constants.js';
import type { IpSet, IpsetDump, IpsetEntry, IpsetFamily, IpsetHeader, IpsetType } from './types.js';

export interface IpsetListRequest {
  seq: number;
  pid?: number;
  /** Only this set; the kernel answers ENOENT when it does not exist. */
  setName?: string;
  /** IPSET_FLAG_LIST_HEADER: names, types and headers (element counts, references) without the members. */
  headersOnly?: boolean;
}

/** NFNL_SUBSYS_IPSET << 8 | IPSET_CMD_LIST: the request and every reply (IPSET_CMD_SAVE replies likewise). */
export const IPSET_LIST_MESSAGE_TYPE = (NFNL_SUBSYS_IPSET << 8) | IPSET_CMD.LIST;

/** The dump request as `ipset list` sends it: PROTOCOL, then optional SETNAME and FLAGS (big-endian). */
export function encodeIpsetListRequest(request: IpsetListRequest): Uint8Array {
  const protocol = new Uint8Array([IPSET_PROTOCOL]);
  const attributes: AttrSpec[] = [{ type: IPSET_ATTR.PROTOCOL, data: protocol }];
  if (request.setName !== undefined) {
    if (request.setName.length === 0 || request.setName.length >= IPSET_MAXNAMELEN || /[^\x21-\x7e]/.test(request.setName)) {
      throw new SentinelError('INTERNAL', 'encode ipset list request', `"${request.setName}" is not an ipset name (1–${IPSET_MAXNAMELEN - 1} printable ASCII characters)`);
    }
    attributes.push(stringAttr(IPSET_ATTR.SETNAME, request.setName));
  }
  if (request.headersOnly === true) {
    const flags = new Uint8Array(4);
    new DataView(flags.buffer).setUint32(0, IPSET_FLAG_LIST_HEADER, false);
    attributes.push({ type: IPSET_ATTR.FLAGS, data: flags, netByteOrder: true });
  }
  return encodeNfnlDumpRequest({
    subsys: NFNL_SUBSYS_IPSET,
    msg: IPSET_CMD.LIST,
    seq: request.seq,
    ...(request.pid === undefined ? {} : { pid: request.pid }),
    family: NFPROTO.IPV4,
    attributes,
  });
}

const CONTEXT = 'ipset list reply';

function decodeError(message: string): SentinelError {
  return new SentinelError('NETLINK_DECODE', `decode ${CONTEXT}`, message);
}

function be32(attr: NlAttr, name: string): number {
  if (attr.length < 4) throw decodeError(`${name} has ${attr.length} bytes, needs 4`);
  return attr.view.getUint32(attr.offset, false);
}

function be16(attr: NlAttr, name: string): number {
  if (attr.length < 2) throw decodeError(`${name} has ${attr.length} bytes, needs 2`);
  return attr.view.getUint16(attr.offset, false);
}

const KNOWN_MESSAGE = new Set<number>(Object.values(IPSET_ATTR));
const KNOWN_HEADER = new Set<number>(Object.values(IPSET_HEADER_ATTR));
/** Counters, timeouts, comments and skbinfo: extensions kube-proxy never enables; read past, not reported. */
const IGNORED_ELEMENT = new Set<number>([
  IPSET_ELEMENT_ATTR.TIMEOUT,
  IPSET_ELEMENT_ATTR.BYTES,
  IPSET_ELEMENT_ATTR.PACKETS,
  IPSET_ELEMENT_ATTR.COMMENT,
  IPSET_ELEMENT_ATTR.SKBMARK,
  IPSET_ELEMENT_ATTR.SKBPRIO,
  IPSET_ELEMENT_ATTR.SKBQUEUE,
  IPSET_ELEMENT_ATTR.PAD,
]);

function familyOf(value: number, name: string): IpsetFamily | null {
  if (value === NFPROTO.IPV4) return 'inet';
  if (value === NFPROTO.IPV6) return 'inet6';
  if (value === NFPROTO.UNSPEC) return null;
  throw decodeError(`set ${name} has family ${value}, not NFPROTO_IPV4, NFPROTO_IPV6 or NFPROTO_UNSPEC`);
}

/**
 * The length of the attribute at `offset`, checked against `end` as parseAttributesIn checks it; the
 * element walk reads attributes in place instead of allocating one object per attribute (a set of
 * 100,000 members has half a million of them).
 */
function attrLength(view: DataView, offset: number, end: number, where: string): number {
  const len = view.getUint16(offset, true);
  if (len < NLA_HDRLEN) throw decodeError(`${where}: attribute has length ${len} (< ${NLA_HDRLEN})`);
  if (offset + len > end) throw decodeError(`${where}: attribute type ${view.getUint16(offset + 2, true) & NLA_TYPE_MASK} is truncated: length ${len}, ${end - offset} bytes left`);
  return len;
}

/** Fewer than 4 stray bytes after the last attribute can only be padding. */
function checkPadding(buffer: Uint8Array, offset: number, end: number, where: string): void {
  for (let i = offset; i < end; i++) {
    if (buffer[i] !== 0) throw decodeError(`${where}: ${end - offset} trailing bytes do not form an attribute`);
  }
}

/** An IP / IP2 nest: one IPADDR_IPV4 (4 bytes) or IPADDR_IPV6 (16 bytes), network order. */
function decodeAddress(buffer: Uint8Array, view: DataView, start: number, end: number, family: IpsetFamily | null, where: string): string {
  let address: string | null = null;
  let offset = start;
  while (offset + NLA_HDRLEN <= end) {
    const len = attrLength(view, offset, end, where);
    const type = view.getUint16(offset + 2, true) & NLA_TYPE_MASK;
    const width = len - NLA_HDRLEN;
    if (type === IPSET_ATTR_IPADDR_IPV4 || type === IPSET_ATTR_IPADDR_IPV6) {
      const v4 = type === IPSET_ATTR_IPADDR_IPV4;
      if (width !== (v4 ? 4 : 16)) throw decodeError(`${where}: IPADDR_IPV${v4 ? 4 : 6} has ${width} bytes, needs ${v4 ? 4 : 16}`);
      if (family !== null && family !== (v4 ? 'inet' : 'inet6')) throw decodeError(`${where}: an IPv${v4 ? 4 : 6} address in an ${family} set`);
      address = v4 ? formatIPv4(buffer, offset + NLA_HDRLEN) : formatIPv6(buffer, offset + NLA_HDRLEN);
    }
    offset += align4(len);
  }
  checkPadding(buffer, offset, end, where);
  if (address === null) throw decodeError(`${where}: address nest without IPADDR_IPV4 or IPADDR_IPV6`);
  return address;
}

function u8At(view: DataView, offset: number, width: number, where: string, name: string): number {
  if (width < 1) throw decodeError(`${where}: ${name} has ${width} bytes, needs 1`);
  return view.getUint8(offset);
}

function be16At(view: DataView, offset: number, width: number, where: string, name: string): number {
  if (width < 2) throw decodeError(`${where}: ${name} has ${width} bytes, needs 2`);
  return view.getUint16(offset, false);
}

function be32At(view: DataView, offset: number, width: number, where: string, name: string): number {
  if (width < 4) throw decodeError(`${where}: ${name} has ${width} bytes, needs 4`);
  return view.getUint32(offset, false);
}

/**
 * What each of kube-proxy's types lists for every member; a member without it is malformed. A Map,
 * because the type name is the kernel's text: "constructor" must not find Object.prototype's.
 */
const REQUIRED = new Map<string, readonly (keyof IpsetEntry)[]>([
  ['hash:ip', ['ip']],
  ['hash:ip,port', ['ip', 'protocol', 'port']],
  ['hash:ip,port,ip', ['ip', 'protocol', 'port', 'ip2']],
  ['hash:ip,port,net', ['ip', 'protocol', 'port', 'ip2', 'cidr2']],
  ['bitmap:port', ['port']],
]);

interface SetInProgress {
  name: string;
  type: IpsetType;
  family: IpsetFamily | null;
  revision: number;
  header: IpsetHeader;
  entriesListed: boolean;
  entries: IpsetEntry[];
  required: readonly (keyof IpsetEntry)[];
}

export interface IpsetDecoderOptions {
  /** Members across all sets before the dump is abandoned with NETLINK_DUMP_TOO_LARGE. */
  maxEntries: number;
  /** The request asked for headers only (then no message may list members). */
  headersOnly?: boolean;
}

/**
 * Decodes one dump's replies message by message, as they arrive: nothing of a datagram is kept
 * (addresses become strings, numbers numbers), so the socket may reuse its receive buffer.
 */
export class IpsetDumpDecoder {
  private readonly sets: SetInProgress[] = [];
  private readonly names = new Set<string>();
  private current: SetInProgress | null = null;
  private entryCount = 0;
  private readonly unknown = new Set<string>();

  constructor(private readonly options: IpsetDecoderOptions) {}

  get entries(): number {
    return this.entryCount;
  }

  /** One reply message of the dump (NLMSG_DONE and NLMSG_ERROR are the dump loop's business). */
  add(message: NlMessage): void {
    if (message.type !== IPSET_LIST_MESSAGE_TYPE && message.type !== ((NFNL_SUBSYS_IPSET << 8) | IPSET_CMD.SAVE)) {
      throw decodeError(`unexpected message type 0x${message.type.toString(16)} in an ipset dump`);
    }
    const p = message.payload;
    if (p.byteLength < 4) throw decodeError(`message of ${p.byteLength} bytes is shorter than struct nfgenmsg`);
    const view = new DataView(p.buffer, p.byteOffset, p.byteLength);
    const attrs = parseAttributesIn(p, view, 4, p.byteLength, CONTEXT);
    for (const a of attrs) if (!KNOWN_MESSAGE.has(a.type)) this.unknown.add(`message:${a.type}`);
    const index = indexAttributes(attrs);
    const nameAttr = index.get(IPSET_ATTR.SETNAME);
    if (nameAttr === undefined) throw decodeError('message without SETNAME');
    const name = readString(nameAttr);
    const typeAttr = index.get(IPSET_ATTR.TYPENAME);
    let set: SetInProgress;
    if (typeAttr !== undefined) {
      set = this.startSet(name, readString(typeAttr), index);
    } else {
      if (this.current?.name !== name) throw decodeError(`set ${name} continues in a message, but its header (TYPENAME) never came`);
      set = this.current;
    }
    const adt = index.get(IPSET_ATTR.ADT);
    if (adt !== undefined) {
      if (this.options.headersOnly === true) throw decodeError(`set ${name} lists members in a headers-only dump`);
      this.addElements(set, adt);
    }
  }

  finish(): IpsetDump {
    return {
      sets: this.sets.map(({ required: _required, ...set }): IpSet => set),
      unknownAttributes: [...this.unknown].sort(),
    };
  }

  private startSet(name: string, type: IpsetType, index: ReturnType<typeof indexAttributes>): SetInProgress {
    if (this.names.has(name)) throw decodeError(`set ${name} is listed twice in one dump`);
    const revision = index.get(IPSET_ATTR.REVISION);
    const family = index.get(IPSET_ATTR.FAMILY);
    const data = index.get(IPSET_ATTR.DATA);
    if (revision === undefined || family === undefined || data === undefined) {
      throw decodeError(`the header of set ${name} lacks ${[revision ? '' : 'REVISION', family ? '' : 'FAMILY', data ? '' : 'DATA'].filter(Boolean).join(', ')}`);
    }
    const set: SetInProgress = {
      name,
      type,
      family: familyOf(readU8(family, CONTEXT, 'FAMILY'), name),
      revision: readU8(revision, CONTEXT, 'REVISION'),
      header: this.decodeHeader(name, type, data),
      entriesListed: this.options.headersOnly !== true,
      entries: [],
      required: REQUIRED.get(type) ?? [],
    };
    if (type !== 'bitmap:port' && type.startsWith('hash:ip') && set.family === null) throw decodeError(`set ${name} of type ${type} has no address family`);
    this.names.add(name);
    this.sets.push(set);
    this.current = set;
    return set;
  }

  private decodeHeader(name: string, type: IpsetType, data: NlAttr): IpsetHeader {
    const attrs = parseAttributesIn(data.buffer, data.view, data.offset, data.offset + data.length, `${CONTEXT} header`);
    for (const a of attrs) if (!KNOWN_HEADER.has(a.type)) this.unknown.add(`header:${a.type}`);
    const h = indexAttributes(attrs);
    const required = (type: number, label: string): number => {
      const attr = h.get(type);
      if (attr === undefined) throw decodeError(`the header of set ${name} lacks ${label}`);
      return be32(attr, label);
    };
    const optional = (type: number, label: string): number | undefined => {
      const attr = h.get(type);
      return attr === undefined ? undefined : be32(attr, label);
    };
    const header: { -readonly [K in keyof IpsetHeader]: IpsetHeader[K] } = {
      references: required(IPSET_HEADER_ATTR.REFERENCES, 'REFERENCES'),
      elements: required(IPSET_HEADER_ATTR.ELEMENTS, 'ELEMENTS'),
      memSize: required(IPSET_HEADER_ATTR.MEMSIZE, 'MEMSIZE'),
    };
    const hashSize = optional(IPSET_HEADER_ATTR.HASHSIZE, 'HASHSIZE');
    const maxElem = optional(IPSET_HEADER_ATTR.MAXELEM, 'MAXELEM');
    if (hashSize !== undefined) header.hashSize = hashSize;
    if (maxElem !== undefined) header.maxElem = maxElem;
    const from = h.get(IPSET_HEADER_ATTR.PORT);
    const to = h.get(IPSET_HEADER_ATTR.PORT_TO);
    if (type === 'bitmap:port') {
      if (from === undefined || to === undefined) throw decodeError(`the header of bitmap:port set ${name} lacks its port range`);
      header.portRange = { from: be16(from, 'PORT'), to: be16(to, 'PORT_TO') };
    }
    return header;
  }

  private addElements(set: SetInProgress, adt: NlAttr): void {
    const { buffer, view } = adt;
    const end = adt.offset + adt.length;
    const where = `set ${set.name}`;
    let offset = adt.offset;
    while (offset + NLA_HDRLEN <= end) {
      const len = attrLength(view, offset, end, where);
      const type = view.getUint16(offset + 2, true) & NLA_TYPE_MASK;
      if (type === IPSET_ATTR.DATA) {
        if (++this.entryCount > this.options.maxEntries) throw tooLarge('ipset list', `${this.options.maxEntries} entries`);
        set.entries.push(this.decodeElement(set, buffer, view, offset + NLA_HDRLEN, offset + len, where));
      } else {
        this.unknown.add(`adt:${type}`);
      }
      offset += align4(len);
    }
    checkPadding(buffer, offset, end, where);
  }

  private decodeElement(set: SetInProgress, buffer: Uint8Array, view: DataView, start: number, end: number, where: string): IpsetEntry {
    let ip: string | null = null;
    let cidr: number | null = null;
    let protocol: IpsetEntry['protocol'] = null;
    let port: number | null = null;
    let ip2: string | null = null;
    let cidr2: number | null = null;
    let nomatch = false;
    let offset = start;
    while (offset + NLA_HDRLEN <= end) {
      const len = attrLength(view, offset, end, where);
      const type = view.getUint16(offset + 2, true) & NLA_TYPE_MASK;
      const p = offset + NLA_HDRLEN;
      const width = len - NLA_HDRLEN;
      switch (type) {
        case IPSET_ELEMENT_ATTR.IP:
          ip = decodeAddress(buffer, view, p, p + width, set.family, where);
          break;
        case IPSET_ELEMENT_ATTR.IP2:
          ip2 = decodeAddress(buffer, view, p, p + width, set.family, where);
          break;
        case IPSET_ELEMENT_ATTR.CIDR:
          cidr = u8At(view, p, width, where, 'CIDR');
          break;
        case IPSET_ELEMENT_ATTR.CIDR2:
          cidr2 = u8At(view, p, width, where, 'CIDR2');
          break;
        case IPSET_ELEMENT_ATTR.PORT:
          port = be16At(view, p, width, where, 'PORT');
          break;
        case IPSET_ELEMENT_ATTR.PROTO: {
          const number = u8At(view, p, width, where, 'PROTO');
          protocol = IPPROTO_NAME.get(number) ?? number;
          break;
        }
        case IPSET_ELEMENT_ATTR.CADT_FLAGS:
          nomatch = (be32At(view, p, width, where, 'CADT_FLAGS') & IPSET_FLAG_NOMATCH) !== 0;
          break;
        default:
          if (!IGNORED_ELEMENT.has(type)) this.unknown.add(`element:${type}`);
      }
      offset += align4(len);
    }
    checkPadding(buffer, offset, end, where);
    const bits = set.family === 'inet6' ? 128 : 32;
    if ((cidr !== null && cidr > bits) || (cidr2 !== null && cidr2 > bits)) throw decodeError(`${where}: a prefix length above ${bits}`);
    // The literal ipsetEntry() builds, without its intermediate object: one allocation per member.
    const entry: IpsetEntry = { ip, cidr, protocol, port, ip2, cidr2, nomatch };
    for (const field of set.required) {
      if (entry[field] === null) throw decodeError(`${where}: a ${set.type} member without its ${field}`);
    }
    return entry;
  }
}

/** Decode the reply messages of one dump (for tests and tools that hold a whole recording). */
export function decodeIpsetMessages(messages: Iterable<NlMessage>, options: IpsetDecoderOptions = { maxEntries: Number.MAX_SAFE_INTEGER }): IpsetDump {
  const decoder = new IpsetDumpDecoder(options);
  for (const message of messages) decoder.add(message);
  return decoder.finish();
}
