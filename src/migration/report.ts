/**
 * The node's migration-readiness report: every evaluator of its phase whose inputs were read, the
 * others stated as unknowns, findings in a stable order, and a verdict whose first line answers
 * "can this node switch to nftables mode now". Pure: the input carries the clock's reading.
 */
import { effectiveDetectLocalMode, effectiveScheduler } from '../cluster/kube-proxy-config.js';
import { parseKernelRelease, kernelAtLeast } from '../kmod/kernel-release.js';
import { effectiveModeName } from './mode.js';
import type { Evaluator, InputSource, InputWith } from './evaluator.js';
import { EVALUATORS } from './evaluators.js';
import { plural } from './finding.js';
import { NFTABLES_MINIMUM_KERNEL } from './evaluate-node.js';
import { SEVERITY_ORDER, type MigrationFinding, type MigrationInput, type MigrationPhase, type MigrationReport, type MigrationSeverity, type Unknown, type Verdict } from './types.js';

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareFindings(a: MigrationFinding, b: MigrationFinding): number {
  return SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity) || compareText(a.id, b.id) || compareText(a.evidence[0]?.ref ?? '', b.evidence[0]?.ref ?? '');
}

/** The running mode (/proxyMode), else the configured one; null when neither is known. */
function modeOf(input: MigrationInput): { mode: string | null; source: MigrationReport['kubeProxy']['modeSource'] } {
  if (input.runningMode !== null) return { mode: effectiveModeName(input.runningMode), source: 'proxyMode' };
  if (input.config !== null && input.configSource !== null && input.configSource !== 'defaults') return { mode: effectiveModeName(input.config.mode), source: input.configSource };
  return { mode: null, source: null };
}

function missing(input: MigrationInput, needs: readonly InputSource[]): InputSource[] {
  return needs.filter((n) => input[n] === null);
}

function headline(node: string, phase: MigrationPhase, verdict: Verdict, findings: readonly MigrationFinding[], unknowns: readonly Unknown[]): string {
  const blockers = findings.filter((f) => f.severity === 'blocker');
  const changes = findings.filter((f) => f.severity === 'change');
  const unread = [...new Set(unknowns.map((u) => u.source))].join(', ');
  if (phase === 'post-switch') {
    if (verdict === 'blocked') return `BLOCKED: node ${node} has switched away from IPVS mode but IPVS mode's state is still there (${blockers.map((f) => f.id).join(', ')})`;
    if (verdict === 'unknown') return `UNKNOWN: node ${node} has switched away from IPVS mode; whether IPVS mode left state behind is unknown (${unread} not read)`;
    return `DONE: node ${node} has switched away from IPVS mode and no IPVS state is left`;
  }
  switch (verdict) {
    case 'blocked': {
      const parts = blockers.map((f) => (f.serviceCount > 0 ? `${f.id} (${plural(f.serviceCount, 'Service port')})` : f.id));
      const services = blockers.reduce((n, f) => n + f.serviceCount, 0);
      return `BLOCKED: node ${node} cannot switch to nftables mode now — ${plural(blockers.length, 'blocker')}${services > 0 ? ` affecting ${plural(services, 'Service port')}` : ''}: ${parts.join(', ')}`;
    }
    case 'unknown':
      return `UNKNOWN: no blocker found on node ${node}, but ${unread} could not be read, so it may not be ready`;
    case 'ready-with-changes':
      return `READY WITH CHANGES: node ${node} can switch to nftables mode; ${plural(changes.length, 'change')} to review first`;
    case 'ready':
      return `READY: node ${node} can switch to nftables mode; nothing it shows behaves differently`;
  }
}

export function buildMigrationReport(input: MigrationInput, evaluators: readonly Evaluator[] = EVALUATORS): MigrationReport {
  const { mode, source: modeSource } = modeOf(input);
  const phase: MigrationPhase = mode === null || mode === 'ipvs' ? 'pre-switch' : 'post-switch';
  const findings: MigrationFinding[] = [];
  const unknowns: Unknown[] = [];
  for (const e of evaluators) {
    if (e.phase !== phase) continue;
    const gaps = missing(input, e.needs);
    if (gaps.length > 0) {
      for (const source of gaps) unknowns.push({ source, reason: input.unread[source] ?? 'not read', hides: e.ids });
      continue;
    }
    // Every input it needs was just checked non-null.
    findings.push(...e.evaluate(input as InputWith<InputSource>));
  }
  findings.sort(compareFindings);
  // One line per unread source, with every finding it hides.
  const merged = new Map<string, Unknown>();
  for (const u of unknowns) {
    const seen = merged.get(u.source);
    merged.set(u.source, seen ? { ...seen, hides: [...new Set([...seen.hides, ...u.hides])] } : u);
  }
  const notes: string[] = [];
  if (mode === null) {
    merged.set('kube-proxy-mode', { source: 'kube-proxy-mode', reason: input.unread['kube-proxy'] ?? 'neither /proxyMode nor a configuration says which mode kube-proxy runs', hides: ['ipvs-leftovers-after-switch'] });
  }
  if (input.kubeProxyVersion === null) {
    notes.push('kube-proxy\'s version is unknown: make sure the target runs v1.31+ (nftables mode is GA in v1.33; v1.29–v1.30 need the NFTablesProxyMode gate) and, for externalTrafficPolicy: Local, v1.34+ or a 1.33 patch with #133969.');
  }
  if (phase === 'pre-switch' && input.netfilter === null) {
    notes.push(`The iptables rules were not read (${input.unread.netfilter ?? 'not read'}): clusterip-icmp and local-firewall-accepts were not evaluated.`);
  }
  notes.push('Whether KUBE_PROXY_NFTABLES_SKIP_KERNEL_VERSION_CHECK is set for kube-proxy, and the nft version in its image, cannot be seen from the node.');
  const summary: Record<MigrationSeverity, number> = { blocker: 0, change: 0, info: 0 };
  for (const f of findings) summary[f.severity]++;
  const unknownList = [...merged.values()].sort((a, b) => compareText(a.source, b.source));
  const verdict: Verdict = summary.blocker > 0 ? 'blocked' : unknownList.length > 0 ? 'unknown' : summary.change > 0 ? 'ready-with-changes' : 'ready';
  const release = input.modules?.release ?? null;
  const kernel = release === null ? null : parseKernelRelease(release);
  const config = input.config;
  return {
    schemaVersion: 1,
    scope: 'node',
    node: input.node,
    generatedAt: input.generatedAt.toISOString(),
    phase,
    verdict,
    headline: headline(input.node, phase, verdict, findings, unknownList),
    kubeProxy: {
      mode,
      modeSource,
      version: input.kubeProxyVersion,
      targetVersion: input.targetVersion,
      scheduler: config ? effectiveScheduler(config) : null,
      nodePortAddresses: config?.nodePortAddresses ?? null,
      excludeCIDRs: config?.excludeCIDRs ?? null,
      strictARP: config?.strictARP ?? null,
      detectLocalMode: config ? effectiveDetectLocalMode(config) : null,
      clusterCIDRs: config?.clusterCIDRs ?? null,
    },
    kernel: {
      release,
      nftablesMinimum: `${NFTABLES_MINIMUM_KERNEL.major}.${NFTABLES_MINIMUM_KERNEL.minor}`,
      meetsMinimum: kernel === null ? null : kernelAtLeast(kernel, NFTABLES_MINIMUM_KERNEL.major, NFTABLES_MINIMUM_KERNEL.minor),
    },
    summary,
    findings,
    unknowns: unknownList,
    notes,
  };
}
