/**
 * kube-proxy's iptables chains in IPVS mode (docs/kube-proxy-rules.md §3.2): in the backend that
 * holds them — the one kube-proxy's image picks (kubernetes-sigs/iptables-wrappers), or the other
 * when only that one has them — every chain of the IPVS proxier exists, is jumped to from the
 * builtin chains it hooks, and holds the rules that match kube-proxy's sets. kube-proxy rewrites its
 * chains and re-ensures its jumps at every sync, so these kinds wait the grace; IPVS chains in both
 * backends at once (two live copies, one stale, both enforced — kubernetes#107965) never heal.
 */
import { ipsetNames, type IpsetKey } from '../desired/ipsets.js';
import type { DesiredState } from '../desired/types.js';
import type { Finding, Severity } from '../drift/types.js';
import { ipvsChainsIn } from '../iptables/backend.js';
import { IPVS_MODE_CHAINS, IPVS_MODE_JUMPS, IPVS_MODE_SET_RULES, type SetRule } from '../iptables/kube-proxy-chains.js';
import type { NodeNetfilter } from '../iptables/node.js';
import { saveTool } from '../iptables/run-save.js';
import type { BackendRead, IptablesBackend, IptablesDump, IptablesObservation } from '../iptables/types.js';
import type { AddressFamily } from '../ipvs/types.js';
import type { ComparisonCheck, NodeObservation } from './types.js';

export const IPTABLES_KINDS = ['iptables-chain-missing', 'iptables-jump-missing', 'iptables-rule-missing', 'iptables-backends-both'] as const;

const EMPTY: IptablesDump = { tables: new Map(), ruleLines: 0, generator: null, incompatibleTables: [], legacyTablesWarning: false, truncated: false, malformedCount: 0, malformed: [] };

/** "iptables-nft", "ip6tables-legacy": the command an operator runs to look or repair. */
export function iptablesCommand(backend: IptablesBackend, family: AddressFamily): string {
  return saveTool(backend, family).replace(/-save$/, '');
}

const RESYNC = 'kube-proxy rewrites its chains on every sync (ipvs.syncPeriod); if it persists, check kube-proxy\'s logs (iptables-restore errors) or restart kube-proxy on this node';

/** Without these, Service traffic is no longer masqueraded or hairpinned at all. */
const CRITICAL_CHAINS = new Set(['nat KUBE-SERVICES', 'nat KUBE-POSTROUTING']);

interface FamilyView {
  family: AddressFamily;
  backend: IptablesBackend;
  dump: IptablesDump;
  cmd: string;
}

function dumpOf(read: BackendRead): IptablesDump | null {
  if (read.state === 'read') return read.result.dump;
  if (read.state === 'absent') return EMPTY;
  return null;
}

/**
 * The backend to judge one family in: where the IPVS chains are when only one backend has them,
 * else the one kube-proxy's image would pick. null when that backend could not be read.
 */
function familyView(obs: IptablesObservation, family: AddressFamily): FamilyView | null {
  const legacy = dumpOf(obs.legacy[family]);
  const nft = dumpOf(obs.nft[family]);
  const inLegacy = legacy !== null && ipvsChainsIn(legacy).length > 0;
  const inNft = nft !== null && ipvsChainsIn(nft).length > 0;
  const backend: IptablesBackend = inLegacy !== inNft ? (inLegacy ? 'legacy' : 'nft') : obs.decision.expected;
  const dump = backend === 'legacy' ? legacy : nft;
  return dump === null ? null : { family, backend, dump, cmd: iptablesCommand(backend, family) };
}

function hasChain(dump: IptablesDump, table: string, chain: string): boolean {
  return dump.tables.get(table)?.chains.has(chain) ?? false;
}

function chainFindings(v: FamilyView): Finding[] {
  const findings: Finding[] = [];
  for (const { table, chain } of IPVS_MODE_CHAINS) {
    if (hasChain(v.dump, table, chain)) continue;
    const severity: Severity = CRITICAL_CHAINS.has(`${table} ${chain}`) ? 'critical' : 'warning';
    findings.push({
      kind: 'iptables-chain-missing',
      severity,
      virtualServer: null,
      realServer: null,
      subject: `${v.cmd} ${table} ${chain}`,
      service: null,
      expected: { command: v.cmd, table, chain },
      actual: null,
      message: `Chain ${chain} of table ${table} is missing from ${v.cmd} (${v.backend === 'nft' ? 'the nf_tables backend' : 'the legacy backend'}, where kube-proxy's IPVS-mode rules live on this node); ${RESYNC}.`,
      selfHealing: true,
    });
  }
  for (const jump of IPVS_MODE_JUMPS) {
    if (!hasChain(v.dump, jump.table, jump.to)) continue; // its chain-missing finding says it
    const rules = v.dump.tables.get(jump.table)?.rules ?? [];
    if (rules.some((r) => r.chain === jump.from && r.target === jump.to)) continue;
    const critical = CRITICAL_CHAINS.has(`${jump.table} ${jump.to}`);
    findings.push({
      kind: 'iptables-jump-missing',
      severity: critical ? 'critical' : 'warning',
      virtualServer: null,
      realServer: null,
      subject: `${v.cmd} ${jump.table} ${jump.from} -> ${jump.to}`,
      service: null,
      expected: { command: v.cmd, table: jump.table, chain: jump.from, jump: jump.to, comment: jump.comment },
      actual: null,
      message: `Builtin chain ${jump.from} of table ${jump.table} (${v.cmd}) no longer jumps to ${jump.to} ("${jump.comment}"), so none of its rules apply${critical ? ' and Service traffic is not masqueraded' : ''}; ${RESYNC}.`,
      selfHealing: true,
    });
  }
  return findings;
}

function ruleSeverity(rule: SetRule): Severity {
  // Without the RETURN for a set, KUBE-IPVS-FILTER's final REJECT refuses new connections to every
  // Service address of that set; without the loop-back MASQUERADE a pod cannot reach itself through its Service.
  return (rule.chain === 'KUBE-IPVS-FILTER' && rule.target === 'RETURN') || rule.set === 'loopBack' ? 'critical' : 'warning';
}

function ruleFindings(v: FamilyView, desired: DesiredState): Finding[] {
  const findings: Finding[] = [];
  const names = ipsetNames(v.family);
  for (const rule of IPVS_MODE_SET_RULES) {
    const setName = names[rule.set as IpsetKey];
    const set = desired.ipsets?.get(setName);
    if (set === undefined || (!rule.always && set.entries.length === 0)) continue;
    // A rule in or into a missing chain cannot be there: the chain-missing finding says it.
    if (!hasChain(v.dump, rule.table, rule.chain) || (rule.target.startsWith('KUBE-') && !hasChain(v.dump, rule.table, rule.target))) continue;
    const rules = v.dump.tables.get(rule.table)?.rules ?? [];
    if (rules.some((r) => r.chain === rule.chain && r.target === rule.target && r.sets.some((s) => s.name === setName && !s.negated))) continue;
    findings.push({
      kind: 'iptables-rule-missing',
      severity: ruleSeverity(rule),
      virtualServer: null,
      realServer: null,
      subject: `${v.cmd} ${rule.table} ${rule.chain} --match-set ${setName} -j ${rule.target}`,
      service: null,
      expected: { command: v.cmd, table: rule.table, chain: rule.chain, set: setName, target: rule.target },
      actual: null,
      message: `Chain ${rule.chain} of table ${rule.table} (${v.cmd}) has no rule matching ipset ${setName} with target ${rule.target}, which kube-proxy writes${rule.always ? '' : ` while the set has entries (${set.entries.length})`}; ${RESYNC}.`,
      selfHealing: true,
    });
  }
  return findings;
}

function bothBackends(obs: IptablesObservation, family: AddressFamily): Finding | null {
  const legacy = dumpOf(obs.legacy[family]);
  const nft = dumpOf(obs.nft[family]);
  if (legacy === null || nft === null) return null;
  const inLegacy = ipvsChainsIn(legacy);
  const inNft = ipvsChainsIn(nft);
  if (inLegacy.length === 0 || inNft.length === 0) return null;
  const legacyCmd = iptablesCommand('legacy', family);
  const nftCmd = iptablesCommand('nft', family);
  const stale = obs.decision.expected === 'nft' ? legacyCmd : nftCmd;
  return {
    kind: 'iptables-backends-both',
    severity: 'warning',
    virtualServer: null,
    realServer: null,
    subject: `${legacyCmd} ${nftCmd}`,
    service: null,
    expected: { command: iptablesCommand(obs.decision.expected, family), reason: obs.decision.reason },
    actual: { [legacyCmd]: inLegacy.map((c) => `${c.table} ${c.chain}`), [nftCmd]: inNft.map((c) => `${c.table} ${c.chain}`) },
    message: `kube-proxy's IPVS-mode chains are in both ${legacyCmd} and ${nftCmd}; the kernel enforces both, and the copy kube-proxy no longer writes goes stale (kubernetes#107965). kube-proxy's image uses ${iptablesCommand(obs.decision.expected, family)} here (${obs.decision.reason}): remove the other copy's KUBE-* rules and chains with ${stale} (or run kube-proxy --cleanup with the other backend), and make sure every tool on the node uses one backend.`,
    selfHealing: false,
  };
}

function netfilterOf(node: NodeObservation | null): NodeNetfilter | null {
  return node?.readings.netfilter.value ?? null;
}

export const iptablesCheck: ComparisonCheck<(typeof IPTABLES_KINDS)[number]> = {
  name: 'iptables',
  ownSource: 'netfilter',
  kinds: IPTABLES_KINDS,
  prerequisite: false,
  health: {
    name: 'iptables',
    order: 36,
    evaluate: ({ node }) => {
      const netfilter = netfilterOf(node);
      if (!netfilter) return { ok: false, reason: node?.readings.netfilter.error ?? 'not read yet' };
      const failed = (['inet', 'inet6'] as const)
        .map((f) => [netfilter.iptables.legacy[f], netfilter.iptables.nft[f]])
        .flat()
        .flatMap((r) => (r.state === 'failed' ? [r.error.toLine()] : []));
      return failed.length > 0 ? { ok: false, reason: failed.join('; ') } : { ok: true, reason: null };
    },
  },
  evaluate: ({ node, desired }) => {
    const netfilter = netfilterOf(node);
    if (!netfilter) return [];
    const findings: Finding[] = [];
    for (const family of desired.families) {
      const both = bothBackends(netfilter.iptables, family);
      if (both) findings.push(both);
      const view = familyView(netfilter.iptables, family);
      if (view === null) continue;
      findings.push(...chainFindings(view), ...ruleFindings(view, desired));
    }
    return findings;
  },
};
