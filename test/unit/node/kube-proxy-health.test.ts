import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kubeProxyHealthTimeout, parseGoTime, parseHealthz, parseSyncMetrics } from '../../../src/node/kube-proxy-health.js';

const FIXTURES = join(import.meta.dirname, '../../fixtures');
const fixture = (name: string): string => readFileSync(join(FIXTURES, 'kube-proxy-healthz', name), 'utf8');

describe('parseGoTime (a Go time.Time as %q prints it)', () => {
  it.each([
    ['UTC with a monotonic reading', '2020-06-01 10:00:05.123456789 +0000 UTC m=+3605.100000001', '2020-06-01T10:00:05.123Z'],
    ['no fraction, no monotonic reading', '2020-06-01 10:00:05 +0000 UTC', '2020-06-01T10:00:05.000Z'],
    ['a zone east of UTC', '2023-09-12 14:03:11.000481 +0200 CEST m=+86400.000481000', '2023-09-12T12:03:11.000Z'],
    ['a zone west of UTC, a negative monotonic reading', '2023-12-31 22:30:00.5 -0530 -0530 m=-1.000000000', '2024-01-01T04:00:00.500Z'],
    ['RFC 3339', '2025-03-20T08:14:59.999Z', '2025-03-20T08:14:59.999Z'],
  ])('%s', (_name, text, iso) => {
    expect(parseGoTime(text)?.toISOString()).toBe(iso);
  });

  it("is null for Go's zero time (never)", () => {
    expect(parseGoTime('0001-01-01 00:00:00 +0000 UTC')).toBeNull();
    expect(parseGoTime('0001-01-01T00:00:00Z')).toBeNull();
  });

  it.each([
    ['empty', ''],
    ['a date only', '2020-06-01'],
    ['31 February', '2020-02-31 10:00:00 +0000 UTC'],
    ['hour 24', '2020-06-01 24:00:00 +0000 UTC'],
    ['no offset', '2020-06-01 10:00:05 UTC'],
    ['trailing garbage', '2020-06-01 10:00:05 +0000 UTC m=+1.5 extra'],
    ['a number', '1591005605'],
  ])('refuses %s', (_name, text) => {
    expect(parseGoTime(text)).toBeUndefined();
  });
});

describe('parseHealthz: the bodies of kube-proxy releases (pkg/proxy/healthcheck/proxier_health.go)', () => {
  it.each([
    ['v1.18-healthy.200.json', 200, '2020-06-01T10:00:05.123Z', '2020-06-01T10:00:05.123Z', null],
    ['v1.18-stale.503.json', 503, '2020-06-01T09:40:00.500Z', '2020-06-01T10:00:05.123Z', null],
    ['v1.28-healthy.200.json', 200, '2023-09-12T12:03:11.000Z', '2023-09-12T12:03:11.000Z', true],
    ['v1.28-never-synced.503.json', 503, null, '2023-09-12T12:05:00.250Z', true],
    ['v1.28-node-ineligible.503.json', 503, '2023-09-12T12:03:00.750Z', '2023-09-12T12:05:00.250Z', false],
    ['v1.31-stale.503.json', 503, '2025-03-20T08:14:59.999Z', '2025-03-20T08:17:30.000Z', true],
  ])('%s', (file, status, lastUpdated, currentTime, nodeEligible) => {
    const parsed = parseHealthz(status, fixture(file));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect({
      status: parsed.value.status,
      lastUpdated: parsed.value.lastUpdated?.toISOString() ?? null,
      currentTime: parsed.value.currentTime.toISOString(),
      nodeEligible: parsed.value.nodeEligible,
    }).toEqual({ status, lastUpdated, currentTime, nodeEligible });
  });

  const good = '"currentTime": "2023-09-12 12:05:00.25 +0000 UTC"';
  it.each([
    ['another status', 500, `{"lastUpdated": "2023-09-12 12:05:00.25 +0000 UTC",${good}}`, /HTTP 500/],
    ['a redirect', 302, '', /HTTP 302/],
    ['not JSON', 503, '<html>503 Service Unavailable</html>', /not JSON/],
    ['cut off', 200, '{"lastUpdated": "2023-09-12 12:05:00.25 +0000 UTC","curr', /not JSON/],
    ['an array', 200, '[1,2]', /not a JSON object/],
    ['null', 503, 'null', /not a JSON object/],
    ['lastUpdated a number', 503, `{"lastUpdated": 1694520300,${good}}`, /lastUpdated and currentTime strings/],
    ['no currentTime', 503, '{"lastUpdated": "2023-09-12 12:05:00.25 +0000 UTC"}', /lastUpdated and currentTime strings/],
    ['lastUpdated not a time', 503, `{"lastUpdated": "yesterday",${good}}`, /lastUpdated is not a time/],
    ['currentTime the zero time', 503, '{"lastUpdated": "2023-09-12 12:05:00.25 +0000 UTC","currentTime": "0001-01-01 00:00:00 +0000 UTC"}', /currentTime is not a time/],
    ['nodeEligible a string', 503, `{"lastUpdated": "2023-09-12 12:05:00.25 +0000 UTC",${good},"nodeEligible":"false"}`, /nodeEligible is not a boolean/],
    ['a huge string, quoted cut', 503, `{"lastUpdated": "${'9'.repeat(5000)}",${good}}`, /lastUpdated is not a time: "9{80}…"$/],
  ])('refuses %s', (_name, status, body, problem) => {
    const parsed = parseHealthz(status, body);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem).toMatch(problem);
  });
});

describe('parseSyncMetrics: the two sync timestamps of kube-proxy /metrics (pkg/proxy/metrics/metrics.go)', () => {
  it.each([
    ['metrics-v1.28.txt', [{ ipFamily: '', lastQueued: 1694520100, lastSynced: 1694520000.5 }]],
    [
      'metrics-v1.33-dualstack.txt',
      [
        { ipFamily: 'IPv4', lastQueued: 1742458400, lastSynced: 1742458401 },
        { ipFamily: 'IPv6', lastQueued: 1742458420, lastSynced: 1742458300 },
      ],
    ],
    ['metrics-v1.18-no-queued.txt', [{ ipFamily: '', lastQueued: null, lastSynced: 1591005605 }]],
  ])('%s', (file, expected) => {
    expect(parseSyncMetrics(fixture(file))).toEqual({ ok: true, value: expected });
  });

  it('a page without either (not kube-proxy, or metrics of another component) has no families', () => {
    expect(parseSyncMetrics('# HELP up\nup 1\nkubeproxy_sync_proxy_rules_last_timestamp_seconds_total 5\n')).toEqual({ ok: true, value: [] });
  });

  it('a gauge still at 0 is never', () => {
    expect(parseSyncMetrics('kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds 0\nkubeproxy_sync_proxy_rules_last_timestamp_seconds 0\n')).toEqual({
      ok: true,
      value: [{ ipFamily: '', lastQueued: null, lastSynced: null }],
    });
  });

  it('reads a sample with an exposition timestamp and escaped label values', () => {
    const text = 'kubeproxy_sync_proxy_rules_last_timestamp_seconds{ip_family="IPv4",note="a \\"q\\", b"} 1.5e+09 1700000000000\n';
    expect(parseSyncMetrics(text)).toEqual({ ok: true, value: [{ ipFamily: 'IPv4', lastQueued: null, lastSynced: 1.5e9 }] });
  });

  it.each([
    ['NaN', 'kubeproxy_sync_proxy_rules_last_timestamp_seconds NaN', /not a timestamp/],
    ['+Inf', 'kubeproxy_sync_proxy_rules_last_timestamp_seconds +Inf', /not a timestamp/],
    ['negative', 'kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds -1', /not a timestamp/],
    ['hex', 'kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds 0x10', /not a timestamp/],
    ['no value', 'kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds ', /malformed sample/],
    ['unclosed labels', 'kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds{ip_family="IPv4" 5', /malformed sample/],
    ['bad labels', 'kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds{ip_family=IPv4} 5', /malformed labels/],
    ['a family name that is no family', 'kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds{ip_family="IPv4; rm -rf"} 5', /malformed labels/],
    ['twice for one family', 'kubeproxy_sync_proxy_rules_last_timestamp_seconds 5\nkubeproxy_sync_proxy_rules_last_timestamp_seconds 6', /appears twice/],
  ])('refuses %s', (_name, text, problem) => {
    const parsed = parseSyncMetrics(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem).toMatch(problem);
  });

  it('reads a 4 MiB page of other series line by line', () => {
    const filler = 'rest_client_requests_total{code="200",host="10.96.0.1:443",method="GET"} 12345\n'.repeat(50_000);
    const parsed = parseSyncMetrics(`${filler}kubeproxy_sync_proxy_rules_last_timestamp_seconds 7\n`);
    expect(parsed).toEqual({ ok: true, value: [{ ipFamily: '', lastQueued: null, lastSynced: 7 }] });
  });
});

describe('kubeProxyHealthTimeout: 2 × the sync period, as cmd/kube-proxy/app/server.go builds its healthz server', () => {
  const configz = (name: string): unknown => JSON.parse(readFileSync(join(FIXTURES, 'kube-proxy', name), 'utf8')) as unknown;
  it.each([
    ['v1.28: IPTables.SyncPeriod, whatever IPVS says', configz('configz-v1.28-ipvs.json'), 60, /iptables\.syncPeriod 30 s/],
    ['v1.31: the top-level SyncPeriod', configz('configz-v1.31-ipvs.json'), 120, /syncPeriod 60 s/],
    ['v1.28 with ipvs.syncPeriod 5s and iptables.syncPeriod 2m', { 'kubeproxy.config.k8s.io': { IPTables: { SyncPeriod: '2m0s' }, IPVS: { SyncPeriod: '5s' } } }, 240, /iptables\.syncPeriod 120 s/],
    ['no configz', null, 60, /default syncPeriod 30 s/],
    ['configz of another shape', { 'kubeproxy.config.k8s.io': null }, 60, /default/],
    ['a SyncPeriod that is no duration', { 'kubeproxy.config.k8s.io': { SyncPeriod: 30 } }, 60, /default/],
    ['a zero SyncPeriod', { 'kubeproxy.config.k8s.io': { SyncPeriod: '0s' } }, 60, /default/],
  ])('%s', (_name, doc, seconds, from) => {
    const timeout = kubeProxyHealthTimeout(doc);
    expect(timeout.seconds).toBe(seconds);
    expect(timeout.from).toMatch(from);
  });
});
