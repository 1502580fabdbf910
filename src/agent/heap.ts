/**
 * Gives the V8 heap back after a poll. V8 lets the old generation grow well past the live data
 * before it collects, and keeps the pages it grew into: an idle agent never shrinks. Measured at
 * 10,000 Services on Node 24 (the image's runtime) without this: 134 MB of old space for 71 MB of
 * live data, unchanged after 40 s idle, and RSS climbing from 246 MB after three polls to 321 MB
 * after six.
 *
 * After each poll, when the heap holds more than a slack beyond what was live after the previous
 * compaction, the agent runs one memory-reducing full collection: it compacts the old generation
 * and returns the free pages.
 * - On Node 24 (V8 13) that is the "last-resort" flavor of gc(). A plain gc() there collects but
 *   keeps the pages (134 → 134 MB resident for 3 MB live).
 * - Node 20's V8 11 runs a full collection only for a plain gc() (an options object gave none,
 *   measured), and that one returns the pages.
 * - The memory-reducing collection also shrinks the young generation to its minimum, so the next
 *   poll promotes more (28–42 MB at 10,000 Services against 11) and the slack is passed again: at
 *   that size it runs after every poll. Cost there, Node 24: a 200–300 ms pause and 0.5–0.9 s of
 *   CPU per poll, for 180 MB of RSS between polls instead of 250–320. At 100 Services: ~40 ms
 *   (`npm run bench agent`).
 *
 * It needs `gc` on the global object (`node --expose-gc`, set in the image's NODE_OPTIONS); without
 * it the agent runs as before and says so once at startup. Dropping the flag from NODE_OPTIONS turns
 * the compaction off.
 */
import { getHeapStatistics } from 'node:v8';

/** What the policy needs of the heap: V8's own names (v8.getHeapStatistics()). */
export interface HeapFigures {
  /** Bytes of heap pages resident (what counts in RSS). */
  total_physical_size: number;
  /** Bytes of heap objects, live or not yet collected. */
  used_heap_size: number;
}

/** The slack allowed over the last compaction's live size: an eighth of it, at least 4 MiB. */
export function compactionSlack(liveBytes: number): number {
  return Math.max(4 * 2 ** 20, liveBytes / 8);
}

/** True when the heap holds more resident pages than the live data of the last compaction allows. */
export function shouldCompact(heap: HeapFigures, liveAfterLastCompaction: number): boolean {
  return heap.total_physical_size > liveAfterLastCompaction + compactionSlack(liveAfterLastCompaction);
}

export interface Compaction {
  beforeBytes: number;
  afterBytes: number;
  liveBytes: number;
  pauseMs: number;
}

export interface HeapCompactorDeps {
  /** The runtime's collector (globalThis.gc under --expose-gc). */
  gc: (options?: object) => unknown;
  heapStatistics: () => HeapFigures;
  /** V8's major version (process.versions.v8): 12 and later take the options object. */
  v8Major: number;
  monotonicMs?: () => number;
}

/** The heap compaction the agent runs after each poll (see the module comment). */
export class HeapCompactor {
  private liveAfterLast = 0;
  private readonly monotonicMs: () => number;

  constructor(private readonly deps: HeapCompactorDeps) {
    this.monotonicMs = deps.monotonicMs ?? (() => performance.now());
  }

  /** Compacts when the heap holds more than the slack allows; what it did, or null. */
  afterPoll(): Compaction | null {
    const before = this.deps.heapStatistics();
    if (!shouldCompact(before, this.liveAfterLast)) return null;
    const started = this.monotonicMs();
    if (this.deps.v8Major >= 12) this.deps.gc({ type: 'major', flavor: 'last-resort' });
    else this.deps.gc();
    const pauseMs = this.monotonicMs() - started;
    const after = this.deps.heapStatistics();
    this.liveAfterLast = after.used_heap_size;
    return { beforeBytes: before.total_physical_size, afterBytes: after.total_physical_size, liveBytes: after.used_heap_size, pauseMs };
  }
}

/** The compactor for this process, or null when the runtime does not expose gc. */
export function processHeapCompactor(): HeapCompactor | null {
  const gc = (globalThis as { gc?: unknown }).gc;
  if (typeof gc !== 'function') return null;
  return new HeapCompactor({
    gc: gc as (options?: object) => unknown,
    heapStatistics: getHeapStatistics,
    v8Major: Number(process.versions.v8.split('.')[0]),
  });
}
