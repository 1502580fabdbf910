/**
 * The reader's fast path over NEW_SERVICE and NEW_DEST messages (ip_vs_genl_fill_service,
 * ip_vs_genl_fill_dest and ip_vs_genl_fill_stats64 in net/netfilter/ipvs/ip_vs_ctl.c): where each
 * attribute lies, read straight from the datagram, so that a virtual or real server the kernel
 * reports as the previous read did is recognised without decoding it — no attribute object, string
 * or bigint is made for it. Pure.
 *
 * It takes only the message shape every kernel sends: well formed, known attributes only, every
 * field the decoder reads at its full width, a real server without a tunnel. Anything else — a
 * tunnel, an unknown attribute of a newer kernel, a malformed or truncated message — is left to
 * decodeServiceMessage / decodeDestMessage (codec.ts), which decode it, record what they do not know
 * and report what is wrong. What a scan builds equals what the decoder returns for the same bytes
 * (the unit tests hold the two side by side on random and corrupted messages).
 */
import { align4, NLA_F_NESTED, NLA_HDRLEN, NLA_TYPE_MASK, sharedBigint } from '../netlink/attributes.js';
import { formatIPv4, formatIPv6 } from '../util/ip.js';
import { ZERO_STATS } from './codec.js';
import {
  AF_INET,
  AF_INET6,
  IP_VS_CONN_F_FWD_MASK,
  IPPROTO,
  IPVS_CMD_ATTR,
  IPVS_DEST_ATTR,
  IPVS_STATS_ATTR,
  IPVS_SVC_ATTR,
} from './constants.js';
import { FORWARD_METHODS, SVC_FLAG } from './flags.js';
import { virtualServerKey } from './identity.js';
import type { AddressFamily, ForwardMethod, IpvsStats, Protocol, RealServer, VirtualServer } from './types.js';

/** Attribute types are below 32 in every nest scanned here: one bit each. */
const bits = (types: readonly number[]): number => types.reduce((mask, t) => mask | (1 << t), 0);
const KNOWN_SVC = bits(Object.values(IPVS_SVC_ATTR));
const KNOWN_DEST = bits(Object.values(IPVS_DEST_ATTR));
const KNOWN_STATS = bits(Object.values(IPVS_STATS_ATTR));

function widths(byType: Record<number, number>): number[] {
  const out = new Array<number>(32).fill(0);
  for (const [type, width] of Object.entries(byType)) out[Number(type)] = width;
  return out;
}

/** The widths decodeServiceMessage reads (ADDR's is 4 or 16, checked once the family is known). */
const SVC_WIDTH: readonly number[] = widths({
  [IPVS_SVC_ATTR.AF]: 2,
  [IPVS_SVC_ATTR.PROTOCOL]: 2,
  [IPVS_SVC_ATTR.ADDR]: 4,
  [IPVS_SVC_ATTR.PORT]: 2,
  [IPVS_SVC_ATTR.FWMARK]: 4,
  [IPVS_SVC_ATTR.FLAGS]: 8,
  [IPVS_SVC_ATTR.TIMEOUT]: 4,
  [IPVS_SVC_ATTR.NETMASK]: 4,
});
/** The widths decodeDestMessage reads (ADDR's likewise). */
const DEST_WIDTH: readonly number[] = widths({
  [IPVS_DEST_ATTR.ADDR]: 4,
  [IPVS_DEST_ATTR.PORT]: 2,
  [IPVS_DEST_ATTR.FWD_METHOD]: 4,
  [IPVS_DEST_ATTR.WEIGHT]: 4,
  [IPVS_DEST_ATTR.U_THRESH]: 4,
  [IPVS_DEST_ATTR.L_THRESH]: 4,
  [IPVS_DEST_ATTR.ACTIVE_CONNS]: 4,
  [IPVS_DEST_ATTR.INACT_CONNS]: 4,
  [IPVS_DEST_ATTR.PERSIST_CONNS]: 4,
  [IPVS_DEST_ATTR.ADDR_FAMILY]: 2,
});
/** Counters are u64 in STATS64; in STATS u32 but for the two byte counters (ip_vs_genl_fill_stats). */
const COUNTER_TYPES = Object.values(IPVS_STATS_ATTR).filter((t) => t !== IPVS_STATS_ATTR.PAD);
const isByteCounter = (type: number): boolean => type === IPVS_STATS_ATTR.INBYTES || type === IPVS_STATS_ATTR.OUTBYTES;
const STATS64_WIDTH: readonly number[] = widths(Object.fromEntries(COUNTER_TYPES.map((t) => [t, 8])));
const STATS_WIDTH: readonly number[] = widths(Object.fromEntries(COUNTER_TYPES.map((t) => [t, isByteCounter(t) ? 8 : 4])));
const TWO_32 = 4294967296;
/** Above this high word a u64 is no longer exact as a double: compared as a bigint instead. */
const EXACT_HIGH = 0x200000;

/**
 * Records in `at` the payload offset and length of each attribute in [start, end) by type, the last
 * of a type winning as nla_parse has it; false unless the run is one parseAttributesIn accepts, with
 * types all in `known` and every attribute at least `width[type]` long.
 */
function indexRun(view: DataView, start: number, end: number, at: Int32Array, known: number, width: readonly number[]): boolean {
  at.fill(-1, 0, 2 * (32 - Math.clz32(known))); // the slots of the known types (no other is read)
  let offset = start;
  while (offset + NLA_HDRLEN <= end) {
    const len = view.getUint16(offset, true);
    const type = view.getUint16(offset + 2, true) & NLA_TYPE_MASK;
    if (len < NLA_HDRLEN || offset + len > end) return false;
    if (type >= 32 || ((known >>> type) & 1) === 0) return false;
    if (len - NLA_HDRLEN < (width[type] ?? 0)) return false;
    at[2 * type] = offset + NLA_HDRLEN;
    at[2 * type + 1] = len - NLA_HDRLEN;
    offset += (len + 3) & ~3;
  }
  for (let i = offset; i < end; i++) if (view.getUint8(i) !== 0) return false;
  return true;
}

/**
 * Puts the payload offset and end of the last `type` attribute among the message's top-level
 * attributes in [start, end) — the nest the decoder reads — in at[0] and at[1] (slots of type 0,
 * which no nest scanned here has); false when the run is malformed or has none.
 */
function nestIn(view: DataView, start: number, end: number, type: number, at: Int32Array): boolean {
  let found = false;
  let offset = start;
  while (offset + NLA_HDRLEN <= end) {
    const len = view.getUint16(offset, true);
    if (len < NLA_HDRLEN || offset + len > end) return false;
    if ((view.getUint16(offset + 2, true) & NLA_TYPE_MASK) === type) {
      at[0] = offset + NLA_HDRLEN;
      at[1] = offset + len;
      found = true;
    }
    offset += (len + 3) & ~3;
  }
  for (let i = offset; i < end; i++) if (view.getUint8(i) !== 0) return false;
  return found;
}

/** The text of the string attribute at `offset` up to its first NUL (readString), or null when it is not ASCII. */
function asciiText(view: DataView, offset: number, length: number): string | null {
  let text = '';
  for (let n = 0; n < length; n++) {
    const c = view.getUint8(offset + n);
    if (c === 0) break;
    if (c >= 0x80) return null;
    text += String.fromCharCode(c);
  }
  return text;
}

/** The shared instances of small counter values (sharedBigint), found without making a bigint first. */
const SMALL_BIGINTS: readonly bigint[] = Array.from({ length: 1024 }, (_, i) => sharedBigint(BigInt(i)));

/** `value` (a u32) as a bigint: the shared instance when it is small. */
function smallBigint(value: number): bigint {
  return SMALL_BIGINTS[value] ?? BigInt(value);
}

/** Whether `text` is the dotted form of the four bytes at `offset` (formatIPv4), without making it. */
function isIPv4Text(text: string, view: DataView, offset: number): boolean {
  let p = 0;
  for (let i = 0; i < 4; i++) {
    if (i > 0 && text.charCodeAt(p++) !== 0x2e) return false;
    const b = view.getUint8(offset + i);
    if (b >= 100 && text.charCodeAt(p++) !== 0x30 + Math.floor(b / 100)) return false;
    if (b >= 10 && text.charCodeAt(p++) !== 0x30 + (Math.floor(b / 10) % 10)) return false;
    if (text.charCodeAt(p++) !== 0x30 + (b % 10)) return false;
  }
  return p === text.length;
}

/**
 * Whether `text` is what readString makes of the `length` bytes at `offset` (up to the first NUL);
 * null when that is not plain ASCII, which only the decoder reads.
 */
function isAsciiText(text: string, view: DataView, offset: number, length: number): boolean | null {
  let n = 0;
  for (; n < length; n++) {
    const c = view.getUint8(offset + n);
    if (c === 0) break;
    if (c >= 0x80) return null;
    if (text.charCodeAt(n) !== c) return false;
  }
  return n === text.length;
}

/** The counters nest of a scanned message (STATS64, else STATS, else none: statsFrom in codec.ts). */
class CountersScan {
  private readonly at = new Int32Array(64);
  private view: DataView = new DataView(new ArrayBuffer(0));
  private wide = false;
  private present = false;

  /** Scans the `wide` (STATS64) nest indexed in `index`, else its `narrow` (STATS) one. */
  scan(view: DataView, index: Int32Array, wide: number, narrow: number): boolean {
    this.view = view;
    const type = (index[2 * wide] as number) >= 0 ? wide : narrow;
    const offset = index[2 * type] as number;
    this.wide = type === wide;
    this.present = offset >= 0;
    if (!this.present) return true;
    return indexRun(view, offset, offset + (index[2 * type + 1] as number), this.at, KNOWN_STATS, this.wide ? STATS64_WIDTH : STATS_WIDTH);
  }

  /** The scanned counters equal `stats` (sameStats in reuse.ts). */
  same(stats: IpvsStats): boolean {
    if (stats === ZERO_STATS) return this.allZero(); // most of a large table: no bigint to look at
    return (
      this.is(IPVS_STATS_ATTR.CONNS, stats.conns) &&
      this.is(IPVS_STATS_ATTR.INPKTS, stats.inPkts) &&
      this.is(IPVS_STATS_ATTR.OUTPKTS, stats.outPkts) &&
      this.is(IPVS_STATS_ATTR.INBYTES, stats.inBytes) &&
      this.is(IPVS_STATS_ATTR.OUTBYTES, stats.outBytes) &&
      this.is(IPVS_STATS_ATTR.CPS, stats.cps) &&
      this.is(IPVS_STATS_ATTR.INPPS, stats.inPps) &&
      this.is(IPVS_STATS_ATTR.OUTPPS, stats.outPps) &&
      this.is(IPVS_STATS_ATTR.INBPS, stats.inBps) &&
      this.is(IPVS_STATS_ATTR.OUTBPS, stats.outBps)
    );
  }

  /**
   * The counters as decodeStats makes them (the shared zero object when all are 0); a counter equal
   * to `previous`'s is that bigint, not a new one.
   */
  build(previous?: IpvsStats): IpvsStats {
    if (this.allZero()) return ZERO_STATS;
    const p = previous ?? ZERO_STATS;
    return {
      conns: this.value(IPVS_STATS_ATTR.CONNS, p.conns),
      inPkts: this.value(IPVS_STATS_ATTR.INPKTS, p.inPkts),
      outPkts: this.value(IPVS_STATS_ATTR.OUTPKTS, p.outPkts),
      inBytes: this.value(IPVS_STATS_ATTR.INBYTES, p.inBytes),
      outBytes: this.value(IPVS_STATS_ATTR.OUTBYTES, p.outBytes),
      cps: this.value(IPVS_STATS_ATTR.CPS, p.cps),
      inPps: this.value(IPVS_STATS_ATTR.INPPS, p.inPps),
      outPps: this.value(IPVS_STATS_ATTR.OUTPPS, p.outPps),
      inBps: this.value(IPVS_STATS_ATTR.INBPS, p.inBps),
      outBps: this.value(IPVS_STATS_ATTR.OUTBPS, p.outBps),
    };
  }

  private offset(type: number): number {
    return this.present ? (this.at[2 * type] as number) : -1;
  }

  private is64(type: number): boolean {
    return this.wide || isByteCounter(type);
  }

  private allZero(): boolean {
    for (let type = IPVS_STATS_ATTR.CONNS; type <= IPVS_STATS_ATTR.OUTBPS; type++) {
      const at = this.offset(type);
      if (at < 0) continue;
      if (this.view.getUint32(at, true) !== 0 || (this.is64(type) && this.view.getUint32(at + 4, true) !== 0)) return false;
    }
    return true;
  }

  /** Counter `type` as the decoder reads it (0 when absent, u64 or u32 by nest and type); `same` when equal. */
  private value(type: number, same: bigint): bigint {
    if (this.is(type, same)) return same;
    const at = this.offset(type);
    if (at < 0) return 0n;
    if (!this.is64(type)) return smallBigint(this.view.getUint32(at, true));
    const high = this.view.getUint32(at + 4, true);
    return high === 0 ? smallBigint(this.view.getUint32(at, true)) : this.view.getBigUint64(at, true);
  }

  /** Whether counter `type` equals `value`, without making a bigint while the counter is below 2^53. */
  private is(type: number, value: bigint): boolean {
    const at = this.offset(type);
    if (at < 0) return value === 0n;
    const low = this.view.getUint32(at, true);
    // Below 2^53 a counter is exact as a double, and Number(value) equals it only when value does
    // (a value at or above 2^53 converts to a double at or above it).
    if (!this.is64(type)) return Number(value) === low;
    const high = this.view.getUint32(at + 4, true);
    if (high < EXACT_HIGH) return Number(value) === high * TWO_32 + low;
    return value === this.view.getBigUint64(at, true);
  }
}

/** One NEW_SERVICE message at a time: scan() it, then compare it with a virtual server. */
export class ServiceScan {
  readonly counters = new CountersScan();
  private readonly at = new Int32Array(64);
  private bytes: Uint8Array = new Uint8Array(0);
  private view: DataView = new DataView(new ArrayBuffer(0));
  private family: AddressFamily = 'inet';
  private protocol: Protocol | null = null;

  /**
   * Scans the NEW_SERVICE payload in [start, end) of `bytes` (`view` is a DataView of exactly those
   * bytes); true when it has the shape this fast path takes, false when it must be decoded.
   */
  scan(bytes: Uint8Array, view: DataView, start: number, end: number): boolean {
    this.bytes = bytes;
    this.view = view;
    const at = this.at;
    if (!nestIn(view, start, end, IPVS_CMD_ATTR.SERVICE, at) || !indexRun(view, at[0] as number, at[1] as number, at, KNOWN_SVC, SVC_WIDTH)) return false;
    const af = at[2 * IPVS_SVC_ATTR.AF] as number;
    if (af < 0) return false;
    const family = view.getUint16(af, true);
    if (family === AF_INET) this.family = 'inet';
    else if (family === AF_INET6) this.family = 'inet6';
    else return false;
    this.protocol = null;
    if ((at[2 * IPVS_SVC_ATTR.FWMARK] as number) < 0) {
      const proto = at[2 * IPVS_SVC_ATTR.PROTOCOL] as number;
      if (proto < 0 || (at[2 * IPVS_SVC_ATTR.PORT] as number) < 0) return false;
      const number = view.getUint16(proto, true);
      this.protocol = number === IPPROTO.TCP ? 'TCP' : number === IPPROTO.UDP ? 'UDP' : number === IPPROTO.SCTP ? 'SCTP' : null;
      // An ADDR longer than the 16 bytes of union nf_inet_addr is the decoder's to judge.
      const addrLen = at[2 * IPVS_SVC_ATTR.ADDR + 1] as number;
      if (this.protocol === null || addrLen < (this.family === 'inet' ? 4 : 16) || addrLen > 16) return false;
    }
    return this.counters.scan(view, at, IPVS_SVC_ATTR.STATS64, IPVS_SVC_ATTR.STATS);
  }

  /** The scanned message names `vs`: the same family and identity (virtualServerKey). */
  sameIdentity(vs: VirtualServer): boolean {
    if (vs.family !== this.family) return false;
    const fwmark = this.at[2 * IPVS_SVC_ATTR.FWMARK] as number;
    if (fwmark >= 0) return vs.fwmark === this.view.getUint32(fwmark, true);
    if (vs.fwmark !== null || vs.protocol !== this.protocol || vs.port !== this.view.getUint16(this.at[2 * IPVS_SVC_ATTR.PORT] as number, false)) return false;
    const addr = this.at[2 * IPVS_SVC_ATTR.ADDR] as number;
    return vs.address !== null && (this.family === 'inet' ? isIPv4Text(vs.address, this.view, addr) : vs.address === formatIPv6(this.bytes, addr));
  }

  /** The scanned scheduler, flags, persistence timeout and netmask and PE are `vs`'s. */
  sameSettings(vs: VirtualServer): boolean {
    const at = this.at;
    const view = this.view;
    const flags = at[2 * IPVS_SVC_ATTR.FLAGS] as number;
    const flagBits = flags < 0 ? 0 : (view.getUint32(flags, true) & view.getUint32(flags + 4, true)) >>> 0;
    const timeout = at[2 * IPVS_SVC_ATTR.TIMEOUT] as number;
    const netmask = at[2 * IPVS_SVC_ATTR.NETMASK] as number;
    const sched = at[2 * IPVS_SVC_ATTR.SCHED_NAME] as number;
    const pe = at[2 * IPVS_SVC_ATTR.PE_NAME] as number;
    return (
      vs.flagBits === flagBits &&
      vs.persistent === ((flagBits & SVC_FLAG.persistent) !== 0) &&
      vs.timeout === (timeout < 0 ? 0 : view.getUint32(timeout, true)) &&
      vs.netmask === (netmask < 0 ? (this.family === 'inet' ? 32 : 128) : this.family === 'inet' ? ipv4MaskLength(view, netmask) : view.getUint32(netmask, true)) &&
      (sched < 0 ? vs.scheduler === 'none' : isAsciiText(vs.scheduler, view, sched, at[2 * IPVS_SVC_ATTR.SCHED_NAME + 1] as number) === true) &&
      // An empty PE name is no PE (decodeServiceMessage).
      (pe < 0 ? vs.pe === null : vs.pe === null ? isAsciiText('', view, pe, at[2 * IPVS_SVC_ATTR.PE_NAME + 1] as number) === true : isAsciiText(vs.pe, view, pe, at[2 * IPVS_SVC_ATTR.PE_NAME + 1] as number) === true)
    );
  }

  /**
   * The virtual server decodeServiceMessage makes of the scanned message (its destinations empty),
   * or null when its scheduler or PE name is not ASCII (the decoder's to read as UTF-8). The same
   * fields in the same order: one object shape whichever made it.
   */
  build(): VirtualServer | null {
    const at = this.at;
    const view = this.view;
    const sched = at[2 * IPVS_SVC_ATTR.SCHED_NAME] as number;
    const scheduler = sched < 0 ? 'none' : asciiText(view, sched, at[2 * IPVS_SVC_ATTR.SCHED_NAME + 1] as number);
    const peAt = at[2 * IPVS_SVC_ATTR.PE_NAME] as number;
    const peName = peAt < 0 ? null : asciiText(view, peAt, at[2 * IPVS_SVC_ATTR.PE_NAME + 1] as number);
    if (scheduler === null || (peAt >= 0 && peName === null)) return null;
    const family = this.family;
    const fwmarkAt = at[2 * IPVS_SVC_ATTR.FWMARK] as number;
    const addrAt = at[2 * IPVS_SVC_ATTR.ADDR] as number;
    const fwmark = fwmarkAt < 0 ? null : view.getUint32(fwmarkAt, true);
    const base = {
      family,
      protocol: this.protocol,
      address: fwmarkAt >= 0 ? null : family === 'inet' ? formatIPv4(this.bytes, addrAt) : formatIPv6(this.bytes, addrAt),
      port: fwmarkAt >= 0 ? null : view.getUint16(at[2 * IPVS_SVC_ATTR.PORT] as number, false),
      fwmark,
    };
    const flags = at[2 * IPVS_SVC_ATTR.FLAGS] as number;
    const flagBits = flags < 0 ? 0 : (view.getUint32(flags, true) & view.getUint32(flags + 4, true)) >>> 0;
    const timeout = at[2 * IPVS_SVC_ATTR.TIMEOUT] as number;
    const netmask = at[2 * IPVS_SVC_ATTR.NETMASK] as number;
    return {
      key: virtualServerKey(base),
      ...base,
      scheduler,
      flagBits,
      persistent: (flagBits & SVC_FLAG.persistent) !== 0,
      timeout: timeout < 0 ? 0 : view.getUint32(timeout, true),
      netmask: netmask < 0 ? (family === 'inet' ? 32 : 128) : family === 'inet' ? ipv4MaskLength(view, netmask) : view.getUint32(netmask, true),
      // An empty PE name is no PE, as the decoder has it.
      pe: peName === '' ? null : peName,
      stats: this.counters.build(),
      destinations: [],
    };
  }

  /**
   * The service's identity as its GET_DEST request carries it — the IPVS_CMD_ATTR_SERVICE nest of
   * the attributes decodeServiceMessage returns as `identity`, encoded as encodeAttributes encodes
   * them (NLA_F_NESTED on the nest, each attribute padded to 4 bytes) — written at `offset` of
   * `out` (zero-filled); returns the end. With out null, only the end is computed.
   */
  writeIdentity(out: Uint8Array | null, offset: number): number {
    const at = this.at;
    const fwmark = (at[2 * IPVS_SVC_ATTR.FWMARK] as number) >= 0;
    const addrLen = at[2 * IPVS_SVC_ATTR.ADDR + 1] as number;
    const nestLen = NLA_HDRLEN + 8 + (fwmark ? 8 : 8 + align4(NLA_HDRLEN + addrLen) + 8);
    if (out === null) return offset + nestLen;
    writeHeader(out, offset, nestLen, IPVS_CMD_ATTR.SERVICE | NLA_F_NESTED);
    let p = this.copyAttr(out, offset + NLA_HDRLEN, IPVS_SVC_ATTR.AF, 2);
    if (fwmark) return this.copyAttr(out, p, IPVS_SVC_ATTR.FWMARK, 4);
    p = this.copyAttr(out, p, IPVS_SVC_ATTR.PROTOCOL, 2);
    p = this.copyAttr(out, p, IPVS_SVC_ATTR.ADDR, addrLen);
    return this.copyAttr(out, p, IPVS_SVC_ATTR.PORT, 2);
  }

  /** The first `width` payload bytes of scanned attribute `type` as an attribute of their own at `offset`. */
  private copyAttr(out: Uint8Array, offset: number, type: number, width: number): number {
    const from = this.at[2 * type] as number;
    writeHeader(out, offset, NLA_HDRLEN + width, type);
    for (let i = 0; i < width; i++) out[offset + NLA_HDRLEN + i] = this.bytes[from + i] as number;
    return offset + align4(NLA_HDRLEN + width);
  }
}

/** A struct nlattr header (host order, little-endian on every target we ship). */
function writeHeader(out: Uint8Array, offset: number, len: number, type: number): void {
  out[offset] = len & 0xff;
  out[offset + 1] = len >> 8;
  out[offset + 2] = type & 0xff;
  out[offset + 3] = type >> 8;
}

/** Leading one bits of the network-order IPv4 mask at `offset` (ff ff ff 00 → 24), as the decoder counts them. */
function ipv4MaskLength(view: DataView, offset: number): number {
  let n = 0;
  for (let i = 0; i < 4; i++) {
    const b = view.getUint8(offset + i);
    for (let bit = 7; bit >= 0; bit--) {
      if ((b >> bit) & 1) n++;
      else return n;
    }
  }
  return n;
}

/** One NEW_DEST message at a time: scan() it, then compare it with a real server or build one. */
export class DestScan {
  readonly counters = new CountersScan();
  private readonly at = new Int32Array(64);
  private bytes: Uint8Array = new Uint8Array(0);
  private view: DataView = new DataView(new ArrayBuffer(0));
  private family: AddressFamily = 'inet';
  private forward: ForwardMethod = 'masq';

  /**
   * Scans the NEW_DEST payload in [start, end) of `bytes` (`view` is a DataView of exactly those
   * bytes); true when it has the shape this fast path takes, false when it must be decoded.
   * `serviceFamily` applies when ADDR_FAMILY is absent, as in decodeDestMessage.
   */
  scan(bytes: Uint8Array, view: DataView, start: number, end: number, serviceFamily: AddressFamily): boolean {
    this.bytes = bytes;
    this.view = view;
    const at = this.at;
    if (!nestIn(view, start, end, IPVS_CMD_ATTR.DEST, at) || !indexRun(view, at[0] as number, at[1] as number, at, KNOWN_DEST, DEST_WIDTH)) return false;
    const fam = at[2 * IPVS_DEST_ATTR.ADDR_FAMILY] as number;
    if (fam >= 0) {
      const af = view.getUint16(fam, true);
      if (af === AF_INET) this.family = 'inet';
      else if (af === AF_INET6) this.family = 'inet6';
      else return false;
    } else {
      this.family = serviceFamily;
    }
    const addrLen = at[2 * IPVS_DEST_ATTR.ADDR + 1] as number;
    if (addrLen < (this.family === 'inet' ? 4 : 16) || (at[2 * IPVS_DEST_ATTR.PORT] as number) < 0) return false;
    const fwd = at[2 * IPVS_DEST_ATTR.FWD_METHOD] as number;
    if (fwd < 0) return false;
    const forward = FORWARD_METHODS[view.getUint32(fwd, true) & IP_VS_CONN_F_FWD_MASK];
    if (forward === undefined || forward === 'tunnel') return false;
    this.forward = forward;
    return this.counters.scan(view, at, IPVS_DEST_ATTR.STATS64, IPVS_DEST_ATTR.STATS);
  }

  /** The scanned message's address and port are `rs`'s: the same real server (realServerKey). */
  sameIdentity(rs: RealServer): boolean {
    return rs.port === this.port() && this.isAddress(rs.address);
  }

  /** Everything but the address, port and counters is `rs`'s. */
  sameSettings(rs: RealServer): boolean {
    return (
      rs.tunnel === null &&
      rs.addressFamily === this.family &&
      rs.forward === this.forward &&
      rs.weight === (this.u32(IPVS_DEST_ATTR.WEIGHT) | 0) &&
      rs.upperThreshold === this.u32(IPVS_DEST_ATTR.U_THRESH) &&
      rs.lowerThreshold === this.u32(IPVS_DEST_ATTR.L_THRESH) &&
      rs.activeConns === this.u32(IPVS_DEST_ATTR.ACTIVE_CONNS) &&
      rs.inactiveConns === this.u32(IPVS_DEST_ATTR.INACT_CONNS) &&
      rs.persistentConns === this.u32(IPVS_DEST_ATTR.PERSIST_CONNS)
    );
  }

  /**
   * The real server decodeDestMessage makes of the scanned message, with `stats` as its counters and
   * `address` as its address text when given (the caller has checked they are equal: the previous
   * read's objects are shared).
   */
  build(stats?: IpvsStats, address?: string): RealServer {
    const addr = this.at[2 * IPVS_DEST_ATTR.ADDR] as number;
    return {
      address: address ?? (this.family === 'inet' ? formatIPv4(this.bytes, addr) : formatIPv6(this.bytes, addr)),
      addressFamily: this.family,
      port: this.port(),
      forward: this.forward,
      weight: this.u32(IPVS_DEST_ATTR.WEIGHT) | 0,
      upperThreshold: this.u32(IPVS_DEST_ATTR.U_THRESH),
      lowerThreshold: this.u32(IPVS_DEST_ATTR.L_THRESH),
      activeConns: this.u32(IPVS_DEST_ATTR.ACTIVE_CONNS),
      inactiveConns: this.u32(IPVS_DEST_ATTR.INACT_CONNS),
      persistentConns: this.u32(IPVS_DEST_ATTR.PERSIST_CONNS),
      tunnel: null,
      stats: stats ?? this.counters.build(),
    };
  }

  private isAddress(text: string): boolean {
    const addr = this.at[2 * IPVS_DEST_ATTR.ADDR] as number;
    return this.family === 'inet' ? isIPv4Text(text, this.view, addr) : text === formatIPv6(this.bytes, addr);
  }

  private port(): number {
    return this.view.getUint16(this.at[2 * IPVS_DEST_ATTR.PORT] as number, false);
  }

  /** A u32 attribute of the DEST nest, 0 when absent (as the decoder reads them). */
  private u32(type: number): number {
    const at = this.at[2 * type] as number;
    return at < 0 ? 0 : this.view.getUint32(at, true);
  }
}
