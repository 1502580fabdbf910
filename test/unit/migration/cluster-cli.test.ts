/**
 * `migration --cluster` against the API stand-in: Nodes with their kernels, the agents' pods, and
 * each agent's /migration through the pod proxy — two reports, one agent the proxy cannot reach,
 * one answering nonsense, one node without an agent pod. Every node is accounted for.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { apiTextGetter, runClusterMigration, AGENT_NAMESPACE } from '../../../src/cli/migration-cluster.js';
import { parseCommandLine } from '../../../src/cli/flags.js';
import type { ClusterMigrationReport } from '../../../src/migration/cluster.js';
import { renderMigrationJson } from '../../../src/migration/render.js';
import { buildMigrationReport } from '../../../src/migration/report.js';
import { KubeApiStandin } from '../../support/kube-api-standin.js';
import { standinKubeConfig } from '../../support/standin-kubeconfig.js';
import { podsExtension, type StandinPod } from '../../support/standin-pods.js';
import { endpoint, port, service, slice } from '../../support/cluster-builders.js';
import { cleanCluster, migrationInput } from '../../support/migration-input.js';

const standins: KubeApiStandin[] = [];
afterEach(async () => {
  await Promise.all(standins.splice(0).map((s) => s.stop()));
});

function blocked(node: string): string {
  const cluster = cleanCluster();
  cluster.services.push(service('shop/cart', { type: 'NodePort', clusterIPs: ['10.96.0.60'], internalTrafficPolicy: 'Local', ports: [port('http', 80, { nodePort: 30080 })] }));
  cluster.endpointSlices.push(slice('shop/cart', [endpoint('10.244.1.7', { nodeName: 'node-x' })]));
  return renderMigrationJson(buildMigrationReport(migrationInput({ cluster }, { node })));
}

const agent = (name: string, nodeName: string, answer?: { status: number; body: string }): StandinPod => ({
  namespace: AGENT_NAMESPACE,
  name,
  nodeName,
  labels: { 'app.kubernetes.io/name': 'ipvs-sentinel' },
  answers: answer ? { '/migration': answer } : {},
});

describe('ipvs-sentinel migration --cluster', () => {
  it('merges the agents\' reports per finding and names every node it could not judge', async () => {
    const standin = await KubeApiStandin.start();
    standins.push(standin);
    for (const [name, kernel] of [['node-a', '6.1.0-56-amd64'], ['node-b', '6.1.0-56-amd64'], ['node-c', '4.18.0-553.el8_10.x86_64'], ['node-d', '6.8.0'], ['node-e', '6.8.0']] as const) {
      standin.create('Node', { apiVersion: 'v1', kind: 'Node', metadata: { name }, status: { nodeInfo: { kernelVersion: kernel } } });
    }
    // shop/cart: internalTrafficPolicy: Local, its one endpoint on a node of no agent — what the API alone sees on every node.
    standin.create('Service', { metadata: { name: 'cart', namespace: 'shop' }, spec: { type: 'NodePort', clusterIP: '10.96.0.60', clusterIPs: ['10.96.0.60'], internalTrafficPolicy: 'Local', externalTrafficPolicy: 'Cluster', ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 30080, targetPort: 8080 }] } });
    standin.create('EndpointSlice', { metadata: { name: 'cart-1', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'cart' } }, addressType: 'IPv4', endpoints: [{ addresses: ['10.244.1.7'], conditions: { ready: true }, nodeName: 'node-x' }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] });
    standin.create('ConfigMap', { metadata: { name: 'kube-proxy', namespace: 'kube-system' }, data: { 'config.conf': 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ipvs\nclusterCIDR: 10.244.0.0/16\nipvs:\n  scheduler: lc\n' } });
    const requests: string[] = [];
    standin.use(
      podsExtension(
        [
          agent('ipvs-sentinel-a', 'node-a', { status: 200, body: blocked('node-a') }),
          agent('ipvs-sentinel-b', 'node-b', { status: 200, body: renderMigrationJson(buildMigrationReport(migrationInput({}, { node: 'node-b' }))) }),
          agent('ipvs-sentinel-c', 'node-c'),
          agent('ipvs-sentinel-d', 'node-d', { status: 200, body: '{"schemaVersion":1,"scope":"node","findings":"all good"}' }),
          { ...agent('other-app', 'node-e'), labels: { app: 'other' } },
        ],
        requests,
      ),
    );
    let out = '';
    const io = { stdout: (t: string) => void (out += t), stderr: () => {}, env: {} };
    const code = await runClusterMigration(parseCommandLine(['migration', '--cluster', '--output', 'json'], {}).options, io, { get: apiTextGetter(standinKubeConfig(standin.url)), now: () => new Date('2026-01-01T00:00:00Z') });
    const report = JSON.parse(out) as ClusterMigrationReport;
    expect(code).toBe(1);
    expect(report.verdict).toBe('blocked');
    // node-a's agent reported it; node-c, node-d and node-e have no report and are judged on the API alone.
    expect(report.findings.filter((f) => f.severity === 'blocker').map((f) => [f.id, f.nodes, f.apiOnlyNodes])).toEqual([
      ['itp-local-fallback', ['node-a', 'node-c', 'node-d', 'node-e'], ['node-c', 'node-d', 'node-e']],
      ['kernel-too-old-for-nftables', ['node-c'], ['node-c']],
    ]);
    expect(report.findings.find((f) => f.id === 'itp-local-fallback')?.serviceCount).toBe(1);
    // node-b's agent decided the scheduler from its /configz (rr): the ConfigMap's lc counts only where no agent answered.
    expect(report.findings.find((f) => f.id === 'ipvs-scheduler-not-rr')?.nodes).toEqual(['node-c', 'node-d', 'node-e']);
    expect(report.nodes.missing).toEqual([
      { node: 'node-c', reason: expect.stringMatching(/pods\/ipvs-sentinel-c:9742\/proxy\/migration: HTTP 503$/) as string },
      { node: 'node-d', reason: expect.stringContaining('node or headline missing') as string },
      { node: 'node-e', reason: 'no running agent pod (app.kubernetes.io/name=ipvs-sentinel) in namespace ipvs-sentinel' },
    ]);
    expect(report.perNode.map((p) => [p.node, p.verdict, p.agent, p.fromApi])).toEqual([
      ['node-a', 'blocked', 'reported', []],
      ['node-b', 'ready', 'reported', []],
      ['node-c', 'blocked', 'unreachable', ['ipvs-config-ignored', 'ipvs-scheduler-not-rr', 'itp-local-fallback', 'kernel-too-old-for-nftables']],
      ['node-d', 'blocked', 'unreachable', ['ipvs-config-ignored', 'ipvs-scheduler-not-rr', 'itp-local-fallback']],
      ['node-e', 'blocked', 'unreachable', ['ipvs-config-ignored', 'ipvs-scheduler-not-rr', 'itp-local-fallback']],
    ]);
    expect(requests).toContain('/api/v1/namespaces/ipvs-sentinel/pods/ipvs-sentinel-a:9742/proxy/migration');
  });
});
