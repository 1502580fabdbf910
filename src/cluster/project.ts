/**
 * What the informer caches keep of each object: the fields convert.ts reads and nothing else, still
 * in the API's wire shape (client-go's informer transform idiom, SetTransform). A real
 * EndpointSlice endpoint carries a targetRef, a zone, hints and every address; a Service carries
 * annotations, managedFields, selectors and status: at 10,000 Services the full objects cost more
 * than the whole desired state. Every list item and watch event is projected once, as it arrives,
 * so the full object is garbage by the next allocation.
 *
 * Invariant (test/unit/cluster/project.test.ts): converting a projection gives exactly what
 * converting the full object gives. Add a field here whenever convert.ts starts reading one.
 */
import type { ClusterResource } from './informers.js';
import { LABEL_HEADLESS, LABEL_SERVICE_NAME, LABEL_SERVICE_PROXY_NAME, LABEL_TOPOLOGY_ZONE } from './model.js';

type Obj = Record<string, unknown>;

function asObj(value: unknown): Obj | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Obj) : undefined;
}

/** The named keys of `from` that are present (undefined stays absent), or undefined when `from` is not an object. */
function pick(from: unknown, keys: readonly string[]): Obj | undefined {
  const o = asObj(from);
  if (o === undefined) return undefined;
  const out: Obj = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

/** Each element of an array projected; a non-array stays as it is (convert treats it as empty). */
function each(value: unknown, project: (item: unknown) => unknown): unknown {
  return Array.isArray(value) ? value.map(project) : value;
}

/** Sets `key` on `out` when `value` is not undefined. */
function put(out: Obj, key: string, value: unknown): void {
  if (value !== undefined) out[key] = value;
}

const OBJECT_META = ['name', 'namespace', 'uid', 'resourceVersion'] as const;

/** name, namespace, uid, resourceVersion (the informer's cache keys and versions) and the labels the model reads. */
function meta(obj: Obj, labelNames: readonly string[]): Obj {
  const out = pick(obj.metadata, OBJECT_META) ?? {};
  const labels = pick(asObj(obj.metadata)?.labels, labelNames);
  if (labels !== undefined && Object.keys(labels).length > 0) out.labels = labels;
  return out;
}

const SELECTOR_LABELS = [LABEL_SERVICE_PROXY_NAME, LABEL_HEADLESS] as const;

export function projectService(obj: Obj): Obj {
  const out: Obj = { metadata: meta(obj, SELECTOR_LABELS) };
  const spec = pick(obj.spec, [
    'type',
    'clusterIP',
    'clusterIPs',
    'externalIPs',
    'sessionAffinity',
    'externalTrafficPolicy',
    'internalTrafficPolicy',
    'allocateLoadBalancerNodePorts',
  ]);
  if (spec !== undefined) {
    const full = obj.spec as Obj;
    put(spec, 'ports', each(full.ports, (p) => pick(p, ['name', 'protocol', 'port', 'nodePort']) ?? p));
    const clientIP = asObj(asObj(full.sessionAffinityConfig)?.clientIP);
    if (clientIP !== undefined) spec.sessionAffinityConfig = { clientIP: pick(clientIP, ['timeoutSeconds']) };
    out.spec = spec;
  }
  const ingress = asObj(asObj(obj.status)?.loadBalancer)?.ingress;
  if (ingress !== undefined) out.status = { loadBalancer: { ingress: each(ingress, (i) => pick(i, ['ip', 'ipMode']) ?? i) } };
  return out;
}

function projectEndpoint(ep: unknown): unknown {
  const o = asObj(ep);
  if (o === undefined) return ep;
  const out: Obj = {};
  // kube-proxy programs addresses[0] only; the rest are never read.
  put(out, 'addresses', Array.isArray(o.addresses) ? o.addresses.slice(0, 1) : o.addresses);
  put(out, 'conditions', pick(o.conditions, ['ready', 'serving', 'terminating']) ?? o.conditions);
  put(out, 'nodeName', o.nodeName);
  const hints = asObj(o.hints);
  if (hints !== undefined) {
    const named = (list: unknown): unknown => each(list, (h) => pick(h, ['name']) ?? h);
    const projected: Obj = {};
    put(projected, 'forZones', named(hints.forZones));
    put(projected, 'forNodes', named(hints.forNodes));
    out.hints = projected;
  }
  return out;
}

export function projectEndpointSlice(obj: Obj): Obj {
  const out: Obj = { metadata: meta(obj, [...SELECTOR_LABELS, LABEL_SERVICE_NAME]) };
  put(out, 'addressType', obj.addressType);
  put(out, 'ports', each(obj.ports, (p) => pick(p, ['name', 'protocol', 'port']) ?? p));
  put(out, 'endpoints', each(obj.endpoints, projectEndpoint));
  return out;
}

export function projectNode(obj: Obj): Obj {
  const out: Obj = { metadata: meta(obj, [LABEL_TOPOLOGY_ZONE]) };
  const addresses = asObj(obj.status)?.addresses;
  if (addresses !== undefined) out.status = { addresses: each(addresses, (a) => pick(a, ['type', 'address']) ?? a) };
  return out;
}

/** The kube-proxy ConfigMap: only data["config.conf"], kube-proxy's configuration file. */
export function projectConfigMap(obj: Obj): Obj {
  const out: Obj = { metadata: meta(obj, []) };
  const data = pick(obj.data, ['config.conf']);
  if (data !== undefined) out.data = data;
  return out;
}

const PROJECTIONS: Record<ClusterResource, (obj: Obj) => Obj> = {
  service: projectService,
  endpointslice: projectEndpointSlice,
  node: projectNode,
  configmap: projectConfigMap,
};

/** The projection of a wire object of `resource`; a value that is not an object is returned as it is. */
export function projectObject<T>(resource: ClusterResource, obj: T): T {
  const o = asObj(obj);
  return o === undefined ? obj : (PROJECTIONS[resource](o) as T);
}
