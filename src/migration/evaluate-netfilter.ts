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
    const tables = nftFirewallTables(input);
    if (tables.length > 0) evidence.push({ kind: 'iptables-chain', ref: 'nf_tables', value: tables, detail: 'inet tables of another program (a firewall\'s policy cannot be read from here)' });
    if (evidence.length === 0) return [];
    return [
      makeFinding('local-firewall-accepts', {
        message: `A firewall on ${input.node} may drop Service traffic that IPVS mode's ACCEPT rules let through today: ${evidence.map((e) => e.ref).join(', ')}.`,
        evidence,
        heuristic: true,
      }),
    ];
  },
});
