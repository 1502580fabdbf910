/**
 * The cluster's migration report: each node's own report (fetched from its agent) merged per
 * finding with the nodes it affects, nodes whose agent could not be reached named as such, the
 * findings the API alone decides (cluster-api.ts) wherever a node's agent did not decide them —
 * every one of them for a node without a report, so it is judged on what the API says — the node
 * kernels the API reports (Node.status.nodeInfo.kernelVersion) for every node, and the
 * cluster-only finding of mixed proxy modes (nodes switch one by one: KEP-3866 "Upgrade / Downgrade
 * Strategy"). A finding is counted once per id, node and Service port. Pure.
 */
import type { ServicePortRef } from '../drift/types.js';
import { kernelAtLeast, parseKernelRelease } from '../kmod/kernel-release.js';
import { catalogueEntry, type FindingId } from './catalogue.js';
import { NFTABLES_MINIMUM_KERNEL } from './evaluate-node.js';
import type { ApiNodeView } from './cluster-api.js';
import { plural, serviceRefKey, uniqueServices } from './finding.js';
import { MAX_LISTED, SEVERITY_ORDER, type Evidence, type MigrationReport, type MigrationSeverity, type Verdict } from './types.js';

export interface NodeOutcome {
  node: string;
  /** Node.status.nodeInfo.kernelVersion, null when the API does not say. */
  kernelVersion: string | null;
  /** The node's report, or null with `error` when its agent could not be reached or answered nonsense. */
  report: MigrationReport | null;
  error: string | null;
}

export interface ClusterFinding {
  id: string;
  severity: MigrationSeverity;
  title: string;
  advice: string;
  nodeCount: number;
  /** Sorted, at most MAX_LISTED. */
  nodes: string[];
  /** Of `nodes`, those for which it comes from the API alone (their agent did not decide it); sorted, at most MAX_LISTED. */
  apiOnlyNodes: string[];
  services: ServicePortRef[];
  serviceCount: number;
  /** A few evidence items, each prefixed with its node. */
  evidenceSample: (Evidence & { node: string })[];
}

export interface PerNode {
  node: string;
  /**
   * The node's report's verdict (blocked also when the API alone found a blocker its agent could
   * not decide); for a node whose agent gave no report: blocked when the API alone finds a
   * blocker there, else unreachable.
   */
  verdict: Verdict | 'unreachable';
  /** reported: its agent answered; unreachable: it did not, so the node is judged on the API alone. */
  agent: 'reported' | 'unreachable';
  phase: string | null;
  /** Every finding counted for the node, its agent's and the API's. */
  summary: Record<MigrationSeverity, number>;
  /** The finding ids counted for this node from the API alone, sorted. */
  fromApi: string[];
}

export interface ClusterMigrationReport {
  schemaVersion: 1;
  scope: 'cluster';
  generatedAt: string;
  verdict: Verdict;
  headline: string;
  nodes: { total: number; reporting: number; missing: { node: string; reason: string }[]; byMode: Record<string, number> };
  summary: Record<MigrationSeverity, number>;
  findings: ClusterFinding[];
  perNode: PerNode[];
  notes: string[];
}

/** What the API alone says: each node's findings (cluster-api.ts), and why parts of it are missing. */
export interface ApiJudgement {
  views: readonly ApiNodeView[];
  notes: readonly string[];
  /** PrometheusRules on IPVS series (alert-rules.ts), evidence for ipvs-monitoring-dark; empty when none or not read. */
  alertRules?: readonly Evidence[];
}

/** Findings only the cluster view can see. */
const MIXED_MODES = {
  id: 'mixed-proxy-modes',
  severity: 'info' as const,
  title: 'Nodes run kube-proxy in different modes',
  advice: 'Expected while nodes are switched one group at a time; every mode serves every Service. Finish the switch (or roll the stragglers back) and check each switched node for ipvs-leftovers-after-switch.',
};

const SAMPLE = 5;

function worse(a: MigrationSeverity, b: MigrationSeverity): MigrationSeverity {
  return SEVERITY_ORDER.indexOf(a) <= SEVERITY_ORDER.indexOf(b) ? a : b;
}

interface Bucket {
  id: string;
  severity: MigrationSeverity;
  title: string;
  advice: string;
  nodes: Set<string>;
  apiOnlyNodes: Set<string>;
  services: ServicePortRef[];
  sample: (Evidence & { node: string })[];
}

/**
 * Whether the node's agent decided finding `id`: it reported, and no source it could not read hides
 * the id. Its answer then stands — found or not — over the API's, which sees less (the ConfigMap
 * rather than /configz, the Node's addresses rather than the node's interfaces).
 */
function agentDecided(report: MigrationReport | null, id: string): boolean {
  return report !== null && !report.unknowns.some((u) => u.hides.includes(id));
}

export function buildClusterReport(outcomes: readonly NodeOutcome[], generatedAt: Date, api: ApiJudgement | null = null): ClusterMigrationReport {
  const buckets = new Map<string, Bucket>();
  const bucket = (id: string, severity: MigrationSeverity, title: string, advice: string): Bucket => {
    let b = buckets.get(id);
    if (!b) buckets.set(id, (b = { id, severity, title, advice, nodes: new Set(), apiOnlyNodes: new Set(), services: [], sample: [] }));
    else b.severity = worse(b.severity, severity);
    return b;
  };
  const apiByNode = new Map((api?.views ?? []).map((v) => [v.node, v]));
  const byMode: Record<string, number> = {};
  const missing: { node: string; reason: string }[] = [];
  const perNode: PerNode[] = [];
  const sorted = [...outcomes].sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  for (const o of sorted) {
    const mode = o.report?.kubeProxy.mode ?? 'unknown';
    byMode[mode] = (byMode[mode] ?? 0) + 1;
    // Each finding id once per node, at its worst severity.
    const perId = new Map<string, MigrationSeverity>();
    const note = (id: string, severity: MigrationSeverity): void => void perId.set(id, worse(perId.get(id) ?? severity, severity));
    const fromApi = new Set<string>();
    // id + node + Service port: what is counted once, whoever reported it.
    const counted = new Set<string>();
    if (!o.report) {
      missing.push({ node: o.node, reason: o.error ?? 'no report' });
    } else {
      for (const f of o.report.findings) {
        const b = bucket(f.id, f.severity, f.title, f.advice);
        b.nodes.add(o.node);
        b.services.push(...f.services);
        note(f.id, f.severity);
        counted.add(`${f.id}|`);
        for (const ref of f.services) counted.add(`${f.id}|${serviceRefKey(ref)}`);
        for (const e of f.evidence.slice(0, SAMPLE)) if (b.sample.length < SAMPLE) b.sample.push({ ...e, node: o.node });
      }
    }
    // The API's findings count where the node's agent could not decide them — all of them for a node without a report.
    const view = o.report?.phase === 'post-switch' ? undefined : apiByNode.get(o.node);
    for (const f of view?.findings ?? []) {
      if (agentDecided(o.report, f.id)) continue;
      const services = f.services.filter((ref) => !counted.has(`${f.id}|${serviceRefKey(ref)}`));
      if (counted.has(`${f.id}|`) && (f.services.length === 0 || services.length === 0)) continue;
      const b = bucket(f.id, f.severity, f.title, f.advice);
      b.nodes.add(o.node);
      b.apiOnlyNodes.add(o.node);
      b.services.push(...services);
      note(f.id, f.severity);
      fromApi.add(f.id);
      for (const e of f.evidence.slice(0, SAMPLE)) if (b.sample.length < SAMPLE) b.sample.push({ ...e, node: o.node, detail: `from the API alone${e.detail ? `: ${e.detail}` : ''}` });
    }
    // The API's kernel version judges nodes whose agent did not answer too.
    const kernel = o.kernelVersion === null ? null : parseKernelRelease(o.kernelVersion);
    if (kernel !== null && !kernelAtLeast(kernel, NFTABLES_MINIMUM_KERNEL.major, NFTABLES_MINIMUM_KERNEL.minor) && o.report?.phase !== 'post-switch') {
      const entry = catalogueEntry('kernel-too-old-for-nftables' satisfies FindingId);
      const b = bucket(entry.id, entry.severity, entry.title, entry.advice);
      if (!b.nodes.has(o.node)) {
        b.nodes.add(o.node);
        note(entry.id, entry.severity);
        if (!o.report) {
          b.apiOnlyNodes.add(o.node);
          fromApi.add(entry.id);
        }
        if (b.sample.length < SAMPLE) b.sample.push({ kind: 'kernel', ref: 'Node.status.nodeInfo.kernelVersion', value: kernel.release, detail: null, node: o.node });
      }
    }
    const summary: Record<MigrationSeverity, number> = { blocker: 0, change: 0, info: 0 };
    for (const severity of perId.values()) summary[severity]++;
    const apiBlocks = summary.blocker > 0;
    perNode.push({
      node: o.node,
      verdict: o.report ? (apiBlocks ? 'blocked' : o.report.verdict) : apiBlocks ? 'blocked' : 'unreachable',
      agent: o.report ? 'reported' : 'unreachable',
      phase: o.report?.phase ?? null,
      summary,
      fromApi: [...fromApi].sort(),
    });
  }
  if (api?.alertRules && api.alertRules.length > 0) {
    // A cluster-wide fact: the rules go flat wherever nodes switch, so they are listed even if no agent reported the finding.
    const entry = catalogueEntry('ipvs-monitoring-dark' satisfies FindingId);
    const b = bucket(entry.id, entry.severity, entry.title, entry.advice);
    b.sample = [...api.alertRules.slice(0, SAMPLE).map((e) => ({ ...e, node: '*' })), ...b.sample];
  }
  const modes = Object.keys(byMode).filter((m) => m !== 'unknown');
  if (modes.length > 1) {
    const b = bucket(MIXED_MODES.id, MIXED_MODES.severity, MIXED_MODES.title, MIXED_MODES.advice);
    for (const o of sorted) if (o.report?.kubeProxy.mode) b.nodes.add(o.node);
    b.sample.push(...modes.sort().map((m) => ({ kind: 'config-field' as const, ref: 'mode', value: byMode[m] ?? 0, detail: `${plural(byMode[m] ?? 0, 'node')} in ${m} mode`, node: '*' })));
  }
  const findings: ClusterFinding[] = [...buckets.values()]
    .map((b) => {
      const nodes = [...b.nodes].sort();
      const services = uniqueServices(b.services);
      return {
        id: b.id,
        severity: b.severity,
        title: b.title,
        advice: b.advice,
        nodeCount: nodes.length,
        nodes: nodes.slice(0, MAX_LISTED),
        apiOnlyNodes: [...b.apiOnlyNodes].sort().slice(0, MAX_LISTED),
        services: services.slice(0, MAX_LISTED),
        serviceCount: services.length,
        evidenceSample: b.sample,
      };
    })
    .sort((a, b) => SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity) || (a.id < b.id ? -1 : 1));
  const summary: Record<MigrationSeverity, number> = { blocker: 0, change: 0, info: 0 };
  for (const f of findings) summary[f.severity]++;
  const nodeUnknown = sorted.some((o) => o.report?.verdict === 'unknown');
  const verdict: Verdict = summary.blocker > 0 ? 'blocked' : missing.length > 0 || nodeUnknown ? 'unknown' : summary.change > 0 ? 'ready-with-changes' : 'ready';
  const notes: string[] = [];
  if (missing.length > 0) {
    notes.push(
      api
        ? `${plural(missing.length, 'node')} could not be asked and ${missing.length === 1 ? 'is' : 'are'} judged on the API alone (traffic policies, session affinity, kube-proxy's ConfigMap, the kernel version); what only a node can see — its IPVS table, sockets, addresses, firewall, modules and sysctls — is unknown there.`
        : `${plural(missing.length, 'node')} could not be asked; their findings are unknown apart from the kernel version the API reports.`,
    );
  }
  notes.push(...(api?.notes ?? []));
  return {
    schemaVersion: 1,
    scope: 'cluster',
    generatedAt: generatedAt.toISOString(),
    verdict,
    headline: headline(verdict, findings, sorted.length, missing),
    nodes: { total: sorted.length, reporting: sorted.length - missing.length, missing, byMode },
    summary,
    findings,
    perNode,
    notes,
  };
}

function headline(verdict: Verdict, findings: readonly ClusterFinding[], total: number, missing: readonly { node: string }[]): string {
  const unreachable = missing.length > 0 ? ` (${plural(missing.length, 'node')} unreachable: ${missing.map((m) => m.node).join(', ')})` : '';
  switch (verdict) {
    case 'blocked': {
      const blockers = findings.filter((f) => f.severity === 'blocker');
      const nodes = new Set(blockers.flatMap((f) => f.nodes)).size;
      const services = blockers.reduce((n, f) => n + f.serviceCount, 0);
      const parts = blockers.map((f) => `${f.id} (${plural(f.nodeCount, 'node')}${f.serviceCount > 0 ? `, ${plural(f.serviceCount, 'Service port')}` : ''})`);
      return `BLOCKED: the cluster cannot switch to nftables mode now — ${plural(blockers.length, 'blocker')} on ${nodes} of ${plural(total, 'node')}${services > 0 ? ` affecting ${plural(services, 'Service port')}` : ''}: ${parts.join(', ')}${unreachable}`;
    }
    case 'unknown':
      return `UNKNOWN: no blocker found, but not every node could be judged${unreachable}`;
    case 'ready-with-changes':
      return `READY WITH CHANGES: all ${plural(total, 'node')} can switch to nftables mode; ${plural(findings.filter((f) => f.severity === 'change').length, 'change')} to review first`;
    case 'ready':
      return `READY: all ${plural(total, 'node')} can switch to nftables mode`;
  }
}
