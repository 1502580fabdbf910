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

export interface NlAttr {
  /** Type with the NESTED / NET_BYTEORDER bits masked off. */
  type: number;
  nested: boolean;
  netByteOrder: boolean;
  /** The payload, a view into the datagram (no copy). */
  data: Uint8Array;
}

export const align4 = (n: number): number => (n + 3) & ~3;

function decodeError(context: string, message: string): SentinelError {
  return new SentinelError('NETLINK_DECODE', `decode ${context}`, message);
}

/** Split a run of attributes. `context` names what is being decoded, for error messages. */
export function parseAttributes(buf: Uint8Array, context: string): NlAttr[] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const attrs: NlAttr[] = [];
  let offset = 0;
  while (offset + NLA_HDRLEN <= buf.byteLength) {
    const len = view.getUint16(offset, true);
    const rawType = view.getUint16(offset + 2, true);
    if (len < NLA_HDRLEN) {
      throw decodeError(context, `attribute at offset ${offset} has length ${len} (< ${NLA_HDRLEN})`);
    }
    if (offset + len > buf.byteLength) {
      throw decodeError(
        context,
        `attribute type ${rawType & NLA_TYPE_MASK} at offset ${offset} is truncated: length ${len}, ${buf.byteLength - offset} bytes left`,
      );
    }
    attrs.push({
      type: rawType & NLA_TYPE_MASK,
      nested: (rawType & NLA_F_NESTED) !== 0,
      netByteOrder: (rawType & NLA_F_NET_BYTEORDER) !== 0,
      data: buf.subarray(offset + NLA_HDRLEN, offset + len),
    });
    offset += align4(len);
  }
  // Fewer than 4 stray bytes at the end can only be padding; anything else is a truncated header.
  if (offset < buf.byteLength && buf.subarray(offset).some((b) => b !== 0)) {
    throw decodeError(context, `${buf.byteLength - offset} trailing bytes do not form an attribute header`);
  }
  return attrs;
}

/** Index attributes by type; the last one of a type wins, as the kernel's nla_parse does. */
export function indexAttributes(attrs: readonly NlAttr[]): Map<number, NlAttr> {
  const byType = new Map<number, NlAttr>();
  for (const attr of attrs) byType.set(attr.type, attr);
  return byType;
}

function checkWidth(attr: NlAttr, width: number, context: string, name: string): DataView {
  if (attr.data.byteLength < width) {
    throw decodeError(context, `${name} (type ${attr.type}) has ${attr.data.byteLength} bytes, needs ${width}`);
  }
  return new DataView(attr.data.buffer, attr.data.byteOffset, attr.data.byteLength);
}

export function readU8(attr: NlAttr, context: string, name: string): number {
  return checkWidth(attr, 1, context, name).getUint8(0);
}

export function readU16(attr: NlAttr, context: string, name: string): number {
  return checkWidth(attr, 2, context, name).getUint16(0, true);
}

export function readU16Be(attr: NlAttr, context: string, name: string): number {
  return checkWidth(attr, 2, context, name).getUint16(0, false);
}

export function readU32(attr: NlAttr, context: string, name: string): number {
  return checkWidth(attr, 4, context, name).getUint32(0, true);
}

export function readS32(attr: NlAttr, context: string, name: string): number {
  return checkWidth(attr, 4, context, name).getInt32(0, true);
}

export function readU64(attr: NlAttr, context: string, name: string): bigint {
  return checkWidth(attr, 8, context, name).getBigUint64(0, true);
}

/** A NUL-terminated string; a missing NUL is accepted, trailing NULs are stripped. */
export function readString(attr: NlAttr): string {
  let end = attr.data.byteLength;
  const nul = attr.data.indexOf(0);
  if (nul >= 0) end = nul;
  return new TextDecoder().decode(attr.data.subarray(0, end));
}

export function readBytes(attr: NlAttr, width: number, context: string, name: string): Uint8Array {
  checkWidth(attr, width, context, name);
  return attr.data.subarray(0, width);
}

export function readNested(attr: NlAttr, context: string): NlAttr[] {
  return parseAttributes(attr.data, context);
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
