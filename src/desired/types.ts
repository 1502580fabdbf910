import type { AddressFamily, Protocol } from '../ipvs/types.js';
import type { ServicePortRef } from '../drift/types.js';
import type { KubeProxyIpsetType } from './ipsets.js';

/** Which of kube-proxy's virtual-server kinds this is (docs/kube-proxy-rules.md §1). */
export type VirtualServerRole = 'cluster-ip' | 'external-ip' | 'load-balancer' | 'node-port';

export interface ExpectedRealServer {
  address: string;
  port: number;
  /** kube-proxy always programs masq with weight 1 (docs/kube-proxy-rules.md §2.4). */
  weight: 1;
  /** Endpoint condition, for messages: ready, or serving+terminating fallback. */
  terminatingFallback: boolean;
  /** Endpoint's node, when known (for messages). */
  nodeName: string | null;
}

export interface ExpectedVirtualServer {
  key: string;
  family: AddressFamily;
  protocol: Protocol;
  address: string;
  port: number;
  role: VirtualServerRole;
  scheduler: string;
  /** Expected IP_VS_SVC_F_* bits without the hashed bit: persistent 0x1, mh-port 0x10. */
  flagBits: number;
  /** Persistence timeout in seconds (0 unless ClientIP affinity). */
  timeout: number;
  /** /32 or /128. */
  netmask: number;
  service: ServicePortRef;
  /** true when the real-server set came from the Local traffic policy (local endpoints). */
  localOnly: boolean;
  /** Sorted by address, then port. Empty is expected in some cases (docs/kube-proxy-rules.md §2.5) — never drift by itself. */
  realServers: ExpectedRealServer[];
}

export interface DesiredState {
  /** Sorted by key. */
  virtualServers: ExpectedVirtualServer[];
  /** Addresses kube-proxy binds to kube-ipvs0 (docs/kube-proxy-rules.md §1.3), canonical text, sorted. */
  kubeIpvs0Addresses: string[];
  /** ipvs.excludeCIDRs: virtual servers inside these are never kube-proxy's to manage. */
  excludeCIDRs: string[];
  /** Families this node proxies (a family with no node address and no Service is still listed if configured). */
  families: AddressFamily[];
  /**
   * Virtual-server keys claimed by more than one Service port (e.g. two Services with the same
   * externalIP and port). kube-proxy programs them in Go map order, so the kernel flips between
   * the claimants; the entry in `virtualServers` is the winner's. Sorted by key; optional so
   * hand-built states may omit it, computeDesiredState always sets it.
   */
  conflicts?: VirtualServerConflict[];
  /**
   * The ipsets kube-proxy keeps (docs/kube-proxy-rules.md §3.1), by set name: every set of every
   * family in `families` — each proxier creates all of its sets at every sync, so empty ones are
   * listed too. Optional so hand-built states may omit it; computeDesiredState and
   * DesiredStateModel always set it.
   */
  ipsets?: ReadonlyMap<string, DesiredIpset>;
  /**
   * Every UDP Service port with a serving endpoint, per family: what kube-proxy's conntrack cleanup
   * judges UDP entries by (CleanStaleEntries, pkg/proxy/conntrack/cleanup.go). Sorted by Service
   * port, then family. Optional so hand-built states may omit it (no UDP entry is judged then);
   * computeDesiredState and DesiredStateModel always set it.
   */
  udpServicePorts?: readonly UdpServicePort[];
}

/** A UDP Service port as kube-proxy's conntrack cleanup sees it. */
export interface UdpServicePort {
  service: ServicePortRef;
  family: AddressFamily;
  /** Its ClusterIP, load-balancer IPs and externalIPs, each with the role of its virtual server. */
  frontends: readonly { address: string; role: Exclude<VirtualServerRole, 'node-port'> }[];
  /** The port on those addresses. */
  port: number;
  /** Its node port (on any destination address, as kube-proxy matches it), 0 when none. */
  nodePort: number;
  /**
   * The addresses of every serving endpoint of the Service port, ready or terminating, whatever the
   * traffic policies and topology hints leave in its virtual servers — cleanup.go ignores them so that
   * a UDP flow fares as a TCP one. Unique and sorted; never empty (a Service port without serving
   * endpoints is left alone).
   */
  servingEndpoints: readonly string[];
}

/** One set kube-proxy wants on the node (its comment and catalogue key: ipsets.ts findIpset(name)). */
export interface DesiredIpset {
  /** The name on the node: KUBE-… for IPv4, KUBE-6-… cut to 31 characters for IPv6. */
  name: string;
  family: AddressFamily;
  type: KubeProxyIpsetType;
  /** Entry texts as kube-proxy writes them (Entry.String), unique, sorted by code unit. */
  entries: readonly string[];
}

export interface VirtualServerConflict {
  key: string;
  /** The claimant whose virtual server is listed: first by namespace, name, port name. */
  winner: ServicePortRef;
  /** Every distinct Service port claiming the key, sorted by namespace, name, port name. */
  claimants: ServicePortRef[];
}

/** Facts about this node that the desired state depends on. */
export interface NodeFacts {
  /** kube-proxy's node name (hostname-override / spec.nodeName). */
  name: string;
  /** topology.kubernetes.io/zone of the Node object, or null. */
  zone: string | null;
  /** Every address on every interface, for NodePort virtual servers (docs/kube-proxy-rules.md §1.2). */
  interfaces: NodeInterface[];
}

export interface NodeInterface {
  name: string;
  /** Canonical address text and prefix length. */
  addresses: { address: string; prefixLength: number; family: AddressFamily }[];
  loopback: boolean;
}
