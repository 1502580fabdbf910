/**
 * What the informers cache per object: the identity ListWatch keys and versions it by, and the
 * object already converted to the model (convert.ts) — nothing of the wire object survives its
 * arrival. A real EndpointSlice endpoint carries a targetRef, a zone, hints and every address, a
 * Service annotations, managedFields, selectors and status; at 10,000 Services the full objects
 * would cost more than the whole desired state, and holding a second, converted copy in the model
 * would double what is left. The model holds the very `converted` objects the caches hold.
 * Pure: wire object in, cached object out.
 */
import { asObj, endpointSliceFromObject, nodeFromObject, serviceFromObject } from './convert.js';
import type { EndpointSlice, Node, Service } from './model.js';

export type ClusterResource = 'service' | 'endpointslice' | 'node' | 'configmap';

/** metadata as ListWatch reads it: namespace/name key the cache, resourceVersion tells versions apart. */
export interface ObjectIdentity {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
}

export interface CachedObject<M> {
  metadata: ObjectIdentity;
  /**
   * The model's form; null when kube-proxy would not use the object (convert.ts returns null) or it
   * could not be converted (`problem` says why). Either way the model treats null as a delete.
   */
  converted: M | null;
  problem: string | null;
}

/** The model form of each resource; the ConfigMap is reduced to data["config.conf"], kube-proxy's configuration file. */
export interface ConvertedByResource {
  service: Service;
  endpointslice: EndpointSlice;
  node: Node;
  configmap: string;
}

function identity(obj: Record<string, unknown> | null): ObjectIdentity {
  const meta = asObj(obj?.metadata) ?? {};
  const out: ObjectIdentity = { name: typeof meta.name === 'string' ? meta.name : '' };
  for (const key of ['namespace', 'uid', 'resourceVersion'] as const) {
    const value = meta[key];
    if (typeof value === 'string') out[key] = value;
  }
  return out;
}

const CONVERTERS: { [R in ClusterResource]: (obj: unknown) => ConvertedByResource[R] | null } = {
  service: serviceFromObject,
  endpointslice: endpointSliceFromObject,
  node: nodeFromObject,
  configmap: (obj) => {
    const text = asObj(asObj(obj)?.data)?.['config.conf'];
    return typeof text === 'string' ? text : null;
  },
};

/** The cached form of a wire object of `resource`; a conversion error is kept as `problem`, never thrown. */
export function toCached<R extends ClusterResource>(resource: R, obj: unknown): CachedObject<ConvertedByResource[R]> {
  const metadata = identity(asObj(obj));
  try {
    return { metadata, converted: CONVERTERS[resource](obj), problem: null };
  } catch (err) {
    return { metadata, converted: null, problem: err instanceof Error ? err.message : String(err) };
  }
}
