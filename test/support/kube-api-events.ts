/**
 * events.k8s.io/v1 Events and the nodes/status subresource for the API stand-in
 * (./kube-api-standin.ts, registered with use()), answering as the apiserver does:
 * - POST .../namespaces/<ns>/events: 201 with the stored object (uid, resourceVersion,
 *   creationTimestamp); 409 AlreadyExists for a taken name; 400 BadRequest when the body's namespace
 *   is not the path's; 422 Invalid for what events.k8s.io/v1 validation refuses (a missing or over
 *   128-character reportingController, reportingInstance, action or reason, a note over 1 kB, no
 *   eventTime, a type other than Normal or Warning) — pkg/apis/core/validation/events.go;
 * - PATCH .../events/<name> (strategic merge, merge): 200, or 404 NotFound;
 * - GET of one Event, a namespace's or every namespace's list;
 * - PATCH /api/v1/nodes/<name>/status: strategic merge (conditions merged by `type`) or merge patch
 *   (lists replaced); only `status` changes; 404 for an unknown Node; a MODIFIED watch event follows.
 * Any other patch type is 415 UnsupportedMediaType. Status bodies are the apiserver's.
 */
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { KubeApiStandin, StandinRequest, WireObject } from './kube-api-standin.js';

const EVENTS = /^\/apis\/events\.k8s\.io\/v1\/(?:namespaces\/([^/]+)\/)?events(?:\/([^/]+))?$/;
const NODE_STATUS = /^\/api\/v1\/nodes\/([^/]+)\/status$/;
const PATCH_TYPES = ['application/strategic-merge-patch+json', 'application/merge-patch+json'];

class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: http.ServerResponse, err: ApiError): void {
  send(res, err.code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: err.message, reason: err.reason, ...(err.details ? { details: err.details } : {}), code: err.code });
}

async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new ApiError(400, 'BadRequest', `the body of the request was in an unknown format: ${String(err)}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ApiError(400, 'BadRequest', 'the body of the request is not a JSON object');
  return value as Record<string, unknown>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** RFC 7386 merge patch; with `strategic`, lists of objects with a `type` (conditions) merge by it. */
export function mergePatch(target: unknown, patch: unknown, strategic: boolean): unknown {
  if (!isObject(patch)) {
    if (strategic && Array.isArray(patch) && Array.isArray(target) && patch.every((p) => isObject(p) && typeof p.type === 'string')) {
      const merged = [...(target as unknown[])];
      for (const item of patch as Record<string, unknown>[]) {
        const at = merged.findIndex((t) => isObject(t) && t.type === item.type);
        if (at >= 0) merged[at] = mergePatch(merged[at], item, strategic);
        else merged.push(item);
      }
      return merged;
    }
    return structuredClone(patch);
  }
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value, strategic);
  }
  return out;
}

function invalid(name: string, causes: { field: string; message: string }[]): ApiError {
  const text = causes.map((c) => `${c.field}: ${c.message}`).join(', ');
  return new ApiError(422, 'Invalid', `Event.events.k8s.io "${name}" is invalid: ${text}`, {
    name,
    group: 'events.k8s.io',
    kind: 'Event',
    causes: causes.map((c) => ({ reason: 'FieldValueInvalid', message: c.message, field: c.field })),
  });
}

/**
 * metav1.MicroTime decodes with exactly six fractional digits (RFC3339Micro, kubernetes#94748): any
 * other string fails the decoding, a 400 before validation.
 */
function decodeMicroTimes(event: Record<string, unknown>): void {
  const times = [['eventTime', event.eventTime], ['series.lastObservedTime', isObject(event.series) ? event.series.lastObservedTime : undefined]] as const;
  for (const [field, value] of times) {
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string' || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(?:Z|[+-]\d\d:\d\d)$/.test(value)) {
      throw new ApiError(400, 'BadRequest', `Event in version "v1" cannot be handled as a Event: ${field}: parsing time ${JSON.stringify(value)} as "2006-01-02T15:04:05.000000Z07:00": cannot parse`);
    }
  }
}

function validateEvent(event: Record<string, unknown>, name: string): void {
  decodeMicroTimes(event);
  const causes: { field: string; message: string }[] = [];
  for (const field of ['reportingController', 'reportingInstance', 'action', 'reason']) {
    const value = event[field];
    if (typeof value !== 'string' || value === '') causes.push({ field, message: 'Required value' });
    else if (value.length > 128) causes.push({ field, message: `Too long: may not be more than 128 bytes` });
  }
  if (event.eventTime === undefined || event.eventTime === null) causes.push({ field: 'eventTime', message: 'Required value' });
  if (typeof event.note === 'string' && Buffer.byteLength(event.note) > 1024) causes.push({ field: 'note', message: 'Too long: may not be more than 1024 bytes' });
  if (event.type !== 'Normal' && event.type !== 'Warning') causes.push({ field: 'type', message: `Unsupported value: ${JSON.stringify(event.type)}: supported values: "Normal", "Warning"` });
  if (!isObject(event.regarding) || typeof event.regarding.kind !== 'string') causes.push({ field: 'regarding', message: 'Required value' });
  if (isObject(event.series)) {
    if (typeof event.series.count !== 'number' || event.series.count < 2) causes.push({ field: 'series.count', message: 'should be at least 2' });
    if (typeof event.series.lastObservedTime !== 'string') causes.push({ field: 'series.lastObservedTime', message: 'Required value' });
  }
  if (causes.length > 0) throw invalid(name, causes);
}

export interface EventsStandin {
  /** Every stored Event, oldest first. */
  events(): WireObject[];
}

export function installEventsApi(api: KubeApiStandin): EventsStandin {
  const store = new Map<string, WireObject>();
  let rv = 0;
  const stamp = (obj: WireObject): WireObject => {
    obj.metadata.resourceVersion = String(++rv);
    return obj;
  };

  const patchType = (req: http.IncomingMessage): string => {
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
    if (!PATCH_TYPES.includes(type)) throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.join(', ')}`);
    return type;
  };

  const events = async (req: http.IncomingMessage, res: http.ServerResponse, namespace: string | null, name: string | null): Promise<void> => {
    const key = `${namespace ?? ''}/${name ?? ''}`;
    if (req.method === 'GET') {
      if (name !== null) {
        const found = store.get(key);
        if (!found) throw new ApiError(404, 'NotFound', `events.events.k8s.io "${name}" not found`, { name, group: 'events.k8s.io', kind: 'events' });
        return send(res, 200, found);
      }
      const items = [...store.values()].filter((e) => namespace === null || e.metadata.namespace === namespace);
      return send(res, 200, { kind: 'EventList', apiVersion: 'events.k8s.io/v1', metadata: { resourceVersion: String(rv) }, items });
    }
    if (namespace === null) throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    if (req.method === 'POST' && name === null) {
      const body = await readJson(req);
      const metadata = isObject(body.metadata) ? body.metadata : {};
      if (metadata.namespace !== undefined && metadata.namespace !== namespace) {
        throw new ApiError(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
      }
      const eventName = typeof metadata.name === 'string' ? metadata.name : '';
      if (eventName === '') throw invalid('', [{ field: 'metadata.name', message: 'name or generateName is required' }]);
      validateEvent(body, eventName);
      const created = `${namespace}/${eventName}`;
      if (store.has(created)) throw new ApiError(409, 'AlreadyExists', `events.events.k8s.io "${eventName}" already exists`, { name: eventName, group: 'events.k8s.io', kind: 'events' });
      const obj = stamp({ ...body, apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { ...metadata, name: eventName, namespace, uid: randomUUID(), creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z') } });
      store.set(created, obj);
      return send(res, 201, obj);
    }
    if (req.method === 'PATCH' && name !== null) {
      const type = patchType(req);
      const patch = await readJson(req);
      const found = store.get(key);
      if (!found) throw new ApiError(404, 'NotFound', `events.events.k8s.io "${name}" not found`, { name, group: 'events.k8s.io', kind: 'events' });
      const patched = mergePatch(found, patch, type.startsWith('application/strategic')) as WireObject;
      patched.metadata = { ...found.metadata };
      validateEvent(patched, name);
      store.set(key, stamp(patched));
      return send(res, 200, patched);
    }
    throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
  };

  const nodeStatus = async (req: http.IncomingMessage, res: http.ServerResponse, name: string): Promise<void> => {
    if (req.method === 'GET') {
      const node = api.get('Node', name);
      if (!node) throw new ApiError(404, 'NotFound', `nodes "${name}" not found`, { name, kind: 'nodes' });
      return send(res, 200, node);
    }
    if (req.method !== 'PATCH') throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    const type = patchType(req);
    const patch = await readJson(req);
    const node = api.get('Node', name);
    if (!node) throw new ApiError(404, 'NotFound', `nodes "${name}" not found`, { name, kind: 'nodes' });
    // The status subresource takes only the status from a patch.
    const status = mergePatch(node.status ?? {}, isObject(patch.status) ? patch.status : {}, type.startsWith('application/strategic'));
    return send(res, 200, api.update('Node', { ...node, status }));
  };

  api.use((req: http.IncomingMessage, res: http.ServerResponse, request: StandinRequest) => {
    const event = EVENTS.exec(request.path);
    const status = event ? null : NODE_STATUS.exec(request.path);
    if (!event && !status) return false;
    const work = event
      ? events(req, res, event[1] ? decodeURIComponent(event[1]) : null, event[2] ? decodeURIComponent(event[2]) : null)
      : nodeStatus(req, res, decodeURIComponent(status?.[1] ?? ''));
    work.catch((err: unknown) => sendError(res, err instanceof ApiError ? err : new ApiError(500, 'InternalError', String(err))));
    return true;
  });

  return { events: () => [...store.values()].map((e) => structuredClone(e)) };
}
