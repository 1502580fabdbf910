/**
 * What another proxy mode left behind on an IPVS-mode node (docs/kube-proxy-rules.md §3.2): kube-proxy
 * in IPVS mode never removes iptables mode's chains (both modes are "iptables based" to its cleanup,
 * cmd/kube-proxy/app/server_linux.go platformCleanup), so a node switched from iptables mode keeps
 * KUBE-SVC-*, KUBE-SEP-*, KUBE-NODEPORTS — and KUBE-EXTERNAL-SERVICES, still jumped to from INPUT and
 * FORWARD, whose REJECT rules go on refusing traffic to Services that now have endpoints
 * (kubernetes#102314). nftables mode's table `kube-proxy` is removed only when kube-proxy restarts.
 * None of this heals at a sync.
 */
import type { Finding } from '../drift/types.js';
import { IPTABLES_MODE_CHAINS, PER_SERVICE_CHAIN_PREFIXES } from '../iptables/kube-proxy-chains.js';
import type { NodeNetfilter } from '../iptables/node.js';
import type { BackendRead, IptablesBackend, IptablesRule, IptablesTable } from '../iptables/types.js';
import type { AddressFamily } from '../ipvs/types.js';
import { iptablesCommand } from './iptables.js';
import type { ComparisonCheck } from './types.js';

export const LEFTOVER_KINDS = ['stale-iptables-mode-rules', 'stale-nftables-rules'] as const;

const BLOCKING_TARGETS = new Set(['REJECT', 'DROP']);
const CLEANUP = 'or remove every other mode\'s leftovers at once with `kube-proxy --cleanup` on the node and restart kube-proxy (it re-creates its IPVS rules; Services blink until its first sync)';

/** The builtin-chain rules that jump to `chain`. */
function jumpsInto(table: IptablesTable, chain: string): IptablesRule[] {
  return table.rules.filter((r) => r.target === chain && (table.chains.get(r.chain)?.builtin ?? false));
}

function namedLeftovers(cmd: string, table: IptablesTable): Finding[] {
  const findings: Finding[] = [];
  for (const { table: tableName, chain } of IPTABLES_MODE_CHAINS) {
    if (tableName !== table.name || !table.chains.has(chain)) continue;
    const jumps = jumpsInto(table, chain);
    const blocking = table.rules.filter((r) => r.chain === chain && r.target !== null && BLOCKING_TARGETS.has(r.target));
    const live = jumps.length > 0 && blocking.length > 0;
    const unhook = jumps.map((r) => `\`${cmd} -t ${table.name} ${r.text.replace(/^-A /, '-D ')}\``);
    const remove = `\`${cmd} -t ${table.name} -F ${chain} && ${cmd} -t ${table.name} -X ${chain}\``;
    const fix = unhook.length > 0 ? `delete the jump${unhook.length > 1 ? 's' : ''} ${unhook.join(', ')}, then the chain: ${remove}` : `remove it: ${remove}`;
    findings.push({
      kind: 'stale-iptables-mode-rules',
      severity: live ? 'critical' : 'warning',
      virtualServer: null,
      realServer: null,
      subject: `${cmd} ${table.name} ${chain}`,
      service: null,
      expected: null,
      actual: { command: cmd, table: table.name, chain, jumpedFrom: [...new Set(jumps.map((r) => r.chain))], blockingRules: blocking.length, rules: table.chains.get(chain)?.ruleCount ?? 0 },
      message: live
        ? `Chain ${chain} of table ${table.name} (${cmd}) is left over from iptables mode and is still jumped to from ${[...new Set(jumps.map((r) => r.chain))].join(' and ')}, so its ${blocking.length} ${[...new Set(blocking.map((r) => r.target))].join('/')} rule(s) go on refusing traffic to Services that kube-proxy now serves through IPVS (kubernetes#102314); kube-proxy in IPVS mode never removes it: ${fix}; ${CLEANUP}.`
        : `Chain ${chain} of table ${table.name} (${cmd}) is left over from iptables mode, which kube-proxy in IPVS mode never removes; ${jumps.length > 0 ? 'it is still jumped to, though it blocks nothing now' : 'nothing jumps to it'}: ${fix}; ${CLEANUP}.`,
      selfHealing: false,
    });
  }
  return findings;
}

function perServiceLeftovers(cmd: string, table: IptablesTable): Finding | null {
  const counts = Object.fromEntries(PER_SERVICE_CHAIN_PREFIXES.filter((p) => table.perService.counts[p] > 0).map((p) => [`${p}*`, table.perService.counts[p]]));
  const total = Object.values(counts).reduce((n, c) => n + c, 0);
  if (total === 0) return null;
  const pattern = PER_SERVICE_CHAIN_PREFIXES.map((p) => p.slice('KUBE-'.length, -1)).join('|');
  const list = `${cmd}-save -t ${table.name} | awk '/^:KUBE-(${pattern})-/ {print substr($1, 2)}'`;
  return {
    kind: 'stale-iptables-mode-rules',
    severity: 'warning',
    virtualServer: null,
    realServer: null,
    subject: `${cmd} ${table.name} per-Service chains`,
    service: null,
    expected: null,
    actual: { command: cmd, table: table.name, chains: counts, rules: table.perService.rules, jumpsTo: table.perService.jumpsTo, sample: table.perService.sample },
    message: `Table ${table.name} (${cmd}) still holds ${total} per-Service chain(s) of iptables mode (${Object.entries(counts).map(([p, n]) => `${n} ${p}`).join(', ')}, ${table.perService.rules} rules), which kube-proxy in IPVS mode never removes${table.perService.jumpsTo > 0 ? ` and which ${table.perService.jumpsTo} rule(s) still jump to` : ''}: flush then delete them with \`for c in $(${list}); do ${cmd} -t ${table.name} -F $c; done; for c in $(${list}); do ${cmd} -t ${table.name} -X $c; done\` once nothing jumps to them, ${CLEANUP}.`,
    selfHealing: false,
  };
}

function nftLeftovers(netfilter: NodeNetfilter): Finding[] {
  if (netfilter.nft.state !== 'read') return [];
  return netfilter.nft.tables
    .filter((t) => t.name === 'kube-proxy' && (t.family === 'ip' || t.family === 'ip6'))
    .map((t) => ({
      kind: 'stale-nftables-rules' as const,
      severity: 'warning' as const,
      virtualServer: null,
      realServer: null,
      subject: `nft ${String(t.family)} kube-proxy`,
      service: null,
      expected: null,
      actual: { family: t.family, table: t.name, chains: t.use },
      message: `nftables table ${String(t.family)} kube-proxy (${t.use} chain(s)) is left over from kube-proxy's nftables mode and its rules still apply to packets; kube-proxy in IPVS mode removes it only when it starts: run \`nft delete table ${String(t.family)} kube-proxy\`, or restart kube-proxy on this node.`,
      selfHealing: false,
    }));
}

function tablesOf(read: BackendRead): Iterable<IptablesTable> {
  return read.state === 'read' ? read.result.dump.tables.values() : [];
}

export const iptablesLeftoversCheck: ComparisonCheck<(typeof LEFTOVER_KINDS)[number]> = {
  name: 'iptables-leftovers',
  ownSource: 'netfilter',
  kinds: LEFTOVER_KINDS,
  prerequisite: false,
  health: null,
  evaluate: ({ node }) => {
    const netfilter = node.readings.netfilter.value;
    if (!netfilter) return [];
    const findings: Finding[] = [];
    for (const backend of ['legacy', 'nft'] as const satisfies readonly IptablesBackend[]) {
      for (const family of ['inet', 'inet6'] as const satisfies readonly AddressFamily[]) {
        const cmd = iptablesCommand(backend, family);
        for (const table of tablesOf(netfilter.iptables[backend][family])) {
          findings.push(...namedLeftovers(cmd, table));
          const perService = perServiceLeftovers(cmd, table);
          if (perService) findings.push(perService);
        }
      }
    }
    findings.push(...nftLeftovers(netfilter));
    return findings;
  },
};
