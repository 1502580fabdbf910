/** Findings: one difference between what should be on the node and what is (interface.md, drift schema). */

export const FINDING_KINDS = [
  'module-missing',
  'proxy-mode-mismatch',
  'missing-virtual-server',
  'unexpected-virtual-server',
  'scheduler-mismatch',
  'persistence-mismatch',
  'netmask-mismatch',
  'missing-real-server',
  'unexpected-real-server',
  'weight-mismatch',
  'forward-method-mismatch',
  'terminating-real-server',
  'sysctl-mismatch',
  'kube-ipvs0-missing',
  'kube-ipvs0-address-missing',
  'kube-ipvs0-address-unexpected',
  'vip-shadows-node-ip',
] as const;

export type FindingKind = (typeof FINDING_KINDS)[number];
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
  /** Stable identity across polls: kind + virtual server + real server (+ detail). */
  id: string;
  firstSeen: Date;
  confirmed: boolean;
}

export type DriftStatus = 'ok' | 'drift' | 'unknown';

export interface DriftReport {
  node: string | null;
  checkedAt: Date;
  status: DriftStatus;
  reason: string | null;
  findings: TrackedFinding[];
}
