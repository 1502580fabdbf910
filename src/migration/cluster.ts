/**
 * The cluster's migration report: each node's own report (fetched from its agent) merged per
 * finding with the nodes it affects, nodes whose agent could not be reached named as such, the
 * node kernels the API reports (Node.status.nodeInfo.kernelVersion) for every node, and the
 * cluster-only finding of mixed proxy modes (nodes switch one by one: KEP-3866 "Upgrade / Downgrade
 * Strategy"). Pure.
 */
import type { ServicePortRef } from '../drift/types.js';
import { kernelAtLeast, parseKernelRelease } from '../kmod/kernel-release.js';
import { catalogueEntry, type FindingId } from './catalogue.js';
import { NFTABLES_MINIMUM_KERNEL } from './evaluate-node.js';
import { plural, uniqueServices } from './finding.js';
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
  services: ServicePortRef[];
  serviceCount: number;
  /** A few evidence items, each prefixed with its node. */
  evidenceSample: (Evidence & { node: string })[];
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
  perNode: { node: string; verdict: Verdict | 'unreachable'; phase: string | null; summary: Record<MigrationSeverity, number> | null }[];
  notes: string[];
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
  services: ServicePortRef[];
  sample: (Evidence & { node: string })[];
}

export function buildClusterReport(outcomes: readonly NodeOutcome[], generatedAt: Date): ClusterMigrationReport {
  const buckets = new Map<string, Bucket>();
  const bucket = (id: string, severity: MigrationSeverity, title: string, advice: string): Bucket => {
    let b = buckets.get(id);
    if (!b) buckets.set(id, (b = { id, severity, title, advice, nodes: new Set(), services: [], sample: [] }));
    else b.severity = worse(b.severity, severity);
    return b;
  };
  const byMode: Record<string, number> = {};
  const missing: { node: string; reason: string }[] = [];
  const sorted = [...outcomes].sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  for (const o of sorted) {
    const mode = o.report?.kubeProxy.mode ?? 'unknown';
    byMode[mode] = (byMode[mode] ?? 0) + 1;
    if (!o.report) {
      missing.push({ node: o.node, reason: o.error ?? 'no report' });
    } else {
      for (const f of o.report.findings) {
        const b = bucket(f.id, f.severity, f.title, f.advice);
        b.nodes.add(o.node);
        b.services.push(...f.services);
        for (const e of f.evidence.slice(0, SAMPLE)) if (b.sample.length < SAMPLE) b.sample.push({ ...e, node: o.node });
      }
    }
    // The API's kernel version judges nodes whose agent did not answer too.
    const kernel = o.kernelVersion === null ? null : parseKernelRelease(o.kernelVersion);
    if (kernel !== null && !kernelAtLeast(kernel, NFTABLES_MINIMUM_KERNEL.major, NFTABLES_MINIMUM_KERNEL.minor) && o.report?.phase !== 'post-switch') {
      const entry = catalogueEntry('kernel-too-old-for-nftables' satisfies FindingId);
      const b = bucket(entry.id, entry.severity, entry.title, entry.advice);
      if (!b.nodes.has(o.node)) {
        b.nodes.add(o.node);
        if (b.sample.length < SAMPLE) b.sample.push({ kind: 'kernel', ref: 'Node.status.nodeInfo.kernelVersion', value: kernel.release, detail: null, node: o.node });
      }
    }
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
      return { id: b.id, severity: b.severity, title: b.title, advice: b.advice, nodeCount: nodes.length, nodes: nodes.slice(0, MAX_LISTED), services: services.slice(0, MAX_LISTED), serviceCount: services.length, evidenceSample: b.sample };
    })
    .sort((a, b) => SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity) || (a.id < b.id ? -1 : 1));
  const summary: Record<MigrationSeverity, number> = { blocker: 0, change: 0, info: 0 };
  for (const f of findings) summary[f.severity]++;
  const nodeUnknown = sorted.some((o) => o.report?.verdict === 'unknown');
  const verdict: Verdict = summary.blocker > 0 ? 'blocked' : missing.length > 0 || nodeUnknown ? 'unknown' : summary.change > 0 ? 'ready-with-changes' : 'ready';
  return {
    schemaVersion: 1,
    scope: 'cluster',
    generatedAt: generatedAt.toISOString(),
    verdict,
    headline: headline(verdict, findings, sorted.length, missing),
    nodes: { total: sorted.length, reporting: sorted.length - missing.length, missing, byMode },
    summary,
    findings,
    perNode: sorted.map((o) => ({ node: o.node, verdict: o.report?.verdict ?? 'unreachable', phase: o.report?.phase ?? null, summary: o.report?.summary ?? null })),
    notes: missing.length > 0 ? [`${plural(missing.length, 'node')} could not be asked; their findings are unknown apart from the kernel version the API reports.`] : [],
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
