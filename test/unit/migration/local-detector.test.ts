/**
 * local-detector-missing from kube-proxy's detectLocalMode and cluster CIDRs (getLocalDetectors in
 * cmd/kube-proxy/app/server_linux.go) and the node's externalTrafficPolicy: Local Services.
 */
import { describe, expect, it } from 'vitest';
import type { KubeProxyConfig } from '../../../src/cluster/kube-proxy-config.js';
import type { ClusterSnapshot } from '../../../src/cluster/model.js';
import { undetectedFamilies } from '../../../src/migration/evaluate-traffic.js';
import { buildMigrationReport } from '../../../src/migration/report.js';
import type { MigrationFinding, MigrationInput } from '../../../src/migration/types.js';
import { config } from '../../support/cluster-builders.js';
import { endpoint, port, service, slice } from '../../support/cluster-builders.js';
import { cleanCluster, migrationInput, NODE } from '../../support/migration-input.js';

/** The clean cluster plus shop/lb: a NodePort Service with externalTrafficPolicy: Local, its endpoint here or elsewhere. */
function withLocalService(endpointNode: string | null): ClusterSnapshot {
  const c = cleanCluster();
  c.services.push(service('shop/lb', { type: 'NodePort', clusterIPs: ['10.96.0.70'], externalTrafficPolicy: 'Local', ports: [port('http', 80, { nodePort: 30090 })] }));
  if (endpointNode !== null) c.endpointSlices.push(slice('shop/lb', [endpoint('10.244.1.20', { nodeName: endpointNode })]));
  return c;
}

function detectorFinding(input: MigrationInput): MigrationFinding | undefined {
  const found = buildMigrationReport(input).findings.filter((f) => f.id === 'local-detector-missing');
  expect(found.length).toBeLessThanOrEqual(1);
  return found[0];
}

describe('undetectedFamilies', () => {
  it.each([
    { detectLocalMode: '', clusterCIDRs: [], families: ['inet'], expected: ['inet'] },
    { detectLocalMode: '', clusterCIDRs: ['10.244.0.0/16'], families: ['inet'], expected: [] },
    { detectLocalMode: 'ClusterCIDR', clusterCIDRs: ['10.244.0.0/16'], families: ['inet', 'inet6'], expected: ['inet6'] },
    { detectLocalMode: 'ClusterCIDR', clusterCIDRs: ['10.244.0.0/16', 'fd00:10:244::/56'], families: ['inet', 'inet6'], expected: [] },
    { detectLocalMode: 'ClusterCIDR', clusterCIDRs: ['fd00:10:244::/56'], families: ['inet'], expected: ['inet'] },
    { detectLocalMode: 'NodeCIDR', clusterCIDRs: [], families: ['inet'], expected: [] },
    { detectLocalMode: 'BridgeInterface', clusterCIDRs: [], families: ['inet', 'inet6'], expected: [] },
    { detectLocalMode: 'InterfaceNamePrefix', clusterCIDRs: [], families: ['inet'], expected: [] },
    { detectLocalMode: 'Nonsense', clusterCIDRs: ['10.244.0.0/16'], families: ['inet'], expected: ['inet'] },
  ] as const)('$detectLocalMode with $clusterCIDRs on $families → $expected', ({ detectLocalMode, clusterCIDRs, families, expected }) => {
    expect(undetectedFamilies(config({ detectLocalMode, clusterCIDRs: [...clusterCIDRs] }), families)).toEqual(expected);
  });
});

describe('local-detector-missing', () => {
  const noCidr: Partial<KubeProxyConfig> = { detectLocalMode: 'ClusterCIDR', clusterCIDRs: [] };

  it.each([
    { name: 'no cluster CIDR, no endpoint here (IPVS falls back today)', endpointNode: 'node-b', cfg: noCidr, severity: 'change', fallback: true },
    { name: 'no cluster CIDR, no endpoint at all', endpointNode: null, cfg: noCidr, severity: 'change', fallback: false },
    { name: 'no cluster CIDR, an endpoint here', endpointNode: NODE, cfg: noCidr, severity: 'change', fallback: false },
    { name: 'detectLocalMode unset and no clusterCIDR', endpointNode: 'node-b', cfg: { detectLocalMode: '', clusterCIDRs: [] }, severity: 'change', fallback: true },
    { name: 'only an IPv6 cluster CIDR on an IPv4 node', endpointNode: 'node-b', cfg: { detectLocalMode: 'ClusterCIDR', clusterCIDRs: ['fd00:10:244::/56'] }, severity: 'change', fallback: true },
    { name: 'a cluster CIDR', endpointNode: 'node-b', cfg: { detectLocalMode: 'ClusterCIDR', clusterCIDRs: ['10.244.0.0/16'] }, severity: null, fallback: false },
    { name: 'NodeCIDR', endpointNode: 'node-b', cfg: { detectLocalMode: 'NodeCIDR', clusterCIDRs: [] }, severity: null, fallback: false },
    { name: 'BridgeInterface', endpointNode: 'node-b', cfg: { detectLocalMode: 'BridgeInterface', detectLocalBridgeInterface: 'cbr0' }, severity: null, fallback: false },
  ] satisfies { name: string; endpointNode: string | null; cfg: Partial<KubeProxyConfig>; severity: string | null; fallback: boolean }[])('$name → $severity', ({ endpointNode, cfg, severity, fallback }) => {
    const f = detectorFinding(migrationInput({ cluster: withLocalService(endpointNode), config: cfg }));
    expect(f?.severity ?? null).toBe(severity);
    if (f) {
      expect(f.services).toEqual([{ namespace: 'shop', name: 'lb', port: 'http' }]);
      // Pods reaching the Service today through the fallback are said so: nftables mode drops them.
      expect(f.message.includes('will drop that traffic')).toBe(fallback);
    }
  });

  it('no finding without an externalTrafficPolicy: Local Service', () => {
    expect(detectorFinding(migrationInput({ config: noCidr }))).toBeUndefined();
  });

  it('the evidence: detectLocalMode, clusterCIDR, and each NodePort virtual server with its endpoints', () => {
    const f = detectorFinding(migrationInput({ cluster: withLocalService('node-b'), config: noCidr }));
    expect(f?.evidence.slice(0, 2)).toEqual([
      { kind: 'config-field', ref: 'detectLocalMode', value: 'ClusterCIDR', detail: 'effective ClusterCIDR (from configz)' },
      { kind: 'config-field', ref: 'clusterCIDR', value: [], detail: 'no cluster CIDR for inet' },
    ]);
    const vsEvidence = f?.evidence.filter((e) => e.kind === 'virtual-server') ?? [];
    expect(vsEvidence.map((e) => e.ref)).toContain('TCP/192.168.1.10:30090');
    expect(vsEvidence.every((e) => (e.value as { localEndpoints: number }).localEndpoints === 0)).toBe(true);
    expect(vsEvidence.map((e) => e.ref)).not.toContain('TCP/10.96.0.70:80');
  });

  it.each([
    { configSource: 'defaults', expected: null },
    { configSource: 'configmap', expected: true },
    { configSource: 'configz', expected: false },
  ] as const)('config from $configSource → heuristic $expected', ({ configSource, expected }) => {
    const f = detectorFinding(migrationInput({ cluster: withLocalService('node-b'), config: noCidr }, { configSource }));
    expect(f?.heuristic ?? null).toBe(expected);
  });
});
