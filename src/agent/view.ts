/**
 * What the HTTP layer may see of the agent: read-only accessors over the latest poll. The agent
 * loop (src/agent/agent.ts) implements it; the HTTP server and the metrics only read it, so both
 * are tested with a hand-built view.
 */
import type { DriftReport } from '../drift/types.js';
import type { IpvsSnapshot } from '../ipvs/types.js';
import type { ModuleReport } from '../kmod/types.js';
import type { ServiceLookup } from '../render/snapshot.js';

/** The /healthz lines, declared by the checks (src/checks/registry.ts). */
export { HEALTH_CHECK_NAMES } from '../checks/registry.js';
export type HealthCheckName = string;
export type { SourceName } from '../checks/sources.js';

export interface HealthCheck {
  name: HealthCheckName;
  ok: boolean;
  /** null when ok; otherwise one line saying what failed. */
  reason: string | null;
}

export interface AgentView {
  readonly node: string | null;
  /** The agent's loop is alive (liveness): never false because of drift. */
  live(): boolean;
  /** First IPVS read and cluster cache sync done. */
  ready(): { ready: boolean; reason: string | null };
  /** The node verdict, one entry per HEALTH_CHECK_NAMES line, in that order. */
  health(): HealthCheck[];
  /** Latest successful IPVS read, or null. */
  snapshot(): IpvsSnapshot | null;
  /** Which Service a virtual server key belongs to, from the desired state. */
  lookup: ServiceLookup;
  drift(): DriftReport;
  modules(): ModuleReport | null;
  /** The mode kube-proxy reports at /proxyMode, or null when unknown. */
  proxyMode(): string | null;
  clusterSynced(): boolean;
  lastCheck(): Date | null;
}
