/**
 * The iptables chains kube-proxy and kubelet own, by mode, in the words kubernetes/kubernetes uses:
 * pkg/proxy/ipvs/proxier.go (iptablesChains, iptablesJumpChain), pkg/proxy/iptables/proxier.go
 * (iptablesJumpChains and the per-Service chain names), pkg/kubelet/kubelet_network_linux.go.
 */
import type { PerServiceChainPrefix } from './types.js';

export interface TableChain {
  readonly table: 'nat' | 'filter' | 'mangle';
  readonly chain: string;
}

export interface JumpChain {
  readonly table: 'nat' | 'filter';
  readonly from: string;
  readonly to: string;
  readonly comment: string;
}

/** The chains the IPVS proxier creates (pkg/proxy/ipvs/proxier.go iptablesChains). */
export const IPVS_MODE_CHAINS: readonly TableChain[] = [
  { table: 'nat', chain: 'KUBE-SERVICES' },
  { table: 'nat', chain: 'KUBE-POSTROUTING' },
  { table: 'nat', chain: 'KUBE-NODE-PORT' },
  { table: 'nat', chain: 'KUBE-LOAD-BALANCER' },
  { table: 'nat', chain: 'KUBE-MARK-MASQ' },
  { table: 'filter', chain: 'KUBE-FORWARD' },
  { table: 'filter', chain: 'KUBE-NODE-PORT' },
  { table: 'filter', chain: 'KUBE-PROXY-FIREWALL' },
  { table: 'filter', chain: 'KUBE-SOURCE-RANGES-FIREWALL' },
  { table: 'filter', chain: 'KUBE-IPVS-FILTER' },
  { table: 'filter', chain: 'KUBE-IPVS-OUT-FILTER' },
];

/**
 * The IPVS proxier's chains iptables mode never creates: finding one tells IPVS mode's rules apart from
 * iptables mode's, which share KUBE-SERVICES, KUBE-POSTROUTING, KUBE-MARK-MASQ, KUBE-FORWARD and
 * KUBE-PROXY-FIREWALL (pkg/proxy/iptables/proxier.go).
 */
export const IPVS_ONLY_CHAINS: readonly TableChain[] = [
  { table: 'nat', chain: 'KUBE-NODE-PORT' },
  { table: 'nat', chain: 'KUBE-LOAD-BALANCER' },
  { table: 'filter', chain: 'KUBE-NODE-PORT' },
  { table: 'filter', chain: 'KUBE-SOURCE-RANGES-FIREWALL' },
  { table: 'filter', chain: 'KUBE-IPVS-FILTER' },
  { table: 'filter', chain: 'KUBE-IPVS-OUT-FILTER' },
];

/** The builtin-chain jumps the IPVS proxier keeps at the top of each chain (pkg/proxy/ipvs/proxier.go iptablesJumpChain). */
export const IPVS_MODE_JUMPS: readonly JumpChain[] = [
  { table: 'nat', from: 'OUTPUT', to: 'KUBE-SERVICES', comment: 'kubernetes service portals' },
  { table: 'nat', from: 'PREROUTING', to: 'KUBE-SERVICES', comment: 'kubernetes service portals' },
  { table: 'nat', from: 'POSTROUTING', to: 'KUBE-POSTROUTING', comment: 'kubernetes postrouting rules' },
  { table: 'filter', from: 'FORWARD', to: 'KUBE-FORWARD', comment: 'kubernetes forwarding rules' },
  { table: 'filter', from: 'INPUT', to: 'KUBE-NODE-PORT', comment: 'kubernetes health check rules' },
  { table: 'filter', from: 'INPUT', to: 'KUBE-PROXY-FIREWALL', comment: 'kube-proxy firewall rules' },
  { table: 'filter', from: 'FORWARD', to: 'KUBE-PROXY-FIREWALL', comment: 'kube-proxy firewall rules' },
  { table: 'filter', from: 'INPUT', to: 'KUBE-IPVS-FILTER', comment: 'kubernetes ipvs access filter' },
  { table: 'filter', from: 'OUTPUT', to: 'KUBE-IPVS-OUT-FILTER', comment: 'kubernetes ipvs access filter' },
];

/**
 * iptables mode's per-Service chains (pkg/proxy/iptables/proxier.go servicePortPolicyClusterChain "KUBE-SVC-",
 * servicePortPolicyLocalChainName "KUBE-SVL-", serviceExternalChainName "KUBE-EXT-", serviceFirewallChainName
 * "KUBE-FW-", servicePortEndpointChainName "KUBE-SEP-"; "KUBE-XLB-" before v1.24): one or more per Service
 * port or endpoint, so they are counted, never kept.
 */
export const PER_SERVICE_CHAIN_PREFIXES: readonly PerServiceChainPrefix[] = ['KUBE-SVC-', 'KUBE-SVL-', 'KUBE-EXT-', 'KUBE-FW-', 'KUBE-SEP-', 'KUBE-XLB-'];

/** The per-Service prefix of a chain name, or null. */
export function perServicePrefix(chain: string): PerServiceChainPrefix | null {
  if (!chain.startsWith('KUBE-')) return null;
  for (const prefix of PER_SERVICE_CHAIN_PREFIXES) if (chain.startsWith(prefix)) return prefix;
  return null;
}

/**
 * iptables mode's chains that are not per-Service and that the IPVS proxier never rewrites, so they
 * survive a switch to IPVS mode (kubernetes#102314). Note the spelling: iptables mode's KUBE-NODEPORTS,
 * IPVS mode's KUBE-NODE-PORT.
 */
export const IPTABLES_MODE_CHAINS: readonly TableChain[] = [
  { table: 'nat', chain: 'KUBE-NODEPORTS' },
  { table: 'filter', chain: 'KUBE-NODEPORTS' },
  { table: 'filter', chain: 'KUBE-EXTERNAL-SERVICES' },
  { table: 'filter', chain: 'KUBE-SERVICES' },
  { table: 'mangle', chain: 'KUBE-PROXY-CANARY' },
  { table: 'nat', chain: 'KUBE-PROXY-CANARY' },
  { table: 'filter', chain: 'KUBE-PROXY-CANARY' },
];

/**
 * kubelet's chains (pkg/kubelet/kubelet_network_linux.go). KUBE-IPTABLES-HINT is "the chain whose existence
 * in either iptables-legacy or iptables-nft indicates which version of iptables the system is using";
 * iptables-wrappers also accepts KUBE-KUBELET-CANARY. Neither is kube-proxy's: never a finding.
 */
export const KUBELET_HINT_CHAINS: readonly string[] = ['KUBE-IPTABLES-HINT', 'KUBE-KUBELET-CANARY'];

/**
 * The rules of IPVS mode that match one of kube-proxy's ipsets (pkg/proxy/ipvs/proxier.go:
 * ipsetWithIptablesChain, written only while the set is not empty; acceptIPVSTraffic for
 * KUBE-CLUSTER-IP / KUBE-LOAD-BALANCER, likewise; the KUBE-IPVS-FILTER rules and the health-check
 * ACCEPT, written at every sync). `set` is the set's key in src/desired/ipsets.ts, named per family
 * (KUBE-6- for IPv6). The masquerade rule of KUBE-CLUSTER-IP depends on masqueradeAll and the local
 * traffic detector, and the KUBE-EXTERNAL-IP rules on the set alone; both are left out so that no
 * configuration this project does not model can make a rule look missing.
 */
export interface SetRule {
  readonly table: 'nat' | 'filter';
  readonly chain: string;
  readonly set: string;
  readonly target: string;
  /** Written at every sync (true) or only while the set has entries (false). */
  readonly always: boolean;
}

export const IPVS_MODE_SET_RULES: readonly SetRule[] = [
  { table: 'nat', chain: 'KUBE-POSTROUTING', set: 'loopBack', target: 'MASQUERADE', always: false },
  { table: 'nat', chain: 'KUBE-SERVICES', set: 'loadBalancer', target: 'KUBE-LOAD-BALANCER', always: false },
  { table: 'nat', chain: 'KUBE-LOAD-BALANCER', set: 'loadBalancerLocal', target: 'RETURN', always: false },
  { table: 'nat', chain: 'KUBE-NODE-PORT', set: 'nodePortLocalTCP', target: 'RETURN', always: false },
  { table: 'nat', chain: 'KUBE-NODE-PORT', set: 'nodePortTCP', target: 'KUBE-MARK-MASQ', always: false },
  { table: 'nat', chain: 'KUBE-NODE-PORT', set: 'nodePortLocalUDP', target: 'RETURN', always: false },
  { table: 'nat', chain: 'KUBE-NODE-PORT', set: 'nodePortUDP', target: 'KUBE-MARK-MASQ', always: false },
  { table: 'nat', chain: 'KUBE-NODE-PORT', set: 'nodePortLocalSCTP', target: 'RETURN', always: false },
  { table: 'nat', chain: 'KUBE-NODE-PORT', set: 'nodePortSCTP', target: 'KUBE-MARK-MASQ', always: false },
  { table: 'nat', chain: 'KUBE-SERVICES', set: 'clusterIP', target: 'ACCEPT', always: false },
  { table: 'nat', chain: 'KUBE-SERVICES', set: 'loadBalancer', target: 'ACCEPT', always: false },
  { table: 'filter', chain: 'KUBE-PROXY-FIREWALL', set: 'loadBalancerFW', target: 'KUBE-SOURCE-RANGES-FIREWALL', always: false },
  { table: 'filter', chain: 'KUBE-SOURCE-RANGES-FIREWALL', set: 'loadBalancerSourceCIDR', target: 'RETURN', always: false },
  { table: 'filter', chain: 'KUBE-SOURCE-RANGES-FIREWALL', set: 'loadBalancerSourceIP', target: 'RETURN', always: false },
  { table: 'filter', chain: 'KUBE-NODE-PORT', set: 'healthCheckNodePort', target: 'ACCEPT', always: true },
  { table: 'filter', chain: 'KUBE-IPVS-FILTER', set: 'loadBalancer', target: 'RETURN', always: true },
  { table: 'filter', chain: 'KUBE-IPVS-FILTER', set: 'clusterIP', target: 'RETURN', always: true },
  { table: 'filter', chain: 'KUBE-IPVS-FILTER', set: 'externalIP', target: 'RETURN', always: true },
  { table: 'filter', chain: 'KUBE-IPVS-FILTER', set: 'externalIPLocal', target: 'RETURN', always: true },
  { table: 'filter', chain: 'KUBE-IPVS-FILTER', set: 'healthCheckNodePort', target: 'RETURN', always: true },
  { table: 'filter', chain: 'KUBE-IPVS-FILTER', set: 'ipvsIPs', target: 'REJECT', always: true },
];
