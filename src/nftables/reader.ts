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

/** Every nftables table of every family in the node's network namespace. */
export function readNftTables(options: ReadNftTablesOptions = {}): NftTablesRead {
  const open = options.open ?? (() => openRawNetlink(NETLINK_NETFILTER));
  const limits: NftTableLimits = { ...DEFAULT_NFT_TABLE_LIMITS, ...options.limits };
  const context = 'nftables tables';
  const read = dumpWithRetries({
    open,
    context,
    firstSeq: options.seq ?? Date.now() & 0x7fffffff,
    attempts: ATTEMPTS,
    interrupted: 'the ruleset changed during the dump',
    attempt: (socket, seq) => {
      const tables: NftTable[] = [];
      const unknown = new Set<string>();
      const outcome = runNfnlDump(socket, {
        context,
        request: encodeGetTablesRequest(seq, socket.localPort),
        seq,
        limits,
        onMessage: (m) => {
          if (tables.length >= limits.maxTables) throw tooLarge(context, `${limits.maxTables} tables`);
          tables.push(decodeNftTable(m, unknown));
        },
        refusal: (errno) => nftRefusal(context, errno),
      });
      return { outcome, value: () => ({ tables, unknownAttributes: [...unknown].sort() }) };
    },
  });
  return { ...read.value, stats: { datagrams: read.datagrams, bytes: read.bytes, attempts: read.attempts } };
}

/** A node has tens of chains; kube-proxy's nftables mode a few hundred at most (one per Service port and endpoint). */
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
  const open = options.open ?? (() => openRawNetlink(NETLINK_NETFILTER));
  const limits: NftChainLimits = { ...DEFAULT_NFT_CHAIN_LIMITS, ...options.limits };
  const context = 'nftables chains';
  const read = dumpWithRetries({
    open,
    context,
    firstSeq: options.seq ?? Date.now() & 0x7fffffff,
    attempts: ATTEMPTS,
    interrupted: 'the ruleset changed during the dump',
    attempt: (socket, seq) => {
      const chains: NftChain[] = [];
      const unknown = new Set<string>();
      const outcome = runNfnlDump(socket, {
        context,
        request: encodeGetChainsRequest(seq, socket.localPort),
        seq,
        limits,
        onMessage: (m) => {
          if (chains.length >= limits.maxChains) throw tooLarge(context, `${limits.maxChains} chains`);
          chains.push(decodeNftChain(m, unknown));
        },
        refusal: (errno) => nftRefusal(context, errno),
      });
      return { outcome, value: () => ({ chains, unknownAttributes: [...unknown].sort() }) };
    },
  });
  return { ...read.value, stats: { datagrams: read.datagrams, bytes: read.bytes, attempts: read.attempts } };
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
