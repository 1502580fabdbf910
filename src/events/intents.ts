/**
 * What the polls have to say to Kubernetes as Events: the findings confirmed and cleared, on the
 * Node and — for a finding that names a Service — on that Service too, and the node verdict
 * entering or leaving confirmed drift. Pure: the agent's poll results in, intents out.
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

/**
 * Which drift has been announced, so that each confirmed finding gets one Confirmed Event and one
 * Cleared Event, and the verdict one of each per episode. While the verdict is unknown (the cluster
 * cache is stale, the table unreadable) nothing is compared, so findings vanish from the report
 * without being repaired: nothing is announced then, and a finding still there afterwards — pending
 * again until the grace has passed — is the same drift going on, not a new one.
 */
export class DriftAnnouncer {
  private readonly announced = new Map<string, TrackedFinding>();
  private driftAnnounced = false;

  constructor(private readonly node: string) {}

  intents(report: DriftReport): EventIntent[] {
    if (report.status === 'unknown') return [];
    const node = this.node;
    const intents: EventIntent[] = [];
    const onNode: ObjectReference = { apiVersion: 'v1', kind: 'Node', name: node };
    if (report.status === 'drift' && !this.driftAnnounced) {
      const count = report.findings.filter((f) => f.confirmed && f.severity !== 'info').length;
      const note = `${count} confirmed finding(s) on node ${node}: ${driftingKinds(report).join(', ')}; see /drift on the agent`;
      intents.push({ regarding: onNode, type: 'Warning', reason: DRIFT_CONFIRMED_REASON, action: 'Confirmed', note: boundedNote(note), subject: 'verdict' });
      this.driftAnnounced = true;
    }
    if (report.status === 'ok' && this.driftAnnounced) {
      intents.push({ regarding: onNode, type: 'Normal', reason: DRIFT_CLEARED_REASON, action: 'Cleared', note: `no confirmed drift on node ${node} any more`, subject: 'verdict' });
      this.driftAnnounced = false;
    }
    const present = new Set(report.findings.map((f) => f.id));
    for (const f of report.findings) {
      if (!f.confirmed || f.severity === 'info' || this.announced.has(f.id)) continue;
      this.announced.set(f.id, f);
      for (const regarding of regardingOf(node, f)) {
        intents.push({ regarding, type: 'Warning', reason: reasonsOf(f.kind).confirmed, action: 'Confirmed', note: boundedNote(f.message), subject: f.id });
      }
    }
    for (const [id, f] of this.announced) {
      if (present.has(id)) continue;
      this.announced.delete(id);
      for (const regarding of regardingOf(node, f)) {
        const note = boundedNote(`cleared: ${f.subject} (${f.kind}) is as kube-proxy would program it again`);
        intents.push({ regarding, type: 'Normal', reason: reasonsOf(f.kind).cleared, action: 'Cleared', note, subject: id });
      }
    }
    return intents;
  }
}
