/**
 * Reads kube-proxy's ipsets from the kernel over NETLINK_NETFILTER (one IPSET_CMD_LIST dump, what
 * `ipset list` sends) — no `ipset` binary, which refuses sets made by a newer ipset. Each datagram is
 * decoded as it arrives, the dump is bounded in entries, bytes and datagrams, and the kernel's
 * refusals become coded errors.
 *
 * Gate: call it only when nfnlReadGate(NFNL_SUBSYS_IPSET, modules) says so (ip_set loaded or built
 * in, from /proc/modules ∪ modules.builtin). Without ip_set the kernel would load it to answer
 * (request_module("nfnetlink-subsys-6") in nfnetlink_rcv_msg, net/netfilter/nfnetlink.c); the dump
 * itself loads no set-type module (only IPSET_CMD_CREATE looks a type up).
 */
import { SentinelError } from '../errors/index.js';
import { ERRNO, NetlinkError } from '../netlink/errors.js';
import { NETLINK_NETFILTER, openRawNetlink, type NetlinkSocket } from '../netlink/libnl.js';
import type { NlMessage } from '../netlink/message.js';
import { dumpWithRetries, runNfnlDump, type DumpLimits } from '../netlink/nfnetlink.js';
import { encodeIpsetListRequest, IpsetDumpDecoder } from './codec.js';
import { IPSET_ERR_PROTOCOL } from './constants.js';
import { MessageRecording, type IpsetReuse } from './reuse.js';
import type { IpSet, IpsetDump, IpsetReadStats } from './types.js';

/** kube-proxy's hash sets hold at most 65,536 members each (maxelem); a node at 10,000 Services lists ~40,000 in all. */
export const DEFAULT_IPSET_LIMITS: IpsetLimits = { maxEntries: 500_000, maxBytes: 64 * 1024 * 1024, maxDatagrams: 50_000 };
/** ipset dumps are not atomic and never set NLM_F_DUMP_INTR today; a dropped datagram (ENOBUFS) is worth another try. */
const ATTEMPTS = 3;
const EPROTO = 71;

export interface IpsetLimits extends DumpLimits {
  maxEntries: number;
}

export interface ReadIpsetsOptions {
  /** Opens a NETLINK_NETFILTER socket (a replay in tests); default libnl. Closed after each attempt. */
  open?: () => NetlinkSocket;
  /** First sequence number; default derived from the clock. */
  seq?: number;
  /** Names, types and headers only (IPSET_FLAG_LIST_HEADER): a cheap first pass. */
  headersOnly?: boolean;
  limits?: Partial<IpsetLimits>;
  /**
   * For a read of one set by name: the last decode of each set, returned again when the kernel lists
   * the set byte for byte as before (src/ipset/reuse.ts). The agent keeps one across polls.
   */
  reuse?: IpsetReuse<IpsetDump>;
}

export interface IpsetRead extends IpsetDump {
  readonly stats: IpsetReadStats;
}

/** Every set in the node's network namespace, with its members unless `headersOnly`. */
export function readIpsets(options: ReadIpsetsOptions = {}): IpsetRead {
  return dumpSets(undefined, options);
}

/** One set by name, or null when it does not exist (the kernel's ENOENT). */
export function readIpset(name: string, options: ReadIpsetsOptions = {}): (IpSet & { readonly unknownAttributes: readonly string[]; readonly stats: IpsetReadStats }) | null {
  let read: IpsetRead;
  try {
    read = dumpSets(name, options);
  } catch (err) {
    options.reuse?.forget(name);
    if (err instanceof NetlinkError && err.errno === ERRNO.ENOENT) return null;
    throw err;
  }
  const set = read.sets.find((s) => s.name === name);
  if (set === undefined) throw new SentinelError('NETLINK_PROTOCOL', `list ipset ${name}`, `the kernel answered the list of set ${name} with ${read.sets.length} other set(s)`);
  return { ...set, unknownAttributes: read.unknownAttributes, stats: read.stats };
}

function dumpSets(setName: string | undefined, options: ReadIpsetsOptions): IpsetRead {
  const open = options.open ?? (() => openRawNetlink(NETLINK_NETFILTER));
  const limits: IpsetLimits = { ...DEFAULT_IPSET_LIMITS, ...options.limits };
  const context = setName === undefined ? 'ipset list' : `ipset list ${setName}`;
  const read = dumpWithRetries({
    open,
    context,
    firstSeq: options.seq ?? Date.now() & 0x7fffffff,
    attempts: ATTEMPTS,
    interrupted: 'the dump was interrupted',
    attempt: (socket, seq) => {
      const newDecoder = (): IpsetDumpDecoder => new IpsetDumpDecoder({ maxEntries: limits.maxEntries, headersOnly: options.headersOnly === true });
      const reuse = setName === undefined ? undefined : options.reuse;
      if (reuse !== undefined && setName !== undefined) {
        // Recorded, then decoded only when the set changed since the last read.
        const recording = new MessageRecording();
        const request = encodeIpsetListRequest({ seq, pid: socket.localPort, setName, ...(options.headersOnly === true ? { headersOnly: true } : {}) });
        const outcome = runNfnlDump(socket, { context, request, seq, limits, onMessage: (m) => recording.add(m), refusal: (errno) => ipsetRefusal(context, errno) });
        const decode = (messages: Iterable<NlMessage>): IpsetDump => {
          const decoder = newDecoder();
          for (const m of messages) decoder.add(m);
          return decoder.finish();
        };
        return { outcome, value: () => reuse.resolve(setName, recording, decode) };
      }
      const decoder = newDecoder();
      const request = encodeIpsetListRequest({
        seq,
        pid: socket.localPort,
        ...(setName === undefined ? {} : { setName }),
        ...(options.headersOnly === true ? { headersOnly: true } : {}),
      });
      const outcome = runNfnlDump(socket, { context, request, seq, limits, onMessage: (m) => decoder.add(m), refusal: (errno) => ipsetRefusal(context, errno) });
      return { outcome, value: () => decoder.finish() };
    },
  });
  return { ...read.value, stats: { datagrams: read.datagrams, bytes: read.bytes, attempts: read.attempts } };
}

/** The kernel's NLMSG_ERROR for an ipset dump, as a coded error. */
export function ipsetRefusal(context: string, errno: number): NetlinkError {
  const op = `dump ${context}`;
  switch (errno) {
    case ERRNO.EPERM:
      return new NetlinkError(
        'IPSET_PERMISSION_DENIED',
        op,
        'the kernel refused to list the ipsets (EPERM): NETLINK_NETFILTER requests, reads included, need CAP_NET_ADMIN in the node\'s network namespace (hostNetwork, capabilities add NET_ADMIN)',
        { errno },
      );
    case ERRNO.ENOENT:
      return new NetlinkError('NETLINK_PROTOCOL', op, 'the set does not exist (ENOENT)', { errno });
    case ERRNO.EINVAL:
      return new NetlinkError('NETLINK_PROTOCOL', op, 'the kernel has no ipset subsystem (EINVAL): ip_set is neither loaded nor built in', { errno });
    case IPSET_ERR_PROTOCOL:
    case EPROTO:
      return new NetlinkError('NETLINK_PROTOCOL', op, `the kernel does not speak ipset protocol 6 (${errno === EPROTO ? 'EPROTO' : 'IPSET_ERR_PROTOCOL'})`, { errno });
    default:
      return new NetlinkError('NETLINK_PROTOCOL', op, `the kernel answered errno ${errno}`, { errno });
  }
}
