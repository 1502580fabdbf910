/**
 * Keeps the V8 heap, and with it the agent's RSS, bounded between polls. V8 lets the old generation
 * grow well past the live data before it collects, and keeps the pages it grew into: at 10,000
 * Services on Node 24 (the image's runtime), with one backend in ten busy, each poll leaves ~10 MB
 * of old-generation garbage (the virtual and real servers whose counters moved) and, without a
 * collection of ours, RSS climbs from ~180 MB to 260–320 MB.
 *
 * Above 64 MiB of live data, the agent runs a full collection after every second poll, or after the
 * next one already when the heap would otherwise hold more garbage than an allowance by the end of
 * the next poll (a third of the live data of the last collection, the next poll taken to grow the
 * heap as much as this one did):
 * - a plain one (one marking of the live heap: ~90–100 ms of CPU at 10,000 Services), which frees
 *   what the two polls since the last one dropped; the next polls reuse those pages, so RSS stays at
 *   what two polls' garbage needs on top of the live data. At 10,000 Services a poll leaves ~10–11 MB
 *   of garbage (the busy virtual and real servers of a new IPVS read) over ~87 MB of live data: half
 *   the marking of one collection after every poll, for ~10 MB more RSS between polls. So that V8
 *   does not collect in the polls between on its own, its heap growing factor is fixed at 1.5 once
 *   the heap is large (HEAP_GROWING_PERCENT).
 * - a memory-reducing one after the first poll (it gives back what the start-up list needed), when
 *   RSS has grown past an allowance over what the last memory-reducing collection left (the garbage
 *   allowance and an eighth of the live data more), and after every poll below 64 MiB of live data
 *   (~100 Services: a few milliseconds), as before. It compacts the old generation,
 *   shrinks the young one and returns the free pages: on Node 24 (V8 13) the "last-resort" flavor of
 *   gc(), which marks the heap at least twice, and the only one that releases the pool V8 13 keeps
 *   the pages of plain collections in. A plain one follows it at 10,000 Services, or V8 would run
 *   one of its own in the next poll (a memory-reducing collection sets V8's next limit just above
 *   the live data, and a poll's garbage passes it).
 * - Node 20's V8 11 runs a full collection only for a plain gc() (an options object gave none,
 *   measured), and that one returns the pages: it is the only one used there.
 *
 * It needs V8's `gc`, which `serve` gets for itself (runtimeGc): `globalThis.gc` where the process
 * runs with --expose-gc, else the flag is set at run time and `gc` read off a new context. Not in the
 * image's NODE_OPTIONS: V8 refuses the code cache Node's own modules are built with when the flags
 * differ from the build's, and --expose-gc alone made every process and worker thread compile them
 * (in the emulated guest, six of them imported in 0.95–1.31 s instead of 0.49–0.68 s, and a worker
 * thread started in 0.86–1.17 s instead of 0.58–0.75 s; issue 17). Where `gc` cannot be got,
 * the agent runs as before and says so once at startup.
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** What the policy needs of the heap: V8's own names (v8.getHeapStatistics()). */
export interface HeapFigures {
  /** Bytes of heap pages resident (what counts in RSS). */
  total_physical_size: number;
  /** Bytes of heap objects, live or not yet collected. */
  used_heap_size: number;
}

const MiB = 2 ** 20;

/** Below this much live data a memory-reducing collection is cheap (two markings of a small heap): collect and reduce after every poll. */
export const SMALL_HEAP_BYTES = 64 * MiB;

/** The garbage a small heap may hold over the last collection's live size: an eighth of it, at least 4 MiB. */
export function compactionSlack(liveBytes: number): number {
  return Math.max(4 * MiB, liveBytes / 8);
}

/** The garbage a large heap may hold over the last collection's live size: a third of it. */
export function garbageAllowance(liveBytes: number): number {
  return Math.max(4 * MiB, liveBytes / 3);
}

/**
 * V8's heap growing factor (1 + this / 100) once the heap is large. V8 sets the old generation's
 * next limit after each collection from the live data and a factor it derives from how fast the
 * program allocates: an agent idle between polls gets ~1.1, and the second poll's garbage passed
 * that limit, so V8 ran a collection of its own every poll the policy skipped (seen with
 * --trace-gc, polls a poll interval apart). Fixed at 1.5, the limit lies past the garbage
 * allowance and one more poll, and the policy's collections are the only ones. Set with
 * v8.setFlagsFromString, which V8 reads at each limit it sets (as src/agent/tiering.ts's flags).
 */
export const HEAP_GROWING_PERCENT = 50;

/** A large heap is collected at least after every second poll: the RSS it costs is the garbage of the polls in between. */
export const MAX_POLLS_SKIPPED = 1;

/**
 * Whether to collect after this poll. Below SMALL_HEAP_BYTES of live data: when the heap holds more
 * resident pages than the live data and the slack. Above: when the last poll was not collected
 * after (`pollsSkipped`), or one more poll growing the heap as much as this one did
 * (`lastGrowthBytes`) would leave more garbage than the allowance.
 */
export function shouldCompact(heap: HeapFigures, liveAfterLastCompaction: number, lastGrowthBytes = 0, pollsSkipped = 0): boolean {
  if (liveAfterLastCompaction < SMALL_HEAP_BYTES) return heap.total_physical_size > liveAfterLastCompaction + compactionSlack(liveAfterLastCompaction);
  if (pollsSkipped >= MAX_POLLS_SKIPPED) return true;
  return heap.used_heap_size - liveAfterLastCompaction + Math.max(0, lastGrowthBytes) > garbageAllowance(liveAfterLastCompaction);
}

/**
 * The RSS growth allowed over what the last memory-reducing collection left before another: the
 * garbage allowance (the heap regrows into it) and an eighth of the live data, at least 4 MiB, for
 * the young generation and malloc.
 */
export function rssAllowance(liveBytes: number): number {
  return garbageAllowance(liveBytes) + compactionSlack(liveBytes);
}

export interface Compaction {
  /** Whether it was the memory-reducing collection (else a plain one). */
  reducing: boolean;
  beforeBytes: number;
  afterBytes: number;
  liveBytes: number;
  pauseMs: number;
}

/** V8's gc(): a full collection, of the flavor its options ask for (V8 12 and later). */
export type GcFunction = (options?: object) => unknown;

export interface HeapCompactorDeps {
  /** The runtime's collector (runtimeGc). */
  gc: GcFunction;
  heapStatistics: () => HeapFigures;
  /** The process's resident set in bytes (process.memoryUsage.rss). */
  rss: () => number;
  /** V8's major version (process.versions.v8): 12 and later take the options object. */
  v8Major: number;
  /** v8.setFlagsFromString, for HEAP_GROWING_PERCENT; absent: V8's own factor is kept. */
  setFlags?: (flags: string) => void;
  monotonicMs?: () => number;
}

/** The heap collection the agent asks for after each poll, and runs when the policy says so (see the module comment). */
export class HeapCompactor {
  private liveAfterLast = 0;
  /** Heap bytes in use when the last afterPoll() returned (after its collection, if any). */
  private usedAfterLastPoll: number | null = null;
  /** Polls since the last collection that were not collected after. */
  private skipped = 0;
  /** RSS and live bytes right after the last memory-reducing collection; null before the first. */
  private afterReducing: { rss: number; live: number } | null = null;
  /** HEAP_GROWING_PERCENT has been set. */
  private growingSet = false;
  private readonly monotonicMs: () => number;

  constructor(private readonly deps: HeapCompactorDeps) {
    this.monotonicMs = deps.monotonicMs ?? (() => performance.now());
  }

  /** Collects when the heap holds more than the slack allows; what it did, or null. */
  afterPoll(): Compaction | null {
    const before = this.deps.heapStatistics();
    const growth = this.usedAfterLastPoll === null ? 0 : before.used_heap_size - this.usedAfterLastPoll;
    if (!shouldCompact(before, this.liveAfterLast, growth, this.skipped)) {
      this.usedAfterLastPoll = before.used_heap_size;
      this.skipped++;
      return null;
    }
    this.skipped = 0;
    // Before the collection: V8 sets its next limit at the end of it.
    if (!this.growingSet && before.used_heap_size >= SMALL_HEAP_BYTES && this.deps.setFlags) {
      this.deps.setFlags(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
      this.growingSet = true;
    }
    const started = this.monotonicMs();
    const reducing = this.collect();
    const pauseMs = this.monotonicMs() - started;
    const after = this.deps.heapStatistics();
    this.liveAfterLast = after.used_heap_size;
    this.usedAfterLastPoll = after.used_heap_size;
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

export interface RuntimeGcDeps {
  /** Where --expose-gc puts `gc`. */
  global: { gc?: unknown };
  setFlags: (flags: string) => void;
  /** Evaluates `code` in a new V8 context (vm.runInNewContext). */
  inNewContext: (code: string) => unknown;
}

const PROCESS_RUNTIME: RuntimeGcDeps = { global: globalThis, setFlags: setFlagsFromString, inNewContext: (code): unknown => runInNewContext(code) as unknown };

/**
 * V8's full collector: the global `gc` of a process run with --expose-gc; else the same function
 * from a context made after setting --expose-gc at run time (V8 installs its gc extension in every
 * context made while the flag is on; Node 20 and 24 alike, test/unit/agent/heap.test.ts); null when
 * neither gives a function. Setting the flag changes V8's flag hash, and with it the compile cache
 * the process's later modules are looked up in: for `serve` only, which sets flags of its own
 * anyway (src/agent/tiering.ts), never for a one-shot command.
 */
export function runtimeGc(deps: RuntimeGcDeps = PROCESS_RUNTIME): GcFunction | null {
  if (typeof deps.global.gc === 'function') return deps.global.gc as GcFunction;
  try {
    deps.setFlags('--expose-gc');
    const gc = deps.inNewContext('gc');
    return typeof gc === 'function' ? (gc as GcFunction) : null;
  } catch {
    return null;
  }
}

/** The compactor for this process (serve's), or null when V8's gc cannot be got. */
export function processHeapCompactor(): HeapCompactor | null {
  const gc = runtimeGc();
  if (gc === null) return null;
  return new HeapCompactor({
    gc,
    heapStatistics: getHeapStatistics,
    rss: () => process.memoryUsage.rss(),
    v8Major: Number(process.versions.v8.split('.')[0]),
    setFlags: setFlagsFromString,
  });
}
