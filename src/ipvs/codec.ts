/**
 * IPVS generic-netlink payloads ↔ typed values (net/netfilter/ipvs/ip_vs_ctl.c,
 * ip_vs_genl_fill_service / ip_vs_genl_fill_dest / ip_vs_genl_fill_stats64). Pure.
 */
import {
  indexAttributes,
  type AttrIndex,
  parseAttributes,
  readBytes,
  readNested,
  readString,
  readU16,
  readU16Be,
  readU32,
  readU64,
  sharedBigint,
  readU8,
  type AttrSpec,
  type NlAttr,
} from '../netlink/attributes.js';
import { SentinelError } from '../errors/index.js';
import { formatAddress } from '../util/ip.js';
import { virtualServerKey } from './identity.js';
import {
  AF_INET,
  AF_INET6,
  IP_VS_CONN_F_FWD_MASK,
  IPPROTO,
  IPVS_CMD_ATTR,
  IPVS_DEST_ATTR,
  IPVS_INFO_ATTR,
  IPVS_STATS_ATTR,
  IPVS_SVC_ATTR,
} from './constants.js';
import { FORWARD_METHODS, SVC_FLAG } from './flags.js';
import {
  type AddressFamily,
  type IpvsInfo,
  type IpvsStats,
  type IpvsTimeouts,
  type Protocol,
  type RealServer,
  type Tunnel,
  type VirtualServer,
} from './types.js';

/** Attribute types we know, per nest; anything else is recorded as unknown. */
const KNOWN_SVC = new Set<number>(Object.values(IPVS_SVC_ATTR));
const KNOWN_DEST = new Set<number>(Object.values(IPVS_DEST_ATTR));
const KNOWN_STATS = new Set<number>(Object.values(IPVS_STATS_ATTR));

/** Collects attribute types this decoder does not know (a newer kernel), e.g. "service:13". */
export type UnknownSink = Set<string>;

function noteUnknown(attrs: readonly NlAttr[], known: Set<number>, where: string, sink: UnknownSink | undefined): void {
  if (!sink) return;
  for (const a of attrs) if (!known.has(a.type)) sink.add(`${where}:${a.type}`);
}

function missing(context: string, name: string): SentinelError {
  return new SentinelError('NETLINK_DECODE', `decode ${context}`, `required attribute ${name} is missing`);
}

function familyOf(af: number, context: string): AddressFamily {
  if (af === AF_INET) return 'inet';
  if (af === AF_INET6) return 'inet6';
  throw new SentinelError('NETLINK_DECODE', `decode ${context}`, `unsupported address family ${af}`);
}

function protocolOf(proto: number, context: string): Protocol {
  switch (proto) {
    case IPPROTO.TCP:
      return 'TCP';
    case IPPROTO.UDP:
      return 'UDP';
    case IPPROTO.SCTP:
      return 'SCTP';
    default:
      throw new SentinelError('NETLINK_DECODE', `decode ${context}`, `unsupported IP protocol ${proto}`);
  }
}


/** All-zero counters: what a service or destination without any stats nest reports. */
export const ZERO_STATS: Readonly<IpvsStats> = Object.freeze(zeroStats());

function zeroStats(): { -readonly [K in keyof IpvsStats]: bigint } {
  return { conns: 0n, inPkts: 0n, outPkts: 0n, inBytes: 0n, outBytes: 0n, cps: 0n, inPps: 0n, outPps: 0n, inBps: 0n, outBps: 0n };
}

/** IPVS_STATS_ATTR_* type → snapshot field, indexed by attribute type. */
const STATS_FIELD_BY_TYPE: (keyof IpvsStats | undefined)[] = [];
STATS_FIELD_BY_TYPE[IPVS_STATS_ATTR.CONNS] = 'conns';
STATS_FIELD_BY_TYPE[IPVS_STATS_ATTR.INPKTS] = 'inPkts';
STATS_FIELD_BY_TYPE[IPVS_STATS_ATTR.OUTPKTS] = 'outPkts';
STATS_FIELD_BY_TYPE[IPVS_STATS_ATTR.INBYTES] = 'inBytes';
STATS_FIELD_BY_TYPE[IPVS_STATS_ATTR.OUTBYTES] = 'outBytes';
STATS_FIELD_BY_TYPE[IPVS_STATS_ATTR.CPS] = 'cps';
STATS_FIELD_BY_TYPE[IPVS_STATS_ATTR.INPPS] = 'inPps';
STATS_FIELD_BY_TYPE[IPVS_STATS_ATTR.OUTPPS] = 'outPps';
STATS_FIELD_BY_TYPE[IPVS_STATS_ATTR.INBPS] = 'inBps';
STATS_FIELD_BY_TYPE[IPVS_STATS_ATTR.OUTBPS] = 'outBps';

/**
 * STATS64 carries every counter as u64; the older STATS nest has u32 values except the two byte
 * counters, which are u64 there too (ip_vs_genl_fill_stats). PAD attributes are skipped.
 */
function decodeStats(nest: NlAttr, wide: boolean, context: string, sink?: UnknownSink): IpvsStats {
  const attrs = readNested(nest, context);
  noteUnknown(attrs, KNOWN_STATS, wide ? 'stats64' : 'stats', sink);
  const stats = zeroStats();
  let traffic = false;
  // Straight from the nest, last one of a type wins (nla_parse): this runs for every real server.
  for (const attr of attrs) {
    const field = STATS_FIELD_BY_TYPE[attr.type];
    if (field === undefined) continue;
    const is64 = wide || attr.type === IPVS_STATS_ATTR.INBYTES || attr.type === IPVS_STATS_ATTR.OUTBYTES;
    const value = is64 ? readU64(attr, context, `stats ${field}`) : sharedBigint(BigInt(readU32(attr, context, `stats ${field}`)));
    stats[field] = value;
    if (value !== 0n) traffic = true;
  }
  // A real server that never carried a packet through this node — most of a large table — shares one
  // frozen all-zero object instead of holding ten zeros of its own.
  return traffic ? stats : ZERO_STATS;
}

function statsFrom(byType: AttrIndex, stats32: number, stats64: number, context: string, sink?: UnknownSink): IpvsStats {
  const wide = byType.get(stats64);
  if (wide) return decodeStats(wide, true, `${context} stats64`, sink);
  const narrow = byType.get(stats32);
  if (narrow) return decodeStats(narrow, false, `${context} stats`, sink);
  return ZERO_STATS;
}

/** Leading one bits of a network-order IPv4 mask (ff ff ff 00 → 24). */
function ipv4MaskLength(bytes: Uint8Array): number {
  let n = 0;
  for (const b of bytes) {
    for (let bit = 7; bit >= 0; bit--) {
      if ((b >> bit) & 1) n++;
      else return n;
    }
  }
  return n;
}

export interface DecodedService {
  service: VirtualServer;
  /** The identity attributes exactly as the kernel sent them, for the GET_DEST request. */
  identity: AttrSpec[];
}

/** Decode the payload of one NEW_SERVICE message (its top-level attributes). */
export function decodeServiceMessage(attributes: Uint8Array, sink?: UnknownSink): DecodedService {
  const top = indexAttributes(parseAttributes(attributes, 'service message'));
  const nest = top.get(IPVS_CMD_ATTR.SERVICE);
  if (!nest) throw missing('service message', 'IPVS_CMD_ATTR_SERVICE');
  const attrs = readNested(nest, 'service');
  noteUnknown(attrs, KNOWN_SVC, 'service', sink);
  const a = indexAttributes(attrs);
  const ctx = 'service';
  const afAttr = a.get(IPVS_SVC_ATTR.AF);
  if (!afAttr) throw missing(ctx, 'IPVS_SVC_ATTR_AF');
  const family = familyOf(readU16(afAttr, ctx, 'AF'), ctx);
  const identity: AttrSpec[] = [{ type: IPVS_SVC_ATTR.AF, data: afAttr.data.slice(0, 2) }];

  let protocol: Protocol | null = null;
  let address: string | null = null;
  let port: number | null = null;
  let fwmark: number | null = null;
  const fwmarkAttr = a.get(IPVS_SVC_ATTR.FWMARK);
  if (fwmarkAttr) {
    fwmark = readU32(fwmarkAttr, ctx, 'FWMARK');
    identity.push({ type: IPVS_SVC_ATTR.FWMARK, data: fwmarkAttr.data.slice(0, 4) });
  } else {
    const protoAttr = a.get(IPVS_SVC_ATTR.PROTOCOL);
    const addrAttr = a.get(IPVS_SVC_ATTR.ADDR);
    const portAttr = a.get(IPVS_SVC_ATTR.PORT);
    if (!protoAttr) throw missing(ctx, 'IPVS_SVC_ATTR_PROTOCOL');
    if (!addrAttr) throw missing(ctx, 'IPVS_SVC_ATTR_ADDR');
    if (!portAttr) throw missing(ctx, 'IPVS_SVC_ATTR_PORT');
    protocol = protocolOf(readU16(protoAttr, ctx, 'PROTOCOL'), ctx);
    address = formatAddress(family, readBytes(addrAttr, family === 'inet' ? 4 : 16, ctx, 'ADDR'));
    port = readU16Be(portAttr, ctx, 'PORT');
    identity.push(
      { type: IPVS_SVC_ATTR.PROTOCOL, data: protoAttr.data.slice(0, 2) },
      // At most the 16 bytes of union nf_inet_addr: the kernel's policy refuses a longer ADDR
      // (ip_vs_svc_policy, net/netfilter/ipvs/ip_vs_ctl.c), and a peer's 64 KiB one would not fit nla_len.
      { type: IPVS_SVC_ATTR.ADDR, data: addrAttr.data.slice(0, 16) },
      { type: IPVS_SVC_ATTR.PORT, data: portAttr.data.slice(0, 2) },
    );
  }

  const schedAttr = a.get(IPVS_SVC_ATTR.SCHED_NAME);
  const flagsAttr = a.get(IPVS_SVC_ATTR.FLAGS);
  let flagBits = 0;
  if (flagsAttr) {
    const raw = readBytes(flagsAttr, 8, ctx, 'FLAGS');
    const view = new DataView(raw.buffer, raw.byteOffset, 8);
    flagBits = (view.getUint32(0, true) & view.getUint32(4, true)) >>> 0;
  }
  const timeoutAttr = a.get(IPVS_SVC_ATTR.TIMEOUT);
  const netmaskAttr = a.get(IPVS_SVC_ATTR.NETMASK);
  let netmask = family === 'inet' ? 32 : 128;
  if (netmaskAttr) {
    netmask =
      family === 'inet' ? ipv4MaskLength(readBytes(netmaskAttr, 4, ctx, 'NETMASK')) : readU32(netmaskAttr, ctx, 'NETMASK');
  }
  const peAttr = a.get(IPVS_SVC_ATTR.PE_NAME);

  const base = { family, protocol, address, port, fwmark };
  const service: VirtualServer = {
    key: virtualServerKey(base),
    ...base,
    scheduler: schedAttr ? readString(schedAttr) : 'none',
    flagBits,
    persistent: (flagBits & SVC_FLAG.persistent) !== 0,
    timeout: timeoutAttr ? readU32(timeoutAttr, ctx, 'TIMEOUT') : 0,
    netmask,
    pe: peAttr ? readString(peAttr) || null : null,
    stats: statsFrom(a, IPVS_SVC_ATTR.STATS, IPVS_SVC_ATTR.STATS64, ctx, sink),
    destinations: [],
  };
  return { service, identity };
}

/**
 * Only the identity key of a NEW_SERVICE message ("TCP/10.96.0.1:443", "FWM/4097/inet"): what the
 * reader's consistency re-dump needs, without decoding flags and counters again.
 */
export function serviceKeyOfMessage(attributes: Uint8Array): string {
  const top = indexAttributes(parseAttributes(attributes, 'service message'));
  const nest = top.get(IPVS_CMD_ATTR.SERVICE);
  if (!nest) throw missing('service message', 'IPVS_CMD_ATTR_SERVICE');
  const a = indexAttributes(readNested(nest, 'service'));
  const ctx = 'service';
  const afAttr = a.get(IPVS_SVC_ATTR.AF);
  if (!afAttr) throw missing(ctx, 'IPVS_SVC_ATTR_AF');
  const family = familyOf(readU16(afAttr, ctx, 'AF'), ctx);
  const fwmarkAttr = a.get(IPVS_SVC_ATTR.FWMARK);
  if (fwmarkAttr) return virtualServerKey({ family, protocol: null, address: null, port: null, fwmark: readU32(fwmarkAttr, ctx, 'FWMARK') });
  const protoAttr = a.get(IPVS_SVC_ATTR.PROTOCOL);
  const addrAttr = a.get(IPVS_SVC_ATTR.ADDR);
  const portAttr = a.get(IPVS_SVC_ATTR.PORT);
  if (!protoAttr || !addrAttr || !portAttr) throw missing(ctx, 'IPVS_SVC_ATTR_PROTOCOL/ADDR/PORT');
  return virtualServerKey({
    family,
    protocol: protocolOf(readU16(protoAttr, ctx, 'PROTOCOL'), ctx),
    address: formatAddress(family, readBytes(addrAttr, family === 'inet' ? 4 : 16, ctx, 'ADDR')),
    port: readU16Be(portAttr, ctx, 'PORT'),
    fwmark: null,
  });
}

const TUNNEL_TYPES = ['ipip', 'gue', 'gre'] as const;

/** Decode the payload of one NEW_DEST message; `serviceFamily` applies when ADDR_FAMILY is absent (< 3.18). */
export function decodeDestMessage(attributes: Uint8Array, serviceFamily: AddressFamily, sink?: UnknownSink): RealServer {
  const top = indexAttributes(parseAttributes(attributes, 'destination message'));
  const nest = top.get(IPVS_CMD_ATTR.DEST);
  if (!nest) throw missing('destination message', 'IPVS_CMD_ATTR_DEST');
  const attrs = readNested(nest, 'destination');
  noteUnknown(attrs, KNOWN_DEST, 'dest', sink);
  const a = indexAttributes(attrs);
  const ctx = 'destination';
  const u32 = (type: number, name: string): number => {
    const attr = a.get(type);
    return attr ? readU32(attr, ctx, name) : 0;
  };
  const famAttr = a.get(IPVS_DEST_ATTR.ADDR_FAMILY);
  const addressFamily = famAttr ? familyOf(readU16(famAttr, ctx, 'ADDR_FAMILY'), ctx) : serviceFamily;
  const addrAttr = a.get(IPVS_DEST_ATTR.ADDR);
  const portAttr = a.get(IPVS_DEST_ATTR.PORT);
  if (!addrAttr) throw missing(ctx, 'IPVS_DEST_ATTR_ADDR');
  if (!portAttr) throw missing(ctx, 'IPVS_DEST_ATTR_PORT');
  const fwdAttr = a.get(IPVS_DEST_ATTR.FWD_METHOD);
  if (!fwdAttr) throw missing(ctx, 'IPVS_DEST_ATTR_FWD_METHOD');
  const forward = FORWARD_METHODS[readU32(fwdAttr, ctx, 'FWD_METHOD') & IP_VS_CONN_F_FWD_MASK];
  if (!forward) {
    throw new SentinelError('NETLINK_DECODE', `decode ${ctx}`, `unknown forwarding method ${readU32(fwdAttr, ctx, 'FWD_METHOD')}`);
  }

  let tunnel: Tunnel | null = null;
  if (forward === 'tunnel') {
    const typeAttr = a.get(IPVS_DEST_ATTR.TUN_TYPE);
    const tunPortAttr = a.get(IPVS_DEST_ATTR.TUN_PORT);
    const tunFlagsAttr = a.get(IPVS_DEST_ATTR.TUN_FLAGS);
    const typeNum = typeAttr ? readU8(typeAttr, ctx, 'TUN_TYPE') : 0;
    const flagNum = tunFlagsAttr ? readU16(tunFlagsAttr, ctx, 'TUN_FLAGS') : 0;
    const flags: string[] = [];
    if (flagNum & 0x1) flags.push('csum');
    if (flagNum & 0x2) flags.push('remcsum');
    tunnel = {
      type: TUNNEL_TYPES[typeNum] ?? `type-${typeNum}`,
      port: tunPortAttr ? readU16Be(tunPortAttr, ctx, 'TUN_PORT') : 0,
      flags,
    };
  }

  return {
    address: formatAddress(addressFamily, readBytes(addrAttr, addressFamily === 'inet' ? 4 : 16, ctx, 'ADDR')),
    addressFamily,
    port: readU16Be(portAttr, ctx, 'PORT'),
    forward,
    // The kernel keeps weight as a non-negative int; read it as signed so a corrupt value shows.
    weight: u32(IPVS_DEST_ATTR.WEIGHT, 'WEIGHT') | 0,
    upperThreshold: u32(IPVS_DEST_ATTR.U_THRESH, 'U_THRESH'),
    lowerThreshold: u32(IPVS_DEST_ATTR.L_THRESH, 'L_THRESH'),
    activeConns: u32(IPVS_DEST_ATTR.ACTIVE_CONNS, 'ACTIVE_CONNS'),
    inactiveConns: u32(IPVS_DEST_ATTR.INACT_CONNS, 'INACT_CONNS'),
    persistentConns: u32(IPVS_DEST_ATTR.PERSIST_CONNS, 'PERSIST_CONNS'),
    tunnel,
    stats: statsFrom(a, IPVS_DEST_ATTR.STATS, IPVS_DEST_ATTR.STATS64, ctx, sink),
  };
}

/** GET_INFO reply (SET_INFO, attributes at top level). */
export function decodeInfo(attributes: Uint8Array): IpvsInfo {
  const a = indexAttributes(parseAttributes(attributes, 'info reply'));
  const v = a.get(IPVS_INFO_ATTR.VERSION);
  const size = a.get(IPVS_INFO_ATTR.CONN_TAB_SIZE);
  if (!v) throw missing('info reply', 'IPVS_INFO_ATTR_VERSION');
  const code = readU32(v, 'info reply', 'VERSION');
  return {
    version: `${(code >> 16) & 0xff}.${(code >> 8) & 0xff}.${code & 0xff}`,
    connTableSize: size ? readU32(size, 'info reply', 'CONN_TAB_SIZE') : 0,
  };
}

/** GET_CONFIG reply (SET_CONFIG, timeouts at top level, each present only with its protocol). */
export function decodeTimeouts(attributes: Uint8Array): IpvsTimeouts {
  const a = indexAttributes(parseAttributes(attributes, 'config reply'));
  const get = (type: number, name: string): number | null => {
    const attr = a.get(type);
    return attr ? readU32(attr, 'config reply', name) : null;
  };
  return {
    tcp: get(IPVS_CMD_ATTR.TIMEOUT_TCP, 'TIMEOUT_TCP'),
    tcpFin: get(IPVS_CMD_ATTR.TIMEOUT_TCP_FIN, 'TIMEOUT_TCP_FIN'),
    udp: get(IPVS_CMD_ATTR.TIMEOUT_UDP, 'TIMEOUT_UDP'),
  };
}
