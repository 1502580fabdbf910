/**
 * Reads the list of nftables tables over NETLINK_NETFILTER (one NFT_MSG_GETTABLE dump for every
 * family, what `nft list tables` sends first), and the list of chains (one NFT_MSG_GETCHAIN dump,
 * for the base chains' hooks and policies) — no `nft` binary.
 *
 * Gate: call it only when nfnlReadGate(NFNL_SUBSYS_NFTABLES, modules) says so (nf_tables loaded or
 * built in). Without nf_tables the kernel would load it to answer (request_module
 * ("nfnetlink-subsys-10") in nfnetlink_rcv_msg, net/netfilter/nfnetlink.c); the dump itself only
 * walks the table list and loads nothing.
 */
import { ERRNO, NetlinkError } from '../netlink/errors.js';
import { NETLINK_NETFILTER, openRawNetlink, type NetlinkSocket } from '../netlink/libnl.js';
import type { NlMessage } from '../netlink/message.js';
import { dumpWithRetries, runNfnlDump, tooLarge, type DumpLimits } from '../netlink/nfnetlink.js';
import { decodeNftChain, encodeGetChainsRequest, type NftChain } from './chains.js';
import { decodeNftTable, encodeGetTablesRequest, type NftTable } from './tables.js';

/** A node has a handful of tables; thousands mean something is wrong. */
export const DEFAULT_NFT_TABLE_LIMITS: NftTableLimits = { maxTables: 10_000, maxBytes: 16 * 1024 * 1024, maxDatagrams: 10_000 };
/** nf_tables marks a dump that raced a ruleset change with NLM_F_DUMP_INTR: dump again, a few times. */
const ATTEMPTS = 4;

export interface NftTableLimits extends DumpLimits {
  maxTables: number;
}

export interface ReadNftTablesOptions {
  /** Opens a NETLINK_NETFILTER socket (a replay in tests); default libnl. Closed after each attempt. */
  open?: () => NetlinkSocket;
  /** First sequence number; default derived from the clock. */
  seq?: number;
  limits?: Partial<NftTableLimits>;
}

export interface NftTablesRead {
  /** In the kernel's order (by family, then creation). */
  readonly tables: readonly NftTable[];
  /** Attribute types this decoder does not know, e.g. "table:9"; sorted. */
  readonly unknownAttributes: readonly string[];
  readonly stats: { datagrams: number; bytes: number; attempts: number };
}

/** What one nftables list dump needs: its request, its decoder, and how many objects it may hold. */
interface NftListDump<T> {
  context: string;
  request: (seq: number, localPort: number) => Uint8Array;
  decode: (message: NlMessage, unknown: Set<string>) => T;
  max: number;
  /** What `max` counts, for the error: "tables", "chains". */
  what: string;
}

/** One list dump (tables or chains), dumped again when nf_tables marks it interrupted. */
function readNftList<T>(options: { open?: () => NetlinkSocket; seq?: number }, limits: DumpLimits, dump: NftListDump<T>): { items: T[]; unknownAttributes: string[]; stats: { datagrams: number; bytes: number; attempts: number } } {
  const open = options.open ?? (() => openRawNetlink(NETLINK_NETFILTER));
  const read = dumpWithRetries({
    open,
    context: dump.context,
    firstSeq: options.seq ?? Date.now() & 0x7fffffff,
    attempts: ATTEMPTS,
    interrupted: 'the ruleset changed during the dump',
    attempt: (socket, seq) => {
      const items: T[] = [];
      const unknown = new Set<string>();
      const outcome = runNfnlDump(socket, {
        context: dump.context,
        request: dump.request(seq, socket.localPort),
        seq,
        limits,
        onMessage: (m) => {
          if (items.length >= dump.max) throw tooLarge(dump.context, `${dump.max} ${dump.what}`);
          items.push(dump.decode(m, unknown));
        },
        refusal: (errno) => nftRefusal(dump.context, errno),
      });
      return { outcome, value: () => ({ items, unknownAttributes: [...unknown].sort() }) };
    },
  });
  return { ...read.value, stats: { datagrams: read.datagrams, bytes: read.bytes, attempts: read.attempts } };
}

/** Every nftables table of every family in the node's network namespace. */
export function readNftTables(options: ReadNftTablesOptions = {}): NftTablesRead {
  const limits: NftTableLimits = { ...DEFAULT_NFT_TABLE_LIMITS, ...options.limits };
  const { items, ...rest } = readNftList(options, limits, { context: 'nftables tables', request: encodeGetTablesRequest, decode: decodeNftTable, max: limits.maxTables, what: 'tables' });
  return { tables: items, ...rest };
}

/**
 * A node has tens of chains; kube-proxy's nftables mode has a few per Service port and endpoint,
 * tens of thousands in a large cluster.
 */
export const DEFAULT_NFT_CHAIN_LIMITS: NftChainLimits = { maxChains: 200_000, maxBytes: 64 * 1024 * 1024, maxDatagrams: 100_000 };

export interface NftChainLimits extends DumpLimits {
  maxChains: number;
}

export interface NftChainsRead {
  /** In the kernel's order (by family, table, then creation). */
  readonly chains: readonly NftChain[];
  /** Attribute types this decoder does not know, e.g. "chain:13"; sorted. */
  readonly unknownAttributes: readonly string[];
  readonly stats: { datagrams: number; bytes: number; attempts: number };
}

/**
 * Every nftables chain of every table and family (what `nft list chains` sends), with the same gate
 * as readNftTables: only when nf_tables is already in the kernel.
 */
export function readNftChains(options: Omit<ReadNftTablesOptions, 'limits'> & { limits?: Partial<NftChainLimits> } = {}): NftChainsRead {
  const limits: NftChainLimits = { ...DEFAULT_NFT_CHAIN_LIMITS, ...options.limits };
  const { items, ...rest } = readNftList(options, limits, { context: 'nftables chains', request: encodeGetChainsRequest, decode: decodeNftChain, max: limits.maxChains, what: 'chains' });
  return { chains: items, ...rest };
}

/** The kernel's NLMSG_ERROR for a table dump, as a coded error. */
export function nftRefusal(context: string, errno: number): NetlinkError {
  const op = `dump ${context}`;
  if (errno === ERRNO.EPERM) {
    return new NetlinkError(
      'NFTABLES_PERMISSION_DENIED',
      op,
      'the kernel refused to list the nftables tables (EPERM): NETLINK_NETFILTER requests, reads included, need CAP_NET_ADMIN in the node\'s network namespace (hostNetwork, capabilities add NET_ADMIN)',
      { errno },
    );
  }
  if (errno === ERRNO.EINVAL) return new NetlinkError('NETLINK_PROTOCOL', op, 'the kernel has no nf_tables subsystem (EINVAL): nf_tables is neither loaded nor built in', { errno });
  return new NetlinkError('NETLINK_PROTOCOL', op, `the kernel answered errno ${errno}`, { errno });
}
