/**
 * The queue between the agent's poll and the Kubernetes API: Event and NodeCondition writes wait
 * here and one worker sends them, so an API that refuses (403), is away or is slow never holds up
 * the poll loop or the HTTP server.
 *
 * - Bounded: past `capacity` a write is dropped, with one log line until the queue has room again.
 * - A newer write of the same key (the same Event's series, the condition) replaces a waiting one.
 * - Every request is bounded in time (`timeoutMs`); after any failure the next request waits the
 *   backoff (src/cluster/backoff.ts: 1 s doubling to 30 s, jitter), so a refusing API sees at most
 *   one request every 30 s from a node.
 * - A retryable failure (no answer, 5xx, 429, 409 of a series) is tried again, at most `maxTries`
 *   times in all (client-go's maxTriesPerEvent, tools/events/event_broadcaster.go); any other is
 *   given up at once, as client-go abandons an Event the server rejected.
 * - One warning when writes start failing, one info line when they succeed again; nothing per write.
 */
import { RetryPacer } from '../cluster/backoff.js';

export interface WriteLogger {
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  debug(obj: Record<string, unknown>, msg: string): void;
}

export type WriteOutcome = { ok: true } | { ok: false; retry: boolean; error: string };

export interface QueuedWrite {
  /** Writes of one key replace each other while waiting. */
  key: string;
  /** For log lines: "Event IPVSDriftConfirmed on Node worker-1". */
  what: string;
  attempt(signal: AbortSignal): Promise<WriteOutcome>;
  /** Called when the write is given up (refused, out of tries, dropped from a full queue). */
  abandoned?(): void;
}

export interface WriteQueueOptions {
  capacity?: number;
  maxTries?: number;
  timeoutMs?: number;
  logger: WriteLogger;
  pacer?: RetryPacer;
}

interface Entry {
  write: QueuedWrite;
  tries: number;
}

export class WriteQueue {
  private readonly capacity: number;
  private readonly maxTries: number;
  private readonly timeoutMs: number;
  private readonly logger: WriteLogger;
  private readonly pacer: RetryPacer;
  private readonly entries: Entry[] = [];
  private working: Promise<void> | null = null;
  private stopped = false;
  private failing = false;
  private full = false;
  private abort: AbortController | null = null;
  /** Writes dropped from a full queue since start. */
  dropped = 0;

  constructor(options: WriteQueueOptions) {
    this.capacity = options.capacity ?? 256;
    this.maxTries = options.maxTries ?? 12;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.logger = options.logger;
    this.pacer = options.pacer ?? new RetryPacer();
  }

  get pending(): number {
    return this.entries.length;
  }

  /** Queue a write; false when it was dropped (queue full or stopped). Never blocks, never throws. */
  enqueue(write: QueuedWrite): boolean {
    if (this.stopped) return false;
    const waiting = this.entries.findIndex((e) => e.write.key === write.key);
    if (waiting >= 0) {
      this.entries[waiting] = { write, tries: 0 };
    } else if (this.entries.length >= this.capacity) {
      this.dropped++;
      if (!this.full) this.logger.warn({ capacity: this.capacity, dropped: write.what }, `Kubernetes write queue full (${this.capacity}): dropping writes until it drains`);
      this.full = true;
      write.abandoned?.();
      return false;
    } else {
      this.entries.push({ write, tries: 0 });
    }
    this.working ??= this.work().finally(() => {
      this.working = null;
    });
    return true;
  }

  /** Resolves once every queued write has been sent or given up (tests). */
  async idle(): Promise<void> {
    while (this.working) await this.working;
  }

  /** Stop: the write in flight is aborted, waiting ones are dropped. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.pacer.cancel();
    this.abort?.abort(new Error('stopping'));
    this.entries.length = 0;
    await this.working;
  }

  private async work(): Promise<void> {
    for (;;) {
      const entry = this.entries.shift();
      if (!entry || this.stopped) return;
      if (this.entries.length < this.capacity && this.full) this.full = false;
      if (!(await this.pacer.wait())) return;
      entry.tries++;
      const outcome = await this.send(entry.write);
      if (outcome.ok) {
        this.pacer.succeeded();
        if (this.failing) this.logger.info({}, 'Kubernetes writes (Events, NodeCondition) succeed again');
        this.failing = false;
        continue;
      }
      this.pacer.failed();
      if (!this.failing) this.logger.warn({ write: entry.write.what, error: outcome.error }, `Kubernetes writes (Events, NodeCondition) failing: ${outcome.error}`);
      this.failing = true;
      const replaced = this.entries.some((e) => e.write.key === entry.write.key);
      if (outcome.retry && entry.tries < this.maxTries && !replaced && !this.stopped) {
        this.entries.unshift(entry);
      } else {
        this.logger.debug({ write: entry.write.what, error: outcome.error, tries: entry.tries }, 'Kubernetes write given up');
        entry.write.abandoned?.();
      }
    }
  }

  private async send(write: QueuedWrite): Promise<WriteOutcome> {
    const abort = new AbortController();
    this.abort = abort;
    const timer = setTimeout(() => abort.abort(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    try {
      return await write.attempt(abort.signal);
    } catch (err) {
      return { ok: false, retry: true, error: err instanceof Error ? err.message : String(err) };
    } finally {
      clearTimeout(timer);
      this.abort = null;
    }
  }
}
