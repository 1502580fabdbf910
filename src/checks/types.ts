/**
 * A check: one concern of the node verdict — its finding kinds, whether it is a prerequisite, its
 * /healthz line and its evaluation — declared once and listed in the registry (registry.ts), from
 * which the kind lists, the health checks and the metrics are derived.
 */
import type { NodeAddressOwner } from '../desired/node-addresses.js';
import type { DesiredState } from '../desired/types.js';
import type { DriftReport, Finding } from '../drift/types.js';
import type { IpvsSnapshot } from '../ipvs/types.js';
import type { ModuleReport } from '../kmod/types.js';
import type { NodeReadingsOf, NodeSourceName } from './sources.js';

/** What the node-side sources returned in one poll, and what is derived from them once. */
export interface NodeObservation {
  readings: NodeReadingsOf;
  /** readings.netlink.value: the IPVS table, or null when it could not be read. */
  snapshot: IpvsSnapshot | null;
  /** Schedulers of the live virtual servers, computed once per poll; null when IPVS was not read. */
  schedulersInUse: string[] | null;
  /** The module check's report (it needs the scheduler and the IPVS read too); null when modules were not read. */
  modules: ModuleReport | null;
  /** The mode kube-proxy reports at /proxyMode; null when unreachable. */
  runningMode: string | null;
}

/** What the cluster side contributes: the desired state, or why there is none we can trust. */
export interface ClusterView {
  desired: DesiredState | null;
  /** The other Nodes' addresses, which kube-ipvs0 must not hold; absent when not known. */
  nodeAddresses?: ReadonlyMap<string, NodeAddressOwner> | null;
  /** Non-null when the cache is not synced or stale: nothing is compared with the desired state then. */
  unknownReason: string | null;
  /** kube-proxy's configured mode (ConfigMap / configz), null when only defaults are known. */
  configuredMode: string | null;
  strictARP: boolean;
}

/** What every check sees of one poll. */
export interface PollContext {
  node: NodeObservation;
  cluster: ClusterView;
}

/** What a comparison with the desired state sees: both sides, known to be trustworthy. */
export interface ComparisonContext extends PollContext {
  desired: DesiredState;
  snapshot: IpvsSnapshot;
}

export interface HealthLineContext {
  /** null before the first poll. */
  node: NodeObservation | null;
  /** Why the cluster cache cannot be trusted, or null. */
  clusterUnknown: string | null;
  /** The drift report after the grace machine. */
  report: DriftReport;
}

/** One line of /healthz (`[+]name ok` / `[-]name failed: reason`), also /healthz/<name>. */
export interface HealthLine {
  name: string;
  /** Where the line stands in /healthz, ascending; the order is part of what operators script against. */
  order: number;
  evaluate(ctx: HealthLineContext): { ok: boolean; reason: string | null };
}

interface CheckBase<K extends string> {
  /** The check's name, as in logs, docs and --skip-checks. */
  name: string;
  /** A node source only checks like this one need: not read while every check owning it is skipped (--skip-checks). */
  ownSource?: NodeSourceName;
  /** Every kind it may emit, in the order findings of equal severity are listed. */
  kinds: readonly K[];
  health: HealthLine | null;
}

/**
 * A prerequisite check judges the node itself (modules, sysctls, kube-proxy's mode): it runs on
 * every poll, and its findings stand even when nothing could be compared with the desired state — a
 * missing ip_vs module is often why the table is unreadable.
 */
export interface PrerequisiteCheck<K extends string = string> extends CheckBase<K> {
  prerequisite: true;
  evaluate(ctx: PollContext): Finding[];
}

/**
 * A comparison check compares the node with the desired state: it runs only when the cluster cache
 * is trusted, the IPVS table was read and kube-proxy runs in IPVS mode; otherwise the verdict is
 * unknown and it says nothing.
 */
export interface ComparisonCheck<K extends string = string> extends CheckBase<K> {
  prerequisite: false;
  evaluate(ctx: ComparisonContext): Finding[];
}

export type CheckDefinition<K extends string = string> = PrerequisiteCheck<K> | ComparisonCheck<K>;
