/**
 * The heap compaction after a poll (src/agent/heap.ts): the policy on given figures, and the real
 * thing in a child process of the Node running the suite (20 and 24), with and without --expose-gc
 * (without it, `serve` sets the flag at run time: runtimeGc).
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compactionSlack, garbageAllowance, HeapCompactor, rssAllowance, runtimeGc, shouldCompact, type Compaction, type HeapFigures } from '../../../src/agent/heap.js';

const MiB = 2 ** 20;

describe('compaction policy', () => {
  it('allows a small heap an eighth of the live data over it, at least 4 MiB; a large one a third', () => {
    expect(compactionSlack(0)).toBe(4 * MiB);
    expect(compactionSlack(24 * MiB)).toBe(4 * MiB);
    expect(compactionSlack(80 * MiB)).toBe(10 * MiB);
    expect(garbageAllowance(0)).toBe(4 * MiB);
    expect(garbageAllowance(96 * MiB)).toBe(32 * MiB);
  });

  // [case, heap after the poll (physical, used MiB), live after the last collection MiB, the poll's growth MiB, collect?, polls skipped]
  it.each<[string, [number, number], number, number, boolean, number?]>([
    ['small heap: resident pages within the live data and the slack', [40, 40], 36, 4, false],
    ['small heap: resident pages past the live data and the slack', [41, 30], 36, 0, true],
    // Before any collection the baseline is zero: the first poll after startup collects once its heap is past 4 MiB.
    ['before any collection', [5, 5], 0, 0, true],
    ['large heap: one poll of garbage, and room for another like it', [110, 99], 87, 12, false],
    ['large heap: two polls of garbage, no room for a third', [120, 111], 87, 12, true],
    ['large heap: a quiet poll leaves room for more', [110, 105], 87, 3, false],
    ['large heap: a poll that grew it past the allowance at once', [130, 120], 87, 33, true],
    ['large heap: a heap that shrank (negative growth) counts as none', [110, 115], 87, -5, false],
    ['large heap: room for more, but the last poll was not collected after', [100, 92], 87, 2, true, 1],
    ['small heap: within the slack, however many polls were not collected after', [40, 40], 36, 1, false, 5],
  ])('%s', (_, [physical, used], live, growth, collect, skipped = 0) => {
    expect(shouldCompact({ total_physical_size: physical * MiB, used_heap_size: used * MiB }, live * MiB, growth * MiB, skipped)).toBe(collect);
  });

  it('allows RSS the garbage allowance and the slack over what the last memory-reducing collection left', () => {
    expect(rssAllowance(8 * MiB)).toBe(8 * MiB);
    expect(rssAllowance(96 * MiB)).toBe(44 * MiB);
  });
});

describe('HeapCompactor', () => {
  /** A compactor over scripted figures: each gc() call takes the next heap figures and RSS. */
  function compactor(v8Major: number, start: HeapFigures, afterEachGc: { heap: HeapFigures; rss: number }[]) {
    const calls: unknown[][] = [];
    /** Each flag set, with how many gc() calls came before it. */
    const flags: [string, number][] = [];
    let clock = 0;
    let heap = start;
    let rss = 0;
    const compactor = new HeapCompactor({
      gc: (...args: unknown[]) => {
        calls.push(args);
        clock += 100;
        const next = afterEachGc.shift();
        if (next) ({ heap, rss } = next);
      },
      heapStatistics: () => heap,
      rss: () => rss,
      v8Major,
      setFlags: (f) => flags.push([f, calls.length]),
      monotonicMs: () => clock,
    });
    /** The heap after a poll grew it to `figures`. */
    const poll = (figures: HeapFigures, rssNow: number): Compaction | null => {
      heap = figures;
      rss = rssNow;
      return compactor.afterPoll();
    };
    return { poll, calls, flags };
  }
  const plain = [{ type: 'major', flavor: 'regular' }];
  const reducing = [{ type: 'major', flavor: 'last-resort' }];
  const figures = (physical: number, used: number): HeapFigures => ({ total_physical_size: physical * MiB, used_heap_size: used * MiB });

  it('on V8 12 and later, at 10,000 Services: reduces after the first poll, then collects plainly every second poll while RSS stays within the allowance', () => {
    const { poll, calls } = compactor(13, figures(0, 0), [
      // first poll: the memory-reducing collection, then a plain one so V8 keeps its usual limit
      { heap: figures(100, 84), rss: 180 * MiB },
      { heap: figures(100, 84), rss: 180 * MiB },
      // a later poll: one plain collection, RSS within 180 + 28 + 10.5 MiB
      { heap: figures(110, 84), rss: 205 * MiB },
      // past the allowance: the plain one, then the memory-reducing one and a plain one again
      { heap: figures(110, 84), rss: 219 * MiB },
      { heap: figures(98, 83), rss: 179 * MiB },
      { heap: figures(98, 83), rss: 179 * MiB },
    ]);
    expect(poll(figures(150, 140), 260 * MiB)).toEqual({ reducing: true, beforeBytes: 150 * MiB, afterBytes: 100 * MiB, liveBytes: 84 * MiB, pauseMs: 200 });
    expect(calls).toEqual([reducing, plain]);
    // 11 MiB of garbage, and room for 11 more within 28 MiB: nothing
    expect(poll(figures(104, 95), 192 * MiB)).toBeNull();
    // 22 MiB, no room for another 11: a plain collection
    expect(poll(figures(110, 106), 200 * MiB)).toEqual({ reducing: false, beforeBytes: 110 * MiB, afterBytes: 110 * MiB, liveBytes: 84 * MiB, pauseMs: 100 });
    expect(calls.slice(2)).toEqual([plain]);
    // quiet polls: 6 MiB, room for 6 more; then the second poll since is collected after however
    // little it left (12 MiB, within the allowance)
    expect(poll(figures(110, 90), 205 * MiB)).toBeNull();
    expect(poll(figures(110, 96), 220 * MiB)).toEqual({ reducing: true, beforeBytes: 110 * MiB, afterBytes: 98 * MiB, liveBytes: 83 * MiB, pauseMs: 300 });
    expect(calls.slice(3)).toEqual([plain, reducing, plain]);
  });

  it("sets V8's heap growing factor once, before the first collection of a large heap", () => {
    const { poll, flags } = compactor(13, figures(0, 0), [
      { heap: figures(100, 84), rss: 180 * MiB },
      { heap: figures(100, 84), rss: 180 * MiB },
      { heap: figures(110, 84), rss: 190 * MiB },
    ]);
    poll(figures(150, 140), 260 * MiB);
    poll(figures(104, 95), 192 * MiB);
    poll(figures(110, 106), 200 * MiB);
    expect(flags).toEqual([['--heap-growing-percent=50', 0]]);
  });

  it("leaves V8's heap growing factor alone while the heap is small", () => {
    const { poll, flags } = compactor(13, figures(0, 0), [
      { heap: figures(20, 14), rss: 80 * MiB },
      { heap: figures(20, 14), rss: 80 * MiB },
    ]);
    poll(figures(30, 25), 90 * MiB);
    poll(figures(25, 16), 85 * MiB);
    expect(flags).toEqual([]);
  });

  it('reduces every time below 64 MiB of live data, where that is cheap, and without the plain one after', () => {
    const { poll, calls } = compactor(13, figures(0, 0), [
      { heap: figures(20, 14), rss: 80 * MiB },
      { heap: figures(20, 14), rss: 80 * MiB },
    ]);
    expect(poll(figures(30, 25), 90 * MiB)?.reducing).toBe(true);
    expect(poll(figures(25, 16), 85 * MiB)?.reducing).toBe(true);
    expect(calls).toEqual([reducing, reducing]);
  });

  it('calls gc() without options on V8 11 (Node 20), where only that is a full collection and it returns the pages', () => {
    const { poll, calls } = compactor(11, figures(0, 0), [
      { heap: figures(86, 84), rss: 170 * MiB },
      { heap: figures(86, 84), rss: 170 * MiB },
    ]);
    expect(poll(figures(150, 140), 250 * MiB)?.reducing).toBe(true);
    expect(poll(figures(110, 100), 200 * MiB)?.reducing).toBe(true);
    expect(calls).toEqual([[], []]);
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

  it('gets gc for itself without --expose-gc (the image no longer sets it) and gives the memory back', () => {
    const result = JSON.parse(run([])) as { beforeBytes: number; afterBytes: number; liveBytes: number };
    expect(result.beforeBytes - result.afterBytes).toBeGreaterThan(100 * MiB);
    expect(result.liveBytes).toBeLessThan(result.afterBytes);
  });
});

describe('runtimeGc', () => {
  const collector = (): void => undefined;

  it('takes the global gc of a process run with --expose-gc, and sets no flag', () => {
    const flags: string[] = [];
    expect(runtimeGc({ global: { gc: collector }, setFlags: (f) => flags.push(f), inNewContext: () => null })).toBe(collector);
    expect(flags).toEqual([]);
  });

  it('else sets --expose-gc and reads gc off a new context', () => {
    const flags: string[] = [];
    const gc = runtimeGc({ global: {}, setFlags: (f) => flags.push(f), inNewContext: (code) => (code === 'gc' && flags.includes('--expose-gc') ? collector : undefined) });
    expect(gc).toBe(collector);
    expect(flags).toEqual(['--expose-gc']);
  });

  it('is null when V8 refuses the flag, or the new context has no gc function', () => {
    expect(runtimeGc({ global: {}, setFlags: () => { throw new Error('flags frozen'); }, inNewContext: () => collector })).toBeNull();
    expect(runtimeGc({ global: { gc: 'not a function' }, setFlags: () => undefined, inNewContext: () => ({}) })).toBeNull();
  });

  it('really is V8\'s collector on this runtime, got without --expose-gc', () => {
    const script = `
      import { runtimeGc } from ${JSON.stringify(new URL('../../../src/agent/heap.ts', import.meta.url).href)};
      console.log(typeof globalThis.gc, typeof runtimeGc());
    `;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } }).trim();
    expect(out).toBe('undefined function');
  });
});
