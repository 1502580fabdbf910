/**
 * The ipsets kube-proxy's IPVS proxier keeps, and the entries each service port puts in them
 * (docs/kube-proxy-rules.md §3.1). The set list, types and comments are ipsetInfo in
 * pkg/proxy/ipvs/proxier.go with the names and comments of pkg/proxy/ipvs/ipset.go; the entries are
 * what syncProxyRules inserts into each set's activeEntries; their text is Entry.String in
 * pkg/proxy/ipvs/ipset/ipset.go. Read from kube-proxy v1.34/v1.35 (see servicePortIpsetMembers for
 * the one rule that differs in older releases). Pure.
 */
import type { Service } from '../cluster/model.js';
import type { AddressFamily, Protocol } from '../ipvs/types.js';
import { cidrContains, parseCidr } from '../util/ip.js';
import type { ServiceEndpoint } from './endpoints.js';
import { familyOfCanonical } from './service-port.js';
import type { ServicePortInfo } from './service-port.js';

/** The five set types kube-proxy creates (utilipset.HashIP … BitmapPort). */
export type KubeProxyIpsetType = 'hash:ip' | 'hash:ip,port' | 'hash:ip,port,ip' | 'hash:ip,port,net' | 'bitmap:port';

/** Each set's IPv4 name: kube-proxy's constants in pkg/proxy/ipvs/ipset.go. */
export const IPSET = {
  loopBack: 'KUBE-LOOP-BACK',
  clusterIP: 'KUBE-CLUSTER-IP',
  externalIP: 'KUBE-EXTERNAL-IP',
  externalIPLocal: 'KUBE-EXTERNAL-IP-LOCAL',
  loadBalancer: 'KUBE-LOAD-BALANCER',
  loadBalancerFW: 'KUBE-LOAD-BALANCER-FW',
  loadBalancerLocal: 'KUBE-LOAD-BALANCER-LOCAL',
  loadBalancerSourceIP: 'KUBE-LOAD-BALANCER-SOURCE-IP',
  loadBalancerSourceCIDR: 'KUBE-LOAD-BALANCER-SOURCE-CIDR',
  nodePortTCP: 'KUBE-NODE-PORT-TCP',
  nodePortLocalTCP: 'KUBE-NODE-PORT-LOCAL-TCP',
  nodePortUDP: 'KUBE-NODE-PORT-UDP',
  nodePortLocalUDP: 'KUBE-NODE-PORT-LOCAL-UDP',
  nodePortSCTP: 'KUBE-NODE-PORT-SCTP-HASH',
  nodePortLocalSCTP: 'KUBE-NODE-PORT-LOCAL-SCTP-HASH',
  healthCheckNodePort: 'KUBE-HEALTH-CHECK-NODE-PORT',
  ipvsIPs: 'KUBE-IPVS-IPS',
} as const;

export type IpsetKey = keyof typeof IPSET;

/** One set of the catalogue, family-independent. */
export interface KubeProxyIpset {
  key: IpsetKey;
  /** The IPv4 proxier's name (the constant in pkg/proxy/ipvs/ipset.go). */
  base: string;
  type: KubeProxyIpsetType;
  /** The comment kube-proxy gives the set (also the comment of the iptables rule matching it). */
  comment: string;
}

/** Every set each proxier creates at every sync, empty or not, in ipsetInfo's order. */
export const KUBE_PROXY_IPSETS: readonly KubeProxyIpset[] = Object.freeze(
  (
    [
      ['loopBack', 'hash:ip,port,ip', 'Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose'],
      ['clusterIP', 'hash:ip,port', 'Kubernetes service cluster ip + port for masquerade purpose'],
      ['externalIP', 'hash:ip,port', 'Kubernetes service external ip + port for masquerade and filter purpose'],
      ['externalIPLocal', 'hash:ip,port', 'Kubernetes service external ip + port with externalTrafficPolicy=local'],
      ['loadBalancer', 'hash:ip,port', 'Kubernetes service lb portal'],
      ['loadBalancerFW', 'hash:ip,port', 'Kubernetes service load balancer ip + port for load balancer with sourceRange'],
      ['loadBalancerLocal', 'hash:ip,port', 'Kubernetes service load balancer ip + port with externalTrafficPolicy=local'],
      ['loadBalancerSourceIP', 'hash:ip,port,ip', 'Kubernetes service load balancer ip + port + source IP for packet filter purpose'],
      ['loadBalancerSourceCIDR', 'hash:ip,port,net', 'Kubernetes service load balancer ip + port + source cidr for packet filter purpose'],
      ['nodePortTCP', 'bitmap:port', 'Kubernetes nodeport TCP port for masquerade purpose'],
      ['nodePortLocalTCP', 'bitmap:port', 'Kubernetes nodeport TCP port with externalTrafficPolicy=local'],
      ['nodePortUDP', 'bitmap:port', 'Kubernetes nodeport UDP port for masquerade purpose'],
      ['nodePortLocalUDP', 'bitmap:port', 'Kubernetes nodeport UDP port with externalTrafficPolicy=local'],
      ['nodePortSCTP', 'hash:ip,port', "Kubernetes nodeport SCTP port for masquerade purpose with type 'hash ip:port'"],
      ['nodePortLocalSCTP', 'hash:ip,port', "Kubernetes nodeport SCTP port with externalTrafficPolicy=local with type 'hash ip:port'"],
      ['healthCheckNodePort', 'bitmap:port', 'Kubernetes health check node port'],
      ['ipvsIPs', 'hash:ip', 'Addresses on the ipvs interface'],
    ] as const
  ).map(([key, type, comment]) => Object.freeze({ key, base: IPSET[key], type, comment })),
);

/** The longest name the kernel takes (IPSET_MAXNAMELEN 32, with the NUL). */
export const IPSET_NAME_MAX = 31;

/**
 * NewIPSet in pkg/proxy/ipvs/ipset.go: the IPv6 proxier replaces the leading "KUBE-" with "KUBE-6-"
 * and cuts the name to 31 characters (KUBE-6-LOAD-BALANCER-SOURCE-CID); IPv4 names are unchanged.
 */
export function ipsetName(base: string, family: AddressFamily): string {
  if (family === 'inet' || !base.startsWith('KUBE-')) return base;
  return `KUBE-6-${base.slice('KUBE-'.length)}`.slice(0, IPSET_NAME_MAX);
}

/** One family's set: its name on the node and what kind of set it is. */
export interface FamilyIpset extends KubeProxyIpset {
  name: string;
  family: AddressFamily;
}

function familyCatalogue(family: AddressFamily): readonly FamilyIpset[] {
  return Object.freeze(KUBE_PROXY_IPSETS.map((set) => Object.freeze({ ...set, name: ipsetName(set.base, family), family })));
}

const CATALOGUE: Readonly<Record<AddressFamily, readonly FamilyIpset[]>> = { inet: familyCatalogue('inet'), inet6: familyCatalogue('inet6') };

const NAMES: Readonly<Record<AddressFamily, Readonly<Record<IpsetKey, string>>>> = {
  inet: Object.fromEntries(CATALOGUE.inet.map((s) => [s.key, s.name])) as Record<IpsetKey, string>,
  inet6: Object.fromEntries(CATALOGUE.inet6.map((s) => [s.key, s.name])) as Record<IpsetKey, string>,
};

/** The sets one family's proxier creates, with their names on the node, in ipsetInfo's order. */
export function ipsetsOfFamily(family: AddressFamily): readonly FamilyIpset[] {
  return CATALOGUE[family];
}

/** The set names of one family, by key: `ipsetNames('inet6').loadBalancerSourceCIDR`. */
export function ipsetNames(family: AddressFamily): Readonly<Record<IpsetKey, string>> {
  return NAMES[family];
}

/** The set of that name, in either family, or undefined when kube-proxy has no such set. */
export function findIpset(name: string): FamilyIpset | undefined {
  return CATALOGUE.inet.find((s) => s.name === name) ?? CATALOGUE.inet6.find((s) => s.name === name);
}

// Entry texts: Entry.String in pkg/proxy/ipvs/ipset/ipset.go, protocol lower-cased as syncProxyRules
// does (strings.ToLower(string(svcInfo.Protocol()))). Addresses are canonical already. Built with
// join, not a template: a template literal leaves a tree of V8 cons strings that a Map key keeps
// alive, about 100 bytes per entry more than the one flat string join makes.

const PROTO: Readonly<Record<Protocol, string>> = { TCP: 'tcp', UDP: 'udp', SCTP: 'sctp' };

/** hash:ip,port — `IP,proto:port`. */
export function ipPortEntry(ip: string, protocol: Protocol, port: number): string {
  return [ip, ',', PROTO[protocol], ':', port].join('');
}

/** hash:ip,port,ip — `IP,proto:port,IP2`. */
export function ipPortIpEntry(ip: string, protocol: Protocol, port: number, ip2: string): string {
  return [ip, ',', PROTO[protocol], ':', port, ',', ip2].join('');
}

/** hash:ip,port,net — `IP,proto:port,NET/LEN`, the net as IPNet.String() prints it (a host net keeps its /32 or /128). */
export function ipPortNetEntry(ip: string, protocol: Protocol, port: number, net: string): string {
  return [ip, ',', PROTO[protocol], ':', port, ',', net].join('');
}

/** bitmap:port — `port`. */
export function portEntry(port: number): string {
  return String(port);
}

/** A desired member in kube-proxy's Entry fields, for callers that want them typed rather than as text. */
export type KubeProxyIpsetEntry =
  | { type: 'hash:ip'; ip: string }
  | { type: 'hash:ip,port'; ip: string; protocol: Protocol; port: number }
  | { type: 'hash:ip,port,ip'; ip: string; protocol: Protocol; port: number; ip2: string }
  | { type: 'hash:ip,port,net'; ip: string; protocol: Protocol; port: number; net: string }
  | { type: 'bitmap:port'; port: number };

/** Entry.String: the text kube-proxy writes for an entry (the same text the functions above build). */
export function ipsetEntryText(entry: KubeProxyIpsetEntry): string {
  switch (entry.type) {
    case 'hash:ip':
      return entry.ip;
    case 'hash:ip,port':
      return ipPortEntry(entry.ip, entry.protocol, entry.port);
    case 'hash:ip,port,ip':
      return ipPortIpEntry(entry.ip, entry.protocol, entry.port, entry.ip2);
    case 'hash:ip,port,net':
      return ipPortNetEntry(entry.ip, entry.protocol, entry.port, entry.net);
    case 'bitmap:port':
      return portEntry(entry.port);
  }
}

/**
 * What one Service contributes to the sets, as a flat list of pairs: set name (a catalogue string,
 * shared), then entry text — [name, entry, name, entry, …]. Pairs rather than objects keep 100,000
 * entries to two array slots each. Entries may repeat across Services (two Services with the same
 * externalIP and port); the merge counts them.
 */
export type IpsetMembers = string[];

/** What one family's computation needs to know about this node for the sets. */
export interface IpsetContext {
  family: AddressFamily;
  /** The node IPs that get NodePort virtual servers (empty: no node ports this sync). */
  nodePortIPs: readonly string[];
  /**
   * The proxier's node IP of this family (detectNodeIPs in cmd/kube-proxy/app/server.go): the
   * Node object's first InternalIP, else ExternalIP, of the family; 127.0.0.1 or ::1 without one.
   * kube-proxy reads it once at start, and a specific --bind-address replaces it for its family;
   * we follow the current Node object and do not know bindAddress (KubeProxyConfig lacks it).
   */
  nodeIP: string;
}

/** loadBalancerSourceRanges of family F; a zero CIDR among them means "allow any", i.e. none (pkg/proxy/serviceport.go). */
function sourceRangesOfFamily(svc: Service, family: AddressFamily): readonly string[] {
  const all = svc.loadBalancerSourceRanges;
  if (all === undefined || all.length === 0) return all ?? [];
  const ofFamily = all.filter((cidr) => familyOfCanonical(cidr) === family);
  return ofFamily.some((cidr) => cidr.endsWith('/0')) ? [] : ofFamily;
}

/**
 * NeedsHealthCheck (pkg/api/v1/service/util.go): a LoadBalancer Service with external policy
 * Local has spec.healthCheckNodePort, which kube-proxy serves and lists; otherwise 0.
 */
export function healthCheckNodePort(svc: Service, info: ServicePortInfo): number {
  return svc.type === 'LoadBalancer' && info.externalPolicyLocal ? (svc.healthCheckNodePort ?? 0) : 0;
}

/**
 * The entries one service port of family F adds, in syncProxyRules' order, appended to `out` as
 * pairs. `endpoints` are all its endpoints of F (collectEndpoints), before categorisation.
 *
 * - KUBE-LOOP-BACK: every local endpoint, ready or not — kube-proxy walks the whole endpointsMap
 *   entry, whose endpoints carry every condition (pkg/proxy/endpointslicecache.go keeps them all).
 * - KUBE-CLUSTER-IP: the ClusterIP and port.
 * - each externalIP goes to KUBE-EXTERNAL-IP-LOCAL when the external policy is Local, else to
 *   KUBE-EXTERNAL-IP — one or the other, never both.
 * - each LB VIP goes to KUBE-LOAD-BALANCER, and also to KUBE-LOAD-BALANCER-LOCAL (external policy
 *   Local); with source ranges of F, to KUBE-LOAD-BALANCER-FW, one KUBE-LOAD-BALANCER-SOURCE-CIDR
 *   entry per range, and `vip,proto:port,vip` in KUBE-LOAD-BALANCER-SOURCE-IP when a range holds
 *   the proxier's node IP (ctx.nodeIP) — the VIP itself as source, not the node IP.
 * - a node port goes to KUBE-NODE-PORT-TCP/-UDP as a port, or for SCTP to KUBE-NODE-PORT-SCTP-HASH
 *   as `nodeIP,sctp:port` for every NodePort node IP; the same entries to the -LOCAL- set with
 *   external policy Local. With no NodePort node IP kube-proxy `continue`s: nothing more for this
 *   service port, not even its health check node port.
 * - KUBE-HEALTH-CHECK-NODE-PORT: the health check node port.
 * KUBE-IPVS-IPS (the kube-ipvs0 addresses) is not per service port: the merge derives it from the
 * bound addresses.
 *
 * Version note: before kube-proxy v1.34 (kubernetes#132722) a zero CIDR (0.0.0.0/0, ::/0) in the
 * source ranges did not void them: kube-proxy wanted it in KUBE-LOAD-BALANCER-SOURCE-CIDR (the
 * kernel refuses a /0 net, so the add failed every sync) along with the other ranges, the VIP in
 * KUBE-LOAD-BALANCER-FW and, the node IP being inside /0, in KUBE-LOAD-BALANCER-SOURCE-IP.
 */
export function servicePortIpsetMembers(svc: Service, info: ServicePortInfo, endpoints: readonly ServiceEndpoint[], ctx: IpsetContext, out: IpsetMembers): void {
  const set = NAMES[ctx.family];
  const { protocol, port } = info;
  for (const ep of endpoints) {
    if (ep.isLocal) out.push(set.loopBack, ipPortIpEntry(ep.endpoint.address, protocol, ep.port, ep.endpoint.address));
  }
  out.push(set.clusterIP, ipPortEntry(info.clusterIP, protocol, port));
  for (const ip of info.externalIPs) out.push(info.externalPolicyLocal ? set.externalIPLocal : set.externalIP, ipPortEntry(ip, protocol, port));
  if (info.loadBalancerVIPs.length > 0) {
    const ranges = sourceRangesOfFamily(svc, ctx.family);
    const allowFromNode = ranges.some((text) => {
      const cidr = parseCidr(text);
      return cidr !== null && cidrContains(cidr, ctx.nodeIP);
    });
    for (const vip of info.loadBalancerVIPs) {
      const entry = ipPortEntry(vip, protocol, port);
      out.push(set.loadBalancer, entry);
      if (info.externalPolicyLocal) out.push(set.loadBalancerLocal, entry);
      if (ranges.length === 0) continue;
      out.push(set.loadBalancerFW, entry);
      for (const cidr of ranges) out.push(set.loadBalancerSourceCIDR, ipPortNetEntry(vip, protocol, port, cidr));
      if (allowFromNode) out.push(set.loadBalancerSourceIP, ipPortIpEntry(vip, protocol, port, vip));
    }
  }
  if (info.nodePort !== 0) {
    if (ctx.nodePortIPs.length === 0) return;
    const local = info.externalPolicyLocal;
    if (protocol === 'SCTP') {
      for (const ip of ctx.nodePortIPs) {
        const entry = ipPortEntry(ip, protocol, info.nodePort);
        out.push(set.nodePortSCTP, entry);
        if (local) out.push(set.nodePortLocalSCTP, entry);
      }
    } else {
      const entry = portEntry(info.nodePort);
      out.push(protocol === 'TCP' ? set.nodePortTCP : set.nodePortUDP, entry);
      if (local) out.push(protocol === 'TCP' ? set.nodePortLocalTCP : set.nodePortLocalUDP, entry);
    }
  }
  const hcnp = healthCheckNodePort(svc, info);
  if (hcnp !== 0) out.push(set.healthCheckNodePort, portEntry(hcnp));
}

/** The proxier's node IP of family F: the Node object's primary address of F, else loopback (detectNodeIPs). */
export function proxierNodeIP(primary: string | null, family: AddressFamily): string {
  return primary ?? (family === 'inet' ? '127.0.0.1' : '::1');
}
