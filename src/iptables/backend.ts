/**
 * Which `*-save` tools a poll may run, and which iptables backend the host uses — decided from kernel
 * state only, never from the container's `iptables` alternative (Debian's default says nothing about
 * the host). Pure: the caller reads <proc-root>/net/ip{,6}_tables_names and the nf_tables table list.
 */
import type { AddressFamily } from '../ipvs/types.js';
import { IPVS_ONLY_CHAINS, KUBELET_HINT_CHAINS, type TableChain } from './kube-proxy-chains.js';
import { saveTool } from './run-save.js';
import type { BackendDecision, BackendRead, FamilyReads, IptablesBackend, IptablesDump, NftTableRef, SaveTool } from './types.js';

export const FAMILIES: readonly AddressFamily[] = ['inet', 'inet6'];

/** The tables iptables-nft knows how to print (iptables/nft.c xtables_ipv4 / xtables_ipv6). */
const XTABLES_NFT_TABLES = new Set(['filter', 'nat', 'mangle', 'raw', 'security']);
const NFT_FAMILY: Readonly<Record<AddressFamily, string>> = { inet: 'ip', inet6: 'ip6' };
const PROC_TABLES_NAMES: Readonly<Record<AddressFamily, string>> = { inet: 'net/ip_tables_names', inet6: 'net/ip6_tables_names' };

/** The procfs file listing a family's instantiated legacy tables, relative to the proc root. */
export function tablesNamesFile(family: AddressFamily): string {
  return PROC_TABLES_NAMES[family];
}

/** `/proc/net/ip_tables_names`: one instantiated x_tables table per line (net/netfilter/x_tables.c xt_table_seq_show). */
export function parseTablesNames(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^[a-z0-9_]{1,32}$/.test(l));
}

export interface ReadPlanInput {
  /** Per family: instantiated legacy tables (ENOENT → []), or null when the file could not be read. */
  readonly legacyTableNames: Readonly<Record<AddressFamily, readonly string[] | null>>;
  /** nf_tables tables (NFT_MSG_GETTABLE), or null when nf_tables is not loaded and was not asked (asking would load it). */
  readonly nftTables: readonly NftTableRef[] | null;
}

export type PlannedRead =
  | { readonly backend: IptablesBackend; readonly family: AddressFamily; readonly run: true; readonly tool: SaveTool }
  | { readonly backend: IptablesBackend; readonly family: AddressFamily; readonly run: false; readonly reason: string; readonly unreadable: boolean };

/** What to run this poll: a tool only where its backend holds a table of its family. */
export function planReads(input: ReadPlanInput): PlannedRead[] {
  const plan: PlannedRead[] = [];
  for (const family of FAMILIES) {
    const names = input.legacyTableNames[family];
    if (names === null) {
      plan.push({ backend: 'legacy', family, run: false, reason: `${tablesNamesFile(family)} could not be read`, unreadable: true });
    } else if (names.length === 0) {
      // Nothing instantiated: run nothing, so no later mistake can instantiate a table (iptables-legacy-save -t
      // does: net/ipv4/netfilter/ip_tables.c get_info → xt_find_table_lock → try_then_request_module).
      plan.push({ backend: 'legacy', family, run: false, reason: `no legacy ${family === 'inet' ? 'iptables' : 'ip6tables'} table exists`, unreadable: false });
    } else {
      plan.push({ backend: 'legacy', family, run: true, tool: saveTool('legacy', family) });
    }
  }
  for (const family of FAMILIES) {
    const nftFamily = NFT_FAMILY[family];
    if (input.nftTables === null) {
      plan.push({ backend: 'nft', family, run: false, reason: 'nf_tables is not loaded', unreadable: false });
    } else if (!input.nftTables.some((t) => t.family === nftFamily && XTABLES_NFT_TABLES.has(t.name))) {
      // iptables-nft-save prints empty builtin tables that do not exist, so only the table list tells.
      plan.push({ backend: 'nft', family, run: false, reason: `no nf_tables ${nftFamily} filter/nat/mangle/raw/security table exists`, unreadable: false });
    } else {
      plan.push({ backend: 'nft', family, run: true, tool: saveTool('nft', family) });
    }
  }
  return plan;
}

function dumpsOf(reads: FamilyReads): IptablesDump[] {
  const dumps: IptablesDump[] = [];
  for (const family of FAMILIES) {
    const read: BackendRead = reads[family];
    if (read.state === 'read') dumps.push(read.result.dump);
  }
  return dumps;
}

function hasChain(dump: IptablesDump, table: string, chain: string): boolean {
  return dump.tables.get(table)?.chains.has(chain) ?? false;
}

/**
 * kubelet's hint in a backend, as kubernetes-sigs/iptables-wrappers looks for it: `^:(KUBE-IPTABLES-HINT|KUBE-KUBELET-CANARY)`
 * in `iptables-nft-save -t mangle` (nft), or anywhere in `iptables-legacy-save` (legacy, read whole because -t would create the table).
 */
export function hasKubeletHint(backend: IptablesBackend, dump: IptablesDump): boolean {
  if (backend === 'nft') return KUBELET_HINT_CHAINS.some((c) => hasChain(dump, 'mangle', c));
  for (const table of dump.tables.values()) if (KUBELET_HINT_CHAINS.some((c) => table.chains.has(c))) return true;
  return false;
}

/** The IPVS proxier's own chains (those iptables mode never creates) present in a dump. */
export function ipvsChainsIn(dump: IptablesDump): TableChain[] {
  return IPVS_ONLY_CHAINS.filter((c) => hasChain(dump, c.table, c.chain));
}

/** Only builtin chains, every policy ACCEPT, no rule: the tables exist because something looked them up, not because anyone uses them. */
export function isInstantiatedButUnused(dump: IptablesDump): boolean {
  if (dump.incompatibleTables.length > 0) return false;
  for (const table of dump.tables.values()) {
    if (table.ruleCount > 0 || table.otherChains > 0) return false;
    if (Object.values(table.perService.counts).some((n) => n > 0)) return false;
    for (const chain of table.chains.values()) if (!chain.builtin || chain.policy !== 'ACCEPT') return false;
  }
  return true;
}

/**
 * The backend kube-proxy's image would pick (kubernetes-sigs/iptables-wrappers, the shell wrapper the
 * distroless-iptables image installs): kubelet's hint in nft → nft; else the hint in legacy → legacy;
 * else more `^-` rule lines in legacy (v4 + v6) than in nft → legacy, otherwise (tie included) nft.
 * The Go rewrite (pkg/xtables/detect.go) drops the rule count and defaults to nft; `reason` says which
 * step decided, so a check can word the difference.
 */
export function decideBackend(reads: Readonly<Record<IptablesBackend, FamilyReads>>): BackendDecision {
  const legacy = dumpsOf(reads.legacy);
  const nft = dumpsOf(reads.nft);
  const count = (dumps: IptablesDump[]): number => dumps.reduce((n, d) => n + d.ruleLines, 0);
  const ruleLines = { legacy: count(legacy), nft: count(nft) };
  let expected: IptablesBackend;
  let reason: BackendDecision['reason'];
  if (nft.some((d) => hasKubeletHint('nft', d))) [expected, reason] = ['nft', 'kubelet-hint-nft'];
  else if (legacy.some((d) => hasKubeletHint('legacy', d))) [expected, reason] = ['legacy', 'kubelet-hint-legacy'];
  else if (ruleLines.legacy > ruleLines.nft) [expected, reason] = ['legacy', 'more-rules-legacy'];
  else [expected, reason] = ['nft', 'more-rules-nft'];

  const failed = (r: FamilyReads): boolean => FAMILIES.some((f) => r[f].state === 'failed');
  const legacyFailed = failed(reads.legacy);
  return {
    expected,
    reason,
    ruleLines,
    uncertain: legacyFailed || failed(reads.nft),
    ipvsChains: { legacy: legacy.some((d) => ipvsChainsIn(d).length > 0), nft: nft.some((d) => ipvsChainsIn(d).length > 0) },
    legacyInstantiatedButUnused: !legacyFailed && legacy.length > 0 && legacy.every(isInstantiatedButUnused),
  };
}
