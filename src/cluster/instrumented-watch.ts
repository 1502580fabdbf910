/**
 * client-node's Watch with what its 1.4 version leaves out (dist/watch.js): bookmarks
 * (allowWatchBookmarks), a server-side timeoutSeconds, a guard against a watch that outlives it (its
 * own 30 s timeout signal is overwritten at watch.js:29-30, so a half-open connection would hang),
 * hooks for contact tracking, each object replaced by `toCached` (cached.ts) before ListWatch
 * caches it, and rejections turned into `done(err)` (ListWatch does not catch them).
 * The watch protocol itself stays client-node's.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { Watch } from './client-node.js';

export interface WatchHooks {
  /** ListWatch is opening a watch: any list it did has been applied to its cache. */
  starting(): void;
  opened(): void;
  event(phase: string, obj: unknown): void;
  stalled(): void;
}

/** client-node's Watch plus bookmarks, a server-side timeout, a stall guard and contact tracking. */
export class InstrumentedWatch extends Watch {
  private readonly live = new Set<AbortController>();

  constructor(
    config: KubeConfig,
    private readonly hooks: WatchHooks,
    private readonly timeoutSeconds: () => number,
    private readonly stallGraceMs: number,
    private readonly toCached: (obj: unknown) => unknown,
  ) {
    super(config);
  }

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    this.hooks.starting();
    const timeoutSeconds = this.timeoutSeconds();
    let finished = false;
    let stall: NodeJS.Timeout | undefined;
    let controller: AbortController | undefined;
    const onDone = (err: unknown): void => {
      if (finished) return;
      finished = true;
      clearTimeout(stall);
      if (controller) this.live.delete(controller);
      done(err);
    };
    const onEvent = (phase: string, obj: unknown, watchObj?: unknown): void => {
      this.hooks.event(phase, obj);
      // BOOKMARK and ERROR objects are not cached; ListWatch reads them as they are.
      callback(phase, phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED' ? this.toCached(obj) : obj, watchObj);
    };
    try {
      controller = await super.watch(path, { ...queryParams, allowWatchBookmarks: true, timeoutSeconds }, onEvent, onDone);
    } catch (err) {
      // Rejections (e.g. an auth plugin failing before the request) would be unhandled in ListWatch.
      onDone(err);
      const aborted = new AbortController();
      aborted.abort();
      return aborted;
    }
    if (!finished) {
      const open = controller;
      this.live.add(open);
      this.hooks.opened();
      stall = setTimeout(() => {
        this.hooks.stalled();
        open.abort();
      }, timeoutSeconds * 1000 + this.stallGraceMs);
      stall.unref();
    }
    return controller;
  }

  abortAll(): void {
    for (const controller of this.live) controller.abort();
    this.live.clear();
  }
}
