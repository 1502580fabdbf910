/**
 * The desired IPVS state of one node, computed from scratch the way kube-proxy's syncProxyRules
 * does on every sync (docs/kube-proxy-rules.md §7): per IP family, every Service port's virtual servers
 * with their real servers, the kube-ipvs0 addresses and the ipsets' entries. Pure: no I/O, no clock.
 */
import type { ClusterSnapshot, EndpointSlice, Node, Service } from '../cluster/model.js';
import { namespacedKey } from '../cluster/model.js';
import { effectiveScheduler } from '../cluster/kube-proxy-config.js';
import type { KubeProxyConfig } from '../cluster/kube-proxy-config.js';
import type { AddressFamily } from '../ipvs/types.js';
import { proxierNodeIP } from './ipsets.js';
import { DesiredStateIndex } from './merge.js';
import { localAddressesExceptKubeIpvs0, nodePortIPs, primaryNodeIP, resolveNodePortAddresses } from './node-addresses.js';
import type { DesiredState, NodeFacts } from './types.js';
import { serviceResult } from './virtual-servers.js';
import type { FamilyContext } from './virtual-servers.js';

export interface ComputeOptions {
  /** Feature gate PreferSameTrafficDistribution (node hints); off unless set. */
  preferSameTrafficDistribution?: boolean;
  /**
   * Families kube-proxy proxies. Default both: on Linux it runs the dual-stack meta-proxier
   * whenever the kernel supports IPv4 and IPv6 (platformCheckSupported), even on IPv4-only nodes.
   */
  families?: AddressFamily[];
}

export const DEFAULT_FAMILIES: readonly AddressFamily[] = ['inet', 'inet6'];

/** kube-proxy lower-cases and trims --hostname-override; endpoint nodeName must match it. */
export function proxyNodeName(node: NodeFacts): string {
  return node.name.trim().toLowerCase();
}

/** The Node object kube-proxy watches: its own (by name), or null when absent. */
export function findOwnNode(nodes: Iterable<Node>, node: NodeFacts): Node | null {
  const name = proxyNodeName(node);
  for (const n of nodes) if (n.name === name) return n;
  return null;
}

/**
 * Per-family context. The zone comes from the Node object kube-proxy watches when it is known
 * (its labels are what kube-proxy reads), else from NodeFacts.zone.
 */
export function buildFamilyContexts(
  config: KubeProxyConfig,
  node: NodeFacts,
  ownNode: Node | null,
  options: ComputeOptions = {},
): FamilyContext[] {
  const cidrs = resolveNodePortAddresses(config.nodePortAddresses, ownNode);
  const families = options.families ?? DEFAULT_FAMILIES;
  return DEFAULT_FAMILIES.filter((f) => families.includes(f)).map((family) => ({
    family,
    scheduler: effectiveScheduler(config),
    nodePortIPs: nodePortIPs(cidrs, node, family),
    boundElsewhere: localAddressesExceptKubeIpvs0(node, family),
    nodeName: proxyNodeName(node),
    zone: ownNode ? ownNode.zone : node.zone,
    preferSameTrafficDistribution: options.preferSameTrafficDistribution ?? false,
    nodeIP: proxierNodeIP(primaryNodeIP(ownNode, family), family),
  }));
}

/** The cluster objects computeDesiredState reads; a ClusterSnapshot fits. */
export type ClusterObjects = Pick<ClusterSnapshot, 'services' | 'endpointSlices' | 'nodes'>;

/**
 * The full desired state. Later duplicates of a Service or EndpointSlice (same namespace/name)
 * replace earlier ones; EndpointSlices whose Service is absent are ignored, as in kube-proxy.
 */
export function computeDesiredState(
  cluster: ClusterObjects,
  config: KubeProxyConfig,
  node: NodeFacts,
  options: ComputeOptions = {},
): DesiredState {
  const contexts = buildFamilyContexts(config, node, findOwnNode(cluster.nodes, node), options);
  const services = new Map<string, Service>();
  for (const svc of cluster.services) services.set(namespacedKey(svc.namespace, svc.name), svc);
  const slicesByName = new Map<string, EndpointSlice>();
  for (const slice of cluster.endpointSlices) slicesByName.set(namespacedKey(slice.namespace, slice.name), slice);
  const slicesByService = new Map<string, EndpointSlice[]>();
  for (const slice of slicesByName.values()) {
    const key = namespacedKey(slice.namespace, slice.serviceName);
    const list = slicesByService.get(key);
    if (list) list.push(slice);
    else slicesByService.set(key, [slice]);
  }
  const index = new DesiredStateIndex();
  for (const [key, svc] of services) index.add(serviceResult(svc, slicesByService.get(key) ?? [], contexts));
  return index.build(config.excludeCIDRs, contexts.map((c) => c.family));
}
