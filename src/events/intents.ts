/**
 * What one poll has to say to Kubernetes as Events: the findings confirmed and cleared in it, on
 * the Node and — for a finding that names a Service — on that Service too, and the node verdict
 * entering or leaving confirmed drift. Pure: the agent's poll result in, intents out.
 * Info findings (a draining real server) are the expected state and make no Event.
 */
import type { DriftReport, DriftStatus, TrackedFinding } from '../drift/types.js';
import { DRIFT_CLEARED_REASON, DRIFT_CONFIRMED_REASON, reasonsOf } from './reasons.js';

/** The object an Event is about (core/v1 ObjectReference, the fields we fill). */
export interface ObjectReference {
  apiVersion: 'v1';
  kind: 'Node' | 'Service';
  name: string;
  namespace?: string;
}

export type EventType = 'Normal' | 'Warning';
export type EventAction = 'Confirmed' | 'Cleared';

export interface EventIntent {
  regarding: ObjectReference;
  type: EventType;
  reason: string;
  action: EventAction;
  /** The finding's message, or the verdict's summary. */
  note: string;
  /** The finding id, or "verdict": two findings of one kind on one object are two Events. */
  subject: string;
}

/** What the agent hands its observers after each poll (src/agent/agent.ts PollObserver). */
export interface PollChange {
  report: DriftReport;
  previousStatus: DriftStatus;
  /** Findings confirmed in this poll. */
  confirmed: readonly TrackedFinding[];
  /** Findings gone in this poll, confirmed or not. */
  cleared: readonly TrackedFinding[];
}

/** events.k8s.io/v1 refuses a note over 1 kB (ValidateEventCreate, pkg/apis/core/validation/events.go). */
export const NOTE_MAX_BYTES = 1024;

export function boundedNote(text: string): string {
  if (Buffer.byteLength(text) <= NOTE_MAX_BYTES) return text;
  let cut = text.slice(0, NOTE_MAX_BYTES - 3);
  while (Buffer.byteLength(cut) > NOTE_MAX_BYTES - 3) cut = cut.slice(0, -1);
  return `${cut}...`;
}

function regardingOf(node: string, finding: TrackedFinding): ObjectReference[] {
  const refs: ObjectReference[] = [{ apiVersion: 'v1', kind: 'Node', name: node }];
  if (finding.service) refs.push({ apiVersion: 'v1', kind: 'Service', name: finding.service.name, namespace: finding.service.namespace });
  return refs;
}

/** The kinds of the confirmed findings that are drift, for the verdict's note and the NodeCondition's message. */
export function driftingKinds(report: DriftReport): string[] {
  return [...new Set(report.findings.filter((f) => f.confirmed && f.severity !== 'info').map((f) => f.kind))];
}

export function eventIntents(node: string, change: PollChange): EventIntent[] {
  const intents: EventIntent[] = [];
  const { report, previousStatus } = change;
  if (report.status === 'drift' && previousStatus !== 'drift') {
    const count = report.findings.filter((f) => f.confirmed && f.severity !== 'info').length;
    const note = `${count} confirmed finding(s) on node ${node}: ${driftingKinds(report).join(', ')}; see /drift on the agent`;
    intents.push({ regarding: { apiVersion: 'v1', kind: 'Node', name: node }, type: 'Warning', reason: DRIFT_CONFIRMED_REASON, action: 'Confirmed', note: boundedNote(note), subject: 'verdict' });
  }
  if (report.status === 'ok' && previousStatus === 'drift') {
    const note = `no confirmed drift on node ${node} any more`;
    intents.push({ regarding: { apiVersion: 'v1', kind: 'Node', name: node }, type: 'Normal', reason: DRIFT_CLEARED_REASON, action: 'Cleared', note, subject: 'verdict' });
  }
  for (const f of change.confirmed) {
    if (f.severity === 'info') continue;
    for (const regarding of regardingOf(node, f)) {
      intents.push({ regarding, type: 'Warning', reason: reasonsOf(f.kind).confirmed, action: 'Confirmed', note: boundedNote(f.message), subject: f.id });
    }
  }
  for (const f of change.cleared) {
    if (!f.confirmed || f.severity === 'info') continue;
    for (const regarding of regardingOf(node, f)) {
      const note = boundedNote(`cleared: ${f.subject} (${f.kind}) is as kube-proxy would program it again`);
      intents.push({ regarding, type: 'Normal', reason: reasonsOf(f.kind).cleared, action: 'Cleared', note, subject: f.id });
    }
  }
  return intents;
}
