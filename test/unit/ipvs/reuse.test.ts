import { describe, expect, it } from 'vitest';
import { ZERO_STATS } from '../../../src/ipvs/codec.js';
import { reuseUnchanged, sameRealServer, sameStats } from '../../../src/ipvs/reuse.js';
import type { VirtualServer } from '../../../src/ipvs/types.js';
import { rs, vs, zeroStats } from '../../support/builders.js';

/** A fresh, structurally equal copy: what the decoder makes of an unchanged table. */
const copy = (v: VirtualServer): VirtualServer => structuredClone(v);

const table = (): VirtualServer =>
  vs('TCP/10.96.0.10:80', [rs('10.244.1.7:8080'), rs('10.244.1.8:8080', { stats: { ...zeroStats(), conns: 7n, inBytes: 2n ** 64n - 1n } }), rs('10.244.2.3:8080')]);

describe('reuseUnchanged', () => {
  it('returns the previous virtual server itself when nothing changed', () => {
    const before = table();
    expect(reuseUnchanged(before, copy(before))).toBe(before);
  });

  it('keeps the fresh virtual server when there is no previous one (its real servers copied)', () => {
    const next = table();
    const kept = reuseUnchanged(undefined, next);
    expect(kept).toEqual(next);
    expect(kept.destinations[0]).not.toBe(next.destinations[0]);
    expect(kept.destinations[1]?.stats).not.toBe(next.destinations[1]?.stats);
    const idle = reuseUnchanged(undefined, vs('TCP/10.96.0.11:80', [rs('10.244.1.7:8080', { stats: ZERO_STATS })]));
    expect(idle.destinations[0]?.stats).toBe(ZERO_STATS);
  });

  it('shares every unchanged real server when one real server saw traffic', () => {
    const before = table();
    const next = copy(before);
    const busy = { ...next.destinations[0]!, activeConns: 1, stats: { ...zeroStats(), conns: 1n } };
    const result = reuseUnchanged(before, { ...next, destinations: [busy, ...next.destinations.slice(1)] });
    expect(result).not.toBe(before);
    expect(result.destinations[0]).toEqual(busy);
    expect(result.destinations[1]).toBe(before.destinations[1]);
    expect(result.destinations[2]).toBe(before.destinations[2]);
    expect(result.stats).toBe(before.stats);
    expect(result).toEqual({ ...before, destinations: [busy, before.destinations[1], before.destinations[2]] });
  });

  it('keeps the previous counters object when only a setting changed', () => {
    const before = table();
    const next = copy(before);
    const reweighted = { ...next.destinations[1]!, weight: 0 };
    const result = reuseUnchanged(before, { ...next, destinations: [next.destinations[0]!, reweighted, next.destinations[2]!] });
    expect(result.destinations[1]).toEqual({ ...before.destinations[1], weight: 0 });
    expect(result.destinations[1]).not.toBe(before.destinations[1]);
    expect(result.destinations[1]?.stats).toBe(before.destinations[1]?.stats);
  });

  it('keeps the previous real servers array when only the virtual server changed', () => {
    const before = table();
    const result = reuseUnchanged(before, { ...copy(before), scheduler: 'lc' });
    expect(result.scheduler).toBe('lc');
    expect(result.destinations).toBe(before.destinations);
  });

  it('matches real servers by address and port when one was added or removed', () => {
    const before = table();
    const added = rs('10.244.1.9:8080');
    const next = copy(before);
    const grown = reuseUnchanged(before, { ...next, destinations: [next.destinations[0]!, next.destinations[1]!, added, next.destinations[2]!] });
    expect(grown.destinations).toHaveLength(4);
    expect(grown.destinations[0]).toBe(before.destinations[0]);
    expect(grown.destinations[1]).toBe(before.destinations[1]);
    expect(grown.destinations[2]).toEqual(added);
    expect(grown.destinations[3]).toBe(before.destinations[2]);

    const shrunk = reuseUnchanged(before, { ...next, destinations: [next.destinations[0]!, next.destinations[2]!] });
    expect(shrunk.destinations).toEqual([before.destinations[0], before.destinations[2]]);
    expect(shrunk.destinations[1]).toBe(before.destinations[2]);
    expect(shrunk).not.toBe(before);
  });

  it('never takes a real server of another port for an unchanged one', () => {
    const before = table();
    const next = copy(before);
    const moved = { ...next.destinations[0]!, port: 9090 };
    const result = reuseUnchanged(before, { ...next, destinations: [moved, ...next.destinations.slice(1)] });
    expect(result.destinations[0]).toEqual(moved);
    expect(result.destinations[0]).not.toBe(before.destinations[0]);
  });
});

describe('sameRealServer / sameStats', () => {
  it('compares every field, the tunnel and all ten counters', () => {
    const base = rs('10.1.1.1:80', { forward: 'tunnel', tunnel: { type: 'gue', port: 6080, flags: ['csum'] } });
    expect(sameRealServer(base, structuredClone(base))).toBe(true);
    expect(sameRealServer(base, { ...base, tunnel: { type: 'gue', port: 6080, flags: ['remcsum'] } })).toBe(false);
    expect(sameRealServer(base, { ...base, tunnel: null })).toBe(false);
    expect(sameRealServer(base, { ...base, inactiveConns: 1 })).toBe(false);
    expect(sameRealServer(base, { ...base, upperThreshold: 5 })).toBe(false);
    for (const field of Object.keys(zeroStats()) as (keyof ReturnType<typeof zeroStats>)[]) {
      expect(sameStats(zeroStats(), { ...zeroStats(), [field]: 1n }), field).toBe(false);
    }
    expect(sameStats(zeroStats(), zeroStats())).toBe(true);
  });
});
