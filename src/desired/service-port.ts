/**
 * Per service-port fields kube-proxy derives for one IP family (docs/kube-proxy-rules.md §0.2;
 * pkg/proxy/serviceport.go, pkg/proxy/servicechangetracker.go, pkg/api/v1/service/util.go).
 */
import type { Service } from '../cluster/model.js';
import type { ServicePortRef } from '../drift/types.js';
import type { AddressFamily, Protocol } from '../ipvs/types.js';

export interface ServicePortInfo {
  ref: ServicePortRef;
  family: AddressFamily;
  clusterIP: string;
  port: number;
  protocol: Protocol;
  nodePort: number;
  externalIPs: string[];
  loadBalancerVIPs: string[];
  /** ClientIP affinity: the persistence timeout; null without affinity. */
  stickyMaxAgeSeconds: number | null;
  externalPolicyLocal: boolean;
  internalPolicyLocal: boolean;
  usesClusterEndpoints: boolean;
  usesLocalEndpoints: boolean;
}

/** Family of a canonical address (the model only holds canonical, valid addresses). */
export function familyOfCanonical(address: string): AddressFamily {
  return address.includes(':') ? 'inet6' : 'inet';
}

/** ShouldSkipService: headless (clusterIP "" or "None") and ExternalName Services are never proxied. */
export function shouldSkipService(svc: Service): boolean {
  return svc.clusterIP === '' || svc.clusterIP === 'None' || svc.type === 'ExternalName';
}

/** ExternallyAccessible in pkg/api/v1/service/util.go: by type, looking at all externalIPs. */
function externallyAccessibleByType(svc: Service): boolean {
  return svc.type === 'LoadBalancer' || svc.type === 'NodePort' || (svc.type === 'ClusterIP' && svc.externalIPs.length > 0);
}

/** The service ports of a Service in family F; empty when skipped or without a ClusterIP of F. */
export function servicePortsForFamily(svc: Service, family: AddressFamily): ServicePortInfo[] {
  if (shouldSkipService(svc)) return [];
  const clusterIP = svc.clusterIPs.find((ip) => familyOfCanonical(ip) === family);
  if (clusterIP === undefined) return [];
  const externalIPs = svc.externalIPs.filter((ip) => familyOfCanonical(ip) === family);
  const loadBalancerVIPs: string[] = [];
  for (const ing of svc.loadBalancerIngress) {
    // Hostname-only entries and ipMode Proxy are skipped; unset ipMode counts as VIP.
    if (ing.ip === null || ing.ipMode === 'Proxy') continue;
    if (familyOfCanonical(ing.ip) === family) loadBalancerVIPs.push(ing.ip);
  }
  const externalPolicyLocal = externallyAccessibleByType(svc) && svc.externalTrafficPolicy === 'Local';
  const internalPolicyLocal = svc.internalTrafficPolicy === 'Local';
  const stickyMaxAgeSeconds = svc.sessionAffinity === 'ClientIP' ? svc.sessionAffinityTimeoutSeconds : null;
  return svc.ports.map((p) => {
    const externallyAccessible = p.nodePort !== 0 || loadBalancerVIPs.length > 0 || externalIPs.length > 0;
    return {
      ref: { namespace: svc.namespace, name: svc.name, port: p.name },
      family,
      clusterIP,
      port: p.port,
      protocol: p.protocol,
      nodePort: p.nodePort,
      externalIPs,
      loadBalancerVIPs,
      stickyMaxAgeSeconds,
      externalPolicyLocal,
      internalPolicyLocal,
      usesClusterEndpoints: !internalPolicyLocal || externallyAccessible,
      usesLocalEndpoints: internalPolicyLocal || (externalPolicyLocal && externallyAccessible),
    };
  });
}
