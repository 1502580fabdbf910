/**
 * Adaptive tiering (src/agent/tiering.ts): the optimizing compilers off at the start of serve and on,
 * once and for good, when the heap passes LARGE_HEAP_BYTES; other commands untouched.
 */
import { describe, expect, it } from 'vitest';
import { adaptiveTiering, CHECK_EVERY_MS, LARGE_HEAP_BYTES, startAdaptiveTiering, type TieringDeps } from '../../../src/agent/tiering.js';

/** A heap that follows `heap` and a timer ticked by hand. */
function fakes(heap: number[]): TieringDeps & { flags: string[]; tick: () => void; ticking: () => boolean; periods: number[] } {
  const flags: string[] = [];
  const periods: number[] = [];
  let tick: (() => void) | null = null;
  return {
    flags,
    periods,
    setFlags: (f) => flags.push(f),
    usedHeapBytes: () => heap.shift() ?? 0,
    every: (ms, fn) => {
      periods.push(ms);
      tick = fn;
      return () => {
        tick = null;
      };
    },
    tick: () => tick?.(),
    ticking: () => tick !== null,
  };
}

describe('adaptiveTiering', () => {
  it.each([
    ['a small agent', [17, 20, 23, 24].map((mb) => mb * 2 ** 20), false, ['--no-maglev', '--no-turbofan']],
    ['a large agent', [17, 30, 41, 20].map((mb) => mb * 2 ** 20), true, ['--no-maglev', '--no-turbofan', '--maglev', '--turbofan']],
    ['a heap just past the bound', [LARGE_HEAP_BYTES + 1], true, ['--no-maglev', '--no-turbofan', '--maglev', '--turbofan']],
  ])('%s: compilers off at once, on only past the bound, once', (_name, heap, optimizing, flags) => {
    const deps = fakes([...heap]);
    const tiering = adaptiveTiering(deps);
    expect(deps.flags).toEqual(['--no-maglev', '--no-turbofan']);
    expect(deps.periods).toEqual([CHECK_EVERY_MS]);
    for (let i = 0; i < heap.length + 2; i++) deps.tick();
    expect(tiering.optimizing).toBe(optimizing);
    expect(deps.flags).toEqual(flags);
    // Once on, the heap is no longer looked at.
    expect(deps.ticking()).toBe(!optimizing);
  });

  it('stop() ends the looking and leaves the compilers as they are', () => {
    const deps = fakes([LARGE_HEAP_BYTES * 2]);
    const tiering = adaptiveTiering(deps);
    tiering.stop();
    deps.tick();
    expect(tiering.optimizing).toBe(false);
    expect(deps.flags).toEqual(['--no-maglev', '--no-turbofan']);
  });
});

describe('startAdaptiveTiering', () => {
  it.each([
    [['check', '--grace', '0s']],
    [['ipvs', '--output', 'json']],
    [['--kubeconfig', '/k', 'serve']],
    [[]],
  ])('leaves V8 alone for %j', (args) => {
    expect(startAdaptiveTiering(args)).toBeNull();
  });
});
