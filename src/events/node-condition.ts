/**
 * The NodeCondition `IPVSConsistent` (--node-condition): True when this node's IPVS table and its
 * prerequisites match what kube-proxy should have programmed, False on confirmed drift, Unknown
 * when the verdict is unknown. Named for the good state, like Ready, because True/False then read
 * the same way in `kubectl describe node` (node-problem-detector's problem conditions read the other
 * way round; the polarity is written in the README). Pure: a report in, a condition out, and
 * whether it differs from the last one posted — as node-problem-detector's condition manager
 * (pkg/exporters/k8sexporter/condition/manager.go) patches only a changed condition.
 */
import type { DriftReport } from '../drift/types.js';
import { driftingKinds } from './intents.js';
import { DRIFT_CONFIRMED_REASON } from './reasons.js';

export const CONDITION_TYPE = 'IPVSConsistent';

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface NodeCondition {
  type: typeof CONDITION_TYPE;
  status: ConditionStatus;
  reason: string;
  message: string;
  lastTransitionTime: Date;
  lastHeartbeatTime: Date;
}

/** The condition for a verdict, without its times. Counts stay out of the message, so it changes only with the kinds. */
export function conditionOf(report: DriftReport): Pick<NodeCondition, 'status' | 'reason' | 'message'> {
  switch (report.status) {
    case 'ok':
      return { status: 'True', reason: 'IPVSMatchesKubeProxy', message: 'the IPVS table and its prerequisites match what kube-proxy should have programmed' };
    case 'drift':
      return { status: 'False', reason: DRIFT_CONFIRMED_REASON, message: `confirmed drift: ${driftingKinds(report).join(', ')}; see /drift on the agent` };
    case 'unknown':
      return { status: 'Unknown', reason: 'VerdictUnknown', message: report.reason ?? 'the verdict is unknown' };
  }
}

/** The last condition posted (or queued), and the next one when it differs. */
export class ConditionTracker {
  private last: NodeCondition | null = null;

  /** The condition to patch for this report, or null when it is the one already posted. */
  next(report: DriftReport, now: Date): NodeCondition | null {
    const wanted = conditionOf(report);
    const last = this.last;
    if (last && last.status === wanted.status && last.reason === wanted.reason && last.message === wanted.message) return null;
    const transition = last && last.status === wanted.status ? last.lastTransitionTime : now;
    this.last = { type: CONDITION_TYPE, ...wanted, lastTransitionTime: transition, lastHeartbeatTime: now };
    return this.last;
  }

  /** The patch failed for good: post the next report's condition even if it is the same. */
  forget(): void {
    this.last = null;
  }
}
