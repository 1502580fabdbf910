/**
 * Byte builders for IPVS generic-netlink replies, shaped like the kernel's ip_vs_genl_fill_service /
 * ip_vs_genl_fill_dest (net/netfilter/ipvs/ip_vs_ctl.c): same attribute order, kernel widths, 16-byte
 * addresses, big-endian ports, STATS (u32 values, u64 byte counters) then STATS64, and no
 * NLA_F_NESTED on nests. `serviceMessage({...})` / `destMessage({...})` return the genl payload
 * (the top-level attributes after the 4-byte genl header); `nlMessage` / `datagram` frame them.
 */
import { encodeAttributes, stringAttr, u16Attr, u16BeAttr, u32Attr, u64Attr, type AttrSpec } from '../../src/netlink/attributes.js';
import { NLM_F_MULTI, NLMSG_DONE, NLMSG_ERROR } from '../../src/netlink/message.js';
import { IPVS_CMD_ATTR, IPVS_DEST_ATTR, IPVS_STATS_ATTR, IPVS_SVC_ATTR } from '../../src/ipvs/constants.js';
import type { ForwardMethod, IpvsStats } from '../../src/ipvs/types.js';
import { parseAddress } from '../../src/util/ip.js';

export type StatsValues = Partial<Record<keyof IpvsStats, bigint>>;
/** Which stats nests to send: the kernel sends both (STATS first). */
export type StatsNests = 'both' | 'stats' | 'stats64' | 'none';

const AF = { inet: 2, inet6: 10 } as const;
const PROTO = { TCP: 6, UDP: 17, SCTP: 132 } as const;
const FWD: Record<ForwardMethod, number> = { masq: 0, local: 1, tunnel: 2, route: 3, bypass: 4 };
const TUN_TYPE = { ipip: 0, gue: 1, gre: 2 } as const;

/** The 16-byte `union nf_inet_addr` the kernel sends: IPv4 in the first 4 bytes. */
export function kernelAddress(text: string): Uint8Array {
  const parsed = parseAddress(text);
  if (!parsed) throw new Error(`not an address: ${text}`);
  const out = new Uint8Array(16);
  out.set(parsed.bytes);
  return out;
}

export function bytesAttr(type: number, bytes: readonly number[] | Uint8Array): AttrSpec {
  return { type, data: Uint8Array.from(bytes) };
}

function u8Attr(type: number, value: number): AttrSpec {
  return { type, data: Uint8Array.of(value) };
}

const STATS_ORDER: readonly [number, keyof IpvsStats][] = [
  [IPVS_STATS_ATTR.CONNS, 'conns'],
  [IPVS_STATS_ATTR.INPKTS, 'inPkts'],
  [IPVS_STATS_ATTR.OUTPKTS, 'outPkts'],
  [IPVS_STATS_ATTR.INBYTES, 'inBytes'],
  [IPVS_STATS_ATTR.OUTBYTES, 'outBytes'],
  [IPVS_STATS_ATTR.CPS, 'cps'],
  [IPVS_STATS_ATTR.INPPS, 'inPps'],
  [IPVS_STATS_ATTR.OUTPPS, 'outPps'],
  [IPVS_STATS_ATTR.INBPS, 'inBps'],
  [IPVS_STATS_ATTR.OUTBPS, 'outBps'],
];

/**
 * One stats nest. `wide` = STATS64 (all u64); otherwise the 32-bit flavour, whose u32 values are
 * the 64-bit ones truncated (as the kernel does) while the byte counters stay u64. `pad` puts a
 * zero-length PAD attribute before every u64, as nla_put_u64_64bit does on some architectures.
 */
export function statsNest(type: number, values: StatsValues, wide: boolean, pad = false): AttrSpec {
  const nested: AttrSpec[] = [];
  for (const [attr, field] of STATS_ORDER) {
    const v = values[field] ?? 0n;
    const is64 = wide || attr === IPVS_STATS_ATTR.INBYTES || attr === IPVS_STATS_ATTR.OUTBYTES;
    if (is64) {
      if (pad) nested.push({ type: IPVS_STATS_ATTR.PAD, data: new Uint8Array(0) });
      nested.push(u64Attr(attr, v));
    } else {
      nested.push(u32Attr(attr, Number(BigInt.asUintN(32, v))));
    }
  }
  return { type, nested };
}

function statsNests(stats32: number, stats64: number, values: StatsValues, which: StatsNests, pad: boolean): AttrSpec[] {
  const out: AttrSpec[] = [];
  if (which === 'both' || which === 'stats') out.push(statsNest(stats32, values, false, pad));
  if (which === 'both' || which === 'stats64') out.push(statsNest(stats64, values, true, pad));
  return out;
}

export interface ServiceSpec {
  family?: keyof typeof AF | number;
  protocol?: keyof typeof PROTO | number;
  address?: string;
  port?: number;
  /** A fwmark service: no PROTOCOL/ADDR/PORT. */
  fwmark?: number;
  scheduler?: string;
  pe?: string;
  /** IP_VS_SVC_F_* bits; the kernel always has HASHED (0x2) on live services. */
  flags?: number;
  mask?: number;
  /** Persistence timeout, seconds. */
  timeout?: number;
  /** Prefix length; written as a network-order IPv4 mask or a host-order IPv6 prefix length. */
  netmask?: number;
  stats?: StatsValues;
  statsNests?: StatsNests;
  pad?: boolean;
  /** Attributes the kernel of tomorrow might add, appended to the nest. */
  extra?: AttrSpec[];
  /** Attribute types to leave out (IPVS_SVC_ATTR values). */
  omit?: number[];
  /** Replace an attribute's payload by type, e.g. a wrong-width AF. */
  override?: Record<number, AttrSpec>;
}

function familyNumber(f: keyof typeof AF | number): number {
  return typeof f === 'number' ? f : AF[f];
}

function finish(specs: AttrSpec[], omit: number[] | undefined, override: Record<number, AttrSpec> | undefined): AttrSpec[] {
  return specs.filter((s) => !(omit ?? []).includes(s.type)).map((s) => override?.[s.type] ?? s);
}

function ipv4Mask(prefix: number): Uint8Array {
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return Uint8Array.of(mask >>> 24, (mask >>> 16) & 0xff, (mask >>> 8) & 0xff, mask & 0xff);
}

/** The attributes inside IPVS_CMD_ATTR_SERVICE, in ip_vs_genl_fill_service's order. */
export function serviceAttrs(spec: ServiceSpec = {}): AttrSpec[] {
  const af = familyNumber(spec.family ?? (spec.address?.includes(':') ? 'inet6' : 'inet'));
  const specs: AttrSpec[] = [u16Attr(IPVS_SVC_ATTR.AF, af)];
  if (spec.fwmark !== undefined) {
    specs.push(u32Attr(IPVS_SVC_ATTR.FWMARK, spec.fwmark));
  } else {
    const proto = spec.protocol ?? 'TCP';
    specs.push(
      u16Attr(IPVS_SVC_ATTR.PROTOCOL, typeof proto === 'number' ? proto : PROTO[proto]),
      { type: IPVS_SVC_ATTR.ADDR, data: kernelAddress(spec.address ?? '10.96.0.1') },
      u16BeAttr(IPVS_SVC_ATTR.PORT, spec.port ?? 443),
    );
  }
  specs.push(stringAttr(IPVS_SVC_ATTR.SCHED_NAME, spec.scheduler ?? 'rr'));
  if (spec.pe !== undefined) specs.push(stringAttr(IPVS_SVC_ATTR.PE_NAME, spec.pe));
  const flags = new Uint8Array(8);
  const fv = new DataView(flags.buffer);
  fv.setUint32(0, spec.flags ?? 0x2, true);
  fv.setUint32(4, spec.mask ?? 0xffffffff, true);
  specs.push({ type: IPVS_SVC_ATTR.FLAGS, data: flags });
  specs.push(u32Attr(IPVS_SVC_ATTR.TIMEOUT, spec.timeout ?? 0));
  const inet = af === AF.inet;
  const prefix = spec.netmask ?? (inet ? 32 : 128);
  specs.push(inet ? { type: IPVS_SVC_ATTR.NETMASK, data: ipv4Mask(prefix) } : u32Attr(IPVS_SVC_ATTR.NETMASK, prefix));
  specs.push(...statsNests(IPVS_SVC_ATTR.STATS, IPVS_SVC_ATTR.STATS64, spec.stats ?? {}, spec.statsNests ?? 'both', spec.pad ?? false));
  specs.push(...(spec.extra ?? []));
  return finish(specs, spec.omit, spec.override);
}

/** Genl payload of one NEW_SERVICE reply: IPVS_CMD_ATTR_SERVICE without NLA_F_NESTED. */
export function serviceMessage(spec: ServiceSpec = {}): Uint8Array {
  return encodeAttributes([{ type: IPVS_CMD_ATTR.SERVICE, nested: serviceAttrs(spec) }], false);
}

export interface DestSpec {
  address?: string;
  /** ADDR_FAMILY; null leaves it out (kernels before 3.18). Defaults to the address's family. */
  addressFamily?: keyof typeof AF | number | null;
  port?: number;
  forward?: ForwardMethod | number;
  weight?: number;
  upperThreshold?: number;
  lowerThreshold?: number;
  activeConns?: number;
  inactiveConns?: number;
  persistentConns?: number;
  tunnel?: { type?: keyof typeof TUN_TYPE | number; port?: number; flags?: number };
  stats?: StatsValues;
  statsNests?: StatsNests;
  pad?: boolean;
  extra?: AttrSpec[];
  omit?: number[];
  override?: Record<number, AttrSpec>;
}

/** The attributes inside IPVS_CMD_ATTR_DEST, in ip_vs_genl_fill_dest's order (kernel ≥ 5.2: TUN_* always sent). */
export function destAttrs(spec: DestSpec = {}): AttrSpec[] {
  const address = spec.address ?? '10.244.1.7';
  const forward = spec.forward ?? 'masq';
  const tun = spec.tunnel ?? {};
  const tunType = tun.type ?? 'ipip';
  const specs: AttrSpec[] = [
    { type: IPVS_DEST_ATTR.ADDR, data: kernelAddress(address) },
    u16BeAttr(IPVS_DEST_ATTR.PORT, spec.port ?? 8080),
    u32Attr(IPVS_DEST_ATTR.FWD_METHOD, typeof forward === 'number' ? forward : FWD[forward]),
    u32Attr(IPVS_DEST_ATTR.WEIGHT, (spec.weight ?? 1) >>> 0),
    u8Attr(IPVS_DEST_ATTR.TUN_TYPE, typeof tunType === 'number' ? tunType : TUN_TYPE[tunType]),
    u16BeAttr(IPVS_DEST_ATTR.TUN_PORT, tun.port ?? 0),
    u16Attr(IPVS_DEST_ATTR.TUN_FLAGS, tun.flags ?? 0),
    u32Attr(IPVS_DEST_ATTR.U_THRESH, spec.upperThreshold ?? 0),
    u32Attr(IPVS_DEST_ATTR.L_THRESH, spec.lowerThreshold ?? 0),
    u32Attr(IPVS_DEST_ATTR.ACTIVE_CONNS, spec.activeConns ?? 0),
    u32Attr(IPVS_DEST_ATTR.INACT_CONNS, spec.inactiveConns ?? 0),
    u32Attr(IPVS_DEST_ATTR.PERSIST_CONNS, spec.persistentConns ?? 0),
  ];
  const fam = spec.addressFamily === undefined ? (address.includes(':') ? 'inet6' : 'inet') : spec.addressFamily;
  if (fam !== null) specs.push(u16Attr(IPVS_DEST_ATTR.ADDR_FAMILY, familyNumber(fam)));
  specs.push(...statsNests(IPVS_DEST_ATTR.STATS, IPVS_DEST_ATTR.STATS64, spec.stats ?? {}, spec.statsNests ?? 'both', spec.pad ?? false));
  specs.push(...(spec.extra ?? []));
  return finish(specs, spec.omit, spec.override);
}

/** Genl payload of one NEW_DEST reply: IPVS_CMD_ATTR_DEST without NLA_F_NESTED. */
export function destMessage(spec: DestSpec = {}): Uint8Array {
  return encodeAttributes([{ type: IPVS_CMD_ATTR.DEST, nested: destAttrs(spec) }], false);
}

// ---- framing ----------------------------------------------------------------------------------

export interface NlHeader {
  type: number;
  flags?: number;
  seq: number;
  pid: number;
}

/** One netlink message: 16-byte header + payload, padded to 4 bytes (nlmsg_len excludes the padding). */
export function nlMessage(header: NlHeader, payload: Uint8Array): Uint8Array {
  const len = 16 + payload.byteLength;
  const out = new Uint8Array((len + 3) & ~3);
  const view = new DataView(out.buffer);
  view.setUint32(0, len, true);
  view.setUint16(4, header.type, true);
  view.setUint16(6, header.flags ?? 0, true);
  view.setUint32(8, header.seq, true);
  view.setUint32(12, header.pid, true);
  out.set(payload, 16);
  return out;
}

/** A generic-netlink message of the IPVS family: genl header (cmd, version 1) + attributes. */
export function genlMessage(header: NlHeader, cmd: number, attributes: Uint8Array): Uint8Array {
  const payload = new Uint8Array(4 + attributes.byteLength);
  payload[0] = cmd;
  payload[1] = 1;
  payload.set(attributes, 4);
  return nlMessage({ flags: NLM_F_MULTI, ...header }, payload);
}

export function doneMessage(seq: number, pid: number): Uint8Array {
  return nlMessage({ type: NLMSG_DONE, flags: NLM_F_MULTI, seq, pid }, new Uint8Array(4));
}

/** NLMSG_ERROR with `-errno` (0 = ACK) and the offending request's header echoed (NLM_F_CAPPED style). */
export function errorMessage(seq: number, pid: number, errno: number): Uint8Array {
  const payload = new Uint8Array(20);
  const view = new DataView(payload.buffer);
  view.setInt32(0, -errno, true);
  view.setUint32(4, 16, true);
  view.setUint32(12, seq, true);
  return nlMessage({ type: NLMSG_ERROR, flags: 0x100, seq, pid }, payload);
}

/** Concatenate already padded messages into one datagram. */
export function datagram(...messages: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(messages.reduce((n, m) => n + m.byteLength, 0));
  let offset = 0;
  for (const m of messages) {
    out.set(m, offset);
    offset += m.byteLength;
  }
  return out;
}

/** "14 00 00 00 1c 00" → bytes; whitespace and newlines ignored (hex dumps pasted from the spec). */
export function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new Error(`bad hex: ${text}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toHex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ');
}
