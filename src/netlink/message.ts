/**
 * Netlink message framing (struct nlmsghdr, struct genlmsghdr, struct nlmsgerr —
 * include/uapi/linux/netlink.h and genetlink.h): split a received datagram into messages and
 * build request messages. Pure: bytes in, values out.
 */
import { SentinelError } from '../errors/index.js';
import { align4, encodeAttributes, type AttrSpec } from './attributes.js';

export const NLMSG_HDRLEN = 16;
export const GENL_HDRLEN = 4;

export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLMSG_OVERRUN = 4;

export const NLM_F_REQUEST = 0x1;
export const NLM_F_MULTI = 0x2;
export const NLM_F_ACK = 0x4;
export const NLM_F_DUMP_INTR = 0x10;
export const NLM_F_DUMP = 0x300;

export interface NlMessage {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  /** Everything after the 16-byte header, up to nlmsg_len (a view, no copy). */
  payload: Uint8Array;
}

/** Split one datagram into its messages; a length that runs past the datagram is an error. */
export function parseMessages(datagram: Uint8Array, context: string): NlMessage[] {
  const view = new DataView(datagram.buffer, datagram.byteOffset, datagram.byteLength);
  const messages: NlMessage[] = [];
  let offset = 0;
  while (offset + NLMSG_HDRLEN <= datagram.byteLength) {
    const len = view.getUint32(offset, true);
    if (len < NLMSG_HDRLEN || offset + len > datagram.byteLength) {
      throw new SentinelError(
        'NETLINK_DECODE',
        `decode ${context}`,
        `netlink message at offset ${offset} has length ${len} but the datagram has ${datagram.byteLength - offset} bytes left`,
      );
    }
    messages.push({
      type: view.getUint16(offset + 4, true),
      flags: view.getUint16(offset + 6, true),
      seq: view.getUint32(offset + 8, true),
      pid: view.getUint32(offset + 12, true),
      payload: datagram.subarray(offset + NLMSG_HDRLEN, offset + len),
    });
    offset += align4(len);
  }
  return messages;
}

export interface GenlMessage {
  cmd: number;
  version: number;
  /** Attributes after the genl header (the IPVS family has no user header). */
  attributes: Uint8Array;
}

export function parseGenl(message: NlMessage, context: string): GenlMessage {
  if (message.payload.byteLength < GENL_HDRLEN) {
    throw new SentinelError(
      'NETLINK_DECODE',
      `decode ${context}`,
      `generic netlink message of ${message.payload.byteLength} bytes is shorter than its ${GENL_HDRLEN}-byte header`,
    );
  }
  return {
    cmd: message.payload[0] ?? 0,
    version: message.payload[1] ?? 0,
    attributes: message.payload.subarray(GENL_HDRLEN),
  };
}

/** The s32 errno of an NLMSG_ERROR (0 = ACK) or the status of an NLMSG_DONE (tolerates a short DONE). */
export function messageStatus(message: NlMessage, context: string): number {
  if (message.payload.byteLength < 4) {
    if (message.type === NLMSG_DONE) return 0;
    throw new SentinelError('NETLINK_DECODE', `decode ${context}`, `netlink error message without its errno (${message.payload.byteLength} bytes)`);
  }
  return new DataView(message.payload.buffer, message.payload.byteOffset, 4).getInt32(0, true);
}

export interface RequestSpec {
  type: number;
  flags: number;
  seq: number;
  pid?: number;
  /** Generic-netlink header; omit for classic protocols (rtnetlink carries its own family header). */
  genl?: { cmd: number; version: number };
  /** Fixed family header bytes placed before the attributes (e.g. rtnetlink's ifaddrmsg). */
  header?: Uint8Array;
  attributes?: readonly AttrSpec[];
}

/** Encode one request message exactly as libnl's genlmsg_put + nla_put* would. */
export function encodeRequest(spec: RequestSpec): Uint8Array {
  const genl = spec.genl ? GENL_HDRLEN : 0;
  const header = spec.header ? align4(spec.header.byteLength) : 0;
  const attrs = encodeAttributes(spec.attributes ?? []);
  const len = NLMSG_HDRLEN + genl + header + attrs.byteLength;
  const out = new Uint8Array(len);
  const view = new DataView(out.buffer);
  view.setUint32(0, len, true);
  view.setUint16(4, spec.type, true);
  view.setUint16(6, spec.flags, true);
  view.setUint32(8, spec.seq, true);
  view.setUint32(12, spec.pid ?? 0, true);
  let offset = NLMSG_HDRLEN;
  if (spec.genl) {
    out[offset] = spec.genl.cmd;
    out[offset + 1] = spec.genl.version;
    offset += GENL_HDRLEN;
  }
  if (spec.header) {
    out.set(spec.header, offset);
    offset += header;
  }
  out.set(attrs, offset);
  return out;
}
