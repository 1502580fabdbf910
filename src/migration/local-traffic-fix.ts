/**
 * How bad etp-local-fallback is for the kube-proxy that will run nftables mode. Pods and the host
 * keep reaching an externalTrafficPolicy: Local Service's external addresses on a node without a
 * local endpoint only through the `external-…` chain's short-circuit for local traffic
 * (pkg/proxy/nftables/proxier.go syncProxyRules), which needs a local-traffic detector
 * (cmd/kube-proxy/app/server_linux.go getLocalDetectors) and the filter-chain priorities of
 * kubernetes#132456 (v1.34.0; in 1.33 from v1.33.6, the backport kubernetes#133969 — its release
 * note is in kubernetes/kubernetes' changelog of v1.33.6). Before that the traffic hits the drop
 * (kubernetes#131765). Pure.
 */
import type { MigrationSeverity, Evidence } from './types.js';

/** The first releases with the fix, per minor: 1.33 by the backport, 1.34 and later from .0. */
export const LOCAL_TRAFFIC_FIX = { minor: 34, backport: { minor: 33, patch: 6 } } as const;

const FIX_TEXT = 'v1.34.0, or v1.33.6 in 1.33 (kubernetes#132456, backport #133969)';

/** "v1.33.6", "1.34.0-rc.1", "v1.33.6-eks-1" → [1, 33, 6]; null for anything else. */
export function parseKubeVersion(version: string): [number, number, number] | null {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(version.trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : null;
}

/** true when this version carries the fix, false when it does not, null when it cannot be read. */
export function hasLocalTrafficFix(version: string): boolean | null {
  const parsed = parseKubeVersion(version);
  if (parsed === null) return null;
  const [major, minor, patch] = parsed;
  if (major !== 1) return major > 1;
  if (minor >= LOCAL_TRAFFIC_FIX.minor) return true;
  return minor === LOCAL_TRAFFIC_FIX.backport.minor && patch >= LOCAL_TRAFFIC_FIX.backport.patch;
}

/** Whether kube-proxy can tell pod traffic apart for the families concerned: unknown when its configuration was not read. */
export type DetectorState = { state: 'present' } | { state: 'missing'; families: readonly string[] } | { state: 'unknown' };

export interface EtpGrading {
  severity: MigrationSeverity;
  /** Why, in a clause: "kube-proxy v1.33.2 predates the fix". */
  why: string;
  evidence: Evidence[];
}

/**
 * The catalogue's grading: blocker when the version that will run nftables mode predates the fix
 * or there is no detector (pods then lose the Service), info when both are there (only external
 * clients are affected, and they fail today too). A version that cannot be known grades change,
 * never info: the node is not called ready until someone checks — and not blocker, which would mark
 * every such node of a cluster whose agents cannot read kube-proxy's version as blocked on a guess.
 * A detector that cannot be known (no configuration read) grades change for the same reason.
 */
export function gradeEtpFallback(version: { value: string | null; source: string }, detector: DetectorState): EtpGrading {
  const fixed = version.value === null ? null : hasLocalTrafficFix(version.value);
  const evidence: Evidence[] = [
    {
      kind: 'config-field',
      ref: version.source,
      value: version.value,
      detail: fixed === null ? `unknown: the fix is in ${FIX_TEXT}; pass --target-version` : `${fixed ? 'has' : 'predates'} the fix for node-local traffic (${FIX_TEXT})`,
    },
  ];
  if (detector.state === 'missing') evidence.push({ kind: 'config-field', ref: 'detectLocalMode', value: 'no local-traffic detector', detail: `for ${detector.families.join(', ')} (see local-detector-missing)` });
  if (detector.state === 'unknown') evidence.push({ kind: 'config-field', ref: 'detectLocalMode', value: null, detail: 'kube-proxy\'s configuration was not read: whether it can tell pod traffic apart is unknown' });
  if (detector.state === 'missing') return { severity: 'blocker', why: 'kube-proxy has no local-traffic detector, so nftables mode drops their traffic from pods here', evidence };
  if (fixed === false) return { severity: 'blocker', why: `kube-proxy ${version.value ?? ''} predates the fix, so nftables mode drops their traffic from pods and the host here (kubernetes#131765)`, evidence };
  if (fixed === null) return { severity: 'change', why: 'whether the kube-proxy that will run nftables mode has the fix for node-local traffic is unknown', evidence };
  if (detector.state === 'unknown') return { severity: 'change', why: 'whether kube-proxy can tell pod traffic apart is unknown', evidence };
  return { severity: 'info', why: `kube-proxy ${version.value ?? ''} and its local-traffic detector keep node-local traffic flowing; only external clients, which fail here today too, are affected`, evidence };
}
