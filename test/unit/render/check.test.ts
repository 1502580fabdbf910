import { describe, expect, it } from 'vitest';
import { HEALTH_CHECK_NAMES } from '../../../src/checks/registry.js';
import { advance } from '../../../src/drift/grace.js';
import { buildDriftReport } from '../../../src/drift/report.js';
import type { Finding } from '../../../src/drift/types.js';
import { renderCheck, renderCheckBytes } from '../../../src/render/check.js';
import { rs, snapshot, vs } from '../../support/builders.js';
import { expectGolden } from '../../support/golden.js';

const T = new Date('2026-12-06T20:00:00.000Z');
const base = { service: null, expected: null, actual: null, selfHealing: true } as const;
const findings: Finding[] = [
  {
    ...base,
    kind: 'weight-mismatch',
    severity: 'critical',
    virtualServer: 'TCP/10.96.0.1:443',
    realServer: '192.168.56.10:6443',
    subject: 'TCP/10.96.0.1:443 -> 192.168.56.10:6443',
    service: { namespace: 'default', name: 'kubernetes', port: 'https' },
    message: 'Endpoint 192.168.56.10:6443 has weight 0.',
    selfHealing: false,
  },
  { ...base, kind: 'missing-real-server', severity: 'warning', virtualServer: 'TCP/10.96.0.10:53', realServer: '10.244.1.4:53', subject: 'TCP/10.96.0.10:53 -> 10.244.1.4:53', message: 'Endpoint 10.244.1.4:53 is not a destination.' },
  { ...base, kind: 'module-missing', severity: 'warning', virtualServer: null, realServer: null, subject: 'ip_vs_wrr', message: 'Kernel module ip_vs_wrr is neither loaded nor built in.', selfHealing: false },
  { ...base, kind: 'ipset-entry-missing', severity: 'critical', virtualServer: null, realServer: null, subject: 'KUBE-CLUSTER-IP 10.96.0.10,udp:53', message: 'ipset KUBE-CLUSTER-IP lacks 10.96.0.10,udp:53.' },
  { ...base, kind: 'iptables-jump-missing', severity: 'critical', virtualServer: null, realServer: null, subject: 'iptables-nft nat PREROUTING -> KUBE-SERVICES', message: 'PREROUTING no longer jumps to KUBE-SERVICES.' },
];

describe('renderCheck (ipvs-sentinel check)', () => {
  it('annotates the table, lists each finding where it applies — its servers, else its subject — and the checks (golden)', async () => {
    const table = snapshot([vs('TCP/10.96.0.1:443', [rs('192.168.56.10:6443', { weight: 0 })]), vs('TCP/10.96.0.10:53', [rs('10.244.0.3:53')])]);
    const report = buildDriftReport({ node: 'worker-1', checkedAt: T, findings: advance([], findings, T, { grace: 0 }), unknownReason: null });
    const checks = HEALTH_CHECK_NAMES.map((name) => (name === 'drift' ? { name, ok: false, reason: report.reason } : { name, ok: true, reason: null }));
    const input = {
      snapshot: table,
      lookup: (key: string) => (key === 'TCP/10.96.0.1:443' ? { namespace: 'default', name: 'kubernetes', port: 'https' } : null),
      report,
      checks,
      configSource: 'configmap',
      scheduler: 'rr',
    };
    const text = renderCheck(input);
    expect(text).toContain('CRITICAL ipset-entry-missing  KUBE-CLUSTER-IP 10.96.0.10,udp:53  [confirmed]');
    await expectGolden('test/fixtures/golden/render/check.txt', text);
    // What `check` writes to stdout: the same text as UTF-8 bytes (the verdict's "—" is not ASCII).
    expect(text).toContain('—');
    expect(renderCheckBytes(input).equals(Buffer.from(text, 'utf8'))).toBe(true);
  });

  it('without a readable IPVS table, the bytes are the text below it', () => {
    const report = buildDriftReport({ node: 'worker-1', checkedAt: T, findings: [], unknownReason: 'the IPVS table could not be read' });
    const input = { snapshot: null, lookup: () => null, report, checks: [], configSource: null, scheduler: null };
    const text = renderCheck(input);
    expect(text).toContain('IPVS table: not readable');
    expect(renderCheckBytes(input).toString('utf8')).toBe(text);
  });
});
