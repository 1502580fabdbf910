import { describe, expect, it } from 'vitest';
import type { DriftReport, TrackedFinding } from '../../../src/drift/types.js';
import { boundedNote, DriftAnnouncer, NOTE_MAX_BYTES, type EventIntent } from '../../../src/events/intents.js';

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

const row = (i: EventIntent): string => `${i.regarding.kind} ${i.regarding.namespace ?? ''}/${i.regarding.name} ${i.type} ${i.reason} ${i.action}`;

describe('DriftAnnouncer', () => {
  it('a confirmed finding naming a Service: the verdict and the finding on the Node, the finding on the Service; once', () => {
    const a = new DriftAnnouncer('worker-1');
    const f = finding();
    expect(a.intents(report('ok', [finding({ confirmed: false })]))).toEqual([]);
    const intents = a.intents(report('drift', [f]));
    expect(intents.map(row)).toEqual([
      'Node /worker-1 Warning IPVSDriftConfirmed Confirmed',
      'Node /worker-1 Warning MissingRealServer Confirmed',
      'Service kube-system/kube-dns Warning MissingRealServer Confirmed',
    ]);
    expect(intents[1]?.note).toBe(f.message);
    expect(intents[0]?.note).toContain('missing-real-server');
    expect(a.intents(report('drift', [f]))).toEqual([]);
  });

  it('the clearing of a confirmed finding, and the verdict back to ok', () => {
    const a = new DriftAnnouncer('worker-1');
    const f = finding({ service: null, kind: 'module-missing', id: 'module-missing|ip_vs_rr', subject: 'ip_vs_rr' });
    a.intents(report('drift', [f]));
    expect(a.intents(report('ok', [])).map(row)).toEqual(['Node /worker-1 Normal IPVSDriftCleared Cleared', 'Node /worker-1 Normal KernelModuleMissingCleared Cleared']);
    expect(a.intents(report('ok', []))).toEqual([]);
  });

  it('an unknown verdict in between clears nothing: the drift still there afterwards (pending again) is the same drift; gone afterwards, it is cleared then', () => {
    const a = new DriftAnnouncer('worker-1');
    const f = finding();
    a.intents(report('drift', [f]));
    expect(a.intents(report('unknown', []))).toEqual([]);
    expect(a.intents(report('ok', [finding({ confirmed: false })])).map(row)).toEqual(['Node /worker-1 Normal IPVSDriftCleared Cleared']);
    expect(a.intents(report('drift', [f])).map(row)).toEqual(['Node /worker-1 Warning IPVSDriftConfirmed Confirmed']);
    expect(a.intents(report('unknown', []))).toEqual([]);
    expect(a.intents(report('ok', [])).map(row)).toEqual([
      'Node /worker-1 Normal IPVSDriftCleared Cleared',
      'Node /worker-1 Normal MissingRealServerCleared Cleared',
      'Service kube-system/kube-dns Normal MissingRealServerCleared Cleared',
    ]);
  });

  it.each([
    ['a pending finding', [finding({ confirmed: false })]],
    ['an info finding confirmed', [finding({ severity: 'info' })]],
  ] as const)('nothing for %s', (_, findings) => {
    expect(new DriftAnnouncer('worker-1').intents(report('ok', [...findings]))).toEqual([]);
  });

  it('notes are cut to the 1 kB the API accepts, on a character boundary', () => {
    const note = boundedNote('é'.repeat(2000));
    expect(Buffer.byteLength(note)).toBeLessThanOrEqual(NOTE_MAX_BYTES);
    expect(note.endsWith('é...')).toBe(true);
    expect(boundedNote('short')).toBe('short');
  });
});
