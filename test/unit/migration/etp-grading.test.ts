/**
 * etp-local-fallback graded by the kube-proxy that will run nftables mode: blocker before the fix
 * for node-local traffic (kubernetes#132456 in v1.34.0, #133969 in v1.33.6) or without a local
 * detector, info with both, change when either cannot be known.
 */
import { describe, expect, it } from 'vitest';
import type { KubeProxyConfig } from '../../../src/cluster/kube-proxy-config.js';
import type { ClusterSnapshot } from '../../../src/cluster/model.js';
import { gradeEtpFallback, hasLocalTrafficFix } from '../../../src/migration/local-traffic-fix.js';
import { buildMigrationReport } from '../../../src/migration/report.js';
import type { MigrationFinding, MigrationInput } from '../../../src/migration/types.js';
import { endpoint, port, service, slice } from '../../support/cluster-builders.js';
import { cleanCluster, migrationInput } from '../../support/migration-input.js';

describe('hasLocalTrafficFix', () => {
  it.each([
    ['v1.34.0', true],
    ['v1.34.0-rc.1', true],
    ['1.35.2', true],
    ['v2.0.0', true],
    ['v1.33.6', true],
    ['v1.33.12-eks-1', true],
    ['v1.33.5', false],
    ['v1.33', false],
    ['v1.32.9', false],
    ['v1.29.0', false],
    ['latest', null],
    ['', null],
  ] as const)('%s → %s', (version, expected) => {
    expect(hasLocalTrafficFix(version)).toBe(expected);
  });
});

describe('gradeEtpFallback', () => {
  it.each([
    { name: 'fixed, detector', version: 'v1.34.1', detector: { state: 'present' }, severity: 'info' },
    { name: 'backport, detector', version: 'v1.33.6', detector: { state: 'present' }, severity: 'info' },
    { name: 'before the backport, detector', version: 'v1.33.5', detector: { state: 'present' }, severity: 'blocker' },
    { name: 'fixed, no detector', version: 'v1.35.0', detector: { state: 'missing', families: ['inet'] }, severity: 'blocker' },
    { name: 'unknown version, detector', version: null, detector: { state: 'present' }, severity: 'change' },
    { name: 'unreadable version, detector', version: 'main', detector: { state: 'present' }, severity: 'change' },
    { name: 'unknown version, no detector', version: null, detector: { state: 'missing', families: ['inet'] }, severity: 'blocker' },
    { name: 'fixed, detector unknown', version: 'v1.34.0', detector: { state: 'unknown' }, severity: 'change' },
    { name: 'old, detector unknown', version: 'v1.32.0', detector: { state: 'unknown' }, severity: 'blocker' },
  ] as const)('$name → $severity', ({ version, detector, severity }) => {
    const g = gradeEtpFallback({ value: version, source: 'target version' }, detector);
    expect(g.severity).toBe(severity);
    expect(g.evidence[0]).toMatchObject({ kind: 'config-field', ref: 'target version', value: version });
    if (version === null) expect(g.evidence[0]?.detail).toMatch(/^unknown: .*--target-version/);
  });
});

/** shop/lb: a NodePort Service with externalTrafficPolicy: Local whose only endpoint is on node-b. */
function cluster(): ClusterSnapshot {
  const c = cleanCluster();
  c.services.push(service('shop/lb', { type: 'NodePort', clusterIPs: ['10.96.0.63'], externalTrafficPolicy: 'Local', ports: [port('http', 80, { nodePort: 30082 })] }));
  c.endpointSlices.push(slice('shop/lb', [endpoint('10.244.1.9', { nodeName: 'node-b' })]));
  return c;
}

function etp(input: MigrationInput): MigrationFinding {
  const found = buildMigrationReport(input).findings.filter((f) => f.id === 'etp-local-fallback');
  expect(found).toHaveLength(1);
  return found[0] as MigrationFinding;
}

const withCidr: Partial<KubeProxyConfig> = { clusterCIDRs: ['10.244.0.0/16'] };

describe('etp-local-fallback in the node report', () => {
  it.each([
    { name: 'running v1.35.2 with a cluster CIDR', cfg: withCidr, over: {}, severity: 'info', ref: 'kube-proxy version' },
    { name: 'running v1.35.2 without a cluster CIDR', cfg: {}, over: {}, severity: 'blocker', ref: 'kube-proxy version' },
    { name: 'target v1.33.4 (the running version is newer)', cfg: withCidr, over: { targetVersion: 'v1.33.4' }, severity: 'blocker', ref: 'target version' },
    { name: 'target v1.33.6', cfg: withCidr, over: { kubeProxyVersion: 'v1.32.1', targetVersion: 'v1.33.6' }, severity: 'info', ref: 'target version' },
    { name: 'no version known', cfg: withCidr, over: { kubeProxyVersion: null }, severity: 'change', ref: 'kube-proxy version' },
    { name: 'configuration not read (defaults)', cfg: withCidr, over: { configSource: 'defaults' }, severity: 'change', ref: 'kube-proxy version' },
  ] satisfies { name: string; cfg: Partial<KubeProxyConfig>; over: Partial<MigrationInput>; severity: string; ref: string }[])('$name → $severity', ({ cfg, over, severity, ref }) => {
    const f = etp(migrationInput({ cluster: cluster(), config: cfg }, over));
    expect(f.severity).toBe(severity);
    expect(f.evidence[0]?.ref).toBe(ref);
    expect(f.evidence.map((e) => e.ref)).toContain('TCP/192.168.1.10:30082');
    expect(f.versionNote).toContain('v1.33.6');
  });

  it('a blocker makes the node blocked', () => {
    expect(buildMigrationReport(migrationInput({ cluster: cluster() }, { targetVersion: 'v1.33.0' })).verdict).toBe('blocked');
  });
});
