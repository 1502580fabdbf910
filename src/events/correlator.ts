/**
 * Folding and rate limiting of Events, as client-go records them. Pure: the clock reading comes in.
 *
 * - Folding (k8s.io/client-go/tools/events/event_broadcaster.go recordToSink): an Event isomorphic
 *   to one recorded less than 6 minutes (finishTime) before it — same type, action, reason,
 *   reporting controller and instance, regarding object, and here the same finding — is not a new
 *   Event: it raises the first one's `series` (count, lastObservedTime). Later, a new Event.
 * - Rate limiting (k8s.io/client-go/tools/record/events_cache.go EventSourceObjectSpamFilter): a
 *   token bucket per source and regarding object, 25 tokens, refilled at one per 5 minutes; an
 *   observation without a token is dropped, folded ones included, so a flapping node cannot flood
 *   the API.
 * Both caches are bounded (4096 entries, oldest out, as client-go's LRU caches).
 */
import type { EventIntent } from './intents.js';

export interface CorrelatorOptions {
  burst?: number;
  /** Tokens per second. */
  qps?: number;
  /** How long after its last observation an Event can still be folded into. */
  finishMs?: number;
  maxEntries?: number;
}

export const DEFAULT_CORRELATOR: Required<CorrelatorOptions> = { burst: 25, qps: 1 / 300, finishMs: 6 * 60_000, maxEntries: 4096 };

export interface EventSeries {
  count: number;
  lastObservedTime: Date;
}

/** One Event as the recorder knows it: what to create, and the series to patch onto it. */
export interface RecordedEvent {
  /** The folding key. */
  key: string;
  namespace: string;
  name: string;
  intent: EventIntent;
  eventTime: Date;
  series: EventSeries | null;
}

export type Correlation = { event: RecordedEvent; folded: boolean } | { skipped: 'rate-limited' };

interface Bucket {
  tokens: number;
  at: number;
}

/** Cluster-scoped objects' Events go to the default namespace, as client-go's recorder puts them. */
export function eventNamespace(intent: EventIntent): string {
  return intent.regarding.namespace ?? 'default';
}

function foldingKey(intent: EventIntent): string {
  const r = intent.regarding;
  return JSON.stringify([intent.type, intent.action, intent.reason, r.apiVersion, r.kind, r.namespace ?? '', r.name, intent.subject]);
}

function spamKey(intent: EventIntent): string {
  const r = intent.regarding;
  return JSON.stringify([r.apiVersion, r.kind, r.namespace ?? '', r.name]);
}

function touch<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  while (map.size > max) {
    const oldest = map.keys().next();
    if (oldest.done) break;
    map.delete(oldest.value);
  }
}

export class EventCorrelator {
  private readonly options: Required<CorrelatorOptions>;
  private readonly events = new Map<string, RecordedEvent>();
  private readonly buckets = new Map<string, Bucket>();
  private sequence = 0n;

  constructor(options: CorrelatorOptions = {}) {
    this.options = { ...DEFAULT_CORRELATOR, ...options };
  }

  observe(intent: EventIntent, now: Date): Correlation {
    if (!this.takeToken(spamKey(intent), now.getTime())) return { skipped: 'rate-limited' };
    const key = foldingKey(intent);
    const known = this.events.get(key);
    const last = known ? (known.series?.lastObservedTime ?? known.eventTime).getTime() : -Infinity;
    if (known && now.getTime() - last < this.options.finishMs) {
      // client-go starts a series at 2: the first occurrence and this one.
      known.series = { count: (known.series?.count ?? 1) + 1, lastObservedTime: now };
      known.intent = { ...known.intent };
      touch(this.events, key, known, this.options.maxEntries);
      return { event: known, folded: true };
    }
    const event: RecordedEvent = { key, namespace: eventNamespace(intent), name: this.nameFor(intent, now), intent, eventTime: now, series: null };
    touch(this.events, key, event, this.options.maxEntries);
    return { event, folded: false };
  }

  /** The Event's name as client-go makes it: the regarding object's name and the time in hex nanoseconds. */
  private nameFor(intent: EventIntent, now: Date): string {
    const nanos = BigInt(now.getTime()) * 1_000_000n + (this.sequence++ % 1_000_000n);
    return `${intent.regarding.name}.${nanos.toString(16)}`;
  }

  private takeToken(key: string, at: number): boolean {
    const { burst, qps, maxEntries } = this.options;
    const bucket = this.buckets.get(key) ?? { tokens: burst, at };
    bucket.tokens = Math.min(burst, bucket.tokens + (Math.max(0, at - bucket.at) / 1000) * qps);
    bucket.at = at;
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    touch(this.buckets, key, bucket, maxEntries);
    return allowed;
  }
}
