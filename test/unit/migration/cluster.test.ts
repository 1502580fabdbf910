import { describe, expect, it } from 'vitest';
import { buildClusterReport, type ApiJudgement, type ClusterMigrationReport, type NodeOutcome } from '../../../src/migration/cluster.js';
import { apiFindings, type ClusterApiState } from '../../../src/migration/cluster-api.js';
import { buildMigrationReport } from '../../../src/migration/report.js';
import type { MigrationReport } from '../../../src/migration/types.js';
import { snapshot } from '../../support/builders.js';
import { config, endpoint, nodeObject, port, service, slice } from '../../support/cluster-builders.js';
import { cleanCluster, migrationInput } from '../../support/migration-input.js';

function blockedReport(node: string): MigrationReport {
  const cluster = cleanCluster();
  cluster.services.push(service('shop/cart', { type: 'NodePort', clusterIPs: ['10.96.0.60'], internalTrafficPolicy: 'Local', ports: [port('http', 80, { nodePort: 30080 })] }));
  cluster.endpointSlices.push(slice('shop/cart', [endpoint('10.244.1.7', { nodeName: 'node-b' })]));
  return buildMigrationReport(migrationInput({ cluster }, { node }));
}

const at = new Date('2026-01-01T00:00:00Z');

describe('the cluster report', () => {
  it('merges per finding with the nodes it affects, lists the unreachable node, judges its kernel from the API, sees mixed modes', () => {
    const outcomes: NodeOutcome[] = [
      { node: 'node-a', kernelVersion: '6.1.0', report: blockedReport('node-a'), error: null },
      { node: 'node-c', kernelVersion: '6.1.0', report: blockedReport('node-c'), error: null },
      { node: 'node-d', kernelVersion: '4.18.0-553.el8_10.x86_64', report: null, error: 'GET …/pods/ipvs-sentinel-x2:9742/proxy/migration: HTTP 503' },
      { node: 'node-e', kernelVersion: '6.8.0', report: buildMigrationReport(migrationInput({}, { node: 'node-e', runningMode: 'nftables', snapshot: snapshot([]), interfaces: [] , netfilter: null, unread: {} })), error: null },
    ];
    const report = buildClusterReport(outcomes, at);
    expect(report.verdict).toBe('blocked');
    expect(report.headline).toBe('BLOCKED: the cluster cannot switch to nftables mode now — 2 blockers on 3 of 4 nodes affecting 1 Service port: itp-local-fallback (2 nodes, 1 Service port), kernel-too-old-for-nftables (1 node) (1 node unreachable: node-d)');
    const itp = report.findings.find((f) => f.id === 'itp-local-fallback');
    expect(itp).toMatchObject({ nodeCount: 2, nodes: ['node-a', 'node-c'], services: [{ namespace: 'shop', name: 'cart', port: 'http' }], serviceCount: 1 });
    expect(itp?.evidenceSample[0]).toMatchObject({ node: 'node-a', ref: 'TCP/10.96.0.60:80' });
    expect(report.findings.find((f) => f.id === 'kernel-too-old-for-nftables')).toMatchObject({ nodes: ['node-d'], evidenceSample: [{ node: 'node-d', value: '4.18.0-553.el8_10.x86_64' }] });
    expect(report.findings.find((f) => f.id === 'mixed-proxy-modes')).toMatchObject({ severity: 'info', nodes: ['node-a', 'node-c', 'node-e'] });
    expect(report.nodes).toEqual({ total: 4, reporting: 3, missing: [{ node: 'node-d', reason: 'GET …/pods/ipvs-sentinel-x2:9742/proxy/migration: HTTP 503' }], byMode: { ipvs: 2, unknown: 1, nftables: 1 } });
    // node-d's agent is unreachable; its kernel, from the API alone, blocks it.
    expect(report.perNode.map((p) => [p.node, p.verdict, p.agent, p.fromApi])).toEqual([
      ['node-a', 'blocked', 'reported', []],
      ['node-c', 'blocked', 'reported', []],
      ['node-d', 'blocked', 'unreachable', ['kernel-too-old-for-nftables']],
      ['node-e', 'unknown', 'reported', []],
    ]);
  });

  it('an unreachable node makes an otherwise clean cluster unknown, never ready', () => {
    const clean = buildMigrationReport(migrationInput());
    const report = buildClusterReport([{ node: 'node-a', kernelVersion: '6.1.0', report: clean, error: null }, { node: 'node-b', kernelVersion: null, report: null, error: 'no agent pod on this node' }], at);
    expect(report.verdict).toBe('unknown');
    expect(report.headline).toBe('UNKNOWN: no blocker found, but not every node could be judged (1 node unreachable: node-b)');
    expect(buildClusterReport([{ node: 'node-a', kernelVersion: '6.1.0', report: clean, error: null }], at).verdict).toBe('ready');
  });
});

describe('the cluster report with the API\'s findings', () => {
  const itpCluster = (): ReturnType<typeof cleanCluster> => {
    const c = cleanCluster();
    c.services.push(service('shop/cart', { type: 'NodePort', clusterIPs: ['10.96.0.60'], internalTrafficPolicy: 'Local', ports: [port('http', 80, { nodePort: 30080 })] }));
    c.endpointSlices.push(slice('shop/cart', [endpoint('10.244.1.7', { nodeName: 'node-b' })]));
    return c;
  };
  const api = (nodes: string[], edit?: (s: ClusterApiState) => void): ApiJudgement => {
    const state: ClusterApiState = { cluster: itpCluster(), config: config({ clusterCIDRs: ['10.244.0.0/16'] }), configProblem: null, targetVersion: null };
    edit?.(state);
    return { views: apiFindings(state, nodes, at), notes: [] };
  };
  const ids = (r: ClusterMigrationReport, node: string): string[] => r.findings.filter((f) => f.nodes.includes(node)).map((f) => f.id).sort();

  it('a node without a report is judged on the API alone: its blocker counts, marked as from the API', () => {
    const report = buildClusterReport([{ node: 'node-a', kernelVersion: '6.1.0', report: null, error: 'HTTP 503' }], at, api(['node-a']));
    expect(report.verdict).toBe('blocked');
    const itp = report.findings.find((f) => f.id === 'itp-local-fallback');
    expect(itp).toMatchObject({ nodes: ['node-a'], apiOnlyNodes: ['node-a'], services: [{ namespace: 'shop', name: 'cart', port: 'http' }], serviceCount: 1 });
    expect(itp?.evidenceSample[0]).toMatchObject({ node: 'node-a', ref: 'TCP/10.96.0.60:80', detail: expect.stringMatching(/^from the API alone: shop\/cart:http/) as string });
    expect(report.perNode).toEqual([{ node: 'node-a', verdict: 'blocked', agent: 'unreachable', phase: null, summary: { blocker: 1, change: 0, info: 0 }, fromApi: ['itp-local-fallback'] }]);
    expect(report.notes[0]).toMatch(/judged on the API alone/);
  });

  it('a node whose agent decided a finding: the agent\'s answer stands, nothing counted twice', () => {
    const agent = buildMigrationReport(migrationInput({ cluster: itpCluster() }, { node: 'node-a' }));
    const report = buildClusterReport([{ node: 'node-a', kernelVersion: '6.1.0', report: agent, error: null }], at, api(['node-a']));
    const itp = report.findings.find((f) => f.id === 'itp-local-fallback');
    expect(itp).toMatchObject({ nodeCount: 1, apiOnlyNodes: [], serviceCount: 1 });
    expect(report.perNode[0]).toMatchObject({ agent: 'reported', fromApi: [], summary: agent.summary });
  });

  it('the agent\'s "not found" stands too: the API\'s guess from the ConfigMap does not override the node\'s /configz', () => {
    // The ConfigMap has no cluster CIDR (etp-local-fallback a blocker from the API); the agent read one.
    const c = cleanCluster();
    c.services.push(service('shop/lb', { type: 'NodePort', clusterIPs: ['10.96.0.63'], externalTrafficPolicy: 'Local', ports: [port('http', 80, { nodePort: 30082 })] }));
    c.endpointSlices.push(slice('shop/lb', [endpoint('10.244.1.9', { nodeName: 'node-b' })]));
    const agent = buildMigrationReport(migrationInput({ cluster: c, config: { clusterCIDRs: ['10.244.0.0/16'] } }, { node: 'node-a' }));
    const judged = api(['node-a'], (s) => {
      s.cluster = c;
      s.config = config({ clusterCIDRs: [] });
    });
    expect(judged.views[0]?.findings.find((f) => f.id === 'etp-local-fallback')?.severity).toBe('blocker');
    const report = buildClusterReport([{ node: 'node-a', kernelVersion: '6.1.0', report: agent, error: null }], at, judged);
    expect(report.findings.find((f) => f.id === 'etp-local-fallback')?.severity).toBe('info');
    expect(report.findings.map((f) => f.id)).not.toContain('local-detector-missing');
  });

  it('what the agent could not decide (its Services unread) comes from the API, for its node', () => {
    const agent = buildMigrationReport(migrationInput({ cluster: itpCluster() }, { node: 'node-a', services: null, unread: { services: 'cluster not synced' } }));
    expect(agent.findings.map((f) => f.id)).not.toContain('itp-local-fallback');
    const report = buildClusterReport([{ node: 'node-a', kernelVersion: '6.1.0', report: agent, error: null }], at, api(['node-a']));
    expect(report.findings.find((f) => f.id === 'itp-local-fallback')).toMatchObject({ nodes: ['node-a'], apiOnlyNodes: ['node-a'] });
    expect(report.perNode[0]).toMatchObject({ verdict: 'blocked', agent: 'reported', fromApi: expect.arrayContaining(['itp-local-fallback']) as string[] });
  });

  it('a switched node is not judged on the API\'s pre-switch findings', () => {
    const switched = buildMigrationReport(migrationInput({}, { node: 'node-a', runningMode: 'nftables', snapshot: snapshot([]), interfaces: [], unread: {} }));
    const report = buildClusterReport([{ node: 'node-a', kernelVersion: '6.1.0', report: switched, error: null }], at, api(['node-a']));
    expect(ids(report, 'node-a')).not.toContain('itp-local-fallback');
  });

  it('one Service port seen on two nodes, one by its agent, one by the API, is one Service port on two nodes', () => {
    const agent = buildMigrationReport(migrationInput({ cluster: itpCluster() }, { node: 'node-a' }));
    const judged = api(['node-c'], (s) => s.cluster.nodes.push(nodeObject('node-c', ['192.168.1.12'])));
    const report = buildClusterReport([{ node: 'node-a', kernelVersion: '6.1.0', report: agent, error: null }, { node: 'node-c', kernelVersion: '6.1.0', report: null, error: 'no agent pod' }], at, judged);
    expect(report.findings.find((f) => f.id === 'itp-local-fallback')).toMatchObject({ nodes: ['node-a', 'node-c'], apiOnlyNodes: ['node-c'], serviceCount: 1 });
    expect(report.headline).toMatch(/^BLOCKED: .*itp-local-fallback \(2 nodes, 1 Service port\)/);
  });
});
