/**
 * Kernel-shaped NFT_MSG_NEWTABLE replies for tests, as nf_tables_fill_table_info
 * (net/netfilter/nf_tables_api.c) builds them: nfgenmsg with the table's family and the generation's
 * low 16 bits, NAME, USE, HANDLE, FLAGS (big-endian, NLA_F_NET_BYTEORDER not set — as recorded).
 */
import { encodeAttributes, stringAttr, type AttrSpec } from '../../src/netlink/attributes.js';
import { NLM_F_MULTI, NLMSG_HDRLEN } from '../../src/netlink/message.js';
import { NFTA_TABLE, NFT_NEWTABLE_MESSAGE_TYPE } from '../../src/nftables/tables.js';

export interface TableSpec {
  family: number;
  name: string;
  use: number;
  flags: number;
  handle: number | null;
}

function be32(type: number, value: number): AttrSpec {
  const data = new Uint8Array(4);
  new DataView(data.buffer).setUint32(0, value, false);
  return { type, data };
}

export function tableMessage(table: TableSpec, seq: number, pid: number, extra: readonly AttrSpec[] = [], flags = NLM_F_MULTI): Uint8Array {
  const specs: AttrSpec[] = [stringAttr(NFTA_TABLE.NAME, table.name), be32(NFTA_TABLE.USE, table.use)];
  if (table.handle !== null) {
    const data = new Uint8Array(8);
    new DataView(data.buffer).setBigUint64(0, BigInt(table.handle), false);
    specs.push({ type: NFTA_TABLE.HANDLE, data });
  }
  specs.push(be32(NFTA_TABLE.FLAGS, table.flags));
  const attrs = encodeAttributes([...specs, ...extra]);
  const out = new Uint8Array(NLMSG_HDRLEN + 4 + attrs.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, out.byteLength, true);
  view.setUint16(4, NFT_NEWTABLE_MESSAGE_TYPE, true);
  view.setUint16(6, flags, true);
  view.setUint32(8, seq, true);
  view.setUint32(12, pid, true);
  out[NLMSG_HDRLEN] = table.family;
  out.set(attrs, NLMSG_HDRLEN + 4);
  return out;
}
