import { describe, expect, it } from 'vitest';
import { parseBuildInfoVersion } from '../../../src/node/kube-proxy-version.js';
import { buildMigrationReport } from '../../../src/migration/report.js';
import { migrationInput } from '../../support/migration-input.js';

describe('kube-proxy version from /metrics', () => {
  it.each([
    ['kubernetes_build_info{build_date="2025-08-12T10:58:41Z",compiler="gc",git_commit="abc",git_tree_state="clean",git_version="v1.33.4",go_version="go1.24.5",major="1",minor="33",platform="linux/amd64"} 1', 'v1.33.4'],
    ['# HELP kubernetes_build_info [ALPHA] A metric with a constant \'1\' value…\n# TYPE kubernetes_build_info gauge\nkubernetes_build_info{git_version="v1.30.0-rc.1+k3s1",major="1"} 1', 'v1.30.0-rc.1+k3s1'],
    ['kubeproxy_sync_proxy_rules_last_timestamp_seconds 1.7e9', null],
    ['kubernetes_build_info{git_version="not a version"} 1', null],
    ['kubernetes_build_info{other_git_version="v1.2.3"} 1', null],
  ])('%#: %s → %s', (text, version) => {
    expect(parseBuildInfoVersion(text)).toBe(version);
  });
});

describe('kube-proxy-too-old-for-nftables', () => {
  it.each([
    { version: 'v1.28.9', target: null, severity: 'blocker' },
    { version: 'v1.30.4', target: null, severity: 'change' },
    { version: 'v1.31.0', target: null, severity: null },
    { version: 'v1.28.9', target: 'v1.34.2', severity: null },
    { version: null, target: null, severity: null },
  ])('running $version, target $target → $severity', ({ version, target, severity }) => {
    const report = buildMigrationReport(migrationInput({}, { kubeProxyVersion: version, targetVersion: target }));
    expect(report.findings.find((f) => f.id === 'kube-proxy-too-old-for-nftables')?.severity ?? null).toBe(severity);
  });
});
