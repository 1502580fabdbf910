/**
 * Where Events and the NodeCondition go in the Kubernetes API, and what its answers mean:
 * - an Event is created (POST events.k8s.io/v1 .../events); a repeat patches its `series`
 *   (strategic merge patch), and a series whose Event is gone (404) is created whole, as client-go's
 *   recordEvent does (k8s.io/client-go/tools/events/event_broadcaster.go);
 * - the condition is a strategic merge patch of nodes/<name>/status: conditions merge by `type`, so
 *   the kubelet's own conditions are left as they are;
 * - the regarding object's uid is looked up (GET, again after 10 minutes), because `kubectl
 *   describe` finds an object's Events by uid; without the answer the Event goes without it.
 * 2xx is done; no answer, 429 and 5xx are retried; any other status is given up.
 */
import { statusDetail } from '../cluster/api-error.js';
import type { ApiAnswer, ApiWriter } from './api-write.js';
import type { RecordedEvent } from './correlator.js';
import type { ObjectReference } from './intents.js';
import type { NodeCondition } from './node-condition.js';
import type { WriteOutcome } from './write-queue.js';

export const REPORTING_CONTROLLER = 'ipvs-sentinel';

const STRATEGIC = 'application/strategic-merge-patch+json';

/** metav1.MicroTime on the wire: RFC 3339 with six fractional digits. */
export function microTime(at: Date): string {
  return at.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** metav1.Time on the wire: RFC 3339 in whole seconds. */
export function wireTime(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function outcomeOf(answer: ApiAnswer): WriteOutcome {
  if (answer.status >= 200 && answer.status < 300) return { ok: true };
  const error = `HTTP ${answer.status}: ${statusDetail(answer.status, answer.body)}`;
  return { ok: false, retry: answer.status === 429 || answer.status >= 500, error };
}

function objectPath(ref: ObjectReference): string {
  const name = encodeURIComponent(ref.name);
  return ref.kind === 'Node' ? `/api/v1/nodes/${name}` : `/api/v1/namespaces/${encodeURIComponent(ref.namespace ?? 'default')}/services/${name}`;
}

function eventsPath(namespace: string, name?: string): string {
  return `/apis/events.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/events${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;
}

function seriesOf(event: RecordedEvent): Record<string, unknown> | undefined {
  return event.series ? { count: event.series.count, lastObservedTime: microTime(event.series.lastObservedTime) } : undefined;
}

/** The events.k8s.io/v1 Event, as the API stores it. */
export function eventBody(event: RecordedEvent, reportingInstance: string, uid: string | null): Record<string, unknown> {
  const { intent } = event;
  return {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name: event.name, namespace: event.namespace },
    eventTime: microTime(event.eventTime),
    ...(event.series ? { series: seriesOf(event) } : {}),
    reportingController: REPORTING_CONTROLLER,
    reportingInstance,
    action: intent.action,
    reason: intent.reason,
    regarding: { ...intent.regarding, ...(uid ? { uid } : {}) },
    note: intent.note,
    type: intent.type,
  };
}

/** A uid is looked up again after this: a Service deleted and created again under its name has another. */
export const UID_TTL_MS = 10 * 60_000;

export class KubeSink {
  private readonly uids = new Map<string, { uid: string; at: number }>();

  constructor(
    private readonly api: ApiWriter,
    /** `ipvs-sentinel-<node>`: which agent reported, as kubelet's instance is its node. */
    readonly reportingInstance: string,
    private readonly monotonicMs: () => number = () => performance.now(),
  ) {}

  async writeEvent(event: RecordedEvent, signal: AbortSignal): Promise<WriteOutcome> {
    const uid = await this.uidOf(event.intent.regarding, signal);
    const create = async (): Promise<ApiAnswer> =>
      this.api('POST', eventsPath(event.namespace), { contentType: 'application/json', text: JSON.stringify(eventBody(event, this.reportingInstance, uid)) }, signal);
    if (!event.series) {
      const answer = await create();
      // The same name twice: the Event is there (client-go gives it up without retrying).
      return answer.status === 409 ? { ok: true } : outcomeOf(answer);
    }
    const patched = await this.api('PATCH', eventsPath(event.namespace, event.name), { contentType: STRATEGIC, text: JSON.stringify({ series: seriesOf(event) }) }, signal);
    if (patched.status !== 404) return outcomeOf(patched);
    const created = await create();
    // Created by someone in between: the next try patches it.
    if (created.status === 409) return { ok: false, retry: true, error: 'HTTP 409: the Event of this series was created meanwhile' };
    return outcomeOf(created);
  }

  async patchCondition(node: string, condition: NodeCondition, signal: AbortSignal): Promise<WriteOutcome> {
    const wire = {
      type: condition.type,
      status: condition.status,
      reason: condition.reason,
      message: condition.message,
      lastHeartbeatTime: wireTime(condition.lastHeartbeatTime),
      lastTransitionTime: wireTime(condition.lastTransitionTime),
    };
    const answer = await this.api('PATCH', `/api/v1/nodes/${encodeURIComponent(node)}/status`, { contentType: STRATEGIC, text: JSON.stringify({ status: { conditions: [wire] } }) }, signal);
    return outcomeOf(answer);
  }

  private async uidOf(ref: ObjectReference, signal: AbortSignal): Promise<string | null> {
    const key = objectPath(ref);
    const known = this.uids.get(key);
    if (known !== undefined && this.monotonicMs() - known.at < UID_TTL_MS) return known.uid;
    let answer: ApiAnswer;
    try {
      answer = await this.api('GET', key, null, signal);
    } catch {
      signal.throwIfAborted();
      return null;
    }
    if (answer.status !== 200) return null;
    let uid: unknown;
    try {
      uid = (JSON.parse(answer.body) as { metadata?: { uid?: unknown } } | null)?.metadata?.uid;
    } catch {
      return null;
    }
    if (typeof uid !== 'string' || !/^[0-9a-zA-Z-]{1,64}$/.test(uid)) return null;
    if (this.uids.size >= 4096) this.uids.clear();
    this.uids.set(key, { uid, at: this.monotonicMs() });
    return uid;
  }
}
