/**
 * The Kubernetes edge: client-node 1.4 ListWatch informers for Services, EndpointSlices, this Node and
 * the kube-proxy ConfigMap, with kube-proxy's selectors (cmd/kube-proxy/app/server.go). Every object
 * is converted to the model as it arrives (cached.ts): the informer caches, and the events hand on,
 * its identity and its converted form only.
 *
 * Lists are ListWatch's listFn, ours to supply (list.ts); watches are ListWatch's, the request ours
 * (instrumented-watch.ts).
 *
 * What client-node 1.4 leaves to us (dist/cache.js, dist/watch.js):
 * - a list or watch error fires 'error' and the informer stops for good (cache.js doneHandler): we
 *   restart it; it resumes the watch from its last resourceVersion;
 * - after a watch ends it re-watches (or, after 410 Gone, relists) at once, however little the
 *   watch delivered: every list and watch request therefore waits for this informer's backoff
 *   (backoff.ts), which only a watch that proved healthy resets — a 200 answer that is empty,
 *   `null` or garbage counts as a failure, as client-go's reflector counts a "very short watch";
 * - it throws on a watch line that is not an event: lines are validated before it sees them, and a
 *   bad one is skipped and counted (rejectedEvents);
 * - it never asks for bookmarks nor sets timeoutSeconds, and has no timeout until the answer, so a
 *   half-open connection would hang forever: we add both, bound the wait for an answer, and abort a
 *   watch that outlives its timeoutSeconds;
 * - an exception thrown by an event handler is swallowed with the event (watch.js), so onChange is
 *   guarded here.
 */
import type { KubeConfig, KubernetesListObject } from '@kubernetes/client-node';
import { describeError, malformed } from './api-error.js';
import { RetryPacer, type BackoffOptions } from './backoff.js';
import type { CachedObject, ClusterResource, ConvertedByResource } from './cached.js';
import { ListWatch } from './client-node.js';
import { InstrumentedWatch, type WatchEnd, type WatchHooks } from './instrumented-watch.js';
import { isGone, listAll, type ListRequest } from './list.js';
import { LABEL_HEADLESS, LABEL_SERVICE_PROXY_NAME } from './model.js';
import type { WatchEvent } from './watch-event.js';

export { makeKubeConfig } from './kubeconfig.js';
export { ApiStatusError, describeError } from './api-error.js';
export type { BackoffOptions } from './backoff.js';
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
  /** How long the API may take to answer a watch request (status and headers). Default 10 s. */
  watchAnswerTimeoutMs?: number;
  /**
   * A watch open this long counts as contact, and with an event as a healthy one that resets the
   * backoff; one that ends sooner is a failed attempt. Default 1 s, client-go's "very short watch".
   */
  watchHealthyAfterMs?: number;
  /** How long one list page may take, its whole body included. Default 60 s. */
  listTimeoutMs?: number;
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
  /** Watch lines and listed items that failed validation: skipped (a list with one is retried whole). */
  rejectedEvents: number;
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

/** A warning about rejected watch lines at most this often per resource; the rest go to debug with the count. */
const REJECTION_WARN_INTERVAL_MS = 60_000;

interface ResourceSpec<R extends ClusterResource> extends ListRequest {
  resource: R;
  emit: (type: ClusterEventType, object: CachedObject<ConvertedByResource[R]>) => void;
}

/**
 * What each informer asks for: Services and EndpointSlices with kube-proxy's label selector
 * (cmd/kube-proxy/app/server.go), and by name only this node's Node and the kube-proxy ConfigMap.
 */
function kubeProxyRequests(nodeName: string, cm: { namespace: string; name: string }): Record<ClusterResource, ListRequest> {
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
  backoff: BackoffOptions;
  timeoutSeconds: () => number;
  stallGraceMs: number;
  answerTimeoutMs: number;
  healthyAfterMs: number;
  listTimeoutMs: number;
  pageSize: number;
  onSynced: () => void;
}

class ResourceWatch<R extends ClusterResource, T extends CachedObject<ConvertedByResource[R]> = CachedObject<ConvertedByResource[R]>> {
  private readonly informer: ListWatch<T>;
  private readonly watch: InstrumentedWatch<R>;
  private readonly pacer: RetryPacer;
  private stopped = false;
  private listApplied = false;
  /** The stall guard aborted the watch: the abort error that follows is not news. */
  private stalled = false;
  /** The failure ListWatch is about to report was already counted in the backoff. */
  private counted = false;
  private restartPending = false;
  private lastRejectionWarning = -Infinity;
  readonly state: ResourceWatchStatus = {
    synced: false,
    resourceVersion: '',
    lastContact: null,
    lastError: null,
    lastErrorAt: null,
    unreachableSince: null,
    restarts: 0,
    lists: 0,
    rejectedEvents: 0,
  };

  constructor(
    private readonly spec: ResourceSpec<R>,
    private readonly shared: Shared,
  ) {
    this.pacer = new RetryPacer(shared.backoff);
    const hooks: WatchHooks<R> = {
      starting: () => this.watchStarting(),
      pace: () => this.pacer.wait(),
      healthy: (events) => {
        this.contact();
        if (events > 0) this.pacer.succeeded();
      },
      event: (event, openMs) => this.watchEvent(event, openMs),
      rejected: (reason) => this.rejected(reason),
      stalled: () => {
        this.stalled = true;
        this.record(new Error(`watch still open ${shared.stallGraceMs} ms past its timeoutSeconds; connection taken for dead`));
      },
      ended: (end) => this.watchEnded(end),
    };
    this.watch = new InstrumentedWatch(shared.kubeConfig, spec.resource, hooks, {
      timeoutSeconds: shared.timeoutSeconds,
      stallGraceMs: shared.stallGraceMs,
      answerTimeoutMs: shared.answerTimeoutMs,
      healthyAfterMs: shared.healthyAfterMs,
    });
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
    this.pacer.cancel();
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

  /** A full list (list.ts), after the backoff. */
  private async list(): Promise<KubernetesListObject<T>> {
    if (!(await this.pacer.wait()) || this.stopped) throw new Error('stopped');
    const { resource } = this.spec;
    try {
      const { items, resourceVersion } = await listAll(resource, this.spec, {
        kubeConfig: this.shared.kubeConfig,
        pageSize: this.shared.pageSize,
        timeoutMs: this.shared.listTimeoutMs,
        onRestartUnpaged: () => this.shared.logger?.info({ resource }, 'list continue token expired; listing without pages'),
        onRejectedItems: (count) => {
          this.state.rejectedEvents += count;
        },
      });
      this.contact();
      this.state.lists++;
      this.listApplied = true;
      return { metadata: { resourceVersion }, items: items as T[] };
    } catch (err) {
      this.pacer.failed();
      this.counted = true;
      throw err;
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

  private watchEvent(event: WatchEvent<R>, openMs: number): void {
    if (event.type !== 'ERROR') {
      this.contact();
      if (openMs >= this.shared.healthyAfterMs) this.pacer.succeeded();
      return;
    }
    const { code, reason, message } = event.object;
    const text = `watch ERROR ${code ?? 'without a code'} ${reason}: ${message}`;
    if (code === 410) {
      this.contact();
      this.shared.logger?.info({ resource: this.spec.resource, reason: text }, 'resourceVersion expired; relisting');
    } else {
      this.record(new Error(text));
    }
  }

  /** A watch line that is not a valid event: counted and skipped; one warning a minute, the rest at debug. */
  private rejected(reason: string): void {
    if (this.stopped) return;
    this.state.rejectedEvents++;
    const fields = { resource: this.spec.resource, reason, rejectedEvents: this.state.rejectedEvents };
    const now = performance.now();
    if (now - this.lastRejectionWarning >= REJECTION_WARN_INTERVAL_MS) {
      this.lastRejectionWarning = now;
      this.shared.logger?.warn(fields, 'cluster watch event rejected; skipped');
    } else {
      this.shared.logger?.debug(fields, 'cluster watch event rejected; skipped');
    }
  }

  /**
   * How the watch ended decides the next wait. A failure, or an end before the watch proved healthy
   * (an event after healthyAfterMs), counts against the backoff; an end that delivered nothing valid
   * at all is a failure of the API even with a 200.
   */
  private watchEnded(end: WatchEnd): void {
    if (this.stopped) return;
    if (end.failed) {
      this.pacer.failed();
      if (isGone(end.error)) this.shared.logger?.info({ resource: this.spec.resource }, 'resourceVersion expired (HTTP 410); relisting');
      // ListWatch reports any other error through 'error' (failed()), which records it.
      else this.counted = true;
      return;
    }
    if (end.fullLifetime) {
      this.contact();
      this.pacer.succeeded();
      return;
    }
    if (end.events > 0 && end.openMs >= this.shared.healthyAfterMs) return;
    this.pacer.failed();
    if (end.events === 0 && end.errors === 0) {
      const rejected = end.rejected > 0 ? `; ${end.rejected} line${end.rejected === 1 ? '' : 's'} rejected` : '';
      this.record(malformed(`watch ${this.spec.path}`, `the watch ended after ${end.openMs} ms without a valid event${rejected}`));
    }
  }

  /** A list succeeded, a valid event arrived, or a watch stayed open: the API is there. */
  private contact(): void {
    const now = this.shared.now();
    this.state.lastContact = now;
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

  /** client-node fired 'error': its informer has stopped and will not come back by itself. Restarted at once; the backoff waits in list() and the watch. */
  private failed(err: unknown): void {
    if (this.stopped) return;
    if (this.stalled) this.stalled = false;
    else this.record(err);
    if (this.counted) this.counted = false;
    else this.pacer.failed();
    if (this.restartPending) return;
    this.restartPending = true;
    setImmediate(() => {
      this.restartPending = false;
      if (this.stopped) return;
      this.state.restarts++;
      this.start();
    });
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
    backoff: options.backoff ?? {},
    timeoutSeconds: () => fixedTimeout ?? 300 + Math.floor(Math.random() * 300),
    stallGraceMs: options.watchStallGraceMs ?? 30_000,
    answerTimeoutMs: options.watchAnswerTimeoutMs ?? 10_000,
    healthyAfterMs: options.watchHealthyAfterMs ?? 1000,
    listTimeoutMs: options.listTimeoutMs ?? 60_000,
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
