/**
 * The grace state machine: a difference becomes confirmed drift only once it has persisted, since
 * kube-proxy legitimately lags the API by up to its sync period (docs/kube-proxy-rules.md §5.2).
 * Pure: the caller passes the clock reading; nothing here reads the time.
 *
 * Rules, per finding id (findingId):
 * - self-healing kinds are confirmed once now − firstSeen ≥ grace (grace 0: at once);
 * - non-self-healing kinds never converge by themselves, so they do not wait the whole grace: by
 *   default they are confirmed on their second consecutive poll (one full poll period, which rules
 *   out startup races), or after the grace if that comes first; with `nonSelfHealingDelay` they are
 *   confirmed once now − firstSeen ≥ min(grace, nonSelfHealingDelay) instead;
 * - confirmation is sticky while the finding stays, even if the clock steps back;
 * - firstSeen survives across polls while the id stays, whatever happens to the content
 *   (expected/actual/message/severity are taken from the current poll);
 * - a finding absent from the current poll is dropped (and reported as cleared).
 */
import { findingId } from './finding-id.js';
import type { Finding, TrackedFinding } from './types.js';

export interface GracePolicy {
  /** Milliseconds a self-healing finding must persist before it is confirmed (--grace). */
  grace: number;
  /** Milliseconds for non-self-healing findings; unset = confirmed on the second consecutive poll. */
  nonSelfHealingDelay?: number;
}

export interface GraceTransitions {
  /** Every finding of the current poll, tracked, in the order of `current` (duplicate ids once). */
  findings: TrackedFinding[];
  /** Findings that became confirmed in this poll (for "drift confirmed" log lines). */
  confirmed: TrackedFinding[];
  /** Tracked findings of the previous poll that are gone now (confirmed or not). */
  cleared: TrackedFinding[];
}

export function advance(previous: ReadonlyMap<string, TrackedFinding> | readonly TrackedFinding[], current: readonly Finding[], now: Date, policy: GracePolicy): TrackedFinding[] {
  return advanceWithTransitions(previous, current, now, policy).findings;
}

export function advanceWithTransitions(
  previous: ReadonlyMap<string, TrackedFinding> | readonly TrackedFinding[],
  current: readonly Finding[],
  now: Date,
  policy: GracePolicy,
): GraceTransitions {
  const before = toMap(previous);
  const findings: TrackedFinding[] = [];
  const confirmed: TrackedFinding[] = [];
  const seen = new Set<string>();

  for (const finding of current) {
    const id = findingId(finding);
    if (seen.has(id)) continue;
    seen.add(id);
    const prior = before.get(id);
    const firstSeen = prior?.firstSeen ?? now;
    const wasConfirmed = prior?.confirmed ?? false;
    const isConfirmed = wasConfirmed || dueForConfirmation(finding.selfHealing, now.getTime() - firstSeen.getTime(), prior !== undefined, policy);
    const tracked: TrackedFinding = { ...finding, id, firstSeen, confirmed: isConfirmed };
    findings.push(tracked);
    if (isConfirmed && !wasConfirmed) confirmed.push(tracked);
  }

  const cleared = [...before.values()].filter((t) => !seen.has(t.id));
  return { findings, confirmed, cleared };
}

function dueForConfirmation(selfHealing: boolean, age: number, seenLastPoll: boolean, policy: GracePolicy): boolean {
  if (age >= policy.grace) return true;
  if (selfHealing) return false;
  return policy.nonSelfHealingDelay === undefined ? seenLastPoll : age >= policy.nonSelfHealingDelay;
}

function toMap(previous: ReadonlyMap<string, TrackedFinding> | readonly TrackedFinding[]): ReadonlyMap<string, TrackedFinding> {
  if (!Array.isArray(previous)) return previous as ReadonlyMap<string, TrackedFinding>;
  const map = new Map<string, TrackedFinding>();
  for (const t of previous as readonly TrackedFinding[]) map.set(t.id, t);
  return map;
}
