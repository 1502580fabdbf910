/**
 * Our own small picture of the Kubernetes objects kube-proxy reads (docs/kube-proxy-rules.md §0): only
 * the fields the IPVS desired state depends on, so 10,000 Services stay cheap to hold. Library
 * objects are converted to these at the edge (convert.ts); the core never sees a V1Service.
 */
import type { AddressFamily, Protocol } from '../ipvs/types.js';

export type ServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
export type TrafficPolicy = 'Cluster' | 'Local';
export type SessionAffinity = 'None' | 'ClientIP';

/** API default of sessionAffinityConfig.clientIP.timeoutSeconds (DefaultClientIPServiceAffinitySeconds). */
export const DEFAULT_CLIENT_IP_AFFINITY_SECONDS = 10800;

export interface ServicePort {
  /** "" when the Service port is unnamed. */
  name: string;
  protocol: Protocol;
  port: number;
  /** 0 when none is allocated. */
  nodePort: number;
}

export interface LoadBalancerIngress {
  /** Canonical address, or null for a hostname-only entry. */
  ip: string | null;
  /** null when unset (counts as VIP). */
  ipMode: 'VIP' | 'Proxy' | null;
}

export interface Service {
  namespace: string;
  name: string;
  type: ServiceType;
  /** spec.clusterIP as written: "" or "None" means headless (ShouldSkipService). */
  clusterIP: string;
  /** spec.clusterIPs (falling back to [spec.clusterIP]), canonical, valid addresses only. */
  clusterIPs: string[];
  ports: ServicePort[];
  /** Canonical; entries that are not addresses are dropped. */
  externalIPs: string[];
  loadBalancerIngress: LoadBalancerIngress[];
  sessionAffinity: SessionAffinity;
  /** Effective ClientIP timeout (API default 10800 s); meaningful only with ClientIP affinity. */
  sessionAffinityTimeoutSeconds: number;
  /** null when unset (ClusterIP Services without externalIPs usually leave it unset). */
  externalTrafficPolicy: TrafficPolicy | null;
  /** null when unset, which means Cluster. */
  internalTrafficPolicy: TrafficPolicy | null;
  /** spec.allocateLoadBalancerNodePorts (null = unset = true); nodePort is 0 when false. */
  allocateLoadBalancerNodePorts: boolean | null;
  /**
   * spec.loadBalancerSourceRanges, trimmed, as canonical networks ("10.0.0.0/8"); entries that are
   * not CIDRs are dropped, as kube-proxy's MapCIDRsByIPFamily drops them. serviceFromObject always
   * sets it; absent (hand-built objects) means none.
   */
  loadBalancerSourceRanges?: readonly string[];
  /** spec.healthCheckNodePort, 0 when unset. serviceFromObject always sets it; absent means 0. */
  healthCheckNodePort?: number;
}

export type EndpointAddressType = 'IPv4' | 'IPv6';

export interface EndpointPort {
  /** The slice port name; slice ports without a name are dropped at conversion (kube-proxy skips them). */
  name: string;
  protocol: Protocol;
  /** Already the resolved target port; never 0. */
  port: number;
}

export interface Endpoint {
  /** addresses[0], canonical (kube-proxy ignores the other addresses). */
  address: string;
  family: AddressFamily;
  /** condition ready unset or true. */
  ready: boolean;
  /** condition serving unset or true. */
  serving: boolean;
  /** condition terminating set and true. */
  terminating: boolean;
  nodeName: string | null;
  /** hints.forZones[].name */
  zoneHints: readonly string[];
  /** hints.forNodes[].name */
  nodeHints: readonly string[];
}

export interface EndpointSlice {
  namespace: string;
  name: string;
  /** Label kubernetes.io/service-name. */
  serviceName: string;
  addressType: EndpointAddressType;
  ports: EndpointPort[];
  /** Endpoints without addresses are dropped at conversion. */
  endpoints: Endpoint[];
}

export type NodeAddressType = 'InternalIP' | 'ExternalIP';

export interface NodeAddress {
  type: NodeAddressType;
  /** Canonical. */
  address: string;
}

export interface Node {
  name: string;
  /** Label topology.kubernetes.io/zone, or null. */
  zone: string | null;
  /** status.addresses of type InternalIP / ExternalIP, in API order. */
  addresses: NodeAddress[];
}

export interface ClusterSnapshot {
  services: Service[];
  endpointSlices: EndpointSlice[];
  nodes: Node[];
  /** data["config.conf"] of ConfigMap kube-system/kube-proxy, or null when absent. */
  kubeProxyConfigMap: string | null;
}

export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';
export const LABEL_SERVICE_PROXY_NAME = 'service.kubernetes.io/service-proxy-name';
export const LABEL_HEADLESS = 'service.kubernetes.io/headless';
export const LABEL_TOPOLOGY_ZONE = 'topology.kubernetes.io/zone';

/** "namespace/name", the identity of namespaced objects in the model. */
export function namespacedKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}
