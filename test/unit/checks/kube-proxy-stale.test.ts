import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { healthChecks } from '../../../src/agent/evaluate.js';
import { startHttpServer, type HttpServerHandle } from '../../../src/agent/http.js';
import { createMetrics } from '../../../src/agent/metrics.js';
import { checkKubeProxySync } from '../../../src/checks/kube-proxy-stale.js';
import { HEALTH_LINES } from '../../../src/checks/registry.js';
import { advance } from '../../../src/drift/grace.js';
import { buildDriftReport, formatDriftReportJson } from '../../../src/drift/report.js';
import type { Finding } from '../../../src/drift/types.js';
import { parseHealthz, parseSyncMetrics, type HealthTimeout, type KubeProxyHealth, type KubeProxyHealthz, type SyncTimestamps } from '../../../src/node/kube-proxy-health.js';
import { renderCheck } from '../../../src/render/check.js';
import { pino } from '../../../src/util/pino.js';
import { fakeAgentView } from '../../support/agent-view.js';
import { rs, snapshot, vs } from '../../support/builders.js';
import { expectGolden } from '../../support/golden.js';

const FIXTURES = join(import.meta.dirname, '../../fixtures/kube-proxy-healthz');
const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');
const BOUND: HealthTimeout = { seconds: 60, from: '2 × iptables.syncPeriod 30 s, from /configz' };
const NOW = new Date('2025-03-20T08:17:30.000Z');
const now = NOW.getTime() / 1000;

function healthz(status: 200 | 503, nodeEligible: boolean | null = true): KubeProxyHealthz {
  return { status, lastUpdated: new Date('2025-03-20T08:14:59.999Z'), currentTime: NOW, nodeEligible };
}

function health(parts: { healthz?: KubeProxyHealthz | null; sync?: SyncTimestamps[] | null }): KubeProxyHealth {
  return { readAt: NOW, healthz: parts.healthz ?? null, sync: parts.sync ?? null, problems: [] };
}

const family = (lastQueuedAgo: number | null, lastSyncedAgo: number | null, ipFamily = ''): SyncTimestamps => ({
  ipFamily,
  lastQueued: lastQueuedAgo === null ? null : now - lastQueuedAgo,
  lastSynced: lastSyncedAgo === null ? null : now - lastSyncedAgo,
});

describe('checkKubeProxySync: kube-proxy-stale as proxier_health.go counts it', () => {
  it.each([
    ['nothing read: unknown', health({}), false],
    ['healthz 200, metrics fresh', health({ healthz: healthz(200), sync: [family(5, 4)] }), false],
    ['healthz 503', health({ healthz: healthz(503) }), true],
    ['healthz 503 of kube-proxy before v1.28 (no nodeEligible)', health({ healthz: healthz(503, null) }), true],
    ['healthz 503 for a Node being deleted: not the sync loop', health({ healthz: healthz(503, false) }), false],
    ['queued 61 s ago, last sync before it, bound 60 s', health({ sync: [family(61, 200)] }), true],
    ['queued 60 s ago: at the bound, not past it', health({ sync: [family(60, 200)] }), false],
    ['queued 59 s ago, last sync before it', health({ sync: [family(59, 200)] }), false],
    ['queued long ago but synced since', health({ sync: [family(500, 400)] }), false],
    ['queued 300 s ago, never synced since start', health({ sync: [family(300, null)] }), true],
    ['never queued (kube-proxy before v1.19 has no queued metric)', health({ sync: [family(null, 4000)] }), false],
    ['dual-stack: IPv4 fresh, IPv6 stuck', health({ sync: [family(5, 4, 'IPv4'), family(120, 300, 'IPv6')] }), true],
    ['healthz 200 but the metrics stuck (a release whose healthz misses it)', health({ healthz: healthz(200), sync: [family(90, 100)] }), true],
  ])('%s', (_name, input, stale) => {
    const findings = checkKubeProxySync(input, BOUND);
    expect(findings.length).toBe(stale ? 1 : 0);
    if (stale) expect(findings[0]).toMatchObject({ kind: 'kube-proxy-stale', severity: 'critical', subject: 'kube-proxy sync', selfHealing: false });
  });

  it('follows the bound it is given (2 × the sync period)', () => {
    const input = health({ sync: [family(100, 200)] });
    expect(checkKubeProxySync(input, { seconds: 60, from: 'x' })).toHaveLength(1);
    expect(checkKubeProxySync(input, { seconds: 120, from: 'x' })).toHaveLength(0);
  });

  it('gives the timestamps and the bound as evidence, from real answers of kube-proxy v1.31 and v1.33', () => {
    const hz = parseHealthz(503, fixture('v1.31-stale.503.json'));
    const sync = parseSyncMetrics(fixture('metrics-v1.33-dualstack.txt'));
    if (!hz.ok || !sync.ok) throw new Error('fixtures must parse');
    const [finding] = checkKubeProxySync({ readAt: new Date('2025-03-20T08:17:30.000Z'), healthz: hz.value, sync: sync.value, problems: [] }, BOUND);
    expect(finding?.expected).toEqual({ pendingUpdateAppliedWithinSeconds: 60, bound: BOUND.from });
    expect(finding?.actual).toEqual({
      checkedAt: '2025-03-20T08:17:30.000Z',
      healthz: { status: 503, lastUpdated: '2025-03-20T08:14:59.999Z', currentTime: '2025-03-20T08:17:30.000Z', nodeEligible: true },
      sync: [
        { ipFamily: 'IPv4', lastQueued: '2025-03-20T08:13:20.000Z', lastSynced: '2025-03-20T08:13:21.000Z' },
        { ipFamily: 'IPv6', lastQueued: '2025-03-20T08:13:40.000Z', lastSynced: '2025-03-20T08:11:40.000Z' },
      ],
    });
    expect(finding?.message).toContain("kube-proxy's /healthz answers 503 (its last sync was at 2025-03-20T08:14:59.999Z");
    expect(finding?.message).toContain('a rule update queued at 2025-03-20T08:13:40.000Z (IPv6) has waited 230 s');
  });
});

// ---- while it is confirmed, what it explains ----------------------------------------------------

const T = new Date('2025-03-20T08:17:30.000Z');
const base = { service: null, expected: null, actual: null, realServer: null, virtualServer: null } as const;
const [stale] = checkKubeProxySync(health({ healthz: healthz(503), sync: [family(150, 200)] }), BOUND);
const others: Finding[] = [
  { ...base, kind: 'missing-virtual-server', severity: 'critical', virtualServer: 'TCP/10.96.0.20:80', subject: 'TCP/10.96.0.20:80', service: { namespace: 'shop', name: 'web', port: 'http' }, message: 'Virtual server TCP/10.96.0.20:80 is missing.', selfHealing: true },
  { ...base, kind: 'missing-real-server', severity: 'warning', virtualServer: 'TCP/10.96.0.10:53', realServer: '10.244.1.4:53', subject: 'TCP/10.96.0.10:53 -> 10.244.1.4:53', message: 'Endpoint 10.244.1.4:53 is not a destination.', selfHealing: true },
  { ...base, kind: 'ipset-entry-missing', severity: 'critical', subject: 'KUBE-CLUSTER-IP 10.96.0.20,tcp:80', message: 'ipset KUBE-CLUSTER-IP lacks 10.96.0.20,tcp:80.', selfHealing: true },
  { ...base, kind: 'weight-mismatch', severity: 'critical', virtualServer: 'TCP/10.96.0.10:53', realServer: '10.244.0.3:53', subject: 'TCP/10.96.0.10:53 -> 10.244.0.3:53', message: 'Endpoint 10.244.0.3:53 has weight 0.', selfHealing: false },
];
const late: Finding = { ...base, kind: 'unexpected-virtual-server', severity: 'warning', virtualServer: 'TCP/10.96.0.99:80', subject: 'TCP/10.96.0.99:80', message: 'Virtual server TCP/10.96.0.99:80 is not wanted.', selfHealing: true };

/** The verdict lines as the agent computes them; the node sources' own lines (not read here) pass. */
function checksOf(report: ReturnType<typeof buildDriftReport>) {
  return healthChecks(null, null, report, HEALTH_LINES).map((c) => (c.reason === 'not read yet' ? { ...c, ok: true, reason: null } : c));
}

/** Two polls: everything seen at T − 60 s is confirmed at T (grace 30 s); `late` appears only at T. */
function reportOf(findings: Finding[], unknownReason: string | null = null) {
  const earlier = new Date(T.getTime() - 60_000);
  const first = advance([], findings, earlier, { grace: 30_000 });
  const current = advance(first, [...findings, late], T, { grace: 30_000 });
  return buildDriftReport({ node: 'worker-1', checkedAt: T, findings: current, unknownReason });
}

describe('kube-proxy-stale explains what its sync would repair', () => {
  if (!stale) throw new Error('the stale finding must be built');

  it('marks the confirmed self-healing findings, not the pending ones nor what its sync never repairs, and leads the verdict', () => {
    const report = reportOf([...others, stale]);
    const explained = Object.fromEntries(report.findings.map((f) => [f.kind, f.explainedBy ?? null]));
    expect(explained).toEqual({
      'kube-proxy-stale': null,
      'missing-virtual-server': 'kube-proxy-stale',
      'missing-real-server': 'kube-proxy-stale',
      'ipset-entry-missing': 'kube-proxy-stale',
      'weight-mismatch': null,
      'unexpected-virtual-server': null,
    });
    expect(report.findings[0]?.kind).toBe('kube-proxy-stale');
    expect(report.reason).toMatch(/^kube-proxy is not syncing \(kube-proxy-stale\), which explains 3 other confirmed findings; 5 confirmed findings: 4 critical \(kube-proxy-stale, /);
  });

  it('marks nothing while it is pending, or gone', () => {
    const pending = buildDriftReport({ node: 'worker-1', checkedAt: T, findings: advance(advance([], others, new Date(T.getTime() - 60_000), { grace: 30_000 }), [...others, stale], T, { grace: 30_000 }), unknownReason: null });
    expect(pending.findings.find((f) => f.kind === 'kube-proxy-stale')?.confirmed).toBe(false);
    expect(pending.findings.some((f) => f.explainedBy !== undefined)).toBe(false);
    const cleared = reportOf(others);
    expect(cleared.findings.some((f) => f.explainedBy !== undefined)).toBe(false);
    expect(cleared.reason).toMatch(/^4 confirmed findings/);
  });

  it('stands in an unknown report (a prerequisite: no trusted cluster cache needed)', () => {
    const report = reportOf([...others, stale], 'the cluster cache is not synced');
    expect(report.findings.map((f) => f.kind)).toEqual(['kube-proxy-stale']);
    expect(report.status).toBe('drift');
    expect(report.reason).toBe('kube-proxy is not syncing (kube-proxy-stale); 1 confirmed finding: 1 critical (kube-proxy-stale); IPVS not compared: the cluster cache is not synced');
  });

  it('drift JSON: explainedBy on the findings it explains, absent elsewhere (golden)', async () => {
    const report = reportOf([...others, stale]);
    const json = formatDriftReportJson(report);
    expect((JSON.parse(json) as { findings: { explainedBy?: string }[] }).findings.filter((f) => f.explainedBy === 'kube-proxy-stale')).toHaveLength(3);
    await expectGolden('test/fixtures/golden/drift/kube-proxy-stale.json', json);
  });

  it('check output: the table marks and the findings say so, the verdict and the checks lead with it (golden)', async () => {
    const report = reportOf([...others, stale]);
    const checks = checksOf(report);
    expect(checks[0]).toMatchObject({ name: 'kube-proxy-sync', ok: false });
    expect(checks.find((c) => c.name === 'drift')?.reason).toBe('5 confirmed finding(s), 3 explained by kube-proxy-stale: kube-proxy-stale, missing-virtual-server, weight-mismatch, ipset-entry-missing, missing-real-server');
    const table = snapshot([vs('TCP/10.96.0.10:53', [rs('10.244.0.3:53', { weight: 0 })]), vs('TCP/10.96.0.99:80', [])]);
    const text = renderCheck({ snapshot: table, lookup: () => null, report, checks, configSource: 'configz', scheduler: 'rr' });
    expect(text).toContain('WARNING  missing-real-server  TCP/10.96.0.10:53 -> 10.244.1.4:53  [confirmed, explained by kube-proxy-stale]');
    expect(text).toContain('WARNING  unexpected-virtual-server  TCP/10.96.0.99:80  [pending]');
    expect(text).toMatch(/-> 10\.244\.1\.4:53 +\(absent\) +<- missing real server \(explained by kube-proxy-stale\)$/m);
    await expectGolden('test/fixtures/golden/render/check-kube-proxy-stale.txt', text);
  });

  describe('/healthz', () => {
    const servers: HttpServerHandle[] = [];
    afterEach(async () => {
      await Promise.all(servers.splice(0).map((s) => s.close()));
    });

    it('?verbose lists kube-proxy-sync first, failing with the finding (golden)', async () => {
      const report = reportOf([...others, stale]);
      const { view } = fakeAgentView({ health: checksOf(report), drift: report });
      const server = await startHttpServer({ host: '127.0.0.1', port: 0, view, metrics: createMetrics({ backendMetrics: true, view }), logger: pino({ level: 'silent' }) });
      servers.push(server);
      const res = await fetch(`http://127.0.0.1:${server.address.port}/healthz?verbose`);
      const body = await res.text();
      expect(res.status).toBe(503);
      expect(body.split('\n')[0]).toMatch(/^\[-\]kube-proxy-sync failed: kube-proxy is running but not applying Service and endpoint changes/);
      await expectGolden('test/fixtures/golden/http/healthz-verbose-kube-proxy-stale.txt', body);
    });
  });
});
