import { describe, expect, it } from 'vitest';
import { buildClusterReport, type NodeOutcome } from '../../../src/migration/cluster.js';
import { buildMigrationReport } from '../../../src/migration/report.js';
import type { MigrationReport } from '../../../src/migration/types.js';
import { snapshot } from '../../support/builders.js';
import { endpoint, port, service, slice } from '../../support/cluster-builders.js';
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
    expect(report.perNode.map((p) => [p.node, p.verdict])).toEqual([['node-a', 'blocked'], ['node-c', 'blocked'], ['node-d', 'unreachable'], ['node-e', 'unknown']]);
  });

  it('an unreachable node makes an otherwise clean cluster unknown, never ready', () => {
    const clean = buildMigrationReport(migrationInput());
    const report = buildClusterReport([{ node: 'node-a', kernelVersion: '6.1.0', report: clean, error: null }, { node: 'node-b', kernelVersion: null, report: null, error: 'no agent pod on this node' }], at);
    expect(report.verdict).toBe('unknown');
    expect(report.headline).toBe('UNKNOWN: no blocker found, but not every node could be judged (1 node unreachable: node-b)');
    expect(buildClusterReport([{ node: 'node-a', kernelVersion: '6.1.0', report: clean, error: null }], at).verdict).toBe('ready');
  });
});
