/**
 * The heap compaction after a poll (src/agent/heap.ts): the policy on given figures, and the real
 * thing in a child process of the Node running the suite (20 and 24), with and without --expose-gc.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compactionSlack, HeapCompactor, shouldCompact, type HeapFigures } from '../../../src/agent/heap.js';

const MiB = 2 ** 20;

describe('compaction policy', () => {
  it('allows an eighth of the live data over it, at least 4 MiB', () => {
    expect(compactionSlack(0)).toBe(4 * MiB);
    expect(compactionSlack(24 * MiB)).toBe(4 * MiB);
    expect(compactionSlack(80 * MiB)).toBe(10 * MiB);
  });

  it('compacts only when the resident heap exceeds the live data plus the slack', () => {
    expect(shouldCompact({ total_physical_size: 90 * MiB, used_heap_size: 90 * MiB }, 80 * MiB)).toBe(false);
    expect(shouldCompact({ total_physical_size: 90 * MiB + 1, used_heap_size: 0 }, 80 * MiB)).toBe(true);
    // Before any compaction the baseline is zero: the first poll after startup compacts once its
    // heap is past 4 MiB.
    expect(shouldCompact({ total_physical_size: 5 * MiB, used_heap_size: 5 * MiB }, 0)).toBe(true);
  });
});

describe('HeapCompactor', () => {
  function compactor(v8Major: number, figures: HeapFigures[]): { heap: HeapCompactor; calls: unknown[][] } {
    const calls: unknown[][] = [];
    let clock = 0;
    const heap = new HeapCompactor({
      gc: (...args: unknown[]) => {
        calls.push(args);
        clock += 120;
      },
      heapStatistics: () => figures.shift() ?? { total_physical_size: 0, used_heap_size: 0 },
      v8Major,
      monotonicMs: () => clock,
    });
    return { heap, calls };
  }

  it('collects with the memory-reducing flavor on V8 12 and later, and measures against what stayed live', () => {
    const { heap, calls } = compactor(13, [
      { total_physical_size: 150 * MiB, used_heap_size: 140 * MiB },
      { total_physical_size: 86 * MiB, used_heap_size: 84 * MiB },
      // next poll: within 84 + 10.5 MiB → nothing
      { total_physical_size: 94 * MiB, used_heap_size: 90 * MiB },
      // then past it
      { total_physical_size: 120 * MiB, used_heap_size: 100 * MiB },
      { total_physical_size: 85 * MiB, used_heap_size: 83 * MiB },
    ]);
    expect(heap.afterPoll()).toEqual({ beforeBytes: 150 * MiB, afterBytes: 86 * MiB, liveBytes: 84 * MiB, pauseMs: 120 });
    expect(heap.afterPoll()).toBeNull();
    expect(heap.afterPoll()).toEqual({ beforeBytes: 120 * MiB, afterBytes: 85 * MiB, liveBytes: 83 * MiB, pauseMs: 120 });
    expect(calls).toEqual([[{ type: 'major', flavor: 'last-resort' }], [{ type: 'major', flavor: 'last-resort' }]]);
  });

  it('calls gc() without options on V8 11 (Node 20), where only that is a full collection', () => {
    const { heap, calls } = compactor(11, [
      { total_physical_size: 150 * MiB, used_heap_size: 140 * MiB },
      { total_physical_size: 86 * MiB, used_heap_size: 84 * MiB },
    ]);
    expect(heap.afterPoll()).not.toBeNull();
    expect(calls).toEqual([[]]);
  });
});

describe('the compactor on this runtime', () => {
  // A child of the Node running the suite: ~200 MiB of arrays made old (they survive collections),
  // then dropped; the compaction must give most of it back.
  const script = `
    import { processHeapCompactor } from ${JSON.stringify(new URL('../../../src/agent/heap.ts', import.meta.url).href)};
    const heap = processHeapCompactor();
    if (heap === null) { console.log('null'); process.exit(0); }
    heap.afterPoll();
    let keep = [];
    for (let i = 0; i < 64; i++) keep.push(Array.from({ length: 128 * 1024 }, (_, j) => ({ j })));
    for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 10));
    keep = null;
    console.log(JSON.stringify(heap.afterPoll()));
  `;
  const run = (flags: string[]): string =>
    execFileSync(process.execPath, [...flags, '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } }).trim();

  it('returns the dropped old generation to the system under --expose-gc', () => {
    const result = JSON.parse(run(['--expose-gc'])) as { beforeBytes: number; afterBytes: number; liveBytes: number };
    expect(result.beforeBytes - result.afterBytes).toBeGreaterThan(100 * MiB);
    expect(result.liveBytes).toBeLessThan(result.afterBytes);
  });

  it('is off (null) when the runtime does not expose gc', () => {
    expect(run([])).toBe('null');
  });
});
