/**
 * The node's netfilter state for the iptables checks, read without changing the node: the nf_tables
 * table list only when nf_tables is already in the kernel (a dump to an unregistered subsystem loads
 * it — src/netlink/nfnetlink.ts nfnlReadGate); the `*-save` tools only for the backends and families
 * the kernel holds tables of (read.ts). Without nf_tables no nft table can exist, so its list is empty.
 * With the tables, the base chains' hooks and policies (src/nftables/chains.ts) for the migration
 * report's local-firewall-accepts.
 */
import { SentinelError } from '../errors/index.js';
import type { ModuleFacts } from '../kmod/check.js';
import type { NftChain } from '../nftables/chains.js';
import { NFNL_SUBSYS_NFTABLES, nfnlReadGate } from '../netlink/nfnetlink.js';
import type { IptablesObservation, NftTableRef } from './types.js';

/**
 * The base chains (those on a hook) of every nf_tables table, for their default policies; `error`
 * when the chain dump failed (the tables were still read), absent when no chain reader was given.
 */
export type NftBaseChainsState = { state: 'read'; chains: readonly NftChain[] } | { state: 'error'; reason: string };

export type NftTablesState = { state: 'read'; tables: readonly NftTableRef[]; baseChains?: NftBaseChainsState } | { state: 'absent'; reason: string } | { state: 'unknown'; reason: string };

export interface NodeNetfilter {
  nft: NftTablesState;
  iptables: IptablesObservation;
}

export interface NodeNetfilterReaders {
  modules(): Promise<ModuleFacts>;
  nftTables(): readonly NftTableRef[];
  /** Every chain of every table (src/nftables/reader.ts readNftChains), under the same gate as the tables. */
  nftChains?(): readonly NftChain[];
  /** `null`: nf_tables may not be asked, so the nft backend is not read. */
  iptables(nftTables: readonly NftTableRef[] | null): Promise<IptablesObservation>;
}

/** Only the base chains are kept: the regular ones (thousands in nftables-mode kube-proxy) carry no policy. */
function baseChains(readers: NodeNetfilterReaders): { baseChains?: NftBaseChainsState } {
  if (!readers.nftChains) return {};
  try {
    return { baseChains: { state: 'read', chains: readers.nftChains().filter((c) => c.hook !== null) } };
  } catch (err) {
    return { baseChains: { state: 'error', reason: err instanceof SentinelError ? err.toLine() : String(err) } };
  }
}

export async function readNodeNetfilter(readers: NodeNetfilterReaders): Promise<NodeNetfilter> {
  const facts = await readers.modules();
  let nft: NftTablesState;
  if (facts.loadedUnreadable === true) {
    nft = { state: 'unknown', reason: `/proc/modules could not be read, so whether nf_tables is loaded is unknown: ${facts.problems.join('; ')}` };
  } else {
    const gate = nfnlReadGate(NFNL_SUBSYS_NFTABLES, { loaded: facts.loaded, builtin: facts.builtin });
    nft = gate.readable ? { state: 'read', tables: readers.nftTables(), ...baseChains(readers) } : { state: 'absent', reason: gate.reason };
  }
  const iptables = await readers.iptables(nft.state === 'read' ? nft.tables : null);
  return { nft, iptables };
}
