/**
 * Endpoint ingestion (docs/kube-proxy-rules.md §2.1, pkg/proxy/endpointslicecache.go) and categorisation
 * into cluster and local endpoints (docs/kube-proxy-rules.md §2.2, pkg/proxy/topology.go CategorizeEndpoints).
 */
import type { Endpoint, EndpointSlice } from '../cluster/model.js';
import type { AddressFamily, Protocol } from '../ipvs/types.js';
import { addressSortKey, compareSortKeys } from '../util/sort-key.js';
import type { AddressSortKey } from '../util/sort-key.js';

/** One endpoint of a service port: the slice endpoint, the slice port number, whether it is local. */
export interface ServiceEndpoint {
  endpoint: Endpoint;
  port: number;
  isLocal: boolean;
  sortKey: AddressSortKey;
}

function compareServiceEndpoints(a: ServiceEndpoint, b: ServiceEndpoint): number {
  return compareSortKeys(a.sortKey, b.sortKey) || a.port - b.port;
}

/**
 * All endpoints of one service port in family F: for each slice of the Service (in the order
 * given — callers sort by slice name), each slice port with the same (name, protocol), each
 * endpoint whose addresses[0] is of family F. Duplicates (same IP:port) collapse; the first wins
 * unless a later one is local — kube-proxy's rule, with slice-name order replacing its Go map
 * order. Sorted by address, then port.
 */
export function collectEndpoints(
  slices: readonly EndpointSlice[],
  portName: string,
  protocol: Protocol,
  family: AddressFamily,
  nodeName: string,
): ServiceEndpoint[] {
  const all: ServiceEndpoint[] = [];
  const addressType = family === 'inet' ? 'IPv4' : 'IPv6';
  for (const slice of slices) {
    if (slice.addressType !== addressType) continue;
    for (const sp of slice.ports) {
      if (sp.name !== portName || sp.protocol !== protocol) continue;
      for (const endpoint of slice.endpoints) {
        if (endpoint.family !== family) continue;
        const isLocal = endpoint.nodeName !== null && endpoint.nodeName === nodeName;
        all.push({ endpoint, port: sp.port, isLocal, sortKey: addressSortKey(endpoint.address) });
      }
    }
  }
  // A stable sort keeps slice order among duplicates, so collapsing neighbours keeps the first.
  // (Array.prototype.sort copies the array even when it is in order already.)
  if (!inOrder(all)) all.sort(compareServiceEndpoints);
  let n = 0;
  for (const ep of all) {
    const last = n > 0 ? all[n - 1] : undefined;
    if (last !== undefined && compareServiceEndpoints(last, ep) === 0) {
      if (ep.isLocal) all[n - 1] = ep;
      continue;
    }
    all[n++] = ep;
  }
  all.length = n;
  return all;
}

function inOrder(endpoints: readonly ServiceEndpoint[]): boolean {
  for (let i = 1; i < endpoints.length; i++) if (compareServiceEndpoints(endpoints[i - 1] as ServiceEndpoint, endpoints[i] as ServiceEndpoint) > 0) return false;
  return true;
}

/** The endpoints that pass `keep`: the same array when all do (the usual case), else a filtered copy. */
function keepAll(endpoints: readonly ServiceEndpoint[], keep: (ep: ServiceEndpoint) => boolean): readonly ServiceEndpoint[] {
  let i = 0;
  while (i < endpoints.length && keep(endpoints[i] as ServiceEndpoint)) i++;
  return i === endpoints.length ? endpoints : endpoints.filter(keep);
}

export type TopologyMode = 'PreferSameNode' | 'PreferSameZone' | null;

/**
 * topologyModeFromHints: only ready endpoints are looked at; one ready endpoint without a hint
 * disables that kind of hint for the whole service port.
 */
export function topologyMode(
  endpoints: readonly ServiceEndpoint[],
  nodeName: string,
  zone: string | null,
  preferSameTrafficDistribution: boolean,
): TopologyMode {
  let allNodeHints = true;
  let hasForNode = false;
  let allZoneHints = true;
  let hasForZone = false;
  for (const { endpoint: ep } of endpoints) {
    if (!ep.ready) continue;
    if (ep.nodeHints.length === 0) allNodeHints = false;
    else if (ep.nodeHints.includes(nodeName)) hasForNode = true;
    if (ep.zoneHints.length === 0) allZoneHints = false;
    else if (zone !== null && ep.zoneHints.includes(zone)) hasForZone = true;
  }
  if (preferSameTrafficDistribution && allNodeHints && hasForNode) return 'PreferSameNode';
  if (allZoneHints && hasForZone) return 'PreferSameZone';
  return null;
}

export interface CategorizedEndpoints {
  /** Empty when the service port does not use cluster endpoints. */
  cluster: readonly ServiceEndpoint[];
  /** true when `cluster` is the serving+terminating fallback. */
  clusterTerminatingFallback: boolean;
  /** Empty when the service port does not use local endpoints or has none. */
  local: readonly ServiceEndpoint[];
  localTerminatingFallback: boolean;
}

export interface EndpointUse {
  usesClusterEndpoints: boolean;
  usesLocalEndpoints: boolean;
}

export function categorizeEndpoints(
  endpoints: readonly ServiceEndpoint[],
  use: EndpointUse,
  nodeName: string,
  zone: string | null,
  preferSameTrafficDistribution: boolean,
): CategorizedEndpoints {
  let cluster: readonly ServiceEndpoint[] = [];
  let clusterTerminatingFallback = false;
  if (use.usesClusterEndpoints) {
    const mode = topologyMode(endpoints, nodeName, zone, preferSameTrafficDistribution);
    cluster = keepAll(
      endpoints,
      ({ endpoint: ep }) =>
        ep.ready &&
        (mode === null ||
          (mode === 'PreferSameNode' ? ep.nodeHints.includes(nodeName) : zone !== null && ep.zoneHints.includes(zone))),
    );
    if (cluster.length === 0) {
      // No ready endpoint anywhere: serving+terminating ones, cluster-wide and without topology.
      cluster = endpoints.filter(({ endpoint: ep }) => ep.serving && ep.terminating);
      clusterTerminatingFallback = cluster.length > 0;
    }
  }
  let local: readonly ServiceEndpoint[] = [];
  let localTerminatingFallback = false;
  if (use.usesLocalEndpoints) {
    local = endpoints.filter((ep) => ep.isLocal && ep.endpoint.ready);
    if (local.length === 0) {
      local = endpoints.filter((ep) => ep.isLocal && ep.endpoint.serving && ep.endpoint.terminating);
      localTerminatingFallback = local.length > 0;
    }
  }
  return { cluster, clusterTerminatingFallback, local, localTerminatingFallback };
}
