/**
 * Keeps the V8 heap, and with it the agent's RSS, bounded between polls. V8 lets the old generation
 * grow well past the live data before it collects, and keeps the pages it grew into: at 10,000
 * Services on Node 24 (the image's runtime), with one backend in ten busy, each poll leaves ~10 MB
 * of old-generation garbage (the virtual and real servers whose counters moved) and, without a
 * collection of ours, RSS climbs from ~180 MB to 260–320 MB.
 *
 * After a poll that left the heap holding more than a slack beyond what was live after the last
 * collection, the agent runs a full collection:
 * - a plain one (one marking of the live heap: ~90–100 ms of CPU at 10,000 Services), which frees
 *   what the last poll dropped; the next poll reuses those pages, so RSS stays at what one poll needs
 *   on top of the live data (~190 MB there).
 * - a memory-reducing one after the first poll (it gives back what the start-up list needed), when
 *   RSS has grown past an allowance over what the last memory-reducing collection left, and always
 *   below 64 MiB of live data (~100 Services: a few milliseconds). It compacts the old generation,
 *   shrinks the young one and returns the free pages: on Node 24 (V8 13) the "last-resort" flavor of
 *   gc(), which marks the heap at least twice, and the only one that releases the pool V8 13 keeps
 *   the pages of plain collections in. A plain one follows it at 10,000 Services, or V8 would run
 *   one of its own in the next poll (a memory-reducing collection sets V8's next limit just above
 *   the live data, and a poll's garbage passes it).
 * - Node 20's V8 11 runs a full collection only for a plain gc() (an options object gave none,
 *   measured), and that one returns the pages: it is the only one used there.
 *
 * It needs `gc` on the global object (`node --expose-gc`, set in the image's NODE_OPTIONS); without
 * it the agent runs as before and says so once at startup. Dropping the flag from NODE_OPTIONS turns
 * the collection off.
 */
import { getHeapStatistics } from 'node:v8';

/** What the policy needs of the heap: V8's own names (v8.getHeapStatistics()). */
export interface HeapFigures {
  /** Bytes of heap pages resident (what counts in RSS). */
  total_physical_size: number;
  /** Bytes of heap objects, live or not yet collected. */
  used_heap_size: number;
}

/** The garbage allowed over the last collection's live size: an eighth of it, at least 4 MiB. */
export function compactionSlack(liveBytes: number): number {
  return Math.max(4 * 2 ** 20, liveBytes / 8);
}

/** True when the heap holds more resident pages than the live data of the last collection allows. */
export function shouldCompact(heap: HeapFigures, liveAfterLastCompaction: number): boolean {
  return heap.total_physical_size > liveAfterLastCompaction + compactionSlack(liveAfterLastCompaction);
}

/** Below this much live data a memory-reducing collection is cheap (two markings of a small heap): always reduce. */
export const SMALL_HEAP_BYTES = 64 * 2 ** 20;

/** The RSS growth allowed over what the last memory-reducing collection left: a quarter of the live data then, at least 4 MiB. */
export function rssAllowance(liveBytes: number): number {
  return Math.max(4 * 2 ** 20, liveBytes / 4);
}

export interface Compaction {
  /** Whether it was the memory-reducing collection (else a plain one). */
  reducing: boolean;
  beforeBytes: number;
  afterBytes: number;
  liveBytes: number;
  pauseMs: number;
}

export interface HeapCompactorDeps {
  /** The runtime's collector (globalThis.gc under --expose-gc). */
  gc: (options?: object) => unknown;
  heapStatistics: () => HeapFigures;
  /** The process's resident set in bytes (process.memoryUsage.rss). */
  rss: () => number;
  /** V8's major version (process.versions.v8): 12 and later take the options object. */
  v8Major: number;
  monotonicMs?: () => number;
}

/** The heap collection the agent runs after each poll (see the module comment). */
export class HeapCompactor {
  private liveAfterLast = 0;
  /** RSS and live bytes right after the last memory-reducing collection; null before the first. */
  private afterReducing: { rss: number; live: number } | null = null;
  private readonly monotonicMs: () => number;

  constructor(private readonly deps: HeapCompactorDeps) {
    this.monotonicMs = deps.monotonicMs ?? (() => performance.now());
  }

  /** Collects when the heap holds more than the slack allows; what it did, or null. */
  afterPoll(): Compaction | null {
    const before = this.deps.heapStatistics();
    if (!shouldCompact(before, this.liveAfterLast)) return null;
    const started = this.monotonicMs();
    const reducing = this.collect();
    const pauseMs = this.monotonicMs() - started;
    const after = this.deps.heapStatistics();
    this.liveAfterLast = after.used_heap_size;
    if (reducing) this.afterReducing = { rss: this.deps.rss(), live: after.used_heap_size };
    return { reducing, beforeBytes: before.total_physical_size, afterBytes: after.total_physical_size, liveBytes: after.used_heap_size, pauseMs };
  }

  /** A plain or a memory-reducing collection, as the module comment says; whether it reduced. */
  private collect(): boolean {
    const { gc } = this.deps;
    if (this.deps.v8Major < 12) {
      gc();
      return true;
    }
    const last = this.afterReducing;
    if (last !== null && this.liveAfterLast >= SMALL_HEAP_BYTES) {
      gc(PLAIN);
      if (this.deps.rss() <= last.rss + rssAllowance(last.live)) return false;
    }
    gc(REDUCING);
    // After a memory-reducing collection V8 sets its own next limit just above the live data, and
    // the next poll would pass it and run one more collection; a plain one now sets the usual limit.
    if (this.deps.heapStatistics().used_heap_size >= SMALL_HEAP_BYTES) gc(PLAIN);
    return true;
  }
}

const PLAIN = { type: 'major', flavor: 'regular' } as const;
const REDUCING = { type: 'major', flavor: 'last-resort' } as const;

/** The compactor for this process, or null when the runtime does not expose gc. */
export function processHeapCompactor(): HeapCompactor | null {
  const gc = (globalThis as { gc?: unknown }).gc;
  if (typeof gc !== 'function') return null;
  return new HeapCompactor({
    gc: gc as (options?: object) => unknown,
    heapStatistics: getHeapStatistics,
    rss: () => process.memoryUsage.rss(),
    v8Major: Number(process.versions.v8.split('.')[0]),
  });
}
