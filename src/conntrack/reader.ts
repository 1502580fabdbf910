/**
 * Reads the node's UDP conntrack entries over NETLINK_NETFILTER (IPCTNL_MSG_CT_GET dumps, one per
 * family, what `conntrack -L -f ipv4 -p udp` sends) — no `conntrack` binary. The kernel is asked to
 * send UDP entries only (CTA_FILTER, 5.6+); a kernel that refuses the filter (EINVAL, EOPNOTSUPP) is
 * asked again without it, and a kernel that ignores it (older ones) sends every entry, of which the
 * decoder skips the non-UDP ones unread. Either way the read is bounded in entries, bytes, datagrams
 * and time, so a node with a million TCP entries costs at most the bound and a coded error.
 *
 * Gate: call it only when nf_conntrack_netlink is loaded or built in (src/conntrack/node.ts): a dump
 * to an unregistered subsystem makes the kernel load it (request_module("nfnetlink-subsys-1") in
 * nfnetlink_rcv_msg, net/netfilter/nfnetlink.c).
 */
import type { SentinelError } from '../errors/index.js';
import type { AddressFamily } from '../ipvs/types.js';
import { ERRNO, NetlinkError } from '../netlink/errors.js';
import { NETLINK_NETFILTER, openRawNetlink, type NetlinkSocket } from '../netlink/libnl.js';
import { dumpWithRetries, runNfnlDump, tooLarge, type DumpLimits } from '../netlink/nfnetlink.js';
import { AddressTexts, encodeConntrackDumpRequest, UdpConntrackDecoder, type ConntrackDecoderLimits } from './codec.js';
import type { ConntrackDump, ConntrackReadStats, UdpConntrackEntry } from './types.js';

export interface ConntrackLimits extends DumpLimits, ConntrackDecoderLimits {
  /** Wall time one family's dump may take, in ms. */
  maxMs: number;
}

/**
 * nf_conntrack_max defaults to 32,768 per CPU, at least 131,072 (kube-proxy's conntrack.maxPerCore);
 * the bounds let a plain dump of a busy node through and stop a runaway one. A UDP entry is ~200
 * bytes on the wire and ~0.3 kB kept.
 */
export const DEFAULT_CONNTRACK_LIMITS: ConntrackLimits = {
  maxScanned: 1_000_000,
  maxEntries: 100_000,
  maxBytes: 512 * 1024 * 1024,
  maxDatagrams: 500_000,
  maxMs: 3_000,
};
/** Dumps of the conntrack table are not atomic and never set NLM_F_DUMP_INTR; a dropped datagram is worth another try. */
const ATTEMPTS = 3;
/** How many entries pass between two looks at the clock. */
const CLOCK_EVERY = 512;

export interface ReadConntrackOptions {
  /** Opens a NETLINK_NETFILTER socket (a replay in tests); default libnl. Closed after each attempt. */
  open?: () => NetlinkSocket;
  /** First sequence number; default derived from the clock. */
  seq?: number;
  limits?: Partial<ConntrackLimits>;
  /** Families to read; default both. */
  families?: readonly AddressFamily[];
  /** A monotonic clock in ms, for the time bound; default performance.now. */
  now?: () => number;
  /** Skip the kernel-side filter (as on a kernel before 5.6); for tests and the benchmark. */
  plain?: boolean;
  /** The address texts shared with the reads before; default the process's own (readAddresses). */
  addresses?: AddressTexts;
}

/** The agent reads every poll: the strings of the addresses last read are reused, not made again. */
const readAddresses = new AddressTexts();

interface FamilyRead {
  entries: UdpConntrackEntry[];
  scanned: number;
  skipped: number;
  datagrams: number;
  bytes: number;
  attempts: number;
}

/** Every UDP conntrack entry of the node's network namespace, both families. */
export function readUdpConntrack(options: ReadConntrackOptions = {}): ConntrackDump {
  const addresses = options.addresses ?? readAddresses;
  try {
    return readFamilies(options, addresses);
  } finally {
    // Also after a failed read, so the texts kept never outgrow two reads' worth.
    addresses.endRead();
  }
}

function readFamilies(options: ReadConntrackOptions, addresses: AddressTexts): ConntrackDump {
  const now = options.now ?? (() => performance.now());
  const started = now();
  const stats: ConntrackReadStats = { datagrams: 0, bytes: 0, attempts: 0, scanned: 0, skipped: 0, kernelFiltered: options.plain !== true, durationMs: 0 };
  const entries: UdpConntrackEntry[] = [];
  let seq = options.seq ?? Date.now() & 0x7fffffff;
  for (const family of options.families ?? (['inet', 'inet6'] as const)) {
    let read: FamilyRead;
    if (options.plain === true) {
      read = dumpFamily(family, false, seq, options, now, addresses);
    } else {
      try {
        read = dumpFamily(family, true, seq, options, now, addresses);
      } catch (err) {
        if (!(err instanceof NetlinkError) || (err.errno !== ERRNO.EINVAL && err.errno !== ERRNO.EOPNOTSUPP)) throw err;
        seq += ATTEMPTS;
        read = dumpFamily(family, false, seq, options, now, addresses);
        stats.kernelFiltered = false;
      }
    }
    seq += ATTEMPTS;
    // A kernel before 5.6 ignores CTA_FILTER and sends everything: it was not filtered.
    if (read.skipped > 0) stats.kernelFiltered = false;
    for (const e of read.entries) entries.push(e);
    stats.scanned += read.scanned;
    stats.skipped += read.skipped;
    stats.datagrams += read.datagrams;
    stats.bytes += read.bytes;
    stats.attempts += read.attempts;
  }
  stats.durationMs = now() - started;
  return { entries, stats };
}

function dumpFamily(family: AddressFamily, udpOnly: boolean, firstSeq: number, options: ReadConntrackOptions, now: () => number, addresses: AddressTexts): FamilyRead {
  const open = options.open ?? (() => openRawNetlink(NETLINK_NETFILTER));
  const limits: ConntrackLimits = { ...DEFAULT_CONNTRACK_LIMITS, ...options.limits };
  const context = `conntrack list ${family === 'inet' ? 'ipv4' : 'ipv6'}${udpOnly ? ' udp' : ''}`;
  const read = dumpWithRetries({
    open,
    context,
    firstSeq,
    attempts: ATTEMPTS,
    interrupted: 'the dump was interrupted',
    attempt: (socket, seq) => {
      const decoder = new UdpConntrackDecoder(family, limits, context, addresses);
      const deadline = now() + limits.maxMs;
      let sinceClock = 0;
      const request = encodeConntrackDumpRequest({ seq, pid: socket.localPort, family, udpOnly });
      const outcome = runNfnlDump(socket, {
        context,
        request,
        seq,
        limits,
        onMessage: (m) => {
          decoder.add(m);
          if (++sinceClock >= CLOCK_EVERY) {
            sinceClock = 0;
            if (now() > deadline) throw tooLarge(context, `${limits.maxMs} ms`);
          }
        },
        refusal: (errno) => conntrackRefusal(context, errno),
      });
      return { outcome, value: () => decoder };
    },
  });
  const d = read.value;
  return { entries: d.entries, scanned: d.scanned, skipped: d.skipped, datagrams: read.datagrams, bytes: read.bytes, attempts: read.attempts };
}

/** The kernel's NLMSG_ERROR for a conntrack dump, as a coded error. */
export function conntrackRefusal(context: string, errno: number): SentinelError {
  const op = `dump ${context}`;
  switch (errno) {
    case ERRNO.EPERM:
      return new NetlinkError(
        'CONNTRACK_PERMISSION_DENIED',
        op,
        "the kernel refused to list the conntrack entries (EPERM): NETLINK_NETFILTER requests, reads included, need CAP_NET_ADMIN in the node's network namespace (hostNetwork, capabilities add NET_ADMIN)",
        { errno },
      );
    case ERRNO.EINVAL:
    case ERRNO.EOPNOTSUPP:
      return new NetlinkError('NETLINK_PROTOCOL', op, `the kernel refused the dump request (${errno === ERRNO.EINVAL ? 'EINVAL' : 'EOPNOTSUPP'})`, { errno });
    default:
      return new NetlinkError('NETLINK_PROTOCOL', op, `the kernel answered errno ${errno}`, { errno });
  }
}
