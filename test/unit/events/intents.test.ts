import { describe, expect, it } from 'vitest';
import type { DriftReport, TrackedFinding } from '../../../src/drift/types.js';
import { boundedNote, eventIntents, NOTE_MAX_BYTES } from '../../../src/events/intents.js';

const AT = new Date('2026-12-06T10:00:00Z');

function finding(over: Partial<TrackedFinding> = {}): TrackedFinding {
  return {
    kind: 'missing-real-server',
    severity: 'critical',
    virtualServer: 'TCP/10.96.0.10:53',
    realServer: '10.244.1.5:53',
    subject: 'TCP/10.96.0.10:53 -> 10.244.1.5:53',
    service: { namespace: 'kube-system', name: 'kube-dns', port: 'dns-tcp' },
    expected: null,
    actual: null,
    message: 'real server 10.244.1.5:53 of TCP/10.96.0.10:53 is missing',
    selfHealing: true,
    id: 'missing-real-server|TCP/10.96.0.10:53 -> 10.244.1.5:53',
    firstSeen: AT,
    confirmed: true,
    ...over,
  };
}

function report(status: DriftReport['status'], findings: TrackedFinding[]): DriftReport {
  return { node: 'worker-1', checkedAt: AT, status, reason: null, findings };
}

describe('eventIntents', () => {
  it('a confirmed finding naming a Service: the verdict and the finding on the Node, the finding on the Service', () => {
    const f = finding();
    const intents = eventIntents('worker-1', { report: report('drift', [f]), previousStatus: 'ok', confirmed: [f], cleared: [] });
    expect(intents.map((i) => [i.regarding.kind, i.regarding.namespace ?? '', i.regarding.name, i.type, i.reason, i.action])).toEqual([
      ['Node', '', 'worker-1', 'Warning', 'IPVSDriftConfirmed', 'Confirmed'],
      ['Node', '', 'worker-1', 'Warning', 'MissingRealServer', 'Confirmed'],
      ['Service', 'kube-system', 'kube-dns', 'Warning', 'MissingRealServer', 'Confirmed'],
    ]);
    expect(intents[1]?.note).toBe(f.message);
    expect(intents[0]?.note).toContain('missing-real-server');
  });

  it('the clearing of a confirmed finding, and the verdict back to ok', () => {
    const f = finding({ service: null, kind: 'module-missing', id: 'module-missing|ip_vs_rr', subject: 'ip_vs_rr' });
    const intents = eventIntents('worker-1', { report: report('ok', []), previousStatus: 'drift', confirmed: [], cleared: [f] });
    expect(intents.map((i) => [i.regarding.kind, i.type, i.reason, i.action])).toEqual([
      ['Node', 'Normal', 'IPVSDriftCleared', 'Cleared'],
      ['Node', 'Normal', 'KernelModuleMissingCleared', 'Cleared'],
    ]);
  });

  it.each([
    ['a pending finding gone within the grace', { confirmed: [], cleared: [finding({ confirmed: false })] }, 'ok', 'ok'],
    ['an info finding confirmed', { confirmed: [finding({ severity: 'info' })], cleared: [] }, 'ok', 'ok'],
    ['drift turning unknown', { confirmed: [], cleared: [] }, 'unknown', 'drift'],
    ['drift staying drift', { confirmed: [], cleared: [] }, 'drift', 'drift'],
  ] as const)('nothing for %s', (_, change, status, previousStatus) => {
    expect(eventIntents('worker-1', { report: report(status, []), previousStatus, ...change })).toEqual([]);
  });

  it('notes are cut to the 1 kB the API accepts, on a character boundary', () => {
    const note = boundedNote('é'.repeat(2000));
    expect(Buffer.byteLength(note)).toBeLessThanOrEqual(NOTE_MAX_BYTES);
    expect(note.endsWith('é...')).toBe(true);
    expect(boundedNote('short')).toBe('short');
  });
});
