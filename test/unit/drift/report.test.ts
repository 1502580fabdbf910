import { describe, expect, it } from 'vitest';
import { diffIpvs, diffKubeIpvs0 } from '../../../src/drift/differ.js';
import { advance } from '../../../src/drift/grace.js';
import { buildDriftReport, compareFindings, driftReportToJson, formatDriftReportJson } from '../../../src/drift/report.js';
import type { Finding, FindingKind, Severity, TrackedFinding } from '../../../src/drift/types.js';
import { desired, expectedVs, rs, serviceRef, snapshot, vs } from '../../support/builders.js';
import { expectGolden } from '../../support/golden.js';

const CHECKED_AT = new Date('2025-03-01T12:00:40.000Z');

function tracked(kind: FindingKind, severity: Severity, confirmed: boolean, overrides: Partial<TrackedFinding> = {}): TrackedFinding {
  return {
    kind,
    severity,
    virtualServer: null,
    realServer: null,
    subject: overrides.virtualServer ?? kind,
    service: null,
    expected: null,
    actual: null,
    message: `${kind}.`,
    selfHealing: true,
    id: `${kind}|${overrides.virtualServer ?? ''}|${overrides.realServer ?? ''}|`,
    firstSeen: new Date('2025-03-01T12:00:00.000Z'),
    confirmed,
    ...overrides,
  };
}

describe('buildDriftReport status', () => {
  it.each<[string, TrackedFinding[], string | null, 'ok' | 'drift' | 'unknown', number]>([
    ['no findings', [], null, 'ok', 0],
    ['only pending findings', [tracked('missing-virtual-server', 'critical', false)], null, 'ok', 1],
    ['only confirmed info', [tracked('terminating-real-server', 'info', true), tracked('netmask-mismatch', 'info', true)], null, 'ok', 2],
    ['a confirmed warning', [tracked('scheduler-mismatch', 'warning', true)], null, 'drift', 1],
    ['a confirmed critical', [tracked('missing-virtual-server', 'critical', true), tracked('netmask-mismatch', 'info', true)], null, 'drift', 2],
    ['unknown drops IPVS findings but keeps prerequisites', [tracked('missing-virtual-server', 'critical', true), tracked('module-missing', 'critical', false), tracked('kube-ipvs0-missing', 'critical', true)], 'IPVS unreadable', 'unknown', 1],
    ['a confirmed prerequisite is drift even when IPVS was not compared', [tracked('missing-virtual-server', 'critical', true), tracked('module-missing', 'critical', true)], 'IPVS unreadable', 'drift', 1],
    ['unknown with no findings', [], 'cluster cache not synced', 'unknown', 0],
  ])('%s → %s', (_name, findings, unknownReason, status, count) => {
    const report = buildDriftReport({ node: 'node-a', checkedAt: CHECKED_AT, findings, unknownReason });
    expect(report.status).toBe(status);
    expect(report.findings).toHaveLength(count);
    if (status === 'unknown') expect(report.reason).toBe(unknownReason);
    if (status === 'ok') expect(report.reason).toBeNull();
  });

  it('summarises confirmed drift in the reason', () => {
    const report = buildDriftReport({
      node: null,
      checkedAt: CHECKED_AT,
      unknownReason: null,
      findings: [
        tracked('scheduler-mismatch', 'warning', true, { virtualServer: 'TCP/10.96.0.1:443' }),
        tracked('missing-virtual-server', 'critical', true, { virtualServer: 'TCP/10.96.0.2:443' }),
        tracked('missing-virtual-server', 'critical', true, { virtualServer: 'TCP/10.96.0.3:443' }),
        tracked('unexpected-real-server', 'warning', false),
        tracked('terminating-real-server', 'info', true),
      ],
    });
    expect(report.reason).toBe('3 confirmed findings: 2 critical (missing-virtual-server), 1 warning (scheduler-mismatch)');
    expect(buildDriftReport({ node: null, checkedAt: CHECKED_AT, unknownReason: null, findings: [tracked('scheduler-mismatch', 'warning', true)] }).reason).toBe(
      '1 confirmed finding: 1 warning (scheduler-mismatch)',
    );
  });

  it('sorts by severity, kind, virtual server, real server; does not reorder its input', () => {
    const input = [
      tracked('terminating-real-server', 'info', true, { virtualServer: 'TCP/10.96.0.1:443', realServer: '10.0.0.2:80' }),
      tracked('missing-real-server', 'warning', true, { virtualServer: 'TCP/10.96.0.1:443', realServer: '10.0.0.2:80' }),
      tracked('missing-real-server', 'warning', true, { virtualServer: 'TCP/10.96.0.1:443', realServer: '10.0.0.1:80' }),
      tracked('missing-real-server', 'warning', true, { virtualServer: null, realServer: '10.0.0.1:80' }),
      tracked('scheduler-mismatch', 'warning', true, { virtualServer: 'TCP/10.96.0.1:443' }),
      tracked('weight-mismatch', 'critical', true, { virtualServer: 'TCP/10.96.0.9:443', realServer: '10.0.0.1:80' }),
      tracked('missing-virtual-server', 'critical', true, { virtualServer: 'UDP/10.96.0.10:53' }),
      tracked('missing-virtual-server', 'critical', true, { virtualServer: 'TCP/10.96.0.10:53' }),
    ];
    const copy = [...input];
    const report = buildDriftReport({ node: null, checkedAt: CHECKED_AT, unknownReason: null, findings: input });
    expect(input).toEqual(copy);
    expect(report.findings.map((f) => `${f.severity} ${f.kind} ${f.virtualServer} ${f.realServer}`)).toEqual([
      'critical missing-virtual-server TCP/10.96.0.10:53 null',
      'critical missing-virtual-server UDP/10.96.0.10:53 null',
      'critical weight-mismatch TCP/10.96.0.9:443 10.0.0.1:80',
      'warning scheduler-mismatch TCP/10.96.0.1:443 null',
      'warning missing-real-server null 10.0.0.1:80',
      'warning missing-real-server TCP/10.96.0.1:443 10.0.0.1:80',
      'warning missing-real-server TCP/10.96.0.1:443 10.0.0.2:80',
      'info terminating-real-server TCP/10.96.0.1:443 10.0.0.2:80',
    ]);
  });

  it('compareFindings falls back to the id', () => {
    const a = tracked('module-missing', 'critical', true, { id: 'module-missing|||ip_vs' });
    const b = tracked('module-missing', 'critical', true, { id: 'module-missing|||nf_conntrack' });
    expect([b, a].sort(compareFindings)).toEqual([a, b]);
    expect(compareFindings(a, a)).toBe(0);
  });
});

describe('driftReportToJson', () => {
  it('has the schema keys in the schema order, RFC 3339 timestamps and JSON-safe values', () => {
    const report = buildDriftReport({
      node: 'node-a',
      checkedAt: CHECKED_AT,
      unknownReason: null,
      findings: [
        tracked('missing-virtual-server', 'critical', true, {
          virtualServer: 'TCP/10.96.0.1:443',
          service: serviceRef('default/kubernetes:https'),
          expected: { big: 1n << 70n, small: 5n, when: new Date(0), gone: undefined, list: [Number.NaN, 'x', true] },
          actual: Symbol('not json'),
        }),
      ],
    });
    const json = driftReportToJson(report);
    expect(Object.keys(json)).toEqual(['node', 'checkedAt', 'status', 'reason', 'findings']);
    const [f] = json.findings;
    expect(Object.keys(f ?? {})).toEqual(['kind', 'severity', 'virtualServer', 'realServer', 'service', 'expected', 'actual', 'firstSeen', 'confirmed', 'message', 'selfHealing', 'id']);
    expect(json.checkedAt).toBe('2025-03-01T12:00:40.000Z');
    expect(f?.firstSeen).toBe('2025-03-01T12:00:00.000Z');
    expect(f?.service).toEqual({ namespace: 'default', name: 'kubernetes', port: 'https' });
    expect(f?.expected).toEqual({ big: '1180591620717411303424', small: 5, when: '1970-01-01T00:00:00.000Z', list: [null, 'x', true] });
    expect(f?.actual).toBeNull();
    expect(formatDriftReportJson(report)).toBe(`${JSON.stringify(json, null, 2)}\n`);
  });
});

/** A node where kube-proxy stopped syncing a while ago: the differ, the grace machine and the report together. */
function scenario(): { findings: Finding[]; previous: TrackedFinding[] } {
  const web = serviceRef('shop/web:http');
  const d = desired(
    [
      expectedVs('TCP/10.96.0.1:443', ['172.18.0.2:6443'], { service: serviceRef('default/kubernetes:https') }),
      expectedVs('UDP/10.96.0.10:53', ['10.244.0.5:53', '10.244.0.6:53'], { service: serviceRef('kube-system/kube-dns:dns') }),
      expectedVs('TCP/10.96.12.7:80', ['10.244.1.7:8080', '10.244.2.9:8080'], { service: web }),
      expectedVs('TCP/[fd00:10:96::c]:80', ['[fd00:10:244:1::7]:8080'], { service: web }),
      expectedVs('TCP/172.18.0.2:30080', ['10.244.1.7:8080', '10.244.2.9:8080'], { service: web, role: 'node-port' }),
    ],
    { excludeCIDRs: ['192.168.200.0/24'] },
  );
  const observed = snapshot([
    vs('TCP/10.96.0.1:443', [rs('172.18.0.2:6443', { activeConns: 4 })]),
    vs('UDP/10.96.0.10:53', [rs('10.244.0.5:53', { weight: 0 })]),
    vs('TCP/10.96.12.7:80', [rs('10.244.1.7:8080'), rs('10.244.1.3:8080', { weight: 0, activeConns: 2, inactiveConns: 5 })], { scheduler: 'wrr' }),
    vs('TCP/10.96.44.4:80', [rs('10.244.3.3:80')]),
    vs('TCP/192.168.200.10:443', [rs('192.168.200.21:443')]),
  ]);
  const findings = [
    ...diffIpvs(d, observed),
    ...diffKubeIpvs0(d.kubeIpvs0Addresses, { present: true, addresses: ['10.96.0.1', '10.96.0.10', '10.96.44.4', 'fe80::1'] }, d.families),
  ];
  const previous = advance([], findings, new Date('2025-03-01T12:00:00.000Z'), { grace: 30_000 });
  return { findings, previous };
}

describe('drift report golden files', () => {
  it('drift: a node with confirmed and pending findings', async () => {
    const { findings, previous } = scenario();
    // One finding appears only now: still pending at checkedAt.
    const late = diffIpvs(desired([expectedVs('TCP/10.96.99.1:80', [], { service: serviceRef('shop/late') })]), snapshot([]));
    const current = advance(previous, [...findings, ...late], CHECKED_AT, { grace: 30_000 });
    const report = buildDriftReport({ node: 'node-a', checkedAt: CHECKED_AT, findings: current, unknownReason: null });
    expect(report.status).toBe('drift');
    await expectGolden('test/fixtures/golden/drift/drift.json', formatDriftReportJson(report));
  });

  it('ok: only info findings', async () => {
    const d = desired([expectedVs('TCP/10.96.0.1:443', ['172.18.0.2:6443'], { service: serviceRef('default/kubernetes:https') })]);
    const observed = snapshot([vs('TCP/10.96.0.1:443', [rs('172.18.0.2:6443'), rs('172.18.0.3:6443', { weight: 0, activeConns: 1 })])]);
    const current = advance([], diffIpvs(d, observed), CHECKED_AT, { grace: 0 });
    const report = buildDriftReport({ node: 'node-a', checkedAt: CHECKED_AT, findings: current, unknownReason: null });
    expect(report.status).toBe('ok');
    await expectGolden('test/fixtures/golden/drift/ok.json', formatDriftReportJson(report));
  });

  it('unknown: IPVS unreadable, the module finding stays', async () => {
    const moduleMissing: Finding = {
      kind: 'module-missing',
      severity: 'critical',
      virtualServer: null,
      realServer: null,
      subject: 'ip_vs',
      service: null,
      expected: { name: 'ip_vs', present: true },
      actual: { name: 'ip_vs', present: false },
      message: 'Kernel module ip_vs is neither loaded nor built in; load it with modprobe ip_vs.',
      selfHealing: false,
    };
    const { findings } = scenario();
    // First poll with a grace: the module finding is still pending, so the status is unknown.
    const current = advance([], [...findings, moduleMissing], CHECKED_AT, { grace: 30_000 });
    const report = buildDriftReport({ node: null, checkedAt: CHECKED_AT, findings: current, unknownReason: 'IPVS table unreadable: IPVS_UNAVAILABLE' });
    expect(report.status).toBe('unknown');
    // Once confirmed it is drift, and the reason says IPVS was not compared.
    const confirmed = advance([], [...findings, moduleMissing], CHECKED_AT, { grace: 0 });
    const drift = buildDriftReport({ node: null, checkedAt: CHECKED_AT, findings: confirmed, unknownReason: 'IPVS table unreadable: IPVS_UNAVAILABLE' });
    expect(drift.status).toBe('drift');
    expect(drift.reason).toBe('1 confirmed finding: 1 critical (module-missing); IPVS not compared: IPVS table unreadable: IPVS_UNAVAILABLE');
    await expectGolden('test/fixtures/golden/drift/unknown.json', formatDriftReportJson(report));
  });
});
