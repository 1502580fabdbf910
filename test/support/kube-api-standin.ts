/**
 * A small Kubernetes API server stand-in over plain HTTP, faithful to what the real apiserver does for
 * the four resources the agent watches, so the real @kubernetes/client-node informers can be driven
 * against it (no mocking of client-node).
 *
 * Mirrors, from k8s.io/apiserver: list with a global resourceVersion and limit/continue chunking
 * (consistent snapshot; 410 "Expired" for a continue token older than the compaction), label and
 * field selectors, watch as newline-delimited JSON events replayed from `resourceVersion`, objects
 * moving in/out of a selector turning into ADDED/DELETED, BOOKMARK events only with
 * `allowWatchBookmarks=true`, `timeoutSeconds`, and a history window: a watch from a version older
 * than the window gets one ERROR event (Status 410 Expired, HTTP 200) and the stream ends.
 * Test controls are methods, not HTTP. It does not load client-node (slow to load in the guest):
 * standinKubeConfig() (./standin-kubeconfig.ts) gives the KubeConfig that points at it.
 *
 * Faults, for the agent's hostile-API tests: injectFaults() answers matching requests with an error
 * Status, an exact body (an empty, `null` or garbage 200 watch), a truncated answer, or no answer at
 * all; sendRawLine() writes any line into the open watches of a kind.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type StandinKind = 'Service' | 'EndpointSlice' | 'Node' | 'ConfigMap';

/** A Kubernetes object as JSON on the wire. */
export interface WireObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; resourceVersion?: string; [key: string]: unknown };
  [key: string]: unknown;
}

export interface StandinRequest {
  method: string;
  path: string;
  query: Record<string, string>;
}

export interface KubeApiStandinOptions {
  /** Interval of BOOKMARK events on watches that allow them; 0 disables. Default 1000 ms. */
  bookmarkIntervalMs?: number;
  /** Events kept for watch replay; older versions get 410 Expired. Default 1000. */
  historyLimit?: number;
  /** Port on 127.0.0.1; default an ephemeral one. */
  port?: number;
}

interface ResourceInfo {
  kind: StandinKind;
  prefix: string;
  plural: string;
  apiVersion: string;
  namespaced: boolean;
}

const RESOURCES: readonly ResourceInfo[] = [
  { kind: 'Service', prefix: '/api/v1', plural: 'services', apiVersion: 'v1', namespaced: true },
  { kind: 'EndpointSlice', prefix: '/apis/discovery.k8s.io/v1', plural: 'endpointslices', apiVersion: 'discovery.k8s.io/v1', namespaced: true },
  { kind: 'Node', prefix: '/api/v1', plural: 'nodes', apiVersion: 'v1', namespaced: false },
  { kind: 'ConfigMap', prefix: '/api/v1', plural: 'configmaps', apiVersion: 'v1', namespaced: true },
];

function resourceOf(kind: StandinKind): ResourceInfo {
  const info = RESOURCES.find((r) => r.kind === kind);
  if (!info) throw new Error(`unknown kind ${kind}`);
  return info;
}

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

interface HistoryEvent {
  rv: number;
  kind: StandinKind;
  type: EventType;
  object: WireObject;
  /** The object before a MODIFIED, to turn selector transitions into ADDED/DELETED. */
  previous: WireObject | null;
}

interface Watcher {
  kind: StandinKind;
  matches: (obj: WireObject) => boolean;
  res: http.ServerResponse;
  timers: NodeJS.Timeout[];
  /** A half-open connection: nothing more is sent, the stream never ends. */
  frozen: boolean;
}

interface ListSnapshot {
  rv: number;
  items: WireObject[];
}

/** What a matching request gets instead of its real answer. */
export type StandinFault =
  /** An error Status with this HTTP code, as the apiserver sends one. */
  | { status: number }
  /** The request is accepted and never answered (until the client gives up or the stand-in stops). */
  | { hang: true }
  /** Exactly this body, then the end: '' (an empty 200 watch), 'null', garbage, a cut-off event line. */
  | { body: string; status?: number }
  /** A list or get: the real answer, of which only the first `truncate` bytes are sent before the connection is cut. */
  | { truncate: number };

/** Takes a request (answering it, perhaps later) and returns true, or leaves it to the next: false. */
export type StandinExtension = (req: http.IncomingMessage, res: http.ServerResponse, request: StandinRequest) => boolean;

export type StandinMatch = (request: StandinRequest & { watch: boolean }) => boolean;

interface InjectedFault {
  remaining: number;
  fault: StandinFault;
  match: StandinMatch;
}

class HttpError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

function statusObject(code: number, reason: string, message: string): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function keyOf(obj: WireObject): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

// ---- selectors (k8s.io/apimachinery/pkg/labels and pkg/fields, the subset clients send) ----

type LabelPredicate = (labels: Record<string, string>) => boolean;

function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

const KEY = String.raw`[A-Za-z0-9][-A-Za-z0-9_./]*`;
const VALUE = String.raw`[-A-Za-z0-9_.]*`;

export function parseLabelSelector(selector: string): LabelPredicate {
  const predicates: LabelPredicate[] = splitTopLevel(selector).map((term) => {
    let m = new RegExp(`^!\\s*(${KEY})$`).exec(term);
    if (m?.[1]) {
      const key = m[1];
      return (labels) => !(key in labels);
    }
    m = new RegExp(`^(${KEY})\\s+(in|notin)\\s*\\(([^)]*)\\)$`).exec(term);
    if (m?.[1] && m[2]) {
      const key = m[1];
      const values = new Set((m[3] ?? '').split(',').map((v) => v.trim()));
      if (m[2] === 'in') return (labels) => key in labels && values.has(labels[key] ?? '');
      return (labels) => !(key in labels) || !values.has(labels[key] ?? '');
    }
    m = new RegExp(`^(${KEY})\\s*(==|!=|=)\\s*(${VALUE})$`).exec(term);
    if (m?.[1] && m[2]) {
      const key = m[1];
      const value = m[3] ?? '';
      if (m[2] === '!=') return (labels) => labels[key] !== value;
      return (labels) => labels[key] === value;
    }
    m = new RegExp(`^(${KEY})$`).exec(term);
    if (m?.[1]) {
      const key = m[1];
      return (labels) => key in labels;
    }
    throw new HttpError(400, 'BadRequest', `unable to parse requirement: ${JSON.stringify(term)}`);
  });
  return (labels) => predicates.every((p) => p(labels));
}

export function parseFieldSelector(selector: string): (obj: WireObject) => boolean {
  const predicates = splitTopLevel(selector).map((term) => {
    const m = /^([A-Za-z.]+)\s*(==|!=|=)\s*(.*)$/.exec(term);
    if (!m?.[1] || !m[2]) throw new HttpError(400, 'BadRequest', `invalid field selector: ${JSON.stringify(term)}`);
    const field = m[1];
    const value = m[3] ?? '';
    if (field !== 'metadata.name' && field !== 'metadata.namespace') {
      throw new HttpError(400, 'BadRequest', `field label not supported: ${field}`);
    }
    const get = (obj: WireObject): string => (field === 'metadata.name' ? obj.metadata.name : (obj.metadata.namespace ?? ''));
    return m[2] === '!=' ? (obj: WireObject) => get(obj) !== value : (obj: WireObject) => get(obj) === value;
  });
  return (obj) => predicates.every((p) => p(obj));
}

// ---- routing ----

interface Route {
  resource: ResourceInfo;
  namespace: string | null;
  name: string | null;
}

function route(pathname: string): Route | null {
  for (const resource of RESOURCES) {
    if (!pathname.startsWith(`${resource.prefix}/`)) continue;
    const parts = pathname.slice(resource.prefix.length + 1).split('/').map(decodeURIComponent);
    if (resource.namespaced && parts[0] === 'namespaces' && parts[1] && parts[2] === resource.plural && parts.length <= 4) {
      return { resource, namespace: parts[1], name: parts[3] ?? null };
    }
    if (parts[0] === resource.plural && parts.length <= 2 && (parts.length === 1 || !resource.namespaced)) {
      return { resource, namespace: null, name: parts[1] ?? null };
    }
  }
  return null;
}

export class KubeApiStandin {
  private readonly bookmarkIntervalMs: number;
  private readonly historyLimit: number;
  private readonly store = new Map<StandinKind, Map<string, WireObject>>(RESOURCES.map((r) => [r.kind, new Map()]));
  private history: HistoryEvent[] = [];
  private rv = 1;
  /** Watches from a resourceVersion below this get 410 Expired; continue tokens too. */
  private compactedRv = 1;
  private readonly watchers = new Set<Watcher>();
  private readonly snapshots = new Map<string, ListSnapshot>();
  private readonly sockets = new Set<Socket>();
  private readonly injected: InjectedFault[] = [];
  private readonly log: StandinRequest[] = [];
  /** performance.now() of each request in `log`. */
  private readonly logTimes: number[] = [];
  /** Answers to cut after this many bytes (a `truncate` fault). */
  private readonly cuts = new WeakMap<http.ServerResponse, number>();
  private server: http.Server | null = null;
  private boundPort = 0;
  /** Resources served by modules of their own (use()), asked before the built-in ones. */
  private readonly extensions: StandinExtension[] = [];

  private constructor(options: KubeApiStandinOptions) {
    this.bookmarkIntervalMs = options.bookmarkIntervalMs ?? 1000;
    this.historyLimit = options.historyLimit ?? 1000;
    this.boundPort = options.port ?? 0;
  }

  /** Listen on 127.0.0.1, on `options.port` or an ephemeral port. */
  static async start(options: KubeApiStandinOptions = {}): Promise<KubeApiStandin> {
    const standin = new KubeApiStandin(options);
    await standin.start();
    return standin;
  }

  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    return `http://127.0.0.1:${this.boundPort}`;
  }

  /** (Re)start listening on the same port, keeping all state, so clients can reconnect. */
  async start(): Promise<void> {
    if (this.server) return;
    const server = http.createServer((req, res) => this.handle(req, res));
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.boundPort, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.boundPort = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Close the listener and drop every connection, in-flight watches included, without a clean end. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    for (const watcher of this.watchers) this.dropWatcher(watcher);
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get running(): boolean {
    return this.server !== null;
  }

  get resourceVersion(): string {
    return String(this.rv);
  }

  /** Requests seen so far (method, path, query), oldest first. */
  get requests(): readonly StandinRequest[] {
    return [...this.log];
  }

  /** Requests seen so far with the performance.now() they arrived at, oldest first. */
  get timedRequests(): readonly (StandinRequest & { at: number })[] {
    return this.log.map((r, i) => ({ ...r, at: this.logTimes[i] ?? 0 }));
  }

  clearRequests(): void {
    this.log.length = 0;
    this.logTimes.length = 0;
  }

  /** Open watch streams, optionally of one kind. */
  watchCount(kind?: StandinKind): number {
    return [...this.watchers].filter((w) => kind === undefined || w.kind === kind).length;
  }

  /** Answer the next `count` matching requests with an error Status (default 500 InternalError). */
  injectErrors(count: number, options: { status?: number; match?: StandinMatch } = {}): void {
    this.injectFaults(count, { status: options.status ?? 500 }, options.match);
  }

  /** Answer the next `count` (Infinity: every) matching requests with `fault`; the earliest injection that matches wins. */
  injectFaults(count: number, fault: StandinFault, match: StandinMatch = () => true): void {
    this.injected.push({ remaining: count, fault, match });
  }

  /** Serve more of the API from a module of its own (e.g. ./kube-api-events.ts); injected faults still come first. */
  use(extension: StandinExtension): void {
    this.extensions.push(extension);
  }

  /** Forget every injected fault that is left: the API is healthy again. */
  healFaults(): void {
    this.injected.length = 0;
  }

  /** Write one raw line (a newline is added) into every open watch of `kind`; returns how many got it. */
  sendRawLine(kind: StandinKind, line: string): number {
    let sent = 0;
    for (const watcher of this.watchers) {
      if (watcher.kind !== kind || watcher.frozen) continue;
      watcher.res.write(`${line}\n`);
      sent++;
    }
    return sent;
  }

  list(kind: StandinKind): WireObject[] {
    return [...(this.store.get(kind)?.values() ?? [])].map(clone);
  }

  get(kind: StandinKind, name: string, namespace?: string): WireObject | undefined {
    const obj = this.store.get(kind)?.get(`${namespace ?? ''}/${name}`);
    return obj ? clone(obj) : undefined;
  }

  create(kind: StandinKind, input: WireObject): WireObject {
    const info = resourceOf(kind);
    const obj = this.normalise(info, input);
    const objects = this.objects(kind);
    if (objects.has(keyOf(obj))) throw new Error(`${kind} ${keyOf(obj)} already exists`);
    obj.metadata.uid = randomUUID();
    obj.metadata.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    return this.commit(kind, 'ADDED', obj, null);
  }

  update(kind: StandinKind, input: WireObject): WireObject {
    const info = resourceOf(kind);
    const obj = this.normalise(info, input);
    const previous = this.objects(kind).get(keyOf(obj));
    if (!previous) throw new Error(`${kind} ${keyOf(obj)} not found`);
    obj.metadata.uid = previous.metadata.uid;
    obj.metadata.creationTimestamp = previous.metadata.creationTimestamp;
    return this.commit(kind, 'MODIFIED', obj, previous);
  }

  delete(kind: StandinKind, ref: { name: string; namespace?: string }): WireObject {
    const info = resourceOf(kind);
    const key = `${info.namespaced ? (ref.namespace ?? 'default') : ''}/${ref.name}`;
    const previous = this.objects(kind).get(key);
    if (!previous) throw new Error(`${kind} ${key} not found`);
    // The DELETED event carries the last state with the deletion's resourceVersion, as etcd3 does.
    return this.commit(kind, 'DELETED', clone(previous), previous);
  }

  /** Make every open watch behave like a half-open TCP connection: silent, never ending (timeoutSeconds ignored). */
  freezeWatches(): void {
    for (const watcher of this.watchers) {
      watcher.frozen = true;
      for (const timer of watcher.timers) clearTimeout(timer);
    }
  }

  /** Forget the event history: any watch from an older resourceVersion (and older continue tokens) gets 410. */
  compactHistory(): void {
    this.history = [];
    this.compactedRv = this.rv;
  }

  // ---- state ----

  private objects(kind: StandinKind): Map<string, WireObject> {
    const objects = this.store.get(kind);
    if (!objects) throw new Error(`unknown kind ${kind}`);
    return objects;
  }

  private normalise(info: ResourceInfo, input: WireObject): WireObject {
    const obj = clone(input);
    obj.apiVersion = info.apiVersion;
    obj.kind = info.kind;
    if (info.namespaced) obj.metadata.namespace ??= 'default';
    else delete obj.metadata.namespace;
    return obj;
  }

  private commit(kind: StandinKind, type: EventType, obj: WireObject, previous: WireObject | null): WireObject {
    this.rv++;
    obj.metadata.resourceVersion = String(this.rv);
    const objects = this.objects(kind);
    if (type === 'DELETED') objects.delete(keyOf(obj));
    else objects.set(keyOf(obj), obj);
    const event: HistoryEvent = { rv: this.rv, kind, type, object: clone(obj), previous: previous ? clone(previous) : null };
    this.history.push(event);
    while (this.history.length > this.historyLimit) {
      const dropped = this.history.shift();
      if (dropped) this.compactedRv = dropped.rv;
    }
    for (const watcher of this.watchers) if (watcher.kind === kind) this.send(watcher, event);
    return clone(obj);
  }

  // ---- HTTP ----

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://standin');
    const query = Object.fromEntries(url.searchParams);
    const request: StandinRequest = { method: req.method ?? 'GET', path: url.pathname, query };
    this.log.push(request);
    this.logTimes.push(performance.now());
    const watch = query.watch === 'true' || query.watch === '1';
    try {
      const injected = this.injected.find((e) => e.remaining > 0 && e.match({ ...request, watch }));
      if (injected) {
        injected.remaining--;
        const { fault } = injected;
        if ('status' in fault && !('body' in fault)) {
          const reason = ({ 500: 'InternalError', 410: 'Expired', 403: 'Forbidden', 429: 'TooManyRequests' } as Record<number, string>)[fault.status];
          throw new HttpError(fault.status, reason ?? 'Unknown', 'injected error from the test');
        }
        if ('hang' in fault) return;
        if ('body' in fault) {
          res.writeHead(fault.status ?? 200, { 'content-type': 'application/json' });
          res.end(fault.body);
          return;
        }
        this.cuts.set(res, fault.truncate);
      }
      if (this.extensions.some((extension) => extension(req, res, request))) return;
      if (request.method !== 'GET') throw new HttpError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
      const target = route(url.pathname);
      if (!target) throw new HttpError(404, 'NotFound', 'the server could not find the requested resource');
      if (target.name !== null && !watch) return this.getOne(target, target.name, res);
      const labels = parseLabelSelector(query.labelSelector ?? '');
      const fields = parseFieldSelector(query.fieldSelector ?? '');
      const name = target.name;
      const matches = (obj: WireObject): boolean =>
        (target.namespace === null || obj.metadata.namespace === target.namespace) &&
        (name === null || obj.metadata.name === name) &&
        labels(obj.metadata.labels ?? {}) &&
        fields(obj);
      if (watch) return this.watch(target.resource, matches, query, res);
      return this.listPage(target.resource, matches, query, res);
    } catch (err) {
      const e = err instanceof HttpError ? err : new HttpError(500, 'InternalError', String(err));
      this.json(res, e.code, statusObject(e.code, e.reason, e.message));
    }
  }

  private json(res: http.ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    const cut = this.cuts.get(res);
    if (cut === undefined) {
      res.end(text);
      return;
    }
    // The promised length never arrives: the client sees the connection cut mid-body.
    res.write(Buffer.from(text).subarray(0, cut), () => res.destroy());
  }

  private getOne(target: Route, name: string, res: http.ServerResponse): void {
    const obj = this.objects(target.resource.kind).get(`${target.namespace ?? ''}/${name}`);
    if (!obj) throw new HttpError(404, 'NotFound', `${target.resource.plural} "${name}" not found`);
    this.json(res, 200, obj);
  }

  private listPage(resource: ResourceInfo, matches: (obj: WireObject) => boolean, query: Record<string, string>, res: http.ServerResponse): void {
    let snapshot: ListSnapshot;
    let start = 0;
    if (query.continue) {
      let token: { id?: unknown; start?: unknown; rv?: unknown };
      try {
        token = JSON.parse(Buffer.from(query.continue, 'base64url').toString('utf8')) as typeof token;
      } catch {
        throw new HttpError(400, 'BadRequest', 'continue key is not valid: invalid token');
      }
      const found = typeof token.id === 'string' ? this.snapshots.get(token.id) : undefined;
      if (!found || typeof token.start !== 'number') throw new HttpError(400, 'BadRequest', 'continue key is not valid');
      if (found.rv < this.compactedRv) {
        throw new HttpError(
          410,
          'Expired',
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
        );
      }
      snapshot = found;
      start = token.start;
    } else {
      const items = [...this.objects(resource.kind).values()].filter(matches).sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
      snapshot = { rv: this.rv, items };
    }
    const limit = Number(query.limit ?? '0');
    const end = limit > 0 ? Math.min(start + limit, snapshot.items.length) : snapshot.items.length;
    // List items carry no kind/apiVersion, as the apiserver's typed lists do.
    const items = snapshot.items.slice(start, end).map((obj) => {
      const { kind: _kind, apiVersion: _apiVersion, ...rest } = obj;
      return rest;
    });
    const metadata: Record<string, unknown> = { resourceVersion: String(snapshot.rv) };
    if (end < snapshot.items.length) {
      const id = randomUUID();
      this.snapshots.set(id, snapshot);
      metadata.continue = Buffer.from(JSON.stringify({ id, start: end, rv: snapshot.rv })).toString('base64url');
      // The apiserver only knows the remaining count when no selector filtered the list.
      if (!query.labelSelector && !query.fieldSelector) metadata.remainingItemCount = snapshot.items.length - end;
    }
    this.json(res, 200, { kind: `${resource.kind}List`, apiVersion: resource.apiVersion, metadata, items });
  }

  private watch(resource: ResourceInfo, matches: (obj: WireObject) => boolean, query: Record<string, string>, res: http.ServerResponse): void {
    const fromText = query.resourceVersion ?? '';
    const from = fromText === '' || fromText === '0' ? null : Number(fromText);
    if (from !== null && !Number.isSafeInteger(from)) throw new HttpError(400, 'BadRequest', `invalid resource version: ${fromText}`);
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache, private' });
    res.flushHeaders();
    if (from !== null && from < this.compactedRv) {
      // The apiserver reports an expired version as an event on a 200 stream, then ends the stream.
      const status = statusObject(410, 'Expired', `too old resource version: ${from} (${this.compactedRv})`);
      res.end(`${JSON.stringify({ type: 'ERROR', object: status })}\n`);
      return;
    }
    const watcher: Watcher = { kind: resource.kind, matches, res, timers: [], frozen: false };
    if (from === null) {
      // No version (or "0"): synthetic ADDED events for the current state, then live events.
      for (const obj of this.objects(resource.kind).values()) {
        if (matches(obj)) this.write(watcher, 'ADDED', obj);
      }
    } else {
      // A version newer than ours would make the apiserver wait for it; here it simply means "nothing yet".
      for (const event of this.history) if (event.kind === resource.kind && event.rv > from) this.send(watcher, event);
    }
    this.watchers.add(watcher);
    if (query.allowWatchBookmarks === 'true' && this.bookmarkIntervalMs > 0) {
      const bookmark = (): void => {
        const object = { kind: resource.kind, apiVersion: resource.apiVersion, metadata: { resourceVersion: String(this.rv) } };
        res.write(`${JSON.stringify({ type: 'BOOKMARK', object })}\n`);
      };
      watcher.timers.push(setInterval(bookmark, this.bookmarkIntervalMs));
    }
    const timeoutSeconds = Number(query.timeoutSeconds ?? '0');
    if (timeoutSeconds > 0) {
      watcher.timers.push(
        setTimeout(() => {
          this.dropWatcher(watcher);
          res.end();
        }, timeoutSeconds * 1000),
      );
    }
    res.on('close', () => this.dropWatcher(watcher));
  }

  private dropWatcher(watcher: Watcher): void {
    for (const timer of watcher.timers) clearTimeout(timer);
    this.watchers.delete(watcher);
  }

  /** Send one history event through a watcher's selector, as the apiserver's cacher does. */
  private send(watcher: Watcher, event: HistoryEvent): void {
    const now = event.type !== 'DELETED' && watcher.matches(event.object);
    const before = event.previous !== null && watcher.matches(event.previous);
    if (event.type === 'ADDED' && now) this.write(watcher, 'ADDED', event.object);
    if (event.type === 'DELETED' && before) this.write(watcher, 'DELETED', event.object);
    if (event.type === 'MODIFIED') {
      if (now && before) this.write(watcher, 'MODIFIED', event.object);
      else if (now) this.write(watcher, 'ADDED', event.object);
      else if (before && event.previous) {
        // Left the selector: the cacher sends the old object stamped with the event's version.
        const gone = clone(event.previous);
        gone.metadata.resourceVersion = String(event.rv);
        this.write(watcher, 'DELETED', gone);
      }
    }
  }

  private write(watcher: Watcher, type: EventType, object: WireObject): void {
    if (watcher.frozen) return;
    watcher.res.write(`${JSON.stringify({ type, object })}\n`);
  }
}
