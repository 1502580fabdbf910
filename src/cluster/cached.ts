/**
 * What the informers cache per object: the identity ListWatch keys and versions it by, and the
 * object already converted to the model (convert.ts) — nothing of the wire object survives its
 * arrival. A real EndpointSlice endpoint carries a targetRef, a zone, hints and every address, a
 * Service annotations, managedFields, selectors and status; at 10,000 Services the full objects
 * would cost more than the whole desired state, and holding a second, converted copy in the model
 * would double what is left. The model holds the very `converted` objects the caches hold.
 * An object without the identity every API object carries is rejected here, before ListWatch keys
 * its cache by it (checkCached). Pure: wire object in, cached object (or a rejection) out.
 */
import { asObj, endpointSliceFromObject, nodeFromObject, serviceFromObject } from './convert.js';
import type { EndpointSlice, Node, Service } from './model.js';

export type ClusterResource = 'service' | 'endpointslice' | 'node' | 'configmap';

/** The kind each resource's objects carry on the wire (list items leave it out). */
export const KIND_OF: Readonly<Record<ClusterResource, string>> = { service: 'Service', endpointslice: 'EndpointSlice', node: 'Node', configmap: 'ConfigMap' };

const NAMESPACED: Readonly<Record<ClusterResource, boolean>> = { service: true, endpointslice: true, node: false, configmap: true };

/** A value from the API, validated: the value, or why it was rejected (one short line, never the value itself). */
export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

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

/** What a value is, for a rejection reason: its JSON type, never its content. */
export function typeName(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

/**
 * The identity every object the API serves has: metadata.name and metadata.resourceVersion, and
 * metadata.namespace for a namespaced kind; a `kind`, when given, of this resource. Without them
 * ListWatch could not key or version it.
 */
function checkIdentity(resource: ClusterResource, value: unknown): string | null {
  const obj = asObj(value);
  if (!obj) return `the object is ${typeName(value)}`;
  if (obj.kind !== undefined && obj.kind !== KIND_OF[resource]) return `kind ${typeof obj.kind === 'string' ? JSON.stringify(obj.kind.slice(0, 40)) : typeName(obj.kind)} where ${KIND_OF[resource]} was asked for`;
  const meta = asObj(obj.metadata);
  if (!meta) return `metadata is ${typeName(obj.metadata)}`;
  if (!nonEmptyString(meta.name)) return 'metadata.name is missing or not a string';
  if (!nonEmptyString(meta.resourceVersion)) return 'metadata.resourceVersion is missing or not a string';
  if (NAMESPACED[resource] ? !nonEmptyString(meta.namespace) : meta.namespace !== undefined && typeof meta.namespace !== 'string') {
    return 'metadata.namespace is missing or not a string';
  }
  if (meta.uid !== undefined && typeof meta.uid !== 'string') return 'metadata.uid is not a string';
  return null;
}

/** The cached form of an object from the API, or why it cannot be cached at all. */
export function checkCached<R extends ClusterResource>(resource: R, obj: unknown): Checked<CachedObject<ConvertedByResource[R]>> {
  const problem = checkIdentity(resource, obj);
  return problem === null ? { ok: true, value: toCached(resource, obj) } : { ok: false, reason: problem };
}

/** The cached form of a wire object of `resource`; a conversion error is kept as `problem`, never thrown. */
export function toCached<R extends ClusterResource>(resource: R, obj: unknown): CachedObject<ConvertedByResource[R]> {
  const metadata = identity(asObj(obj));
  try {
    return { metadata, converted: CONVERTERS[resource](obj), problem: null };
  } catch (err) {
    return { metadata, converted: null, problem: err instanceof Error ? err.message : String(err) };
  }
}
