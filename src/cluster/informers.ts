/**
 * The Kubernetes edge: client-node 1.4 ListWatch informers for Services, EndpointSlices, this Node and
 * the kube-proxy ConfigMap, with kube-proxy's selectors (cmd/kube-proxy/app/server.go). Every object
 * is converted to the model as it arrives (cached.ts): the informer caches, and the events hand on,
 * its identity and its converted form only.
 *
 * Lists are ListWatch's listFn, ours to supply: one plain GET per page with client-node's own
 * request options (KubeConfig.applyToFetchOptions and node-fetch, exactly as its Watch does), each
 * page converted as it is parsed. client-node's generated list APIs would deserialize every object
 * into model classes first (and load the whole generated API — see client-node.ts).
 *
 * What client-node 1.4 leaves to us (dist/cache.js, dist/watch.js):
 * - a list or watch error fires 'error' and the informer stops for good (cache.js doneHandler): we
 *   restart it with capped exponential backoff; it resumes the watch from its last resourceVersion;
 * - 410 Gone (ERROR event or HTTP 410) clears the resourceVersion and relists by itself;
 * - it never asks for bookmarks nor sets timeoutSeconds, and its 30 s client timeout is overwritten
 *   (watch.js), so a half-open connection would hang forever: we add both, and abort a watch that
 *   outlives its timeoutSeconds;
 * - an exception thrown by an event handler is swallowed with the event (watch.js), so onChange is
 *   guarded here.
 */
import type { KubeConfig, KubernetesListObject } from '@kubernetes/client-node';
import fetch from 'node-fetch';
import { STATUS_CODES } from '../util/node-http.js';
import { ListWatch } from './client-node.js';
import { InstrumentedWatch, type WatchHooks } from './instrumented-watch.js';
import { LABEL_HEADLESS, LABEL_SERVICE_PROXY_NAME } from './model.js';
import { toCached, type CachedObject, type ClusterResource, type ConvertedByResource } from './cached.js';

export { makeKubeConfig } from './kubeconfig.js';

export type { CachedObject, ClusterResource } from './cached.js';
export type ClusterEventType = 'add' | 'update' | 'delete';

/** An object as the informer caches it; on delete, the last version it cached. */
export type ClusterEvent = {
  [R in ClusterResource]: { type: ClusterEventType; resource: R; object: CachedObject<ConvertedByResource[R]> };
}[ClusterResource];

type LogFn = (obj: Record<string, unknown>, msg: string) => void;
export interface ClusterWatchLogger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  factor?: number;
  /** ± fraction of randomness on each delay, so a fleet of agents does not reconnect in step. */
  jitter?: number;
}

export interface ClusterWatchOptions {
  kubeConfig: KubeConfig;
  nodeName: string;
  logger?: ClusterWatchLogger;
  onChange: (event: ClusterEvent) => void;
  backoff?: BackoffOptions;
  /** Server-side lifetime of one watch; default random 300–600 s, as client-go's reflector. */
  watchTimeoutSeconds?: number;
  /** How long past its timeoutSeconds a watch may stay open before it is taken for dead. Default 30 s. */
  watchStallGraceMs?: number;
  /** limit for chunked lists; default 500 as client-go's pager. */
  listPageSize?: number;
  kubeProxyConfigMap?: { namespace: string; name: string };
  now?: () => Date;
}

export interface ResourceWatchStatus {
  /** The first list has been delivered through onChange. */
  synced: boolean;
  resourceVersion: string;
  lastContact: Date | null;
  lastError: string | null;
  lastErrorAt: Date | null;
  /** First failure since the last successful contact; null while healthy. */
  unreachableSince: Date | null;
  /** Informer restarts after errors. */
  restarts: number;
  /** Full lists done (the first one, and relists after 410 Gone). */
  lists: number;
}

export interface ClusterWatchStatus {
  synced: boolean;
  perResource: Record<ClusterResource, ResourceWatchStatus>;
  /** The latest error of a resource that is currently failing; null when all are healthy. */
  lastError: string | null;
  /** The earliest unreachableSince among resources; null when all are healthy. */
  unreachableSince: Date | null;
}

export interface ClusterWatch {
  status(): ClusterWatchStatus;
  /** Resolves once every resource has delivered its first list. */
  whenSynced(): Promise<void>;
  /** The informer's cache of one resource. */
  cached(resource: ClusterResource): readonly CachedObject<unknown>[];
  stop(): Promise<void>;
}

/** kube-proxy's informer selector for Services and EndpointSlices (labels.Selector.String() order). */
export const KUBE_PROXY_LABEL_SELECTOR = `!${LABEL_HEADLESS},!${LABEL_SERVICE_PROXY_NAME}`;

const RESOURCES: readonly ClusterResource[] = ['service', 'endpointslice', 'node', 'configmap'];

/** One list page; client-go's list has no client timeout, but a half-open connection must not hang the informer. */
const LIST_TIMEOUT_MS = 60_000;

/** The message of a Kubernetes Status body, else the body text (first line, bounded), else the reason phrase. */
function statusDetail(status: number, body: string): string {
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    if (typeof parsed.message === 'string' && parsed.message !== '') return parsed.message;
  } catch {
    // not JSON: fall through to the text
  }
  const line = body.split('\n', 1)[0]?.trim().slice(0, 200) ?? '';
  return line !== '' ? line : (STATUS_CODES[status] ?? '');
}

/** What one informer lists and watches: the collection's path and the selectors both requests carry. */
interface WatchRequest {
  path: string;
  labelSelector?: string;
  fieldSelector?: string;
}

interface ResourceSpec<R extends ClusterResource> extends WatchRequest {
  resource: R;
  emit: (type: ClusterEventType, object: CachedObject<ConvertedByResource[R]>) => void;
}

/**
 * What each informer asks for: Services and EndpointSlices with kube-proxy's label selector
 * (cmd/kube-proxy/app/server.go), and by name only this node's Node and the kube-proxy ConfigMap.
 */
function kubeProxyRequests(nodeName: string, cm: { namespace: string; name: string }): Record<ClusterResource, WatchRequest> {
  return {
    service: { path: '/api/v1/services', labelSelector: KUBE_PROXY_LABEL_SELECTOR },
    endpointslice: { path: '/apis/discovery.k8s.io/v1/endpointslices', labelSelector: KUBE_PROXY_LABEL_SELECTOR },
    node: { path: '/api/v1/nodes', fieldSelector: `metadata.name=${nodeName}` },
    configmap: { path: `/api/v1/namespaces/${encodeURIComponent(cm.namespace)}/configmaps`, fieldSelector: `metadata.name=${cm.name}` },
  };
}

interface Shared {
  kubeConfig: KubeConfig;
  logger: ClusterWatchLogger | undefined;
  now: () => Date;
  backoff: Required<BackoffOptions>;
  timeoutSeconds: () => number;
  stallGraceMs: number;
  pageSize: number;
  onSynced: () => void;
}

/** A list request the API server answered with an error status; `detail` is its Status message or body text. */
export class ApiStatusError extends Error {
  constructor(
    readonly statusCode: number,
    readonly detail: string,
  ) {
    super(`HTTP ${statusCode}${detail ? `: ${detail}` : ''}`);
    this.name = 'ApiStatusError';
  }
}

function isGone(err: unknown): boolean {
  return err instanceof ApiStatusError && err.statusCode === 410;
}

/** One line for a person. */
export function describeError(err: unknown): string {
  if (err instanceof ApiStatusError) return err.message;
  if (err instanceof Error) {
    const status = (err as { statusCode?: unknown }).statusCode;
    return typeof status === 'number' ? `HTTP ${status} ${err.message}` : err.message;
  }
  return String(err);
}

class ResourceWatch<R extends ClusterResource, T extends CachedObject<ConvertedByResource[R]> = CachedObject<ConvertedByResource[R]>> {
  private readonly informer: ListWatch<T>;
  private readonly watch: InstrumentedWatch;
  private stopped = false;
  private listApplied = false;
  private failures = 0;
  /** The stall guard aborted the watch: the abort error that follows is not news. */
  private stalled = false;
  private restartTimer: NodeJS.Timeout | undefined;
  readonly state: ResourceWatchStatus = {
    synced: false,
    resourceVersion: '',
    lastContact: null,
    lastError: null,
    lastErrorAt: null,
    unreachableSince: null,
    restarts: 0,
    lists: 0,
  };

  constructor(
    private readonly spec: ResourceSpec<R>,
    private readonly shared: Shared,
  ) {
    const hooks: WatchHooks = {
      starting: () => this.watchStarting(),
      opened: () => this.contact(),
      event: (phase, obj) => this.watchEvent(phase, obj),
      stalled: () => {
        this.stalled = true;
        this.record(new Error(`watch still open ${shared.stallGraceMs} ms past its timeoutSeconds; connection taken for dead`));
      },
    };
    this.watch = new InstrumentedWatch(shared.kubeConfig, hooks, shared.timeoutSeconds, shared.stallGraceMs, (obj) => toCached(spec.resource, obj));
    this.informer = new ListWatch<T>(spec.path, this.watch, () => this.list(), false, spec.labelSelector, spec.fieldSelector);
    this.informer.on('add', (obj) => this.emit('add', obj));
    this.informer.on('update', (obj) => this.emit('update', obj));
    this.informer.on('delete', (obj) => this.emit('delete', obj));
    this.informer.on('error', (err: unknown) => this.failed(err));
  }

  start(): void {
    this.informer.start().catch((err: unknown) => this.failed(err));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    await this.informer.stop();
    this.watch.abortAll();
  }

  cached(): readonly T[] {
    return this.informer.list();
  }

  status(): ResourceWatchStatus {
    return { ...this.state, resourceVersion: this.informer.latestResourceVersion() };
  }

  private emit(type: ClusterEventType, obj: T): void {
    if (obj.problem !== null && type !== 'delete') {
      const { namespace, name } = obj.metadata;
      this.shared.logger?.warn({ resource: this.spec.resource, namespace, name, err: obj.problem }, 'cluster object not understood; the model ignores it');
    }
    try {
      this.spec.emit(type, obj);
    } catch (err) {
      this.shared.logger?.error({ resource: this.spec.resource, event: type, err: describeError(err) }, 'cluster event handler failed');
    }
  }

  /** A full list, in pages; an expired continue token falls back to one unpaged list, as client-go's pager. */
  private async list(): Promise<KubernetesListObject<T>> {
    const { pageSize } = this.shared;
    let page = await this.listPage(pageSize, undefined);
    const items: T[] = page.items;
    while (page.continueToken) {
      try {
        page = await this.listPage(pageSize, page.continueToken);
      } catch (err) {
        if (!isGone(err)) throw err;
        this.shared.logger?.info({ resource: this.spec.resource }, 'list continue token expired; listing without pages');
        page = await this.listPage(undefined, undefined);
        items.length = 0;
      }
      for (const item of page.items) items.push(item);
    }
    this.contact();
    this.state.lists++;
    this.listApplied = true;
    return { metadata: { resourceVersion: page.resourceVersion }, items };
  }

  /** One page of the list: GET path?labelSelector&fieldSelector&limit&continue, items projected. */
  private async listPage(limit: number | undefined, continueToken: string | undefined): Promise<{ items: T[]; resourceVersion: string; continueToken: string }> {
    const { kubeConfig } = this.shared;
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('no current cluster in the kubeconfig');
    const url = new URL(cluster.server + this.spec.path);
    const query: Record<string, string | number | undefined> = {
      labelSelector: this.spec.labelSelector,
      fieldSelector: this.spec.fieldSelector,
      limit,
      continue: continueToken,
    };
    for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, String(value));
    const init = await kubeConfig.applyToFetchOptions({ method: 'GET' });
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), LIST_TIMEOUT_MS);
    try {
      const response = await fetch(url, { ...init, method: 'GET', signal: controller.signal });
      const text = await response.text();
      if (response.status !== 200) throw new ApiStatusError(response.status, statusDetail(response.status, text));
      const list = JSON.parse(text) as { items?: unknown; metadata?: { resourceVersion?: unknown; continue?: unknown } };
      const items = Array.isArray(list.items) ? list.items.map((item) => toCached(this.spec.resource, item) as T) : [];
      const meta = list.metadata ?? {};
      return {
        items,
        resourceVersion: typeof meta.resourceVersion === 'string' ? meta.resourceVersion : '',
        continueToken: typeof meta.continue === 'string' ? meta.continue : '',
      };
    } catch (err) {
      if (controller.signal.aborted) throw new Error(`list ${this.spec.path} timed out after ${LIST_TIMEOUT_MS / 1000} s`, { cause: err });
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  private watchStarting(): void {
    this.stalled = false;
    if (!this.listApplied) return;
    this.listApplied = false;
    if (!this.state.synced) {
      this.state.synced = true;
      this.shared.logger?.info({ resource: this.spec.resource, objects: this.informer.list().length }, 'cluster cache synced');
      this.shared.onSynced();
    }
  }

  private watchEvent(phase: string, obj: unknown): void {
    this.contact();
    if (phase !== 'ERROR') return;
    const status = obj as { code?: unknown; reason?: unknown; message?: unknown };
    const text = `watch ERROR ${String(status.code)} ${String(status.reason)}: ${String(status.message)}`;
    if (status.code === 410) {
      this.shared.logger?.info({ resource: this.spec.resource, reason: text }, 'resourceVersion expired; relisting');
    } else {
      this.state.lastError = text;
      this.state.lastErrorAt = this.shared.now();
    }
  }

  private contact(): void {
    const now = this.shared.now();
    this.state.lastContact = now;
    this.failures = 0;
    if (this.state.unreachableSince !== null) {
      const downMs = now.getTime() - this.state.unreachableSince.getTime();
      this.shared.logger?.info({ resource: this.spec.resource, downMs }, 'cluster watch recovered');
      this.state.unreachableSince = null;
    }
  }

  private record(err: unknown): void {
    const now = this.shared.now();
    this.state.lastError = describeError(err);
    this.state.lastErrorAt = now;
    if (this.state.unreachableSince === null) {
      this.state.unreachableSince = now;
      this.shared.logger?.warn({ resource: this.spec.resource, err: this.state.lastError }, 'cluster watch failing; retrying with backoff');
    } else {
      this.shared.logger?.debug({ resource: this.spec.resource, err: this.state.lastError }, 'cluster watch still failing');
    }
  }

  /** client-node fired 'error': its informer has stopped and will not come back by itself. */
  private failed(err: unknown): void {
    if (this.stopped) return;
    if (this.stalled) this.stalled = false;
    else this.record(err);
    if (this.restartTimer) return;
    const { initialMs, maxMs, factor, jitter } = this.shared.backoff;
    const base = Math.min(maxMs, initialMs * factor ** this.failures);
    const delay = Math.max(0, base * (1 + jitter * (2 * Math.random() - 1)));
    this.failures++;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopped) return;
      this.state.restarts++;
      this.start();
    }, delay);
  }
}

export function startClusterWatch(options: ClusterWatchOptions): ClusterWatch {
  const { kubeConfig, nodeName, onChange } = options;
  const cm = options.kubeProxyConfigMap ?? { namespace: 'kube-system', name: 'kube-proxy' };
  const waiters: (() => void)[] = [];
  const fixedTimeout = options.watchTimeoutSeconds;
  const shared: Shared = {
    kubeConfig,
    logger: options.logger,
    now: options.now ?? (() => new Date()),
    backoff: { initialMs: 1000, maxMs: 30_000, factor: 2, jitter: 0.2, ...options.backoff },
    timeoutSeconds: () => fixedTimeout ?? 300 + Math.floor(Math.random() * 300),
    stallGraceMs: options.watchStallGraceMs ?? 30_000,
    pageSize: options.listPageSize ?? 500,
    onSynced: () => {
      if (!watches.every((w) => w.state.synced)) return;
      for (const resolve of waiters.splice(0)) resolve();
    },
  };
  const requests = kubeProxyRequests(nodeName, cm);
  const watchOf = <R extends ClusterResource>(resource: R): ResourceWatch<R> =>
    new ResourceWatch<R>(
      {
        resource,
        ...requests[resource],
        // The event of resource R: TypeScript cannot narrow the ClusterEvent union by a generic R.
        emit: (type, object) => onChange({ type, resource, object } as ClusterEvent),
      },
      shared,
    );
  const byResource: { [R in ClusterResource]: ResourceWatch<R> } = {
    service: watchOf('service'),
    endpointslice: watchOf('endpointslice'),
    node: watchOf('node'),
    configmap: watchOf('configmap'),
  };
  const watches = RESOURCES.map((r) => byResource[r]);
  for (const w of watches) w.start();

  return {
    status(): ClusterWatchStatus {
      const perResource = Object.fromEntries(RESOURCES.map((r) => [r, byResource[r].status()])) as Record<ClusterResource, ResourceWatchStatus>;
      const failing = RESOURCES.filter((r) => perResource[r].unreachableSince !== null);
      const since = failing.map((r) => perResource[r].unreachableSince?.getTime() ?? Infinity);
      const latest = failing.sort((a, b) => (perResource[b].lastErrorAt?.getTime() ?? 0) - (perResource[a].lastErrorAt?.getTime() ?? 0))[0];
      return {
        synced: RESOURCES.every((r) => perResource[r].synced),
        perResource,
        lastError: latest !== undefined ? `${latest}: ${perResource[latest].lastError ?? 'unknown error'}` : null,
        unreachableSince: since.length > 0 ? new Date(Math.min(...since)) : null,
      };
    },
    whenSynced(): Promise<void> {
      if (watches.every((w) => w.state.synced)) return Promise.resolve();
      return new Promise((resolve) => waiters.push(resolve));
    },
    cached(resource: ClusterResource): readonly CachedObject<unknown>[] {
      return byResource[resource].cached();
    },
    async stop(): Promise<void> {
      await Promise.all(watches.map((w) => w.stop()));
    },
  };
}
