/**
 * V8's optimizing compilers, Maglev and TurboFan, only once the agent turns out large. Their code in
 * the Node binary, paged in the first time they run, and their working memory are ~12 MB of a small
 * agent's RSS (Node 24 at 100 Services: 71–74 MB between polls without them, 83–85 MB with), while a
 * small agent's polls take a few milliseconds of CPU either way. A large one spends its CPU in hot
 * loops the compilers make several times faster. So `serve` starts with both off and turns them on,
 * for good, the first time the heap holds more than LARGE_HEAP_BYTES — early in the first sync of
 * a large cluster, before its polls. V8 reads both flags at each tier-up decision, so
 * v8.setFlagsFromString takes effect at once, both ways (measured on Node 20 and 24).
 *
 * The launcher (bin/ipvs-sentinel.js) starts it for `serve` only: a one-shot command (check, ipvs)
 * at 10,000 Services needs its compilers from the first millisecond.
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';

/**
 * Heap in use above which the agent is large: ~17 MB between polls at 100 Services, ~85 MB of live
 * data at 10,000. Low, and looked at often, so a large cluster's first sync crosses it early: at
 * 40 MiB looked at every second, the compilers came on only after much of that sync had run
 * unoptimized, and the 10,000-Service agent took ~6% more CPU per poll and 3 MB more RSS (`npm run
 * bench agent`); at 24 MiB every 100 ms, +1 MB and +4% on average, inside the runs' spread. A small
 * agent that crosses it (a burst of scrapes) is only back to the compilers it always had.
 */
export const LARGE_HEAP_BYTES = 24 * 2 ** 20;
/** How often the heap is looked at until then (a timer that never keeps the process alive). */
export const CHECK_EVERY_MS = 100;

const OFF = ['--no-maglev', '--no-turbofan'] as const;
const ON = ['--maglev', '--turbofan'] as const;

export interface TieringDeps {
  setFlags: (flags: string) => void;
  /** v8.getHeapStatistics().used_heap_size. */
  usedHeapBytes: () => number;
  /** Calls `tick` every `ms` until the returned stop is called. */
  every: (ms: number, tick: () => void) => () => void;
}

export interface AdaptiveTiering {
  /** Whether the optimizing compilers are on. */
  readonly optimizing: boolean;
  /** Stops looking at the heap (the compilers stay as they are). */
  stop(): void;
}

/** Compilers off now, on once the heap passes LARGE_HEAP_BYTES. */
export function adaptiveTiering(deps: TieringDeps): AdaptiveTiering {
  for (const flag of OFF) deps.setFlags(flag);
  let optimizing = false;
  let stop: () => void = () => {};
  const check = (): void => {
    if (optimizing || deps.usedHeapBytes() <= LARGE_HEAP_BYTES) return;
    optimizing = true;
    for (const flag of ON) deps.setFlags(flag);
    stop();
  };
  stop = deps.every(CHECK_EVERY_MS, check);
  return {
    get optimizing() {
      return optimizing;
    },
    stop: () => stop(),
  };
}

/** The first argument that is not a flag: the command, when it is written first (as the image and manifests do). */
function commandOf(args: readonly string[]): string | undefined {
  return args.find((arg) => !arg.startsWith('-'));
}

/** For the launcher: adaptive tiering when the command is `serve`, else nothing (null). */
export function startAdaptiveTiering(args: readonly string[]): AdaptiveTiering | null {
  if (commandOf(args) !== 'serve') return null;
  return adaptiveTiering({
    setFlags: setFlagsFromString,
    usedHeapBytes: () => getHeapStatistics().used_heap_size,
    every: (ms, tick) => {
      const timer = setInterval(tick, ms);
      timer.unref();
      return () => clearInterval(timer);
    },
  });
}
