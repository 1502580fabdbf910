/**
 * What IPVS mode's iptables rules do that nftables mode does not: KUBE-IPVS-FILTER rejects traffic
 * to Service IPs that is not for a Service port (kubernetes#108460; without it the IPs on kube-ipvs0
 * answer ping and reach host listeners), and KUBE-FORWARD / filter KUBE-NODE-PORT accept Service
 * traffic a default-drop firewall would drop (pkg/proxy/ipvs/proxier.go writeIptablesRules).
 * nftables mode rejects the former itself and accepts nothing (pkg/proxy/nftables/proxier.go).
 */
import { IPVS_MODE_CHAINS } from '../iptables/kube-proxy-chains.js';
import type { BackendRead, IptablesTable } from '../iptables/types.js';
import { evaluator, type InputWith } from './evaluator.js';
import { makeFinding } from './finding.js';
import type { Evidence, MigrationFinding, MigrationInput } from './types.js';

function hasNetfilter(input: MigrationInput): input is InputWith<'netfilter'> {
  return input.netfilter !== null;
}

interface FilterRead {
  tool: string;
  filter: IptablesTable;
}

/** The filter table of each dump read, by tool ("iptables-nft", "ip6tables-legacy" …). */
function filterTables(input: InputWith<'netfilter'>): FilterRead[] {
  const { legacy, nft } = input.netfilter.iptables;
  const reads: [string, BackendRead][] = [
    ['iptables-legacy', legacy.inet],
    ['ip6tables-legacy', legacy.inet6],
    ['iptables-nft', nft.inet],
    ['ip6tables-nft', nft.inet6],
  ];
  return reads.flatMap(([tool, read]) => {
    const filter = read.state === 'read' ? read.result.dump.tables.get('filter') : undefined;
    return filter ? [{ tool, filter }] : [];
  });
}

const IPVS_FILTER_CHAINS = IPVS_MODE_CHAINS.filter((c) => c.table === 'filter').map((c) => c.chain);

export const clusterIpIcmpEvaluator = evaluator({
  ids: ['clusterip-icmp'],
  // Not a need: an info and a heuristic change must not make a node's verdict unknown (report.ts notes the gap).
  needs: [],
  phase: 'pre-switch',
  evaluate: (input): MigrationFinding[] => {
    if (!hasNetfilter(input)) return [];
    // Only dumps that hold IPVS mode's filter chains say anything about its KUBE-IPVS-FILTER.
    const withIpvs = filterTables(input).filter(({ filter }) => IPVS_FILTER_CHAINS.some((chain) => filter.chains.has(chain)));
    if (withIpvs.length === 0 || withIpvs.some(({ filter }) => filter.chains.has('KUBE-IPVS-FILTER'))) return [];
    return [
      makeFinding('clusterip-icmp', {
        message: `kube-proxy on ${input.node} installs no KUBE-IPVS-FILTER: its Service IPs answer ping and host ports today, and nftables mode rejects that traffic.`,
        evidence: withIpvs.map(({ tool, filter }) => ({
          kind: 'iptables-chain',
          ref: `${tool} filter`,
          value: IPVS_FILTER_CHAINS.filter((chain) => filter.chains.has(chain)),
          detail: 'IPVS mode chains present, KUBE-IPVS-FILTER absent (kube-proxy before #108460)',
        })),
      }),
    ];
  },
});

/** nf_tables tables of the inet family (iptables-nft never makes one) other than kube-proxy's own. */
function nftFirewallTables(input: InputWith<'netfilter'>): string[] {
  const nft = input.netfilter.nft;
  if (nft.state !== 'read') return [];
  return nft.tables.filter((t) => t.family === 'inet' && t.name !== 'kube-proxy').map((t) => `inet ${t.name}`).sort();
}

/** iptables-nft's own base chains, which its `*-save` evidence already names: [family, chain] → the tool. */
const IPTABLES_NFT_CHAINS: Readonly<Record<string, string>> = { 'ip INPUT': 'iptables-nft', 'ip FORWARD': 'iptables-nft', 'ip6 INPUT': 'ip6tables-nft', 'ip6 FORWARD': 'ip6tables-nft' };

/**
 * Base chains on the input or forward hook whose policy is drop, in any table but kube-proxy's
 * (nftables-mode kube-proxy's own chains accept by policy). A packet must pass every base chain of
 * its hook, whatever the table, so one drop policy anywhere drops what no rule there accepts.
 * iptables-nft's filter INPUT/FORWARD are left to the iptables evidence when it was read.
 */
function nftDropChains(input: InputWith<'netfilter'>, iptablesRefs: ReadonlySet<string>): Evidence[] {
  const nft = input.netfilter.nft;
  if (nft.state !== 'read' || nft.baseChains?.state !== 'read') return [];
  return nft.baseChains.chains.flatMap((c): Evidence[] => {
    if (c.policy !== 'drop' || c.hook === null || (c.hook.name !== 'input' && c.hook.name !== 'forward') || c.table === 'kube-proxy') return [];
    const tool = c.table === 'filter' ? IPTABLES_NFT_CHAINS[`${String(c.family)} ${c.name}`] : undefined;
    if (tool !== undefined && iptablesRefs.has(`${tool} filter/${c.name}`)) return [];
    return [{ kind: 'nftables-chain', ref: `${String(c.family)} ${c.table} ${c.name}`, value: 'drop', detail: `policy of a base chain on the ${c.hook.name} hook (type ${c.type ?? '?'}, priority ${c.hook.priority})` }];
  });
}

export const firewallEvaluator = evaluator({
  ids: ['local-firewall-accepts'],
  needs: [],
  phase: 'pre-switch',
  evaluate: (input): MigrationFinding[] => {
    if (!hasNetfilter(input)) return [];
    const evidence: Evidence[] = [];
    for (const { tool, filter } of filterTables(input)) {
      for (const hook of ['INPUT', 'FORWARD']) {
        const policy = filter.chains.get(hook)?.policy ?? null;
        if (policy === 'DROP') evidence.push({ kind: 'iptables-chain', ref: `${tool} filter/${hook}`, value: policy, detail: 'default policy' });
      }
    }
    const nft = input.netfilter.nft;
    if (nft.state === 'read' && nft.baseChains?.state === 'read') {
      evidence.push(...nftDropChains(input, new Set(evidence.map((e) => e.ref))));
    } else {
      // Without the chains only the tables are known: another program's inet table may hold a firewall.
      const tables = nftFirewallTables(input);
      const why = nft.state === 'read' && nft.baseChains?.state === 'error' ? `the chains could not be read: ${nft.baseChains.reason}` : 'the chains were not read';
      if (tables.length > 0) evidence.push({ kind: 'nftables-chain', ref: 'nf_tables', value: tables, detail: `inet tables of another program; their policies are unknown (${why})` });
    }
    if (evidence.length === 0) return [];
    return [
      makeFinding('local-firewall-accepts', {
        message: `A firewall on ${input.node} drops by default and may drop Service traffic that IPVS mode's ACCEPT rules let through today: ${evidence.map((e) => `${e.ref}${typeof e.value === 'string' ? ` policy ${e.value.toLowerCase()}` : ''}`).join(', ')}.`,
        evidence,
        heuristic: true,
      }),
    ];
  },
});
