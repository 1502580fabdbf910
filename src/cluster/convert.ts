/**
 * Pure converters from Kubernetes objects to the model (model.ts). They accept plain objects as
 * `kubectl get -o yaml|json` prints them and @kubernetes/client-node model instances alike: both
 * use the API's camelCase field names, so the converters only read properties (duck typing) and
 * never depend on a class.
 *
 * A converter returns null for an object kube-proxy never sees or can never use — the label
 * selector of its informers (docs/kube-proxy-rules.md §0.1), EndpointSlices without a Service label or of address type
 * FQDN. An informer edge should treat null like a delete of that object. Filters that depend on
 * the IP family or on the Service type (headless, ExternalName, family of clusterIPs/endpoints)
 * are applied by the desired-state computation instead, which sees every sync's whole picture.
 * Objects that are not Kubernetes objects at all (no metadata.name) throw CLUSTER_STATE_INVALID.
 */
import { SentinelError } from '../errors/index.js';
import type { Protocol } from '../ipvs/types.js';
import { canonicalNetwork } from '../util/cidr.js';
import { addressFamilyOf, canonicalAddress } from '../util/ip.js';
import { trimmed } from '../util/trimmed.js';
import {
  DEFAULT_CLIENT_IP_AFFINITY_SECONDS,
  LABEL_HEADLESS,
  LABEL_SERVICE_NAME,
  LABEL_SERVICE_PROXY_NAME,
  LABEL_TOPOLOGY_ZONE,
} from './model.js';
import type {
  Endpoint,
  EndpointPort,
  EndpointSlice,
  LoadBalancerIngress,
  Node,
  NodeAddress,
  Service,
  ServicePort,
  ServiceType,
  TrafficPolicy,
} from './model.js';

type Obj = Record<string, unknown>;

const NO_STRINGS: readonly string[] = Object.freeze([]);

/** The value as a plain object (not an array), or null. */
export function asObj(value: unknown): Obj | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Obj) : null;
}

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) ? value : null;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function labelsOf(obj: Obj | null): Obj {
  return asObj(asObj(obj?.metadata)?.labels) ?? {};
}

function hasLabel(labels: Obj, name: string): boolean {
  return Object.prototype.hasOwnProperty.call(labels, name);
}

/** namespace/name of any namespaced object, or null when it has none (lets an edge delete on null). */
export function objectName(obj: unknown): { namespace: string; name: string } | null {
  const meta = asObj(asObj(obj)?.metadata);
  const name = str(meta?.name);
  if (name === null || name === '') return null;
  return { namespace: str(meta?.namespace) ?? '', name };
}

function requireName(obj: unknown, kind: string, namespaced: boolean): { namespace: string; name: string } {
  const ref = objectName(obj);
  if (ref === null) throw new SentinelError('CLUSTER_STATE_INVALID', `convert ${kind}`, `${kind} has no metadata.name`);
  if (namespaced && ref.namespace === '') {
    throw new SentinelError('CLUSTER_STATE_INVALID', `convert ${kind}`, `${kind} ${ref.name} has no metadata.namespace`);
  }
  return ref;
}

function protocolOf(value: unknown): Protocol | null {
  // The API server defaults an absent protocol to TCP.
  if (value === undefined || value === null) return 'TCP';
  return value === 'TCP' || value === 'UDP' || value === 'SCTP' ? value : null;
}

function trafficPolicy(value: unknown): TrafficPolicy | null {
  // "Local" is the only value that changes anything; older clusters wrote "Local"/"Cluster" too.
  return value === 'Local' ? 'Local' : value === 'Cluster' ? 'Cluster' : null;
}

function serviceType(value: unknown): ServiceType {
  return value === 'NodePort' || value === 'LoadBalancer' || value === 'ExternalName' ? value : 'ClusterIP';
}

function canonicalAll(values: unknown[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    const text = str(v);
    const canonical = text === null ? null : canonicalAddress(text);
    if (canonical !== null) out.push(canonical);
  }
  return trimmed(out);
}

/** loadBalancerSourceRanges as kube-proxy keeps them: trimmed, parsed as CIDRs (others dropped), canonical networks. */
function sourceRanges(values: unknown[]): readonly string[] {
  const out: string[] = [];
  for (const v of values) {
    const text = str(v);
    const network = text === null ? null : canonicalNetwork(text);
    if (network !== null) out.push(network);
  }
  return out.length === 0 ? NO_STRINGS : trimmed(out);
}

/**
 * A Service, or null when kube-proxy's informer would not deliver it: it carries the label
 * service.kubernetes.io/service-proxy-name (another proxy owns it) or service.kubernetes.io/headless.
 */
export function serviceFromObject(obj: unknown): Service | null {
  const { namespace, name } = requireName(obj, 'Service', true);
  const o = asObj(obj);
  const labels = labelsOf(o);
  if (hasLabel(labels, LABEL_SERVICE_PROXY_NAME) || hasLabel(labels, LABEL_HEADLESS)) return null;
  const spec = asObj(o?.spec);
  const clusterIP = str(spec?.clusterIP) ?? '';
  const rawClusterIPs = list(spec?.clusterIPs);
  const ports: ServicePort[] = [];
  for (const item of list(spec?.ports)) {
    const p = asObj(item);
    const protocol = protocolOf(p?.protocol);
    const port = num(p?.port);
    if (protocol === null || port === null) continue;
    ports.push({ name: str(p?.name) ?? '', protocol, port, nodePort: num(p?.nodePort) ?? 0 });
  }
  const ingress: LoadBalancerIngress[] = [];
  for (const item of list(asObj(asObj(o?.status)?.loadBalancer)?.ingress)) {
    const ing = asObj(item);
    const ipText = str(ing?.ip);
    const mode = ing?.ipMode;
    ingress.push({
      ip: ipText === null || ipText === '' ? null : canonicalAddress(ipText),
      ipMode: mode === 'VIP' || mode === 'Proxy' ? mode : null,
    });
  }
  const affinity = spec?.sessionAffinity === 'ClientIP' ? 'ClientIP' : 'None';
  const timeout = num(asObj(asObj(spec?.sessionAffinityConfig)?.clientIP)?.timeoutSeconds);
  const alloc = spec?.allocateLoadBalancerNodePorts;
  return {
    namespace,
    name,
    type: serviceType(spec?.type),
    clusterIP,
    clusterIPs: canonicalAll(rawClusterIPs.length > 0 ? rawClusterIPs : [clusterIP]),
    ports: trimmed(ports),
    externalIPs: canonicalAll(list(spec?.externalIPs)),
    loadBalancerIngress: trimmed(ingress),
    sessionAffinity: affinity,
    sessionAffinityTimeoutSeconds: timeout ?? DEFAULT_CLIENT_IP_AFFINITY_SECONDS,
    externalTrafficPolicy: trafficPolicy(spec?.externalTrafficPolicy),
    internalTrafficPolicy: trafficPolicy(spec?.internalTrafficPolicy),
    allocateLoadBalancerNodePorts: typeof alloc === 'boolean' ? alloc : null,
    loadBalancerSourceRanges: sourceRanges(list(spec?.loadBalancerSourceRanges)),
    healthCheckNodePort: num(spec?.healthCheckNodePort) ?? 0,
  };
}

function hintNames(entries: unknown[]): readonly string[] {
  if (entries.length === 0) return NO_STRINGS;
  const names: string[] = [];
  for (const e of entries) {
    const n = str(asObj(e)?.name);
    if (n !== null) names.push(n);
  }
  return names.length === 0 ? NO_STRINGS : trimmed(names);
}

function endpointFromObject(item: unknown): Endpoint | null {
  const ep = asObj(item);
  const first = str(list(ep?.addresses)[0]);
  if (first === null) return null;
  const address = canonicalAddress(first);
  const family = address === null ? null : addressFamilyOf(address);
  if (address === null || family === null) return null;
  const conditions = asObj(ep?.conditions);
  const hints = asObj(ep?.hints);
  const nodeName = str(ep?.nodeName);
  return {
    address,
    family,
    ready: conditions?.ready !== false,
    serving: conditions?.serving !== false,
    terminating: conditions?.terminating === true,
    nodeName: nodeName === '' ? null : nodeName,
    zoneHints: hintNames(list(hints?.forZones)),
    nodeHints: hintNames(list(hints?.forNodes)),
  };
}

/**
 * An EndpointSlice, or null when kube-proxy ignores it: the proxy-name or headless label (informer
 * selector), no kubernetes.io/service-name label, or an address type other than IPv4/IPv6.
 * Ports without a name or with no/zero port and endpoints without addresses are dropped, as
 * kube-proxy's EndpointSliceCache does; only addresses[0] is kept.
 */
export function endpointSliceFromObject(obj: unknown): EndpointSlice | null {
  const { namespace, name } = requireName(obj, 'EndpointSlice', true);
  const o = asObj(obj);
  const labels = labelsOf(o);
  if (hasLabel(labels, LABEL_SERVICE_PROXY_NAME) || hasLabel(labels, LABEL_HEADLESS)) return null;
  const serviceName = str(labels[LABEL_SERVICE_NAME]);
  if (serviceName === null || serviceName === '') return null;
  const addressType = o?.addressType;
  if (addressType !== 'IPv4' && addressType !== 'IPv6') return null;
  const ports: EndpointPort[] = [];
  for (const item of list(o?.ports)) {
    const p = asObj(item);
    const portName = str(p?.name);
    const port = num(p?.port);
    const protocol = protocolOf(p?.protocol);
    if (portName === null || port === null || port === 0 || protocol === null) continue;
    ports.push({ name: portName, protocol, port });
  }
  const endpoints: Endpoint[] = [];
  for (const ep of list(o?.endpoints)) {
    const converted = endpointFromObject(ep);
    if (converted !== null) endpoints.push(converted);
  }
  return { namespace, name, serviceName, addressType, ports: trimmed(ports), endpoints: trimmed(endpoints) };
}

/** A Node: name, zone label and its InternalIP/ExternalIP addresses (for `nodePortAddresses: [primary]`). */
export function nodeFromObject(obj: unknown): Node {
  const { name } = requireName(obj, 'Node', false);
  const o = asObj(obj);
  const zone = str(labelsOf(o)[LABEL_TOPOLOGY_ZONE]);
  const addresses: NodeAddress[] = [];
  for (const item of list(asObj(o?.status)?.addresses)) {
    const a = asObj(item);
    const type = a?.type;
    const text = str(a?.address);
    if ((type !== 'InternalIP' && type !== 'ExternalIP') || text === null) continue;
    const address = canonicalAddress(text);
    if (address !== null) addresses.push({ type, address });
  }
  return { name, zone: zone === '' ? null : zone, addresses: trimmed(addresses) };
}
