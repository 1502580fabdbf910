/**
 * The node's netfilter state for the iptables checks, read without changing the node: the nf_tables
 * table list only when nf_tables is already in the kernel (a dump to an unregistered subsystem loads
 * it — src/netlink/nfnetlink.ts nfnlReadGate); the `*-save` tools only for the backends and families
 * the kernel holds tables of (read.ts). Without nf_tables no nft table can exist, so its list is empty.
 */
import type { ModuleFacts } from '../kmod/check.js';
import { NFNL_SUBSYS_NFTABLES, nfnlReadGate } from '../netlink/nfnetlink.js';
import type { IptablesObservation, NftTableRef } from './types.js';

export type NftTablesState = { state: 'read'; tables: readonly NftTableRef[] } | { state: 'absent'; reason: string } | { state: 'unknown'; reason: string };

export interface NodeNetfilter {
  nft: NftTablesState;
  iptables: IptablesObservation;
}

export interface NodeNetfilterReaders {
  modules(): Promise<ModuleFacts>;
  nftTables(): readonly NftTableRef[];
  /** `null`: nf_tables may not be asked, so the nft backend is not read. */
  iptables(nftTables: readonly NftTableRef[] | null): Promise<IptablesObservation>;
}

export async function readNodeNetfilter(readers: NodeNetfilterReaders): Promise<NodeNetfilter> {
  const facts = await readers.modules();
  let nft: NftTablesState;
  if (facts.loadedUnreadable === true) {
    nft = { state: 'unknown', reason: `/proc/modules could not be read, so whether nf_tables is loaded is unknown: ${facts.problems.join('; ')}` };
  } else {
    const gate = nfnlReadGate(NFNL_SUBSYS_NFTABLES, { loaded: facts.loaded, builtin: facts.builtin });
    nft = gate.readable ? { state: 'read', tables: readers.nftTables() } : { state: 'absent', reason: gate.reason };
  }
  const iptables = await readers.iptables(nft.state === 'read' ? nft.tables : null);
  return { nft, iptables };
}
