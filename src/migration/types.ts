/**
 * The migration-readiness report's own types: what a node must know to answer "can kube-proxy on
 * this node move from IPVS to nftables mode now", and the report that answers it. Pure data; the
 * evaluators (evaluate-*.ts) and the report builder (report.ts) work on these only.
 */
import type { KubeProxyConfig, KubeProxyConfigSource } from '../cluster/kube-proxy-config.js';
import type { Service } from '../cluster/model.js';
import type { DesiredState, NodeInterface } from '../desired/types.js';
import type { ServicePortRef } from '../drift/types.js';
import type { NodeIpsets } from '../ipset/node.js';
import type { NodeNetfilter } from '../iptables/node.js';
import type { IpvsSnapshot } from '../ipvs/types.js';
import type { ModuleFacts } from '../kmod/check.js';
import type { SysctlValues } from '../node/sysctl.js';
import type { ListeningSocket } from '../node/sockets.js';

/** blocker: something that works today stops working; change: behaves differently, decide; info: nothing to do. */
export type MigrationSeverity = 'blocker' | 'change' | 'info';

export const SEVERITY_ORDER: readonly MigrationSeverity[] = ['blocker', 'change', 'info'];

export type Impact = 'breaks' | 'behaves-differently' | 'cosmetic';

/** pre-switch: kube-proxy runs IPVS mode; post-switch: another mode, so only leftovers matter. */
export type MigrationPhase = 'pre-switch' | 'post-switch';

export type Verdict = 'ready' | 'ready-with-changes' | 'blocked' | 'unknown';

export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

export type EvidenceKind =
  | 'virtual-server'
  | 'real-server'
  | 'config-field'
  | 'sysctl'
  | 'interface-address'
  | 'interface'
  | 'socket'
  | 'service'
  | 'kernel'
  | 'module'
  | 'ipset'
  | 'iptables-chain'
  | 'nftables-chain'
  | 'metric'
  | 'alert-rule';

export interface Evidence {
  kind: EvidenceKind;
  /** What the evidence names: "TCP/10.96.0.10:53", "ipvs.scheduler", "eth1 192.168.5.7". */
  ref: string;
  value: JsonValue;
  detail: string | null;
}

export interface MigrationFinding {
  id: string;
  severity: MigrationSeverity;
  impact: Impact;
  title: string;
  /** One sentence about this node. */
  message: string;
  /** Service ports affected, sorted, at most MAX_LISTED; serviceCount says how many in all. */
  services: ServicePortRef[];
  serviceCount: number;
  /** At most MAX_LISTED; evidenceCount says how many in all. */
  evidence: Evidence[];
  evidenceCount: number;
  advice: string;
  references: readonly string[];
  versionNote: string | null;
  /** true when node state alone cannot decide it (the advice says what to verify). */
  heuristic: boolean;
}

/** How many services and evidence items a finding lists; the counts carry the rest. */
export const MAX_LISTED = 20;

/** A source the report needed and could not read, with why; it makes the verdict unknown unless something blocks. */
export interface Unknown {
  /** "ipvs", "cluster", "sockets", "kube-proxy-version"… */
  source: string;
  reason: string;
  /** The finding ids it could hide. */
  hides: readonly string[];
}

/** Everything one node's report is computed from; null where a source could not be read (say why in `unread`). */
export interface MigrationInput {
  node: string;
  generatedAt: Date;
  /** kube-proxy's /proxyMode, null when unreachable. */
  runningMode: string | null;
  /** kube-proxy's effective configuration, and where it came from (null: not known at all). */
  config: KubeProxyConfig | null;
  configSource: KubeProxyConfigSource | null;
  /** kube-proxy's version ("v1.35.2"), null when unknown. */
  kubeProxyVersion: string | null;
  /** The version the operator plans to run, null when not given. */
  targetVersion: string | null;
  snapshot: IpvsSnapshot | null;
  /** The desired IPVS state (it carries the Service ports, their real servers and the node's NodePort addresses). */
  desired: DesiredState | null;
  /** Services by "namespace/name", for their traffic policies, affinity and health-check ports. */
  services: ReadonlyMap<string, Service> | null;
  /** The node's primary IPs (Node.status.addresses, first InternalIP of each family), which nftables mode's default `primary` keeps. */
  primaryNodeIPs: readonly string[] | null;
  interfaces: readonly NodeInterface[] | null;
  sysctls: SysctlValues | null;
  modules: ModuleFacts | null;
  /** Listening sockets of the host network namespace. */
  sockets: readonly ListeningSocket[] | null;
  ipsets: NodeIpsets | null;
  netfilter: NodeNetfilter | null;
  /** Why each null source above is null, by source name. */
  unread: Readonly<Record<string, string>>;
}

export interface KernelSummary {
  release: string | null;
  nftablesMinimum: string;
  /** null when the release is unknown. */
  meetsMinimum: boolean | null;
}

export interface KubeProxySummary {
  mode: string | null;
  modeSource: 'proxyMode' | KubeProxyConfigSource | null;
  version: string | null;
  targetVersion: string | null;
  scheduler: string | null;
  nodePortAddresses: readonly string[] | null;
  excludeCIDRs: readonly string[] | null;
  strictARP: boolean | null;
  /** detectLocalMode as kube-proxy applies it ("" → ClusterCIDR) and the cluster CIDRs it detects pods by. */
  detectLocalMode: string | null;
  clusterCIDRs: readonly string[] | null;
}

export interface MigrationReport {
  schemaVersion: 1;
  scope: 'node';
  node: string;
  generatedAt: string;
  phase: MigrationPhase;
  verdict: Verdict;
  /** The answer in one line: can this node switch now, and if not why. */
  headline: string;
  kubeProxy: KubeProxySummary;
  kernel: KernelSummary;
  summary: Record<MigrationSeverity, number>;
  /** Sorted by severity, then id, then the first evidence ref. */
  findings: MigrationFinding[];
  unknowns: Unknown[];
  notes: string[];
}
