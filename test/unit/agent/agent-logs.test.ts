/**
 * The agent's state-change log lines (issue 5: one line per state change, not per poll): a
 * difference kube-proxy repairs within the grace was never drift, so its disappearance is not
 * logged as "drift cleared"; a confirmed one is, once.
 */
import { describe, expect, it } from 'vitest';
import type { Agent, AgentDeps, AgentLogger } from '../../../src/agent/agent.js';
import type { IpvsSnapshot } from '../../../src/ipvs/types.js';
import { rs, snapshot, vs } from '../../support/builders.js';
import { fakeAgent } from '../../support/fake-agent.js';

interface Line {
  level: 'info' | 'warn' | 'error' | 'debug';
  msg: string;
}

function harness(heap?: AgentDeps['heap']): { agent: Agent; lines: Line[]; setTable(table: IpvsSnapshot): void; advance(ms: number): void } {
  const lines: Line[] = [];
  const logger: AgentLogger = {
    info: (_o, msg) => lines.push({ level: 'info', msg }),
    warn: (_o, msg) => lines.push({ level: 'warn', msg }),
    error: (_o, msg) => lines.push({ level: 'error', msg }),
    debug: (_o, msg) => lines.push({ level: 'debug', msg }),
  };
  return { ...fakeAgent({ logger, graceMs: 10_000, startsAt: '2025-03-01T12:00:00Z', heap }), lines };
}

const missing = snapshot([vs('TCP/10.96.0.10:53')]);
const complete = snapshot([vs('TCP/10.96.0.10:53', [rs('10.244.1.4:53')])]);
const driftLines = (lines: Line[]): Line[] => lines.filter((l) => l.level !== 'debug' && /drift|verdict/.test(l.msg));

describe('agent state-change logs', () => {
  it('does not log "drift cleared" for a difference repaired within the grace', async () => {
    const h = harness();
    h.setTable(missing);
    await h.agent.pollOnce();
    expect(h.agent.drift().findings.map((f) => [f.kind, f.confirmed])).toEqual([['missing-real-server', false]]);
    h.advance(2000);
    h.setTable(complete);
    await h.agent.pollOnce();
    expect(h.agent.drift().findings).toEqual([]);
    expect(driftLines(h.lines).filter((l) => l.msg.startsWith('drift'))).toEqual([]);
    expect(h.lines.some((l) => l.level === 'debug' && l.msg.includes('resolved within the grace'))).toBe(true);
  });

  it('logs "drift confirmed" once after the grace and "drift cleared" once on repair', async () => {
    const h = harness();
    h.setTable(missing);
    for (let t = 0; t <= 12_000; t += 2000) {
      await h.agent.pollOnce();
      h.advance(2000);
    }
    h.setTable(complete);
    await h.agent.pollOnce();
    expect(driftLines(h.lines).map((l) => [l.level, l.msg.replace(/:.*/, '')])).toEqual([
      ['info', 'node verdict is now ok'],
      ['warn', 'drift confirmed'],
      ['info', 'node verdict is now drift'],
      ['info', 'drift cleared'],
      ['info', 'node verdict is now ok'],
    ]);
  });

  it('compacts the heap after each poll of the loop, with one debug line when it did', async () => {
    const compactions = [null, { reducing: true, beforeBytes: 150 * 2 ** 20, afterBytes: 86 * 2 ** 20, liveBytes: 84 * 2 ** 20, pauseMs: 180 }];
    let polled = 0;
    let compactedAfter: number[] = [];
    const h = harness({
      afterPoll: () => {
        compactedAfter.push(polled);
        return compactions.shift() ?? null;
      },
    });
    h.setTable(complete);
    const pollOnce = h.agent.pollOnce.bind(h.agent);
    h.agent.pollOnce = async () => {
      await pollOnce();
      polled++;
    };
    await h.agent.cycle();
    await h.agent.cycle();
    expect(compactedAfter).toEqual([1, 2]);
    expect(h.lines.filter((l) => l.msg === 'heap compacted')).toEqual([{ level: 'debug', msg: 'heap compacted' }]);
    // pollOnce alone (the one-shot `check`) never compacts
    compactedAfter = [];
    await h.agent.pollOnce();
    expect(compactedAfter).toEqual([]);
  });

  it('keeps polling when the heap compaction throws, with a warning', async () => {
    const h = harness({
      afterPoll: () => {
        throw new Error('gc is gone');
      },
    });
    h.setTable(complete);
    await expect(h.agent.cycle()).resolves.toBeUndefined();
    await expect(h.agent.cycle()).resolves.toBeUndefined();
    expect(h.lines.filter((l) => l.msg === 'heap compaction failed')).toEqual([
      { level: 'warn', msg: 'heap compaction failed' },
      { level: 'warn', msg: 'heap compaction failed' },
    ]);
  });
});
