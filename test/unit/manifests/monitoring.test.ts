/**
 * manifests/monitoring/: the alerts and the dashboard parse as PromQL (the Prometheus UI's own
 * lezer grammar), use only metrics the contract defines, and every alert has a runbook section.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { describe, expect, it } from 'vitest';
import { build, MANIFESTS, REPO_ROOT, type K8sObject } from './load.js';

/** The metrics of docs/contract.md §7, with the histogram's series; plus Prometheus's `up` and prom-client's process metrics. */
const CONTRACT_METRICS = new Set([
  'ipvs_sentinel_read_duration_seconds_bucket',
  'ipvs_sentinel_read_duration_seconds_sum',
  'ipvs_sentinel_read_duration_seconds_count',
  'ipvs_sentinel_read_errors_total',
  'ipvs_sentinel_virtual_servers',
  'ipvs_sentinel_real_servers',
  'ipvs_sentinel_drift_findings',
  'ipvs_sentinel_drift_detected_total',
  'ipvs_sentinel_health_check',
  'ipvs_sentinel_watch_events_rejected_total',
  'ipvs_sentinel_kernel_module_loaded',
  'ipvs_sentinel_kube_proxy_mode',
  'ipvs_sentinel_cluster_synced',
  'ipvs_sentinel_last_check_timestamp_seconds',
  'ipvs_sentinel_connections_total',
  'ipvs_sentinel_incoming_packets_total',
  'ipvs_sentinel_outgoing_packets_total',
  'ipvs_sentinel_incoming_bytes_total',
  'ipvs_sentinel_outgoing_bytes_total',
  'ipvs_sentinel_backend_connections_active',
  'ipvs_sentinel_backend_connections_inactive',
  'ipvs_sentinel_backend_weight',
  'ipvs_sentinel_migration_findings',
]);
const isKnownMetric = (name: string): boolean => CONTRACT_METRICS.has(name) || name === 'up' || name.startsWith('process_') || name.startsWith('nodejs_');

interface Parsed {
  errors: string[];
  metrics: string[];
}

function parsePromQL(expr: string): Parsed {
  const errors: string[] = [];
  const metrics: string[] = [];
  parser.parse(expr).iterate({
    enter(node) {
      if (node.type.isError) errors.push(`syntax error at ${node.from}: ${JSON.stringify(expr.slice(Math.max(0, node.from - 20), node.to + 20))}`);
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector') metrics.push(expr.slice(node.from, node.to));
    },
  });
  return { errors, metrics };
}

/** Grafana's variables, replaced by values of the same PromQL type before parsing. */
const expandGrafana = (expr: string): string => expr.replaceAll('$__rate_interval', '5m').replaceAll('$node', '.*');

interface Rule {
  alert: string;
  expr: string;
  for: string;
  labels?: Record<string, string>;
  annotations: Record<string, string>;
}
const monitoring = build(join(MANIFESTS, 'monitoring'));
const ruleObject = monitoring.find((o) => o.object.kind === 'PrometheusRule')?.object as K8sObject & { spec: { groups: { rules: Rule[] }[] } };
const rules = ruleObject.spec.groups.flatMap((g) => g.rules);

interface Panel {
  id: number;
  type: string;
  title: string;
  targets?: { expr: string; refId: string }[];
}
const dashboard = JSON.parse(readFileSync(join(MANIFESTS, 'monitoring', 'grafana-dashboard.json'), 'utf8')) as {
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; query: string | { query: string } }[] };
};
const panelQueries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => [`${p.title} ${t.refId}`, t.expr] as const));

/** GitHub's heading anchors: lower case, spaces to dashes, punctuation dropped. */
const anchors = new Set(
  readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')
    .split('\n')
    .filter((l) => /^#{1,6} /.test(l))
    .map((l) => l.replace(/^#+ /, '').trim().toLowerCase().replace(/[^a-z0-9 _-]/g, '').replace(/ /g, '-')),
);

describe('PrometheusRule', () => {
  it('has the alerts the issue asks for', () => {
    expect(rules.map((r) => r.alert).sort()).toEqual(
      [
        'IPVSSentinelClusterNotSynced',
        'IPVSSentinelDown',
        'IPVSSentinelDriftConfirmed',
        'IPVSSentinelKernelModuleMissing',
        'IPVSSentinelKubeProxyNotIPVS',
        'IPVSSentinelReadErrors',
      ].sort(),
    );
  });

  it.each(rules.map((r) => [r.alert, r] as const))('%s parses and uses only contract metrics', (_name, rule) => {
    const { errors, metrics } = parsePromQL(rule.expr);
    expect(errors).toEqual([]);
    expect(metrics.length).toBeGreaterThan(0);
    expect(metrics.filter((m) => !isKnownMetric(m))).toEqual([]);
  });

  it.each(rules.map((r) => [r.alert, r] as const))('%s has a summary, a description naming the node, a severity and a runbook section', (_name, rule) => {
    expect(rule.for).toMatch(/^\d+m$/);
    expect(rule.annotations.summary).toMatch(/\S/);
    expect(rule.annotations.description).toContain('$labels.node');
    // The drift alert takes its severity from the finding; every other alert sets one.
    if (rule.alert === 'IPVSSentinelDriftConfirmed') expect(rule.expr).toMatch(/by \([^)]*severity/);
    else expect(['critical', 'warning']).toContain(rule.labels?.severity);
    const url = rule.annotations.runbook_url ?? '';
    const anchor = url.split('#')[1] ?? '';
    expect(anchor).toBe(`runbook-${rule.alert.toLowerCase()}`);
    expect(anchors.has(anchor), `README.md has no heading for #${anchor}`).toBe(true);
  });

  it('alerts on confirmed warning or critical drift only, never on findings still within grace', () => {
    const drift = rules.find((r) => r.alert === 'IPVSSentinelDriftConfirmed');
    expect(drift?.expr).toContain('confirmed="true"');
    expect(drift?.expr).toContain('severity=~"critical|warning"');
  });

  it('a PromQL typo would be caught', () => {
    expect(parsePromQL('sum by (node (ipvs_sentinel_virtual_servers)').errors).not.toEqual([]);
  });
});

describe('scrape configuration', () => {
  it.each(['monitoring', 'monitoring/podmonitor'])('%s scrapes the metrics port and labels series with node and job', (dir) => {
    const objects = build(join(MANIFESTS, dir)).map((o) => o.object);
    const monitors = objects.filter((o) => o.kind === 'ServiceMonitor' || o.kind === 'PodMonitor');
    expect(monitors).toHaveLength(1);
    const spec = monitors[0]?.spec as Record<string, { port: string; relabelings: Record<string, unknown>[] }[]>;
    const endpoints = spec.endpoints ?? spec.podMetricsEndpoints ?? [];
    expect(endpoints).toHaveLength(1);
    expect(endpoints[0]?.port).toBe('metrics');
    expect(endpoints[0]?.relabelings).toEqual([
      { sourceLabels: ['__meta_kubernetes_pod_node_name'], targetLabel: 'node' },
      { targetLabel: 'job', replacement: 'ipvs-sentinel' },
      { action: 'labeldrop', regex: 'namespace|service|endpoint|container' },
    ]);
    expect(objects.filter((o) => o.kind === 'PrometheusRule')).toHaveLength(1);
  });

  it('the job every alert and panel selects on is the one the relabeling sets', () => {
    const selectors = [...rules.map((r) => r.expr), ...panelQueries.map(([, e]) => e)].flatMap((e) => [...e.matchAll(/job="([^"]+)"/g)].map((m) => m[1]));
    expect(new Set(selectors)).toEqual(new Set(['ipvs-sentinel']));
  });
});

describe('Grafana dashboard', () => {
  it('has a stable uid, unique panel ids and a node variable', () => {
    expect(dashboard.uid).toBe('ipvs-sentinel');
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(['datasource', 'node']);
  });

  it.each(panelQueries)('%s parses and uses only contract metrics', (_name, expr) => {
    const { errors, metrics } = parsePromQL(expandGrafana(expr));
    expect(errors).toEqual([]);
    expect(metrics.filter((m) => !isKnownMetric(m))).toEqual([]);
  });

  it('shows drift by node and kind, table sizes, traffic per Service and read durations', () => {
    const all = panelQueries.map(([, e]) => e).join('\n');
    expect(all).toMatch(/sum by \(node, kind\) \(ipvs_sentinel_drift_findings\{confirmed="true"/);
    expect(all).toContain('ipvs_sentinel_virtual_servers');
    expect(all).toContain('ipvs_sentinel_real_servers');
    for (const counter of ['connections', 'incoming_bytes', 'outgoing_bytes', 'incoming_packets', 'outgoing_packets']) {
      expect(all).toMatch(new RegExp(`sum by \\(namespace, service\\) \\(rate\\(ipvs_sentinel_${counter}_total\\{`));
    }
    expect(all).toMatch(/histogram_quantile\(0\.99, sum by \(le, source\) \(rate\(ipvs_sentinel_read_duration_seconds_bucket/);
  });

  it('ships as a ConfigMap the Grafana sidecar picks up', () => {
    const cm = monitoring.find((o) => o.object.kind === 'ConfigMap')?.object as K8sObject & { data: Record<string, string> };
    expect(cm.metadata.labels?.grafana_dashboard).toBe('1');
    expect(JSON.parse(cm.data['ipvs-sentinel.json'] ?? '')).toEqual(dashboard);
  });
});
