/**
 * The findings the API alone decides per node (src/migration/cluster-api.ts): the node evaluators on
 * what Services, EndpointSlices, Nodes and kube-proxy's ConfigMap say — and the reads behind them
 * (src/cli/migration-cluster-api.ts): paged lists validated as the agent's, the ConfigMap by name,
 * the PrometheusRules on IPVS series.
 */
import { describe, expect, it } from 'vitest';
import type { KubeProxyConfig } from '../../../src/cluster/kube-proxy-config.js';
import { listResource, readAlertRules, readClusterApi, readKubeProxyConfigMap } from '../../../src/cli/migration-cluster-api.js';
import type { ApiGetText } from '../../../src/cli/migration-cluster.js';
import { ipvsAlertRules } from '../../../src/migration/alert-rules.js';
import { buildClusterReport } from '../../../src/migration/cluster.js';
import { apiFindings, type ClusterApiState } from '../../../src/migration/cluster-api.js';
import { config, endpoint, nodeObject, port, service, slice } from '../../support/cluster-builders.js';
import { cleanCluster } from '../../support/migration-input.js';

const at = new Date('2026-01-01T00:00:00Z');

/** The clean cluster plus: shop/cart ITP=Local (endpoint on node-b), shop/lb ETP=Local (endpoint on node-b), shop/sticky ClientIP NodePort. */
function state(cfg: Partial<KubeProxyConfig> | null, targetVersion: string | null = null): ClusterApiState {
  const c = cleanCluster();
  c.services.push(service('shop/cart', { type: 'NodePort', clusterIPs: ['10.96.0.60'], internalTrafficPolicy: 'Local', ports: [port('http', 80, { nodePort: 30080 })] }));
  c.endpointSlices.push(slice('shop/cart', [endpoint('10.244.1.7', { nodeName: 'node-b' })]));
  c.services.push(service('shop/lb', { type: 'NodePort', clusterIPs: ['10.96.0.63'], externalTrafficPolicy: 'Local', ports: [port('http', 80, { nodePort: 30082 })] }));
  c.endpointSlices.push(slice('shop/lb', [endpoint('10.244.1.9', { nodeName: 'node-b' })]));
  c.services.push(service('shop/sticky', { type: 'NodePort', clusterIPs: ['10.96.0.65'], sessionAffinity: 'ClientIP', sessionAffinityTimeoutSeconds: 600, ports: [port('http', 80, { nodePort: 30083 })] }));
  c.endpointSlices.push(slice('shop/sticky', [endpoint('10.244.0.9', { nodeName: 'node-a' })]));
  return { cluster: c, config: cfg === null ? null : config(cfg), configProblem: cfg === null ? 'forbidden' : null, targetVersion };
}

const tuned: Partial<KubeProxyConfig> = { scheduler: 'lc', strictARP: true, tcpTimeoutSeconds: 7200, iptablesMasqueradeBit: 14, nftablesMasqueradeBit: 15, clusterCIDRs: ['10.244.0.0/16'] };

describe('apiFindings', () => {
  it.each([
    {
      name: 'a tuned ConfigMap, node-a',
      cfg: tuned,
      node: 'node-a',
      expected: ['etp-local-fallback', 'ipvs-config-ignored', 'ipvs-scheduler-not-rr', 'ipvs-timeouts-tuned', 'itp-local-fallback', 'masquerade-bit-moves', 'session-affinity-semantics', 'strict-arp-configured'],
    },
    { name: 'a ConfigMap without a cluster CIDR', cfg: {}, node: 'node-a', expected: ['etp-local-fallback', 'itp-local-fallback', 'local-detector-missing', 'session-affinity-semantics'] },
    { name: 'no ConfigMap: no configuration finding', cfg: null, node: 'node-a', expected: ['etp-local-fallback', 'itp-local-fallback', 'session-affinity-semantics'] },
    // sh: every Service counts (shop/web has two endpoints and no affinity), not only the Local and ClientIP ones.
    {
      name: 'scheduler sh',
      cfg: { scheduler: 'sh', clusterCIDRs: ['10.244.0.0/16'] },
      node: 'node-a',
      expected: ['etp-local-fallback', 'ipvs-config-ignored', 'ipvs-scheduler-not-rr', 'itp-local-fallback', 'session-affinity-semantics', 'source-hash-stickiness-lost'],
    },
    // node-b holds the endpoints: no fallback there.
    { name: 'node-b', cfg: { clusterCIDRs: ['10.244.0.0/16'] }, node: 'node-b', expected: ['session-affinity-semantics'] },
  ] satisfies { name: string; cfg: Partial<KubeProxyConfig> | null; node: string; expected: string[] }[])('$name → $expected', ({ cfg, node, expected }) => {
    const [view] = apiFindings(state(cfg), [node], at);
    expect(view?.findings.map((f) => f.id).sort()).toEqual(expected);
  });

  it('the NodePorts are on the Node\'s addresses; etp-local-fallback graded by the target version and the ConfigMap\'s detector', () => {
    const graded = (cfg: Partial<KubeProxyConfig> | null, target: string | null): string | undefined => apiFindings(state(cfg, target), ['node-a'], at)[0]?.findings.find((f) => f.id === 'etp-local-fallback')?.severity;
    const f = apiFindings(state({ clusterCIDRs: ['10.244.0.0/16'] }, 'v1.34.0'), ['node-a'], at)[0]?.findings.find((x) => x.id === 'etp-local-fallback');
    expect(f?.evidence.map((e) => e.ref)).toContain('TCP/192.168.1.10:30082');
    expect(f?.heuristic).toBe(false);
    expect([graded({ clusterCIDRs: ['10.244.0.0/16'] }, 'v1.34.0'), graded({ clusterCIDRs: ['10.244.0.0/16'] }, 'v1.33.2'), graded({ clusterCIDRs: ['10.244.0.0/16'] }, null), graded({}, 'v1.35.0'), graded(null, 'v1.35.0')]).toEqual([
      'info',
      'blocker',
      'change',
      'blocker',
      'change',
    ]);
  });

  it('nodes the API does not list are skipped; a ConfigMap in another mode judges no node', () => {
    expect(apiFindings(state({}), ['node-zz'], at)).toEqual([]);
    expect(apiFindings(state({ mode: 'nftables' }), ['node-a'], at)).toEqual([]);
    expect(apiFindings({ ...state({}), cluster: { ...state({}).cluster, nodes: [...state({}).cluster.nodes, nodeObject('node-c', ['192.168.1.12'])] } }, ['node-c'], at).map((v) => v.node)).toEqual(['node-c']);
  });
});

/** A fake API: answers by path prefix, recording every GET. */
function fakeGet(answers: (path: string) => { status: number; body: unknown }, seen: string[]): ApiGetText {
  return (path) => {
    seen.push(path);
    const a = answers(path);
    return Promise.resolve({ status: a.status, body: typeof a.body === 'string' ? a.body : JSON.stringify(a.body) });
  };
}

const wireNode = (name: string, rv = '1'): object => ({ metadata: { name, resourceVersion: rv }, status: { addresses: [{ type: 'InternalIP', address: '192.168.1.10' }], nodeInfo: { kernelVersion: '6.1.0' } } });

describe('listResource', () => {
  it('follows continue tokens page by page', async () => {
    const seen: string[] = [];
    const get = fakeGet((p) => (p.includes('continue=') ? { status: 200, body: { kind: 'NodeList', metadata: { resourceVersion: '9' }, items: [wireNode('b')] } } : { status: 200, body: { kind: 'NodeList', metadata: { resourceVersion: '9', continue: 'tok' }, items: [wireNode('a')] } }), seen);
    const listed = await listResource(get, 'node', '/api/v1/nodes');
    expect(listed.cached.map((c) => c.metadata.name)).toEqual(['a', 'b']);
    expect(seen).toEqual(['/api/v1/nodes?limit=500', '/api/v1/nodes?limit=500&continue=tok']);
  });

  it('an expired continue token lists once without pages, keeping nothing of the first', async () => {
    const seen: string[] = [];
    const get = fakeGet((p) => {
      if (p.includes('continue=')) return { status: 410, body: { kind: 'Status' } };
      if (p.includes('limit=')) return { status: 200, body: { metadata: { resourceVersion: '9', continue: 'old' }, items: [wireNode('a')] } };
      return { status: 200, body: { metadata: { resourceVersion: '12' }, items: [wireNode('a', '11'), wireNode('b', '12')] } };
    }, seen);
    expect((await listResource(get, 'node', '/api/v1/nodes')).cached.map((c) => c.metadata.name)).toEqual(['a', 'b']);
    expect(seen[2]).toBe('/api/v1/nodes?');
  });

  it.each([
    { name: 'forbidden', answer: { status: 403, body: { kind: 'Status' } }, error: /HTTP 403/ },
    { name: 'not JSON', answer: { status: 200, body: '<html>' }, error: /not JSON/ },
    { name: 'not a list', answer: { status: 200, body: { items: 'x', metadata: { resourceVersion: '1' } } }, error: /items is a string/ },
    { name: 'an item without identity', answer: { status: 200, body: { metadata: { resourceVersion: '1' }, items: [{ metadata: {} }] } }, error: /1 of 1 items rejected/ },
  ])('$name → rejects', async ({ answer, error }) => {
    await expect(listResource(fakeGet(() => answer, []), 'node', '/api/v1/nodes')).rejects.toThrow(error);
  });
});

describe('readKubeProxyConfigMap and readClusterApi', () => {
  const cm = (text: string | null): object => ({ metadata: { name: 'kube-proxy', namespace: 'kube-system', resourceVersion: '3' }, data: text === null ? {} : { 'config.conf': text } });
  it.each([
    { name: 'a config', answer: { status: 200, body: cm('mode: ipvs\nipvs:\n  scheduler: lc\n') }, scheduler: 'lc', problem: null },
    { name: 'absent', answer: { status: 404, body: { kind: 'Status' } }, scheduler: null, problem: /does not exist/ },
    { name: 'forbidden', answer: { status: 403, body: { kind: 'Status' } }, scheduler: null, problem: /HTTP 403 \(forbidden: see manifests\/migration-operator\/\)/ },
    { name: 'no config.conf', answer: { status: 200, body: cm(null) }, scheduler: null, problem: /has no config.conf/ },
    { name: 'not YAML', answer: { status: 200, body: cm('mode: [ipvs') }, scheduler: null, problem: /KUBE_PROXY_CONFIG_INVALID/ },
  ])('$name', async ({ answer, scheduler, problem }) => {
    const seen: string[] = [];
    const read = await readKubeProxyConfigMap(fakeGet(() => answer, seen));
    expect(seen).toEqual(['/api/v1/namespaces/kube-system/configmaps/kube-proxy']);
    expect(read.config?.scheduler ?? null).toBe(scheduler);
    if (problem === null) expect(read.configProblem).toBeNull();
    else expect(read.configProblem).toMatch(problem);
  });

  it('Services that cannot be listed: no state, the notes say why', async () => {
    const get = fakeGet((p) => (p.startsWith('/api/v1/services') ? { status: 403, body: {} } : p.includes('configmaps') ? { status: 404, body: {} } : { status: 200, body: { metadata: { resourceVersion: '1' }, items: [] } }), []);
    const read = await readClusterApi(get, [], null);
    expect(read.state).toBeNull();
    expect(read.notes).toEqual([expect.stringMatching(/^kube-proxy's configuration was not read/) as string, expect.stringMatching(/^Services could not be listed \(GET \/api\/v1\/services\?labelSelector=.*HTTP 403/) as string]);
  });
});

describe('PrometheusRules on IPVS series (ipvs-monitoring-dark)', () => {
  const rule = (namespace: string, name: string, rules: unknown[]): object => ({ metadata: { namespace, name }, spec: { groups: [{ name: 'g', rules }] } });
  const RULES = [
    rule('monitoring', 'node-exporter', [
      { alert: 'IPVSBackendsDown', expr: 'sum by (instance) (node_ipvs_backend_connections_active) == 0' },
      { alert: 'NodeDown', expr: 'up{job="node"} == 0' },
    ]),
    rule('ipvs-sentinel', 'ipvs-sentinel', [{ record: 'job:ipvs_conns:rate5m', expr: 'rate(ipvs_sentinel_connections_total[5m])' }, { alert: 'Broken' }]),
    { metadata: { name: 'no-spec' } },
  ];

  it('names the alerts and recording rules whose expressions read node_ipvs_* or ipvs_sentinel_*, and counts what is malformed', () => {
    expect(ipvsAlertRules(RULES)).toEqual({
      evidence: [
        { kind: 'alert-rule', ref: 'monitoring/node-exporter: alert IPVSBackendsDown', value: 'sum by (instance) (node_ipvs_backend_connections_active) == 0', detail: 'reads node_ipvs_*, flat after the switch' },
        { kind: 'alert-rule', ref: 'ipvs-sentinel/ipvs-sentinel: record job:ipvs_conns:rate5m', value: 'rate(ipvs_sentinel_connections_total[5m])', detail: 'reads ipvs_sentinel_*, flat after the switch' },
      ],
      malformed: 2,
    });
  });

  it.each([
    { name: 'the CRD not served: skipped quietly', answer: { status: 404, body: {} }, refs: [], note: null },
    { name: 'forbidden: a note, nothing listed', answer: { status: 403, body: {} }, refs: [], note: /PrometheusRules could not be listed \(GET .*HTTP 403 \(forbidden/ },
    { name: 'listed', answer: { status: 200, body: { items: RULES, metadata: {} } }, refs: ['monitoring/node-exporter: alert IPVSBackendsDown', 'ipvs-sentinel/ipvs-sentinel: record job:ipvs_conns:rate5m'], note: /2 PrometheusRule objects or rules were malformed/ },
    { name: 'not a list', answer: { status: 200, body: { items: 3 } }, refs: [], note: /not a list/ },
  ])('$name', async ({ answer, refs, note }) => {
    const seen: string[] = [];
    const read = await readAlertRules(fakeGet(() => answer, seen));
    expect(seen[0]).toBe('/apis/monitoring.coreos.com/v1/prometheusrules?limit=500');
    expect(read.evidence.map((e) => e.ref)).toEqual(refs);
    if (note === null) expect(read.note).toBeNull();
    else expect(read.note).toMatch(note);
  });

  it('the cluster report lists the rules under ipvs-monitoring-dark, for the whole cluster', () => {
    const report = buildClusterReport([{ node: 'node-a', kernelVersion: '6.1.0', report: null, error: 'no agent pod' }], at, { views: [], notes: [], alertRules: ipvsAlertRules(RULES).evidence });
    const f = report.findings.find((x) => x.id === 'ipvs-monitoring-dark');
    expect(f).toMatchObject({ severity: 'info', nodeCount: 0 });
    expect(f?.evidenceSample.map((e) => [e.node, e.ref])).toEqual([
      ['*', 'monitoring/node-exporter: alert IPVSBackendsDown'],
      ['*', 'ipvs-sentinel/ipvs-sentinel: record job:ipvs_conns:rate5m'],
    ]);
  });
});
