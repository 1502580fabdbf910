/**
 * Kernel-shaped NFT_MSG_NEWCHAIN replies for tests, as nf_tables_fill_chain_info
 * (net/netfilter/nf_tables_api.c) builds them: nfgenmsg with the family, TABLE, HANDLE, NAME, then
 * for a base chain HOOK (nested without NLA_F_NESTED: nla_nest_start_noflag — HOOKNUM, PRIORITY, both
 * big-endian), POLICY and TYPE; USE last. As recorded in test/fixtures/nftables/chains.json.
 */
import { encodeAttributes, stringAttr, type AttrSpec } from '../../src/netlink/attributes.js';
import { NLM_F_MULTI, NLMSG_HDRLEN } from '../../src/netlink/message.js';
import { NFTA_CHAIN, NFTA_HOOK, NFT_NEWCHAIN_MESSAGE_TYPE } from '../../src/nftables/chains.js';

export interface ChainSpec {
  family: number;
  table: string;
  name: string;
  /** A base chain's hook number, priority, verdict number and type; null for a regular chain. */
  base: { hooknum: number; priority: number; policy: number; type: string } | null;
}

function be32(type: number, value: number): AttrSpec {
  const data = new Uint8Array(4);
  new DataView(data.buffer).setUint32(0, value >>> 0, false);
  return { type, data };
}

export function chainMessage(chain: ChainSpec, seq: number, pid: number, extra: readonly AttrSpec[] = [], flags = NLM_F_MULTI): Uint8Array {
  const handle = new Uint8Array(8);
  new DataView(handle.buffer).setBigUint64(0, 1n, false);
  const specs: AttrSpec[] = [stringAttr(NFTA_CHAIN.TABLE, chain.table), { type: NFTA_CHAIN.HANDLE, data: handle }, stringAttr(NFTA_CHAIN.NAME, chain.name)];
  if (chain.base) {
    // The kernel's noflag nest: the children encoded as the payload of a plain attribute.
    specs.push({ type: NFTA_CHAIN.HOOK, data: encodeAttributes([be32(NFTA_HOOK.HOOKNUM, chain.base.hooknum), be32(NFTA_HOOK.PRIORITY, chain.base.priority)]) });
    specs.push(be32(NFTA_CHAIN.POLICY, chain.base.policy));
    specs.push(stringAttr(NFTA_CHAIN.TYPE, chain.base.type));
  }
  specs.push(be32(NFTA_CHAIN.USE, 0));
  const attrs = encodeAttributes([...specs, ...extra]);
  const out = new Uint8Array(NLMSG_HDRLEN + 4 + attrs.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, out.byteLength, true);
  view.setUint16(4, NFT_NEWCHAIN_MESSAGE_TYPE, true);
  view.setUint16(6, flags, true);
  view.setUint32(8, seq, true);
  view.setUint32(12, pid, true);
  out[NLMSG_HDRLEN] = chain.family;
  out.set(attrs, NLMSG_HDRLEN + 4);
  return out;
}
