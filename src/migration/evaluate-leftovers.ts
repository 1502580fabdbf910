/**
 * After the switch: what IPVS mode leaves when kube-proxy's cleanup did not run
 * (pkg/proxy/ipvs/cleanup.go returns early when `modprobe -va ip_vs` fails, kubernetes#131243) —
 * virtual servers, kube-ipvs0, the KUBE-* ipsets, the IPVS-only iptables chains.
 */
import { KUBE_IPVS0 } from '../desired/node-addresses.js';
import { IPVS_ONLY_CHAINS } from '../iptables/kube-proxy-chains.js';
import type { BackendRead } from '../iptables/types.js';
import { evaluator, type InputWith } from './evaluator.js';
import { makeFinding, plural } from './finding.js';
import type { Evidence, MigrationFinding } from './types.js';

/** One evidence item per tool: the IPVS-only chains it still lists, as "table/chain". */
function chainsLeft(read: BackendRead, command: string): Evidence[] {
  if (read.state !== 'read') return [];
  const left = IPVS_ONLY_CHAINS.filter(({ table, chain }) => read.result.dump.tables.get(table)?.chains.has(chain) === true).map(({ table, chain }) => `${table}/${chain}`);
  return left.length === 0 ? [] : [{ kind: 'iptables-chain', ref: command, value: left, detail: 'IPVS-only chains' }];
}

export const leftoversEvaluator = evaluator({
  ids: ['ipvs-leftovers-after-switch'],
  needs: ['snapshot', 'interfaces', 'ipsets', 'netfilter'],
  phase: 'post-switch',
  evaluate: (input: InputWith<'snapshot' | 'interfaces' | 'ipsets' | 'netfilter'>): MigrationFinding[] => {
    const evidence: Evidence[] = [];
    const services = input.snapshot.services;
    if (services.length > 0) {
      evidence.push({ kind: 'virtual-server', ref: 'IPVS table', value: services.length, detail: services.slice(0, 5).map((vs) => vs.key).join(', ') });
    }
    const dummy = input.interfaces.find((i) => i.name === KUBE_IPVS0);
    if (dummy) evidence.push({ kind: 'interface', ref: KUBE_IPVS0, value: dummy.addresses.length, detail: `${plural(dummy.addresses.length, 'address', )} bound` });
    if (input.ipsets.readable && input.ipsets.sets.size > 0) {
      const names = [...input.ipsets.sets.keys()].sort();
      evidence.push({ kind: 'ipset', ref: 'KUBE-* ipsets', value: names.length, detail: names.slice(0, 5).join(', ') + (names.length > 5 ? ', …' : '') });
    }
    const { legacy, nft } = input.netfilter.iptables;
    evidence.push(...chainsLeft(legacy.inet, 'iptables-legacy'), ...chainsLeft(legacy.inet6, 'ip6tables-legacy'), ...chainsLeft(nft.inet, 'iptables-nft'), ...chainsLeft(nft.inet6, 'ip6tables-nft'));
    if (evidence.length === 0) return [];
    return [
      makeFinding('ipvs-leftovers-after-switch', {
        message: `kube-proxy runs ${input.runningMode ?? 'another'} mode but IPVS mode's state is still on ${input.node}: ${plural(evidence.length, 'leftover')}.`,
        evidence,
      }),
    ];
  },
});
