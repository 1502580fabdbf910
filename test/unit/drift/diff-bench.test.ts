import { describe, expect, it, vi } from 'vitest';
import { buildSyntheticTable, runDiffBench } from '../../../bench/diff-bench.js';
import { diffIpvs } from '../../../src/drift/differ.js';

describe('diff benchmark', () => {
  it('builds a matching desired state and snapshot', () => {
    const { desired, observed } = buildSyntheticTable(30, 4);
    expect(desired.virtualServers).toHaveLength(30 + 3 * 2);
    expect(new Set(desired.virtualServers.flatMap((v) => v.realServers.map((r) => r.address))).size).toBe(120);
    expect(diffIpvs(desired, observed)).toEqual([]);
    const [first, ...rest] = observed.services;
    if (!first) throw new Error('empty table');
    const trimmed = { ...observed, services: [{ ...first, destinations: first.destinations.slice(0, -1) }, ...rest] };
    expect(diffIpvs(desired, trimmed).map((f) => f.kind)).toEqual(['missing-real-server']);
  });

  it('prints one result line for the full-size table', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      await runDiffBench();
      expect(log).toHaveBeenCalledTimes(1);
      expect(String(log.mock.calls[0]?.[0])).toMatch(
        /^diff: 10000 Services, 100000 endpoints → 12000 virtual servers, 120000 real servers; median \d+\.\d ms .*, 0 findings; destinations reordered \d+\.\d ms \(0 findings\); plus a foreign VS first \d+\.\d ms \(1 finding\); 9 runs each$/,
      );
      process.stdout.write(`${String(log.mock.calls[0]?.[0])}\n`);
    } finally {
      log.mockRestore();
    }
  }, 60_000);
});
