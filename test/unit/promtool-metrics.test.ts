/**
 * The agent's live `/metrics`, served by its HTTP server over a socket, checked by the real
 * `promtool check metrics` (Prometheus's text-format parser and its lint: names, units, suffixes,
 * HELP and TYPE lines). The view behind it holds what makes an exposition hard: IPv4, IPv6 and
 * fwmark virtual servers, u64 counters, a finding of every kind the registry declares at every
 * severity, hostile label values, read errors and the watch counters.
 */
import { request } from 'node:http';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startHttpServer, type HttpServerHandle } from '../../src/agent/http.js';
import { createMetrics, type AgentMetrics } from '../../src/agent/metrics.js';
import { FINDING_KINDS } from '../../src/checks/registry.js';
import type { ClusterWatchStatus, ResourceWatchStatus } from '../../src/cluster/informers.js';
import type { Severity } from '../../src/drift/types.js';
import { fakeAgentView, okDrift, sampleModules, trackedFinding } from '../support/agent-view.js';
import { serviceRef } from '../support/builders.js';
import { promtool } from '../support/promtool.js';
import { lookup, renderSnapshot } from '../support/render-snapshot.js';

/**
 * What promtool's lint says of prom-client's default metrics: three gauges named `_total`
 * (siimon/prom-client#283, open upstream). The agent exports the defaults under their standard names,
 * which dashboards use; its own families must pass clean.
 */
const PROM_CLIENT_LINT = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'].map(
  (name) => `${name} non-counter metrics should not have "_total" suffix`,
);

const servers: HttpServerHandle[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function watchStatus(): ClusterWatchStatus {
  const resource = (rejectedEvents: number): ResourceWatchStatus =>
    ({ synced: true, resourceVersion: '1', lastContact: null, lastError: null, lastErrorAt: null, unreachableSince: null, restarts: 0, lists: 1, rejectedEvents });
  return { synced: true, perResource: { service: resource(0), endpointslice: resource(2), node: resource(1), configmap: resource(0) }, lastError: null, unreachableSince: null };
}

/** A busy node: the render goldens' table, every finding kind at every severity, errors read. */
function busyNode(backendMetrics: boolean): AgentMetrics {
  const severities: Severity[] = ['critical', 'warning', 'info'];
  const findings = FINDING_KINDS.flatMap((kind, i) =>
    severities.map((severity, j) => trackedFinding(kind, severity, (i + j) % 2 === 0, { virtualServer: `TCP/10.96.${i}.${j}:80` })),
  );
  const { view } = fakeAgentView({
    snapshot: renderSnapshot(),
    modules: sampleModules(),
    proxyMode: 'ipvs',
    drift: okDrift(findings),
  });
  const hostile = serviceRef('shop/web:http');
  const metrics = createMetrics({
    backendMetrics,
    // A port name is free text in the API: quotes, backslashes and a newline must come out escaped.
    view: { ...view, lookup: (key) => (key === 'TCP/10.96.0.30:80' ? { ...hostile, port: 'a"b\\c\nd' } : lookup(key)) },
    watchStatus,
  });
  for (const source of ['netlink', 'modules', 'sysctl', 'kube-proxy', 'interfaces', 'ipsets', 'netfilter', 'cluster'] as const) metrics.recordRead(source, 0.0042);
  metrics.recordRead('netlink', 31, { reason: 'NETLINK_IO' });
  metrics.recordRead('cluster', 0.2, { reason: 'unknown' });
  metrics.recordDriftDetected('missing-real-server');
  return metrics;
}

async function scrape(metrics: AgentMetrics): Promise<{ status: number; contentType: string; body: string }> {
  const { view } = fakeAgentView();
  const server = await startHttpServer({ host: '127.0.0.1', port: 0, view, metrics, logger: pino({ level: 'silent' }) });
  servers.push(server);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.address.port, path: '/metrics', agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type']), body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('promtool check metrics on a live /metrics', () => {
  it.each([
    ['with per-real-server series (--backend-metrics)', true],
    ['without per-real-server series', false],
  ])('%s: parses and passes the lint', async (_name, backendMetrics) => {
    const { status, contentType, body } = await scrape(busyNode(backendMetrics));
    expect(status).toBe(200);
    expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    // The scrape really holds what the check is about.
    expect(body).toContain('ipvs_sentinel_drift_findings{');
    expect(body).toContain('ipvs_sentinel_connections_total{');
    expect(body).toContain('port_name="a\\"b\\\\c\\nd"');
    expect(body.includes('ipvs_sentinel_backend_weight{')).toBe(backendMetrics);
    const r = promtool(['check', 'metrics'], { input: body });
    const problems = (r.stdout + r.stderr).split('\n').filter((l) => l !== '');
    expect(problems.filter((l) => !PROM_CLIENT_LINT.includes(l))).toEqual([]);
    // Only the parse succeeded when promtool's lint has something to say; it exits 3 then, not 1.
    expect(r.code).toBe(problems.length === 0 ? 0 : 3);
  });

  it('would report a malformed or unlinted exposition', async () => {
    const { body } = await scrape(busyNode(false));
    const cases: [string, string, RegExp][] = [
      ['a sample line cut short', `${body}ipvs_sentinel_virtual_servers{node="x" 1\n`, /error while linting|text format parsing error/],
      ['a counter without _total', `${body}# HELP ipvs_sentinel_reads Reads.\n# TYPE ipvs_sentinel_reads counter\nipvs_sentinel_reads 1\n`, /counter metrics should have "_total" suffix/],
    ];
    for (const [what, text, message] of cases) {
      const r = promtool(['check', 'metrics'], { input: text });
      expect(r.code, what).not.toBe(0);
      expect(r.stdout + r.stderr, what).toMatch(message);
    }
  });
});
