/**
 * The list of nftables tables (NFT_MSG_GETTABLE dump, include/uapi/linux/netfilter/nf_tables.h;
 * nf_tables_dump_tables in net/netfilter/nf_tables_api.c): which tables exist in which family —
 * enough to see an nftables-mode `kube-proxy` table left behind, or the `ip nat` table of
 * iptables-nft. Pure: bytes in, values out.
 */
import { SentinelError } from '../errors/index.js';
import { indexAttributes, parseAttributesIn, readString, type NlAttr } from '../netlink/attributes.js';
import type { NlMessage } from '../netlink/message.js';
import { encodeNfnlDumpRequest, NFGENMSG_LEN, NFNL_SUBSYS_NFTABLES, NFPROTO, parseNfnl } from '../netlink/nfnetlink.js';

export const NFT_MSG_NEWTABLE = 0;
export const NFT_MSG_GETTABLE = 1;
/** NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWTABLE: every reply of the dump. */
export const NFT_NEWTABLE_MESSAGE_TYPE = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWTABLE;

export const NFTA_TABLE = {
  NAME: 1,
  FLAGS: 2,
  USE: 3,
  HANDLE: 4,
  PAD: 5,
  USERDATA: 6,
  OWNER: 7,
} as const;

/** enum nft_table_flags. */
export const NFT_TABLE_F = {
  DORMANT: 0x1,
  OWNER: 0x2,
  PERSIST: 0x4,
} as const;

/** nft's family words for nfgen_family (NFPROTO_*). */
export type NftFamily = 'ip' | 'ip6' | 'inet' | 'arp' | 'bridge' | 'netdev';

const FAMILY_NAME = new Map<number, NftFamily>([
  [NFPROTO.IPV4, 'ip'],
  [NFPROTO.IPV6, 'ip6'],
  [NFPROTO.INET, 'inet'],
  [NFPROTO.ARP, 'arp'],
  [NFPROTO.BRIDGE, 'bridge'],
  [NFPROTO.NETDEV, 'netdev'],
]);

/** nft's word for an nfgen_family, or the raw number of a family it does not name. */
export function nftFamilyName(family: number): NftFamily | number {
  return FAMILY_NAME.get(family) ?? family;
}

export interface NftTable {
  /** The family as `nft list tables` names it, or the raw NFPROTO number of a family nft does not know. */
  readonly family: NftFamily | number;
  readonly name: string;
  /** Objects in the table (chains, sets, …): 0 for an empty table. */
  readonly use: number;
  /** NFT_TABLE_F_* (dormant, owner, persist). */
  readonly flags: number;
  /** The table's handle; null from kernels that do not send one. */
  readonly handle: number | null;
}

/** The dump request for every table of every family (nfgen_family NFPROTO_UNSPEC). */
export function encodeGetTablesRequest(seq: number, pid = 0): Uint8Array {
  return encodeNfnlDumpRequest({ subsys: NFNL_SUBSYS_NFTABLES, msg: NFT_MSG_GETTABLE, seq, pid, family: NFPROTO.UNSPEC });
}

const CONTEXT = 'nftables table';

function decodeError(message: string): SentinelError {
  return new SentinelError('NETLINK_DECODE', `decode ${CONTEXT}`, message);
}

function be32(attr: NlAttr, name: string): number {
  if (attr.length < 4) throw decodeError(`${name} has ${attr.length} bytes, needs 4`);
  return attr.view.getUint32(attr.offset, false);
}

const KNOWN = new Set<number>(Object.values(NFTA_TABLE));

/** One NFT_MSG_NEWTABLE reply; attribute types it does not know go to `unknown` ("table:9"). */
export function decodeNftTable(message: NlMessage, unknown?: Set<string>): NftTable {
  if (message.type !== NFT_NEWTABLE_MESSAGE_TYPE) throw decodeError(`unexpected message type 0x${message.type.toString(16)} in a table dump`);
  const nf = parseNfnl(message, CONTEXT);
  const p = message.payload;
  const view = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const attrs = parseAttributesIn(p, view, NFGENMSG_LEN, p.byteLength, CONTEXT);
  if (unknown) for (const a of attrs) if (!KNOWN.has(a.type)) unknown.add(`table:${a.type}`);
  const index = indexAttributes(attrs);
  const name = index.get(NFTA_TABLE.NAME);
  const use = index.get(NFTA_TABLE.USE);
  const flags = index.get(NFTA_TABLE.FLAGS);
  if (name === undefined || use === undefined || flags === undefined) throw decodeError('table without NAME, USE or FLAGS');
  const handleAttr = index.get(NFTA_TABLE.HANDLE);
  let handle: number | null = null;
  if (handleAttr !== undefined) {
    if (handleAttr.length < 8) throw decodeError(`HANDLE has ${handleAttr.length} bytes, needs 8`);
    const value = handleAttr.view.getBigUint64(handleAttr.offset, false);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw decodeError(`HANDLE ${value} is beyond 2^53`);
    handle = Number(value);
  }
  return {
    family: nftFamilyName(nf.family),
    name: readString(name),
    use: be32(use, 'USE'),
    flags: be32(flags, 'FLAGS'),
    handle,
  };
}
