import { describe, expect, it } from 'vitest';
import { buildMigrationReport } from '../../../src/migration/report.js';
import { FINDING_IDS } from '../../../src/migration/catalogue.js';
import { EVALUATORS } from '../../../src/migration/evaluators.js';
import { endpoint, port, service, slice } from '../../support/cluster-builders.js';
import { cleanCluster, migrationInput, NODE } from '../../support/migration-input.js';

describe('the verdict', () => {
  it('ready: a clean node, with what cannot be seen said in notes', () => {
    const report = buildMigrationReport(migrationInput());
    expect(report.verdict).toBe('ready');
    expect(report.headline).toBe(`READY: node ${NODE} can switch to nftables mode; nothing it shows behaves differently`);
    expect(report.unknowns).toEqual([]);
    expect(report.notes.join(' ')).toContain('KUBE_PROXY_NFTABLES_SKIP_KERNEL_VERSION_CHECK');
  });

  it('blocked: the blockers with their count of Service ports in the first line', () => {
    const cluster = cleanCluster();
    cluster.services.push(service('shop/cart', { type: 'NodePort', clusterIPs: ['10.96.0.60'], internalTrafficPolicy: 'Local', ports: [port('http', 80, { nodePort: 30080 })] }));
    cluster.endpointSlices.push(slice('shop/cart', [endpoint('10.244.1.7', { nodeName: 'node-b' })]));
    const report = buildMigrationReport(migrationInput({ cluster }, { sockets: [{ protocol: 'TCP', family: 'inet', address: '10.96.0.50', port: 9000, inode: 7, uid: 0 }] }));
    expect(report.verdict).toBe('blocked');
    expect(report.headline).toBe(`BLOCKED: node ${NODE} cannot switch to nftables mode now — 2 blockers affecting 2 Service ports: itp-local-fallback (1 Service port), vip-bound-socket (1 Service port)`);
    expect(report.summary.blocker).toBe(2);
    expect(report.findings.slice(0, 2).map((f) => f.id)).toEqual(['itp-local-fallback', 'vip-bound-socket']);
  });

  it('ready-with-changes: a change and no blocker', () => {
    expect(buildMigrationReport(migrationInput({ config: { scheduler: 'lc' } })).verdict).toBe('ready-with-changes');
  });

  it.each([
    { source: 'sockets' as const, hides: 'vip-bound-socket' },
    { source: 'desired' as const, hides: 'itp-local-fallback' },
    { source: 'snapshot' as const, hides: 'foreign-ipvs-virtual-server' },
    { source: 'modules' as const, hides: 'kernel-too-old-for-nftables' },
  ])('unknown, never a silent ready: $source unread hides $hides', ({ source, hides }) => {
    const report = buildMigrationReport(migrationInput({}, { [source]: null, unread: { [source]: `${source} failed: EACCES` } }));
    expect(report.verdict).toBe('unknown');
    expect(report.headline).toMatch(new RegExp(`^UNKNOWN: no blocker found on node ${NODE}, but .*${source}.* could not be read`));
    const unknown = report.unknowns.find((u) => u.source === source);
    expect(unknown?.reason).toBe(`${source} failed: EACCES`);
    expect(unknown?.hides).toContain(hides);
  });

  it('a blocker wins over an unknown', () => {
    const report = buildMigrationReport(migrationInput({}, { sysctls: null, sockets: [{ protocol: 'TCP', family: 'inet', address: '10.96.0.50', port: 9000, inode: 7, uid: 0 }] }));
    expect(report.verdict).toBe('blocked');
    expect(report.unknowns.map((u) => u.source)).toEqual(['sysctls']);
  });

  it('an unknown kube-proxy version and mode are said', () => {
    const report = buildMigrationReport(migrationInput({}, { runningMode: null, configSource: 'defaults', kubeProxyVersion: null }));
    expect(report.kubeProxy.mode).toBeNull();
    expect(report.verdict).toBe('unknown');
    expect(report.unknowns.map((u) => u.source)).toContain('kube-proxy-mode');
    expect(report.notes[0]).toMatch(/^kube-proxy's version is unknown/);
  });

  it('every catalogue id is emitted by exactly one evaluator, and every evaluator id is catalogued', () => {
    const emitted = EVALUATORS.flatMap((e) => e.ids);
    expect([...emitted].sort()).toEqual([...FINDING_IDS].sort());
  });
});
