/**
 * nfnetlink (include/uapi/linux/netfilter/nfnetlink.h): the NETLINK_NETFILTER framing shared by the
 * ipset and nf_tables readers — message type `subsys << 8 | msg`, struct nfgenmsg after the netlink
 * header — a bounded dump loop, and the module gate that keeps a read from loading a module.
 * Pure: the loop works on any NetlinkSocket (libnl in production, a replay in tests).
 */
import { SentinelError } from '../errors/index.js';
import type { AttrSpec } from './attributes.js';
import { ERRNO, NetlinkError } from './errors.js';
import type { NetlinkSocket } from './libnl.js';
import {
  encodeRequest,
  messageStatus,
  NLM_F_DUMP,
  NLM_F_DUMP_INTR,
  NLM_F_REQUEST,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_NOOP,
  NLMSG_OVERRUN,
  parseMessages,
  type NlMessage,
} from './message.js';

export const NFNL_SUBSYS_IPSET = 6;
export const NFNL_SUBSYS_NFTABLES = 10;
export const NFNETLINK_V0 = 0;
/** struct nfgenmsg: nfgen_family u8, version u8, res_id be16. */
export const NFGENMSG_LEN = 4;

/** NFPROTO_* (include/uapi/linux/netfilter.h): the nfgen_family of nf_tables and of ipset sets. */
export const NFPROTO = {
  UNSPEC: 0,
  INET: 1,
  IPV4: 2,
  ARP: 3,
  NETDEV: 5,
  BRIDGE: 7,
  IPV6: 10,
} as const;

export const nfnlMessageType = (subsys: number, msg: number): number => ((subsys & 0xff) << 8) | (msg & 0xff);

export interface NfnlRequestSpec {
  subsys: number;
  msg: number;
  seq: number;
  pid?: number;
  /** nfgen_family: NFPROTO_UNSPEC asks nf_tables for every family; ipset ignores it. */
  family: number;
  attributes?: readonly AttrSpec[];
}

/** A dump request: nlmsghdr with NLM_F_REQUEST | NLM_F_DUMP, nfgenmsg (version 0, res_id 0), attributes. */
export function encodeNfnlDumpRequest(spec: NfnlRequestSpec): Uint8Array {
  const header = new Uint8Array(NFGENMSG_LEN);
  header[0] = spec.family;
  header[1] = NFNETLINK_V0;
  return encodeRequest({
    type: nfnlMessageType(spec.subsys, spec.msg),
    flags: NLM_F_REQUEST | NLM_F_DUMP,
    seq: spec.seq,
    pid: spec.pid ?? 0,
    header,
    ...(spec.attributes ? { attributes: spec.attributes } : {}),
  });
}

export interface NfnlMessage {
  subsys: number;
  msg: number;
  flags: number;
  /** nfgen_family of the reply (NFPROTO_*). */
  family: number;
  version: number;
  /** res_id, host order (nf_tables puts the low 16 bits of its generation here). */
  resId: number;
  /** Attributes after the nfgenmsg (a view into the datagram, valid while it is). */
  attributes: Uint8Array;
}

export function parseNfnl(message: NlMessage, context: string): NfnlMessage {
  const p = message.payload;
  if (p.byteLength < NFGENMSG_LEN) {
    throw new SentinelError('NETLINK_DECODE', `decode ${context}`, `nfnetlink message of ${p.byteLength} bytes is shorter than struct nfgenmsg (${NFGENMSG_LEN})`);
  }
  return {
    subsys: message.type >> 8,
    msg: message.type & 0xff,
    flags: message.flags,
    family: p[0] ?? 0,
    version: p[1] ?? 0,
    resId: ((p[2] ?? 0) << 8) | (p[3] ?? 0),
    attributes: p.subarray(NFGENMSG_LEN),
  };
}

export interface DumpLimits {
  /** Datagrams received for one dump. */
  maxDatagrams: number;
  /** Bytes received for one dump. */
  maxBytes: number;
}

export interface DumpOutcome {
  datagrams: number;
  bytes: number;
  /** A reply carried NLM_F_DUMP_INTR: the kernel's state changed during the dump; dump again. */
  interrupted: boolean;
}

export interface NfnlDump {
  /** What is dumped, for messages: "ipset list", "nftables tables". */
  context: string;
  /** The encoded request; its sequence number is `seq`. */
  request: Uint8Array;
  seq: number;
  limits: DumpLimits;
  /** Each reply message of this dump, in order, while its datagram is current (copy what is kept). */
  onMessage: (message: NlMessage) => void;
  /** The error for an NLMSG_ERROR errno (positive); the loop throws it. */
  refusal: (errno: number) => SentinelError;
}

export function tooLarge(context: string, what: string): SentinelError {
  return new SentinelError('NETLINK_DUMP_TOO_LARGE', `dump ${context}`, `the dump went past ${what} and was abandoned`);
}

/**
 * Send one dump request and feed its replies to `onMessage` datagram by datagram as they arrive
 * (the socket lends one receive buffer), until NLMSG_DONE. Replies of other sequences or ports are
 * stale and skipped. Bounded in datagrams and bytes, so a runaway dump ends in
 * NETLINK_DUMP_TOO_LARGE instead of memory exhaustion; the socket then holds a half-read dump and
 * must be closed.
 */
export function runNfnlDump(socket: NetlinkSocket, dump: NfnlDump): DumpOutcome {
  socket.send(dump.request);
  const outcome: DumpOutcome = { datagrams: 0, bytes: 0, interrupted: false };
  const context = `reply to ${dump.context} dump`;
  for (;;) {
    if (outcome.datagrams >= dump.limits.maxDatagrams) throw tooLarge(dump.context, `${dump.limits.maxDatagrams} datagrams`);
    const datagram = socket.receive();
    outcome.datagrams++;
    outcome.bytes += datagram.byteLength;
    if (outcome.bytes > dump.limits.maxBytes) throw tooLarge(dump.context, `${dump.limits.maxBytes} bytes`);
    for (const message of parseMessages(datagram, context)) {
      if (message.seq !== dump.seq || message.pid !== socket.localPort) continue;
      if ((message.flags & NLM_F_DUMP_INTR) !== 0) outcome.interrupted = true;
      switch (message.type) {
        case NLMSG_DONE:
          return outcome;
        case NLMSG_NOOP:
          continue;
        case NLMSG_OVERRUN:
          throw new NetlinkError('NETLINK_IO', `dump ${dump.context}`, 'the kernel reported a netlink overrun (data lost)', { errno: ERRNO.ENOBUFS });
        case NLMSG_ERROR: {
          const errno = -messageStatus(message, context);
          if (errno === 0) continue; // an ACK has no place in a dump, but says nothing wrong
          throw dump.refusal(errno);
        }
        default:
          dump.onMessage(message);
      }
    }
  }
}

export interface RetriedDump<T> {
  value: T;
  datagrams: number;
  bytes: number;
  /** Attempts it took (more than one when a dump was interrupted or a datagram dropped). */
  attempts: number;
}

export interface DumpAttempts<T> {
  /** Opens a fresh socket for each attempt; it is closed after it. */
  open: () => NetlinkSocket;
  context: string;
  /** The first attempt's sequence number; each next attempt takes the next one. */
  firstSeq: number;
  attempts: number;
  /** What an interrupted dump means for this kind of dump, for the final error. */
  interrupted: string;
  /** One attempt: send and read the dump on `socket` with `seq`; `value` is taken only when it was not interrupted. */
  attempt: (socket: NetlinkSocket, seq: number) => { outcome: DumpOutcome; value: () => T };
}

/**
 * A dump retried while the kernel says its state changed underneath (NLM_F_DUMP_INTR) or a datagram
 * was dropped (a retryable NetlinkError), each attempt on a socket of its own; any other error ends
 * it at once. After the last attempt, NETLINK_PROTOCOL with the last cause.
 */
export function dumpWithRetries<T>(spec: DumpAttempts<T>): RetriedDump<T> {
  let last: NetlinkError | null = null;
  for (let attempt = 1; attempt <= spec.attempts; attempt++) {
    const seq = (spec.firstSeq + attempt - 1) >>> 0;
    const socket = spec.open();
    try {
      const { outcome, value } = spec.attempt(socket, seq);
      if (!outcome.interrupted) return { value: value(), datagrams: outcome.datagrams, bytes: outcome.bytes, attempts: attempt };
      last = new NetlinkError('NETLINK_PROTOCOL', `dump ${spec.context}`, `${spec.interrupted} (NLM_F_DUMP_INTR)`, {});
    } catch (err) {
      if (!(err instanceof NetlinkError) || !err.retryable) throw err;
      last = err;
    } finally {
      socket.close();
    }
  }
  throw new SentinelError('NETLINK_PROTOCOL', `dump ${spec.context}`, `no complete dump after ${spec.attempts} attempts: ${last?.message ?? 'unknown cause'}`, { cause: last });
}

// ---- the module gate ---------------------------------------------------------------------------

/**
 * The module that registers each nfnetlink subsystem (MODULE_ALIAS_NFNL_SUBSYS in
 * net/netfilter/ipset/ip_set_core.c and net/netfilter/nf_tables_api.c).
 */
export const NFNL_SUBSYS_MODULE = {
  [NFNL_SUBSYS_IPSET]: 'ip_set',
  [NFNL_SUBSYS_NFTABLES]: 'nf_tables',
} as const;

/** What the module check already read (src/kmod/read.ts). */
export interface ModulePresence {
  /**
   * /proc/modules; null only when it does not exist (CONFIG_MODULES=n). readModuleInputs() also
   * gives null, with a problem, when the file exists but could not be read: such a caller must not
   * pass null here, since a kernel that can load modules would then be asked.
   */
  loaded: readonly { name: string }[] | null;
  /** modules.builtin; null when unreadable. */
  builtin: ReadonlySet<string> | null;
}

export interface ReadGate {
  readable: boolean;
  /** Why, in a line for the check's reason. */
  reason: string;
}

/**
 * Whether a dump to an nfnetlink subsystem is free of side effects. A request to a subsystem that
 * is not registered makes the kernel load it: nfnetlink_rcv_msg (net/netfilter/nfnetlink.c) calls
 * request_module("nfnetlink-subsys-%d") — the alias of ip_set (6) and nf_tables (10) — and the host's
 * modprobe runs, whatever the container holds. Opening the NETLINK_NETFILTER socket likewise loads
 * nfnetlink ("net-pf-16-proto-12"), which both modules depend on. Once the module is there, the
 * dumps load nothing more: ip_set_dump_start/ip_set_dump_do never look a set type up (only create
 * does, request_module("ip_set_%s")), and nf_tables_dump_tables only walks the table list. So a read
 * is allowed when the module is loaded or built in, or when the kernel cannot load modules at all
 * (no /proc/modules: CONFIG_MODULES=n, nothing to autoload; the read then fails cleanly if the
 * subsystem is missing).
 */
export function nfnlReadGate(subsys: keyof typeof NFNL_SUBSYS_MODULE, modules: ModulePresence): ReadGate {
  const name = NFNL_SUBSYS_MODULE[subsys];
  if (modules.loaded === null) {
    return { readable: true, reason: `the kernel has no loadable-module support (no /proc/modules): reading cannot load ${name}` };
  }
  if (modules.loaded.some((m) => m.name === name)) return { readable: true, reason: `${name} is loaded` };
  if (modules.builtin?.has(name) === true) return { readable: true, reason: `${name} is built into the kernel` };
  const builtinUnknown = modules.builtin === null ? ' (modules.builtin unreadable: mount /lib/modules to see built-in modules)' : '';
  return {
    readable: false,
    reason: `${name} is neither loaded nor built in${builtinUnknown}: not read, because asking the kernel would make it load ${name} (request_module "nfnetlink-subsys-${subsys}")`,
  };
}
