import { describe, expect, it } from 'vitest';
import type { DriftReport, TrackedFinding } from '../../../src/drift/types.js';
import { ConditionTracker } from '../../../src/events/node-condition.js';

const T0 = Date.parse('2026-12-06T10:00:00Z');

function finding(kind: TrackedFinding['kind']): TrackedFinding {
  return { kind, severity: 'critical', virtualServer: null, realServer: null, subject: kind, service: null, expected: null, actual: null, message: kind, selfHealing: false, id: kind, firstSeen: new Date(T0), confirmed: true };
}

function report(status: DriftReport['status'], kinds: TrackedFinding['kind'][] = [], reason: string | null = null): DriftReport {
  return { node: 'worker-1', checkedAt: new Date(T0), status, reason, findings: kinds.map(finding) };
}

describe('ConditionTracker', () => {
  it('patches only when status, reason or message change; the transition time moves only with the status', () => {
    const tracker = new ConditionTracker();
    const polls: [DriftReport, string | null][] = [
      [report('unknown', [], 'the cluster cache is not synced'), 'Unknown'],
      [report('unknown', [], 'the cluster cache is not synced'), null],
      [report('ok'), 'True'],
      [report('ok'), null],
      [report('drift', ['missing-real-server']), 'False'],
      [report('drift', ['missing-real-server', 'missing-real-server']), null],
      [report('drift', ['missing-real-server', 'weight-mismatch']), 'False'],
      [report('ok'), 'True'],
    ];
    const posted = polls.map(([r], i) => tracker.next(r, new Date(T0 + i * 1000)));
    expect(posted.map((c) => c?.status ?? null)).toEqual(polls.map(([, s]) => s));
    expect(posted[4]).toMatchObject({ type: 'IPVSConsistent', reason: 'IPVSDriftConfirmed', message: 'confirmed drift: missing-real-server; see /drift on the agent' });
    expect(posted[6]?.lastTransitionTime).toEqual(new Date(T0 + 4000));
    expect(posted[6]?.lastHeartbeatTime).toEqual(new Date(T0 + 6000));
    expect(posted[7]?.lastTransitionTime).toEqual(new Date(T0 + 7000));
  });

  it('after a write was given up, the same condition is posted again', () => {
    const tracker = new ConditionTracker();
    expect(tracker.next(report('ok'), new Date(T0))).not.toBeNull();
    expect(tracker.next(report('ok'), new Date(T0))).toBeNull();
    tracker.forget();
    expect(tracker.next(report('ok'), new Date(T0))).not.toBeNull();
  });
});
