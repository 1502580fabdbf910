/** The agent hands each poll's outcome to its PollObservers (Events, the NodeCondition), after the grace machine. */
import { describe, expect, it } from 'vitest';
import type { Agent, AgentLogger, PollObserver } from '../../../src/agent/agent.js';
import type { PollChange } from '../../../src/events/intents.js';
import type { IpvsSnapshot } from '../../../src/ipvs/types.js';
import { rs, snapshot, vs } from '../../support/builders.js';
import { fakeAgent } from '../../support/fake-agent.js';

const missing = snapshot([vs('TCP/10.96.0.10:53')]);
const complete = snapshot([vs('TCP/10.96.0.10:53', [rs('10.244.1.4:53')])]);

function harness(observers: PollObserver[]): { agent: Agent; errors: string[]; setTable(t: IpvsSnapshot): void; advance(ms: number): void } {
  const errors: string[] = [];
  const quiet = (): void => undefined;
  const logger: AgentLogger = { info: quiet, warn: quiet, debug: quiet, error: (_o, msg) => errors.push(msg) };
  return { ...fakeAgent({ logger, graceMs: 4000, startsAt: '2026-12-06T10:00:00Z', observers }), errors };
}

describe('PollObserver', () => {
  it('is told each poll: the finding confirmed once after the grace, cleared once on repair, with the verdict before and after', async () => {
    const seen: PollChange[] = [];
    const h = harness([{ afterPoll: (c) => seen.push(c) }]);
    const tables = [missing, missing, missing, complete, complete];
    for (const table of tables) {
      h.setTable(table);
      await h.agent.pollOnce();
      h.advance(2000);
    }
    expect(seen.map((c) => [c.previousStatus, c.report.status, c.confirmed.map((f) => f.kind).join(), c.cleared.map((f) => `${f.kind}${f.confirmed ? '' : ' (pending)'}`).join()])).toEqual([
      ['unknown', 'ok', '', ''],
      ['ok', 'ok', '', ''],
      ['ok', 'drift', 'missing-real-server', ''],
      ['drift', 'ok', '', 'missing-real-server'],
      ['ok', 'ok', '', ''],
    ]);
  });

  it('an observer that throws is logged and neither stops the poll nor the next observer', async () => {
    const seen: string[] = [];
    const h = harness([
      {
        afterPoll: () => {
          throw new Error('boom');
        },
      },
      { afterPoll: (c) => seen.push(c.report.status) },
    ]);
    h.setTable(complete);
    await h.agent.pollOnce();
    expect(seen).toEqual(['ok']);
    expect(h.errors).toEqual(['a poll observer failed']);
    expect(h.agent.drift().status).toBe('ok');
  });
});
