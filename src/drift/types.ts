/** Findings: one difference between what should be on the node and what is (docs/contract.md §5). */

import type { FindingKind } from '../checks/registry.js';

/** The kinds are declared by the checks that emit them (src/checks/registry.ts). */
export type { FindingKind } from '../checks/registry.js';
export type Severity = 'critical' | 'warning' | 'info';

/** The Service port a virtual server belongs to; `port` is the Service port's name ("" if unnamed). */
export interface ServicePortRef {
  namespace: string;
  name: string;
  port: string;
}

export interface Finding {
  kind: FindingKind;
  severity: Severity;
  /** Virtual server key, e.g. "TCP/10.96.0.1:443". */
  virtualServer: string | null;
  /** Real server key, e.g. "10.244.1.7:8080" or "[fd00::7]:8080". */
  realServer: string | null;
  /**
   * What the finding is about, as an operator names it — the virtual server, "virtual -> real
   * server", the module, the sysctl, the address, the set and entry, the chain. With the kind it is
   * the finding's identity across polls (finding-id.ts): two findings of one kind about the same
   * subject are the same finding.
   */
  subject: string;
  service: ServicePortRef | null;
  expected: unknown;
  actual: unknown;
  /** One sentence a person can act on: what is wrong and what usually fixes it. */
  message: string;
  /**
   * Whether kube-proxy repairs this by itself on its next sync. Self-healing findings wait the
   * grace period before they are confirmed; the others are confirmed after one poll.
   */
  selfHealing: boolean;
}

/** A finding as tracked across polls by the grace state machine. */
export interface TrackedFinding extends Finding {
  /** Stable identity across polls: findingId(), from the kind and the subject. */
  id: string;
  firstSeen: Date;
  confirmed: boolean;
  /**
   * The confirmed finding this one follows from, set by the report (report.ts): kube-proxy-stale
   * while kube-proxy is not syncing, on every confirmed finding its sync would repair. Absent otherwise.
   */
  explainedBy?: FindingKind;
}

export type DriftStatus = 'ok' | 'drift' | 'unknown';

export interface DriftReport {
  node: string | null;
  checkedAt: Date;
  status: DriftStatus;
  reason: string | null;
  findings: TrackedFinding[];
}

/** The subject of a finding about one destination of a virtual server. */
export function realServerSubject(virtualServer: string, realServer: string): string {
  return `${virtualServer} -> ${realServer}`;
}
