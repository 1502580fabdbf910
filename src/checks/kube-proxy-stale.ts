/**
 * kube-proxy running but no longer applying changes (kubernetes#71071, #55854): its healthz answers
 * 503 because an update it queued was not applied within healthTimeout, or its metrics show a sync
 * queued after the last one that ran and older than that bound (pkg/proxy/healthcheck/proxier_health.go:
 * healthy while now − oldest pending queued < healthTimeout). Every IPVS, ipset and iptables finding
 * then grows, and is explained by this one (src/drift/report.ts). A prerequisite check: it judges
 * kube-proxy, not the cluster, so it stands without a trusted cluster cache. Nothing read, or nothing
 * that is kube-proxy's, is unknown — no finding.
 */
import type { Finding } from '../drift/types.js';
import { kubeProxyHealthTimeout, type HealthTimeout, type KubeProxyHealth } from '../node/kube-proxy-health.js';
import type { PrerequisiteCheck } from './types.js';

export const KUBE_PROXY_STALE_KINDS = ['kube-proxy-stale'] as const;

const iso = (seconds: number | null): string | null => (seconds === null ? null : new Date(seconds * 1000).toISOString());

/** The finding, or none: pure, on one read of kube-proxy's health and its healthTimeout. */
export function checkKubeProxySync(health: KubeProxyHealth, bound: HealthTimeout): Finding[] {
  const now = health.readAt.getTime() / 1000;
  const healthz = health.healthz;
  // A 503 for a Node being deleted or tainted ToBeDeletedByClusterAutoscaler says nothing of the sync loop.
  const healthzStale = healthz !== null && healthz.status === 503 && healthz.nodeEligible !== false;
  // The oldest update still pending was queued at or before the last queued one: past the bound, kube-proxy itself counts it late.
  const overdue = (health.sync ?? []).filter((s) => s.lastQueued !== null && (s.lastSynced === null || s.lastQueued > s.lastSynced) && now - s.lastQueued > bound.seconds);
  if (!healthzStale && overdue.length === 0) return [];

  const reasons: string[] = [];
  if (healthzStale) {
    const last = healthz.lastUpdated ? `its last sync was at ${healthz.lastUpdated.toISOString()}` : 'it has never synced';
    reasons.push(`kube-proxy's /healthz answers 503 (${last}, its clock reads ${healthz.currentTime.toISOString()})`);
  }
  for (const s of overdue) {
    const family = s.ipFamily ? ` (${s.ipFamily})` : '';
    const since = s.lastSynced === null ? 'no sync has run since it started' : `the last sync ran at ${iso(s.lastSynced)}`;
    reasons.push(`a rule update queued at ${iso(s.lastQueued)}${family} has waited ${Math.round(now - (s.lastQueued ?? now))} s, over kube-proxy's own bound of ${bound.seconds} s (${bound.from}); ${since}`);
  }
  return [
    {
      kind: 'kube-proxy-stale',
      severity: 'critical',
      virtualServer: null,
      realServer: null,
      subject: 'kube-proxy sync',
      service: null,
      expected: { pendingUpdateAppliedWithinSeconds: bound.seconds, bound: bound.from },
      actual: {
        checkedAt: health.readAt.toISOString(),
        healthz: healthz === null ? null : { status: healthz.status, lastUpdated: healthz.lastUpdated?.toISOString() ?? null, currentTime: healthz.currentTime.toISOString(), nodeEligible: healthz.nodeEligible },
        sync: (health.sync ?? []).map((s) => ({ ipFamily: s.ipFamily || null, lastQueued: iso(s.lastQueued), lastSynced: iso(s.lastSynced) })),
      },
      message: `kube-proxy is running but not applying Service and endpoint changes: ${reasons.join('; ')}. Until it syncs again, the IPVS, ipset and iptables findings on this node follow from this (kubernetes#71071): read kube-proxy's log on this node and restart it (delete its Pod).`,
      selfHealing: false,
    },
  ];
}

export const kubeProxyStaleCheck: PrerequisiteCheck<(typeof KUBE_PROXY_STALE_KINDS)[number]> = {
  name: 'kube-proxy-sync',
  ownSource: 'kube-proxy-health',
  kinds: KUBE_PROXY_STALE_KINDS,
  prerequisite: true,
  health: {
    name: 'kube-proxy-sync',
    // First of all lines: while kube-proxy is stuck, every other failing line follows from it.
    order: 5,
    evaluate: ({ report }) => {
      const stale = report.findings.find((f) => f.kind === 'kube-proxy-stale' && f.confirmed);
      return stale ? { ok: false, reason: stale.message } : { ok: true, reason: null };
    },
  },
  evaluate: ({ node }) => {
    const health = node.readings['kube-proxy-health'].value;
    return health ? checkKubeProxySync(health, kubeProxyHealthTimeout(node.readings['kube-proxy'].value?.configz ?? null)) : [];
  },
};
