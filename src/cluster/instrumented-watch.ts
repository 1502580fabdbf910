/**
 * The watch request client-node's ListWatch makes (through its Watch, dist/watch.js), done here so
 * that nothing the API sends reaches ListWatch unchecked. client-node 1.4's Watch hands every parsed
 * line to ListWatch, which throws on one that is not an event (`{}`, `[1,2,3]`, `"str"`: its
 * async watchHandler reads obj.metadata; the rejection is unhandled and the process exits), ignores
 * what does not parse, reads lines of any length, has no timeout until the answer arrives, and
 * overwrites its own 30 s client timeout (watch.js:29-30).
 *
 * Here, on the same request (KubeConfig.applyToFetchOptions, as watch.js; api-request.ts):
 * - every request first waits for the informer's backoff (`pace`), so ListWatch's own immediate
 *   re-watch after an end cannot turn an empty or garbage 200 answer into a request storm;
 * - bookmarks (allowWatchBookmarks) and a server-side timeoutSeconds are asked for; an answer must
 *   come within `answerTimeoutMs`, and a watch that outlives its timeoutSeconds by `stallGraceMs`
 *   is taken for a dead connection;
 * - each line is bounded (MAX_EVENT_BYTES), parsed and validated (watch-event.ts); a bad one is
 *   reported (`rejected`) and skipped, a good one reaches ListWatch with its object already
 *   converted (cached.ts);
 * - the end is reported with what the watch delivered (`ended`), so the informer can tell a
 *   healthy end from one that proved nothing.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Readable } from 'node:stream';
import { ApiStatusError, malformed, readErrorBody, statusDetail } from './api-error.js';
import { apiGet } from './api-request.js';
import type { ClusterResource } from './cached.js';
import { Watch } from './client-node.js';
import { checkWatchEvent, LineSplitter, type WatchEvent } from './watch-event.js';

/** How one watch request ended. */
export type WatchEnd =
  /** No answer, an error status, a broken connection, an oversized line, or aborted. */
  | { failed: true; error: unknown }
  | {
      failed: false;
      /** From the answer to the end. */
      openMs: number;
      /** ADDED, MODIFIED, DELETED and BOOKMARK events delivered. */
      events: number;
      /** ERROR events delivered (410 Expired among them). */
      errors: number;
      /** Lines rejected as not valid events. */
      rejected: number;
      /** The server ended it at the timeoutSeconds it was asked for. */
      fullLifetime: boolean;
    };

export interface WatchHooks<R extends ClusterResource> {
  /** ListWatch is opening a watch: any list it did has been applied to its cache. */
  starting(): void;
  /** Wait until a request may be made; false: stopped, make none. */
  pace(): Promise<boolean>;
  /** The watch has stayed open `healthyAfterMs` without failing, having delivered `events` (not ERROR) so far. */
  healthy(events: number): void;
  /** A valid event, before ListWatch sees it. */
  event(event: WatchEvent<R>, openMs: number): void;
  /** A line that is not a valid event: skipped. */
  rejected(reason: string): void;
  stalled(): void;
  ended(end: WatchEnd): void;
}

export interface InstrumentedWatchOptions {
  timeoutSeconds: () => number;
  stallGraceMs: number;
  /** How long the API may take to answer a watch request (its status line and headers). */
  answerTimeoutMs: number;
  healthyAfterMs: number;
}

type Callback = (phase: string, apiObj: unknown, watchObj?: unknown) => void;

/** Extends client-node's Watch only to be accepted by ListWatch's constructor; the request is made here. */
export class InstrumentedWatch<R extends ClusterResource> extends Watch {
  private readonly live = new Set<AbortController>();

  constructor(
    config: KubeConfig,
    private readonly resource: R,
    private readonly hooks: WatchHooks<R>,
    private readonly options: InstrumentedWatchOptions,
  ) {
    super(config);
  }

  /** ListWatch's call; never rejects, and calls `done` once unless stopped before the request. */
  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: Callback,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    this.hooks.starting();
    const controller = new AbortController();
    if (!(await this.hooks.pace())) {
      controller.abort();
      return controller;
    }
    this.live.add(controller);
    const requestedAt = performance.now();
    const timeoutSeconds = this.options.timeoutSeconds();
    const timers: NodeJS.Timeout[] = [];
    let finished = false;
    const finish = (end: WatchEnd): void => {
      if (finished) return;
      finished = true;
      for (const timer of timers) clearTimeout(timer);
      this.live.delete(controller);
      controller.abort();
      this.hooks.ended(end);
      done(end.failed ? end.error : null);
    };
    try {
      const url = this.url(path, { ...queryParams, allowWatchBookmarks: true, timeoutSeconds });
      timers.push(setTimeout(() => controller.abort(), this.options.answerTimeoutMs));
      let response;
      try {
        response = await apiGet(this.config, url, controller.signal);
      } catch (err) {
        if (controller.signal.aborted && this.live.has(controller)) {
          throw new Error(`watch ${path} got no answer within ${this.options.answerTimeoutMs / 1000} s`, { cause: err });
        }
        throw err;
      }
      const body: Readable = response;
      const status = response.statusCode ?? 0;
      // Still under the answer timeout: an error body that never ends is cut there.
      if (status !== 200) throw new ApiStatusError(status, statusDetail(status, await readErrorBody(body)), `watch ${path}`);
      clearTimeout(timers.pop());
      // The server's timeoutSeconds runs from when it got the request; timers may fire a little early.
      const lifetimeMs = timeoutSeconds * 1000 * 0.9;
      this.stream(path, body, controller, { lifetimeMs, requestedAt, stallMs: timeoutSeconds * 1000 + this.options.stallGraceMs }, timers, callback, finish);
    } catch (err) {
      finish({ failed: true, error: err });
    }
    return controller;
  }

  abortAll(): void {
    for (const controller of this.live) controller.abort();
    this.live.clear();
  }

  private url(path: string, query: Record<string, string | number | boolean | undefined>): URL {
    const cluster = this.config.getCurrentCluster();
    if (!cluster) throw new Error('no current cluster in the kubeconfig');
    const url = new URL(cluster.server + path);
    url.searchParams.set('watch', 'true');
    for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, String(value));
    return url;
  }

  /** Reads the answer line by line until it ends, fails or is aborted. */
  private stream(
    path: string,
    body: Readable,
    controller: AbortController,
    times: { lifetimeMs: number; requestedAt: number; stallMs: number },
    timers: NodeJS.Timeout[],
    callback: Callback,
    finish: (end: WatchEnd) => void,
  ): void {
    const openedAt = performance.now();
    const lines = new LineSplitter();
    let events = 0;
    let errors = 0;
    let rejected = 0;
    const reject = (reason: string): void => {
      rejected++;
      this.hooks.rejected(reason);
    };
    const finished = (): boolean => !this.live.has(controller);
    const openMs = (): number => Math.round(performance.now() - openedAt);
    const deliver = (line: string): void => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        reject(`a line of ${Buffer.byteLength(line)} bytes that is not JSON`);
        return;
      }
      const checked = checkWatchEvent(this.resource, parsed);
      if (!checked.ok) {
        reject(checked.reason);
        return;
      }
      const event = checked.value;
      if (event.type === 'ERROR') errors++;
      else events++;
      this.hooks.event(event, openMs());
      this.handOn(callback, event);
    };
    const end = (): void => {
      if (finished()) return;
      const rest = lines.rest();
      if (rest !== null) deliver(rest);
      finish({ failed: false, openMs: openMs(), events, errors, rejected, fullLifetime: performance.now() - times.requestedAt >= times.lifetimeMs });
    };
    body.on('data', (chunk: Buffer) => {
      if (finished()) return;
      let complete: string[];
      try {
        complete = lines.push(chunk);
      } catch (err) {
        reject(err instanceof Error ? err.message : String(err));
        finish({ failed: true, error: malformed(`watch ${path}`, err instanceof Error ? err.message : String(err)) });
        body.destroy();
        return;
      }
      for (const line of complete) deliver(line);
    });
    body.on('end', end);
    body.on('error', (err) => finish({ failed: true, error: err }));
    // A close without 'end' or 'error' (the socket went away quietly) is an end all the same.
    body.on('close', end);
    timers.push(
      setTimeout(() => {
        if (finished()) return;
        this.hooks.healthy(events);
      }, this.options.healthyAfterMs),
      setTimeout(
        () => {
          if (finished()) return;
          this.hooks.stalled();
          controller.abort();
        },
        times.stallMs,
      ),
    );
    for (const timer of timers) timer.unref();
  }

  /** ListWatch's watchHandler is async: a rejection there would be unhandled. It gets valid events only. */
  private handOn(callback: Callback, event: WatchEvent<R>): void {
    try {
      const result: unknown = callback(event.type, event.object, event);
      if (result instanceof Promise) result.catch((err: unknown) => this.hooks.rejected(`the informer failed on a ${event.type} event: ${err instanceof Error ? err.message : String(err)}`));
    } catch (err) {
      this.hooks.rejected(`the informer failed on a ${event.type} event: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
