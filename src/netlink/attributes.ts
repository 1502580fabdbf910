/**
 * Netlink attributes (struct nlattr, include/uapi/linux/netlink.h): a pure decoder and encoder.
 * Every width is checked before a read, nesting is explicit, unknown attributes are kept, and a
 * truncated attribute is an error — never a partial record. Integers are host order (little-endian
 * on every target we ship); big-endian fields (ports, IPv4 masks) are read with the *Be readers.
 */
import { SentinelError } from '../errors/index.js';

export const NLA_HDRLEN = 4;
export const NLA_F_NESTED = 0x8000;
export const NLA_F_NET_BYTEORDER = 0x4000;
export const NLA_TYPE_MASK = 0x3fff;

/**
 * One attribute: where its payload lies in the datagram. Readers go through the datagram's one
 * shared DataView by offset, so decoding a message allocates no view or subarray per attribute —
 * the difference between keeping pace with ipvsadm and being several times slower on a big table.
 */
export class NlAttr {
  constructor(
    /** Type with the NESTED / NET_BYTEORDER bits masked off. */
    readonly type: number,
    readonly nested: boolean,
    readonly netByteOrder: boolean,
    /** The whole datagram (or buffer) the attribute lives in. */
    readonly buffer: Uint8Array,
    /** A DataView over `buffer`, shared by every attribute parsed from it. */
    readonly view: DataView,
    /** Payload offset within `buffer`. */
    readonly offset: number,
    /** Payload length in bytes. */
    readonly length: number,
  ) {}

  /** The payload bytes (a view, no copy). */
  get data(): Uint8Array {
    return this.buffer.subarray(this.offset, this.offset + this.length);
  }
}

export const align4 = (n: number): number => (n + 3) & ~3;

function decodeError(context: string, message: string): SentinelError {
  return new SentinelError('NETLINK_DECODE', `decode ${context}`, message);
}

function viewOf(buf: Uint8Array): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Split a run of attributes. `context` names what is being decoded, for error messages. */
export function parseAttributes(buf: Uint8Array, context: string): NlAttr[] {
  return parseAttributesIn(buf, viewOf(buf), 0, buf.byteLength, context);
}

/** Split the attributes lying in [start, end) of `buffer`, reading through its shared `view`. */
export function parseAttributesIn(buffer: Uint8Array, view: DataView, start: number, end: number, context: string): NlAttr[] {
  const attrs: NlAttr[] = [];
  let offset = start;
  while (offset + NLA_HDRLEN <= end) {
    const len = view.getUint16(offset, true);
    const rawType = view.getUint16(offset + 2, true);
    if (len < NLA_HDRLEN) {
      throw decodeError(context, `attribute at offset ${offset - start} has length ${len} (< ${NLA_HDRLEN})`);
    }
    if (offset + len > end) {
      throw decodeError(
        context,
        `attribute type ${rawType & NLA_TYPE_MASK} at offset ${offset - start} is truncated: length ${len}, ${end - offset} bytes left`,
      );
    }
    attrs.push(
      new NlAttr(rawType & NLA_TYPE_MASK, (rawType & NLA_F_NESTED) !== 0, (rawType & NLA_F_NET_BYTEORDER) !== 0, buffer, view, offset + NLA_HDRLEN, len - NLA_HDRLEN),
    );
    offset += align4(len);
  }
  // Fewer than 4 stray bytes at the end can only be padding; anything else is a truncated header.
  for (let i = offset; i < end; i++) {
    if (buffer[i] !== 0) throw decodeError(context, `${end - offset} trailing bytes do not form an attribute header`);
  }
  return attrs;
}

/** Attributes by type; the last one of a type wins, as the kernel's nla_parse does. */
export class AttrIndex {
  private readonly slots: (NlAttr | undefined)[] = [];

  constructor(attrs: readonly NlAttr[]) {
    for (const attr of attrs) this.slots[attr.type] = attr;
  }

  get(type: number): NlAttr | undefined {
    return this.slots[type];
  }

  has(type: number): boolean {
    return this.slots[type] !== undefined;
  }
}

export function indexAttributes(attrs: readonly NlAttr[]): AttrIndex {
  return new AttrIndex(attrs);
}

function checkWidth(attr: NlAttr, width: number, context: string, name: string): void {
  if (attr.length < width) {
    throw decodeError(context, `${name} (type ${attr.type}) has ${attr.length} bytes, needs ${width}`);
  }
}

export function readU8(attr: NlAttr, context: string, name: string): number {
  checkWidth(attr, 1, context, name);
  return attr.view.getUint8(attr.offset);
}

export function readU16(attr: NlAttr, context: string, name: string): number {
  checkWidth(attr, 2, context, name);
  return attr.view.getUint16(attr.offset, true);
}

export function readU16Be(attr: NlAttr, context: string, name: string): number {
  checkWidth(attr, 2, context, name);
  return attr.view.getUint16(attr.offset, false);
}

export function readU32(attr: NlAttr, context: string, name: string): number {
  checkWidth(attr, 4, context, name);
  return attr.view.getUint32(attr.offset, true);
}

export function readS32(attr: NlAttr, context: string, name: string): number {
  checkWidth(attr, 4, context, name);
  return attr.view.getInt32(attr.offset, true);
}

/**
 * Every bigint is a heap object of its own (16–24 bytes), and a table snapshot holds ten counters
 * per virtual and real server, most of them 0 or small on an idle backend (rates, DR's outgoing
 * counters): small values share one instance each, so only the large counters cost memory.
 */
const SMALL_BIGINTS: readonly bigint[] = Array.from({ length: 1024 }, (_, i) => BigInt(i));

/** `value` itself, or the shared instance of the same small value. */
export function sharedBigint(value: bigint): bigint {
  return value < 1024n ? (SMALL_BIGINTS[Number(value)] ?? value) : value;
}

export function readU64(attr: NlAttr, context: string, name: string): bigint {
  checkWidth(attr, 8, context, name);
  return sharedBigint(attr.view.getBigUint64(attr.offset, true));
}

/** A NUL-terminated string; a missing NUL is accepted, trailing NULs are stripped. */
export function readString(attr: NlAttr): string {
  let text = '';
  const end = attr.offset + attr.length;
  for (let i = attr.offset; i < end; i++) {
    const c = attr.buffer[i] ?? 0;
    if (c === 0) break;
    if (c >= 0x80) return new TextDecoder().decode(attr.data.subarray(0, attr.data.indexOf(0) >= 0 ? attr.data.indexOf(0) : attr.length));
    text += String.fromCharCode(c);
  }
  return text;
}

export function readBytes(attr: NlAttr, width: number, context: string, name: string): Uint8Array {
  checkWidth(attr, width, context, name);
  return attr.buffer.subarray(attr.offset, attr.offset + width);
}

export function readNested(attr: NlAttr, context: string): NlAttr[] {
  return parseAttributesIn(attr.buffer, attr.view, attr.offset, attr.offset + attr.length, context);
}

// ---- encoding ---------------------------------------------------------------------------------

/** An attribute to encode: a raw payload, or nested children. */
export type AttrSpec =
  | { type: number; data: Uint8Array; netByteOrder?: boolean }
  | { type: number; nested: AttrSpec[] };

export function u16Attr(type: number, value: number): AttrSpec {
  const data = new Uint8Array(2);
  new DataView(data.buffer).setUint16(0, value, true);
  return { type, data };
}

export function u16BeAttr(type: number, value: number): AttrSpec {
  const data = new Uint8Array(2);
  new DataView(data.buffer).setUint16(0, value, false);
  return { type, data };
}

export function u32Attr(type: number, value: number): AttrSpec {
  const data = new Uint8Array(4);
  new DataView(data.buffer).setUint32(0, value, true);
  return { type, data };
}

export function u64Attr(type: number, value: bigint): AttrSpec {
  const data = new Uint8Array(8);
  new DataView(data.buffer).setBigUint64(0, value, true);
  return { type, data };
}

export function stringAttr(type: number, value: string): AttrSpec {
  const text = new TextEncoder().encode(value);
  const data = new Uint8Array(text.byteLength + 1);
  data.set(text);
  return { type, data };
}

function encodedLength(spec: AttrSpec): number {
  const payload = 'nested' in spec ? spec.nested.reduce((n, child) => n + align4(encodedLength(child)), 0) : spec.data.byteLength;
  return NLA_HDRLEN + payload;
}

/** nla_len is a u16 and the type shares its u16 with the flag bits: refuse what cannot be written. */
function checkEncodable(spec: AttrSpec, len: number): void {
  if (!Number.isInteger(spec.type) || spec.type < 0 || spec.type > NLA_TYPE_MASK) {
    throw new SentinelError('INTERNAL', 'encode netlink attribute', `attribute type ${spec.type} is outside 0..${NLA_TYPE_MASK}`);
  }
  if (len > 0xffff) {
    throw new SentinelError('INTERNAL', 'encode netlink attribute', `attribute type ${spec.type} would be ${len} bytes long; nla_len holds at most 65535`);
  }
}

function writeAttr(out: Uint8Array, view: DataView, offset: number, spec: AttrSpec, nestedFlag: boolean): number {
  const len = encodedLength(spec);
  checkEncodable(spec, len);
  let type = spec.type;
  if ('nested' in spec) {
    if (nestedFlag) type |= NLA_F_NESTED;
  } else if (spec.netByteOrder === true) {
    type |= NLA_F_NET_BYTEORDER;
  }
  view.setUint16(offset, len, true);
  view.setUint16(offset + 2, type, true);
  let p = offset + NLA_HDRLEN;
  if ('nested' in spec) {
    for (const child of spec.nested) p = writeAttr(out, view, p, child, nestedFlag);
  } else {
    out.set(spec.data, p);
    p += spec.data.byteLength;
  }
  return offset + align4(len);
}

/**
 * Encode attributes, each padded to 4 bytes. Nests carry NLA_F_NESTED as libnl's nla_nest_start
 * sets it (the kernel accepts both); pass nestedFlag=false to mimic the kernel's own replies.
 */
export function encodeAttributes(specs: readonly AttrSpec[], nestedFlag = true): Uint8Array {
  const total = specs.reduce((n, s) => n + align4(encodedLength(s)), 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let offset = 0;
  for (const spec of specs) offset = writeAttr(out, view, offset, spec, nestedFlag);
  return out;
}
