/**
 * The virtual servers kube-proxy programs for one Service (docs/kube-proxy-rules.md §1, §1.1, §2.3;
 * syncProxyRules and syncEndpoint in pkg/proxy/ipvs/proxier.go), and the ipset entries the same
 * service ports add (ipsets.ts).
 */
import type { EndpointSlice, Service } from '../cluster/model.js';
import type { AddressFamily } from '../ipvs/types.js';
import { SVC_FLAG } from '../ipvs/flags.js';
import { virtualServerKey } from '../ipvs/identity.js';
import { trimmed } from '../util/trimmed.js';
import { categorizeEndpoints, collectEndpoints } from './endpoints.js';
import type { ServiceEndpoint } from './endpoints.js';
import { servicePortIpsetMembers } from './ipsets.js';
import type { IpsetMembers } from './ipsets.js';
import { servicePortsForFamily } from './service-port.js';
import type { ServicePortInfo } from './service-port.js';
import { sortAddresses } from '../util/sort-key.js';
import type { ExpectedRealServer, ExpectedVirtualServer, UdpServicePort, VirtualServerRole } from './types.js';

/** Everything about this node and configuration one family's computation needs. */
export interface FamilyContext {
  family: AddressFamily;
  /** Effective scheduler (empty → rr already applied). */
  scheduler: string;
  /** Node IPs of this family that get NodePort virtual servers (docs/kube-proxy-rules.md §1.2); empty → none. */
  nodePortIPs: readonly string[];
  /** Addresses of this family on interfaces other than kube-ipvs0: such externalIPs/VIPs are not bound. */
  boundElsewhere: ReadonlySet<string>;
  /** kube-proxy's node name, lower-cased. */
  nodeName: string;
  zone: string | null;
  preferSameTrafficDistribution: boolean;
  /** The proxier's node IP of this family, for KUBE-LOAD-BALANCER-SOURCE-IP (ipsets.ts proxierNodeIP). */
  nodeIP: string;
}

/** One Service's contribution to the desired state, over every family. */
export interface ServiceResult {
  virtualServers: ExpectedVirtualServer[];
  /** Addresses this Service wants on kube-ipvs0 (may repeat). */
  boundAddresses: string[];
  /** Its ipset entries, as (set name, entry) pairs; KUBE-IPVS-IPS comes from boundAddresses instead. */
  ipsetMembers: IpsetMembers;
  /** Its UDP ports with serving endpoints, for the conntrack check (DesiredState.udpServicePorts). */
  udpServicePorts: UdpServicePort[];
}

export const EMPTY_RESULT: ServiceResult = Object.freeze({ virtualServers: [], boundAddresses: [], ipsetMembers: [], udpServicePorts: [] });

function toRealServers(endpoints: readonly ServiceEndpoint[], terminatingFallback: boolean): ExpectedRealServer[] {
  return endpoints.map((ep) => ({
    address: ep.endpoint.address,
    port: ep.port,
    weight: 1,
    terminatingFallback,
    nodeName: ep.endpoint.nodeName,
  }));
}

interface RealServerChoice {
  realServers: ExpectedRealServer[];
  localOnly: boolean;
}

/** The attributes every virtual server of one service port shares (docs/kube-proxy-rules.md §1.1). */
interface Template {
  info: ServicePortInfo;
  ctx: FamilyContext;
  flagBits: number;
  netmask: number;
}

function pushVirtualServer(out: ServiceResult, t: Template, address: string, port: number, role: VirtualServerRole, choice: RealServerChoice): void {
  out.virtualServers.push({
    key: virtualServerKey({ family: t.ctx.family, protocol: t.info.protocol, address, port, fwmark: null }),
    family: t.ctx.family,
    protocol: t.info.protocol,
    address,
    port,
    role,
    scheduler: t.ctx.scheduler,
    flagBits: t.flagBits,
    timeout: t.info.stickyMaxAgeSeconds ?? 0,
    netmask: t.netmask,
    service: t.info.ref,
    localOnly: choice.localOnly,
    realServers: choice.realServers,
  });
}

function servicePortVirtualServers(svc: Service, info: ServicePortInfo, slices: readonly EndpointSlice[], ctx: FamilyContext, out: ServiceResult): void {
  const endpoints = collectEndpoints(slices, info.ref.port, info.protocol, ctx.family, ctx.nodeName);
  servicePortIpsetMembers(svc, info, endpoints, ctx, out.ipsetMembers);
  if (info.protocol === 'UDP') {
    // CleanStaleEntries (pkg/proxy/conntrack/cleanup.go): every serving endpoint, before traffic policies and topology.
    const serving = sortAddresses(endpoints.filter((ep) => ep.endpoint.serving).map((ep) => ep.endpoint.address));
    if (serving.length > 0) {
      out.udpServicePorts.push({
        service: info.ref,
        family: ctx.family,
        frontends: [
          { address: info.clusterIP, role: 'cluster-ip' },
          ...info.loadBalancerVIPs.map((address) => ({ address, role: 'load-balancer' as const })),
          ...info.externalIPs.map((address) => ({ address, role: 'external-ip' as const })),
        ],
        port: info.port,
        nodePort: info.nodePort,
        servingEndpoints: serving,
      });
    }
  }
  const cat = categorizeEndpoints(endpoints, info, ctx.nodeName, ctx.zone, ctx.preferSameTrafficDistribution);
  const cluster: RealServerChoice = { realServers: toRealServers(cat.cluster, cat.clusterTerminatingFallback), localOnly: false };
  // syncEndpoint: "local only" uses local endpoints, and in IPVS mode falls back to the cluster
  // endpoints when there are none (PR #97081). If cluster endpoints were never computed (ITP Local,
  // not externally accessible) that fallback is empty. localOnly records that the Local policy
  // decided the set.
  const local: RealServerChoice =
    cat.local.length > 0
      ? { realServers: toRealServers(cat.local, cat.localTerminatingFallback), localOnly: true }
      : { realServers: cluster.realServers, localOnly: !info.usesClusterEndpoints };
  const internal = info.internalPolicyLocal ? local : cluster;
  const external = info.externalPolicyLocal ? local : cluster;

  let flagBits = ctx.scheduler === 'mh' ? SVC_FLAG.sched2 : 0;
  if (info.stickyMaxAgeSeconds !== null) flagBits |= SVC_FLAG.persistent;
  const t: Template = { info, ctx, flagBits, netmask: ctx.family === 'inet' ? 32 : 128 };

  pushVirtualServer(out, t, info.clusterIP, info.port, 'cluster-ip', internal);
  out.boundAddresses.push(info.clusterIP);
  for (const ip of info.externalIPs) {
    pushVirtualServer(out, t, ip, info.port, 'external-ip', external);
    if (!ctx.boundElsewhere.has(ip)) out.boundAddresses.push(ip);
  }
  for (const ip of info.loadBalancerVIPs) {
    pushVirtualServer(out, t, ip, info.port, 'load-balancer', external);
    if (!ctx.boundElsewhere.has(ip)) out.boundAddresses.push(ip);
  }
  if (info.nodePort !== 0) {
    for (const ip of ctx.nodePortIPs) pushVirtualServer(out, t, ip, info.nodePort, 'node-port', external);
  }
}

/** Every virtual server, kube-ipvs0 address and ipset entry one Service yields, for each family context. */
export function serviceResult(svc: Service, slices: readonly EndpointSlice[], contexts: readonly FamilyContext[]): ServiceResult {
  const out: ServiceResult = { virtualServers: [], boundAddresses: [], ipsetMembers: [], udpServicePorts: [] };
  // Slice-name order makes duplicate-endpoint resolution deterministic (kube-proxy: Go map order).
  const ordered = slices.length > 1 ? [...slices].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) : slices;
  for (const ctx of contexts) {
    for (const info of servicePortsForFamily(svc, ctx.family)) servicePortVirtualServers(svc, info, ordered, ctx, out);
  }
  if (out.virtualServers.length === 0) return EMPTY_RESULT;
  return {
    virtualServers: trimmed(out.virtualServers),
    boundAddresses: trimmed(out.boundAddresses),
    ipsetMembers: trimmed(out.ipsetMembers),
    udpServicePorts: trimmed(out.udpServicePorts),
  };
}
