/**
 * The list of nftables chains (NFT_MSG_GETCHAIN dump, include/uapi/linux/netfilter/nf_tables.h;
 * nf_tables_fill_chain_info in net/netfilter/nf_tables_api.c): each chain's table and name and, for
 * a base chain, its hook (NFTA_CHAIN_HOOK › NFTA_HOOK_HOOKNUM, NFTA_HOOK_PRIORITY), type and policy
 * (NFTA_CHAIN_POLICY: NF_DROP 0, NF_ACCEPT 1) — enough to see a firewall whose input or forward
 * hook drops by default. Rules are not read. Pure: bytes in, values out.
 */
import { SentinelError } from '../errors/index.js';
import { indexAttributes, parseAttributesIn, readNested, readString, type NlAttr } from '../netlink/attributes.js';
import type { NlMessage } from '../netlink/message.js';
import { encodeNfnlDumpRequest, NFGENMSG_LEN, NFNL_SUBSYS_NFTABLES, NFPROTO, parseNfnl } from '../netlink/nfnetlink.js';
import { nftFamilyName, type NftFamily } from './tables.js';

export const NFT_MSG_NEWCHAIN = 3;
export const NFT_MSG_GETCHAIN = 4;
/** NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWCHAIN: every reply of the dump. */
export const NFT_NEWCHAIN_MESSAGE_TYPE = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWCHAIN;

export const NFTA_CHAIN = {
  TABLE: 1,
  HANDLE: 2,
  NAME: 3,
  HOOK: 4,
  POLICY: 5,
  USE: 6,
  TYPE: 7,
  COUNTERS: 8,
  PAD: 9,
  FLAGS: 10,
  ID: 11,
  USERDATA: 12,
} as const;

export const NFTA_HOOK = {
  HOOKNUM: 1,
  PRIORITY: 2,
  DEV: 3,
  DEVS: 4,
} as const;

/** enum nf_inet_hooks (include/uapi/linux/netfilter.h) as nft names them; ingress 5 for netdev/inet. */
const HOOK_NAME: readonly string[] = ['prerouting', 'input', 'forward', 'output', 'postrouting', 'ingress'];

/** NF_DROP / NF_ACCEPT (include/uapi/linux/netfilter.h). */
export const NF_VERDICT = { DROP: 0, ACCEPT: 1 } as const;

export interface NftChain {
  readonly family: NftFamily | number;
  readonly table: string;
  readonly name: string;
  /** null for a regular (non-base) chain. */
  readonly hook: {
    /** "input", "forward"…, or the raw number of a hook nft does not name. */
    readonly name: string | number;
    readonly priority: number;
  } | null;
  /** "filter", "nat", "route"; null when not sent (regular chains). */
  readonly type: string | null;
  /** The base chain's default verdict: "drop", "accept", or the raw number; null for a regular chain. */
  readonly policy: 'drop' | 'accept' | number | null;
}

/** The dump request for every chain of every table of every family. */
export function encodeGetChainsRequest(seq: number, pid = 0): Uint8Array {
  return encodeNfnlDumpRequest({ subsys: NFNL_SUBSYS_NFTABLES, msg: NFT_MSG_GETCHAIN, seq, pid, family: NFPROTO.UNSPEC });
}

const CONTEXT = 'nftables chain';

function decodeError(message: string): SentinelError {
  return new SentinelError('NETLINK_DECODE', `decode ${CONTEXT}`, message);
}

function be32(attr: NlAttr, name: string): number {
  if (attr.length < 4) throw decodeError(`${name} has ${attr.length} bytes, needs 4`);
  return attr.view.getUint32(attr.offset, false);
}

const KNOWN = new Set<number>(Object.values(NFTA_CHAIN));
const KNOWN_HOOK = new Set<number>(Object.values(NFTA_HOOK));

function decodeHook(attr: NlAttr, unknown: Set<string> | undefined): NonNullable<NftChain['hook']> {
  // nf_tables_fill_chain_info opens it with nla_nest_start_noflag: nested, without NLA_F_NESTED.
  const attrs = readNested(attr, CONTEXT);
  if (unknown) for (const a of attrs) if (!KNOWN_HOOK.has(a.type)) unknown.add(`hook:${a.type}`);
  const index = indexAttributes(attrs);
  const num = index.get(NFTA_HOOK.HOOKNUM);
  const priority = index.get(NFTA_HOOK.PRIORITY);
  if (num === undefined || priority === undefined) throw decodeError('HOOK without HOOKNUM or PRIORITY');
  const hooknum = be32(num, 'HOOKNUM');
  if (priority.length < 4) throw decodeError(`PRIORITY has ${priority.length} bytes, needs 4`);
  return { name: HOOK_NAME[hooknum] ?? hooknum, priority: priority.view.getInt32(priority.offset, false) };
}

/** One NFT_MSG_NEWCHAIN reply; attribute types it does not know go to `unknown` ("chain:13", "hook:5"). */
export function decodeNftChain(message: NlMessage, unknown?: Set<string>): NftChain {
  if (message.type !== NFT_NEWCHAIN_MESSAGE_TYPE) throw decodeError(`unexpected message type 0x${message.type.toString(16)} in a chain dump`);
  const nf = parseNfnl(message, CONTEXT);
  const p = message.payload;
  const view = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const attrs = parseAttributesIn(p, view, NFGENMSG_LEN, p.byteLength, CONTEXT);
  if (unknown) for (const a of attrs) if (!KNOWN.has(a.type)) unknown.add(`chain:${a.type}`);
  const index = indexAttributes(attrs);
  const table = index.get(NFTA_CHAIN.TABLE);
  const name = index.get(NFTA_CHAIN.NAME);
  if (table === undefined || name === undefined) throw decodeError('chain without TABLE or NAME');
  const hookAttr = index.get(NFTA_CHAIN.HOOK);
  const policyAttr = index.get(NFTA_CHAIN.POLICY);
  const typeAttr = index.get(NFTA_CHAIN.TYPE);
  const hook = hookAttr === undefined ? null : decodeHook(hookAttr, unknown);
  let policy: NftChain['policy'] = null;
  if (policyAttr !== undefined) {
    const value = be32(policyAttr, 'POLICY');
    policy = value === NF_VERDICT.DROP ? 'drop' : value === NF_VERDICT.ACCEPT ? 'accept' : value;
  }
  return {
    family: nftFamilyName(nf.family),
    table: readString(table),
    name: readString(name),
    hook,
    type: typeAttr === undefined ? null : readString(typeAttr),
    policy,
  };
}
