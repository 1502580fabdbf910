/**
 * One poll's verdict, pure: what the node sources observed plus what the cluster wants → the raw
 * findings of every check in the registry (src/checks/registry.ts), and why no trustworthy
 * comparison with the desired state was possible (if so). The grace state machine
 * (drift/grace.ts) then decides which findings are confirmed.
 */
import { CHECKS, evaluateChecks, HEALTH_LINES } from '../checks/registry.js';
import type { CheckDefinition, ClusterView, ComparisonContext, HealthLine, NodeObservation } from '../checks/types.js';
import type { Finding } from '../drift/types.js';
import type { DriftReport } from '../drift/types.js';
import type { IpvsSnapshot } from '../ipvs/types.js';
import { effectiveMode } from '../node/kube-proxy.js';
import type { HealthCheck } from './view.js';

export type { ClusterView, NodeObservation } from '../checks/types.js';

export interface PollVerdict {
  findings: Finding[];
  unknownReason: string | null;
}

/** Schedulers of the live virtual servers: a live one proves its module. null when IPVS was not read. */
export function schedulersInUse(snapshot: IpvsSnapshot | null): string[] | null {
  return snapshot ? [...new Set(snapshot.services.map((s) => s.scheduler))] : null;
}

/** Why nothing can be compared with the desired state this poll, or null when it can. */
function comparisonUnknown(node: NodeObservation, cluster: ClusterView): string | null {
  // Comparing is noise when kube-proxy is not running in IPVS mode.
  const mode = node.runningMode ?? cluster.configuredMode;
  if (!node.snapshot) return `the IPVS table could not be read: ${node.readings.netlink.error ?? 'not read yet'}`;
  if (cluster.unknownReason) return cluster.unknownReason;
  if (!cluster.desired) return 'the desired state is not known yet';
  if (mode !== null && effectiveMode(mode) !== 'ipvs') return `kube-proxy runs in ${effectiveMode(mode)} mode, not ipvs: no IPVS table to compare`;
  return null;
}

export function evaluatePoll(node: NodeObservation, cluster: ClusterView, checks: readonly CheckDefinition[] = CHECKS): PollVerdict {
  const unknownReason = comparisonUnknown(node, cluster);
  const comparison: ComparisonContext | null =
    unknownReason === null && node.snapshot && cluster.desired ? { node, cluster, desired: cluster.desired, snapshot: node.snapshot } : null;
  return { findings: evaluateChecks({ node, cluster }, comparison, checks), unknownReason };
}

/** The node verdict for /healthz, from the latest observation and the drift report after grace. */
export function healthChecks(node: NodeObservation | null, clusterUnknown: string | null, report: DriftReport, lines: readonly HealthLine[] = HEALTH_LINES): HealthCheck[] {
  return lines.map((line) => ({ name: line.name, ...line.evaluate({ node, clusterUnknown, report }) }));
}
