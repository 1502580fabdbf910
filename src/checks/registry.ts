/**
 * The registry of checks: the one place a check is listed. The kind list (and so the README's
 * findings table, the metrics' kind labels and the order of findings), the prerequisite kinds, the
 * /healthz lines and the evaluation of a poll are all derived from it. A new check is one file
 * declaring a CheckDefinition (types.ts), plus its reader (sources.ts), plus one line below.
 */
import { SentinelError } from '../errors/index.js';
import type { Finding } from '../drift/types.js';
import { ipsetsCheck } from './ipsets.js';
import { iptablesCheck } from './iptables.js';
import { iptablesLeftoversCheck } from './iptables-leftovers.js';
import { ipvsCheck } from './ipvs.js';
import { kernelModulesCheck } from './kernel-modules.js';
import { kubeIpvs0Check } from './kube-ipvs0.js';
import { kubeProxyModeCheck } from './kube-proxy-mode.js';
import { kubeProxyStaleCheck } from './kube-proxy-stale.js';
import { staleUdpConntrackCheck } from './stale-udp-conntrack.js';
import { sysctlsCheck } from './sysctls.js';
import type { CheckDefinition, ComparisonContext, HealthLine, PollContext } from './types.js';

/** In the order findings of equal severity are listed on /drift and by `check`. */
export const CHECKS = [kubeProxyStaleCheck, kernelModulesCheck, kubeProxyModeCheck, ipvsCheck, sysctlsCheck, kubeIpvs0Check, ipsetsCheck, iptablesCheck, iptablesLeftoversCheck, staleUdpConntrackCheck] as const;

export type FindingKind = (typeof CHECKS)[number]['kinds'][number];

/** Every finding kind, in listing order. Kind names are part of the contract (README, Findings). */
export const FINDING_KINDS: readonly FindingKind[] = CHECKS.flatMap((c): readonly FindingKind[] => c.kinds);

/** Kinds whose findings stand even when nothing could be compared with the desired state. */
export const PREREQUISITE_KINDS: ReadonlySet<FindingKind> = new Set(CHECKS.filter((c) => c.prerequisite).flatMap((c): readonly FindingKind[] => c.kinds));

const KIND_RANK: ReadonlyMap<string, number> = new Map(FINDING_KINDS.map((kind, i) => [kind, i]));

/** A kind's place in FINDING_KINDS, for sorting. */
export function kindRank(kind: FindingKind): number {
  return KIND_RANK.get(kind) ?? FINDING_KINDS.length;
}

/** The verdict lines that belong to no single check: the cluster cache, and drift over all checks. */
const VERDICT_LINES: readonly HealthLine[] = [
  {
    name: 'cluster',
    order: 40,
    evaluate: ({ clusterUnknown }) => ({ ok: clusterUnknown === null, reason: clusterUnknown }),
  },
  {
    name: 'drift',
    order: 50,
    evaluate: ({ report }) => {
      if (report.status !== 'drift') return { ok: true, reason: null };
      const drifting = report.findings.filter((f) => f.confirmed && f.severity !== 'info');
      const explained = drifting.filter((f) => f.explainedBy !== undefined);
      const note = explained.length > 0 ? `, ${explained.length} explained by ${[...new Set(explained.map((f) => f.explainedBy))].join(', ')}` : '';
      return { ok: false, reason: `${drifting.length} confirmed finding(s)${note}: ${[...new Set(drifting.map((f) => f.kind))].join(', ')}` };
    },
  },
];

/** The /healthz lines of these checks and the verdict lines, in order. */
export function healthLinesOf(checks: readonly CheckDefinition[]): readonly HealthLine[] {
  return [...checks.flatMap((c) => (c.health ? [c.health] : [])), ...VERDICT_LINES].sort((a, b) => a.order - b.order);
}

/** Every /healthz line, in order, when every check runs. */
export const HEALTH_LINES: readonly HealthLine[] = healthLinesOf(CHECKS);

export const HEALTH_CHECK_NAMES: readonly string[] = HEALTH_LINES.map((l) => l.name);

export const CHECK_NAMES: readonly string[] = CHECKS.map((c) => c.name);

/** The checks that run when those named are skipped (--skip-checks), in registry order. */
export function enabledChecks(skipped: readonly string[]): readonly CheckDefinition[] {
  return CHECKS.filter((c) => !skipped.includes(c.name));
}

/**
 * One poll's raw findings: every prerequisite check, and — when `comparison` is given (the cluster
 * cache is trusted, the table was read, kube-proxy runs in IPVS mode) — every comparison check.
 * A finding of a kind its check did not declare is a programming error, refused here rather than
 * sorted, counted and documented as nothing.
 */
export function evaluateChecks(ctx: PollContext, comparison: ComparisonContext | null, checks: readonly CheckDefinition[] = CHECKS): Finding[] {
  const findings: Finding[] = [];
  for (const check of checks) {
    let produced: Finding[];
    if (check.prerequisite) produced = check.evaluate(ctx);
    else if (comparison) produced = check.evaluate(comparison);
    else continue;
    const declared: readonly string[] = check.kinds;
    for (const f of produced) {
      if (!declared.includes(f.kind)) throw new SentinelError('INTERNAL', `evaluate check ${check.name}`, `finding kind ${f.kind} is not declared by check ${check.name}`);
      findings.push(f);
    }
  }
  return findings;
}
