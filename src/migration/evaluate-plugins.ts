/**
 * Node agents that key on IPVS mode, seen by their interfaces: Calico's Felix turns on its IPVS
 * support when kube-ipvs0 exists (projectcalico/calico felix/dataplane/driver.go), kube-router runs
 * its own IPVS proxy, NodeLocal DNSCache has an IPVS layout. Heuristic: an interface name is all a
 * node shows of them.
 */
import { evaluator, type InputWith } from './evaluator.js';
import { makeFinding } from './finding.js';
import type { MigrationFinding } from './types.js';

const PLUGIN_INTERFACES: readonly { test: (name: string) => boolean; plugin: string }[] = [
  { test: (n) => n.startsWith('cali') || n === 'tunl0' || n === 'vxlan.calico', plugin: 'Calico' },
  { test: (n) => n === 'kube-bridge', plugin: 'kube-router' },
];

export const pluginsEvaluator = evaluator({
  ids: ['cni-ipvs-integration', 'nodelocal-dns-ipvs-layout'],
  needs: ['interfaces'],
  phase: 'pre-switch',
  evaluate: (input: InputWith<'interfaces'>): MigrationFinding[] => {
    const findings: MigrationFinding[] = [];
    const seen = new Map<string, string[]>();
    for (const iface of input.interfaces) {
      const match = PLUGIN_INTERFACES.find((p) => p.test(iface.name));
      if (match) seen.set(match.plugin, [...(seen.get(match.plugin) ?? []), iface.name]);
    }
    if (seen.size > 0) {
      const plugins = [...seen.keys()].sort();
      findings.push(
        makeFinding('cni-ipvs-integration', {
          message: `${plugins.join(' and ')} ${plugins.length === 1 ? 'runs' : 'run'} on this node and integrate${plugins.length === 1 ? 's' : ''} with kube-proxy's IPVS mode.`,
          evidence: plugins.map((p) => ({ kind: 'interface', ref: p, value: (seen.get(p) ?? []).slice(0, 5), detail: `${(seen.get(p) ?? []).length} interface(s)` })),
          heuristic: true,
        }),
      );
    }
    const nodelocal = input.interfaces.find((i) => i.name === 'nodelocaldns');
    if (nodelocal) {
      const kubeDns = input.services?.get('kube-system/kube-dns')?.clusterIPs ?? [];
      const addresses = nodelocal.addresses.map((a) => a.address);
      // The iptables layout also binds the kube-dns ClusterIP; the IPVS layout cannot (kube-ipvs0 holds it).
      if (!kubeDns.some((ip) => addresses.includes(ip))) {
        findings.push(
          makeFinding('nodelocal-dns-ipvs-layout', {
            message: `nodelocaldns listens on ${addresses.join(', ') || 'no address'} without the kube-dns ClusterIP: NodeLocal DNSCache runs its IPVS layout.`,
            evidence: [{ kind: 'interface', ref: 'nodelocaldns', value: addresses, detail: kubeDns.length > 0 ? `kube-dns ClusterIP ${kubeDns.join(', ')} not bound` : 'kube-system/kube-dns not known' }],
            heuristic: true,
          }),
        );
      }
    }
    return findings;
  },
});
