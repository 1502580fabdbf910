import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkSysctls, parseSysctlValue, readSysctls, sysctlStatus, type SysctlValues } from '../../../src/node/sysctl.js';

const FIXTURES = join(import.meta.dirname, '../../fixtures/proc-modules');
const read = (name: string): Promise<SysctlValues> => readSysctls({ procRoot: join(FIXTURES, name, 'proc') });

describe('checkSysctls over fixtures', () => {
  it.each([
    { fixture: 'debian12-6.1-modules', release: '6.1.0-56-amd64', strictARP: false, findings: [], state: 'ok' },
    // 6.1 ≥ 5.9: conn_reuse_mode=1 is left alone; strictARP wants arp_ignore=1 / arp_announce=2.
    {
      fixture: 'debian12-6.1-modules',
      release: '6.1.0-56-amd64',
      strictARP: true,
      findings: [['net.ipv4.conf.all.arp_ignore', 'warning', 0, 1], ['net.ipv4.conf.all.arp_announce', 'warning', 0, 2]],
      state: 'mismatch',
    },
    // ip_vs reloaded after kube-proxy started: kernel defaults everywhere.
    {
      fixture: 'ubuntu1804-4.15-conntrack-ipv4',
      release: '4.15.0-213-generic',
      strictARP: false,
      findings: [
        ['net.ipv4.vs.conntrack', 'critical', 0, 1],
        ['net.ipv4.vs.expire_nodest_conn', 'warning', 0, 1],
        ['net.ipv4.vs.expire_quiescent_template', 'warning', 0, 1],
        ['net.ipv4.vs.conn_reuse_mode', 'warning', 1, 0],
      ],
      state: 'mismatch',
    },
    { fixture: 'rhel8-4.18-merged-conntrack', release: '4.18.0-553.el8_10.x86_64', strictARP: true, findings: [], state: 'ok' },
    // ip_vs not loaded: vs.* not judged, ip_forward=0 still is.
    { fixture: 'centos7-3.10-no-ipvs', release: '3.10.0-1160.119.1.el7.x86_64', strictARP: false, findings: [['net.ipv4.ip_forward', 'critical', 0, 1]], state: 'mismatch' },
    { fixture: 'builtin-ipvs-5.15', release: '5.15.160-k8s-node', strictARP: false, findings: [], state: 'ok' },
  ])('$fixture (strictARP $strictARP)', async ({ fixture, release, strictARP, findings, state }) => {
    const values = await read(fixture);
    const result = checkSysctls(values, { kernelRelease: release, strictARP });
    expect(result.map((f) => [(f.expected as { sysctl: string }).sysctl, f.severity, (f.actual as { value: number }).value, (f.expected as { value: number }).value])).toEqual(findings);
    expect(sysctlStatus(values, result, { kernelRelease: release, strictARP }).state).toBe(state);
  });

  it('says clearly when ip_vs is absent', async () => {
    const values = await read('no-loadable-modules');
    expect(values.ipvsPresent).toBe(false);
    const findings = checkSysctls(values, { kernelRelease: '6.18.44-fc-v657', strictARP: false });
    expect(findings.map((f) => f.expected)).toEqual([{ sysctl: 'net.ipv4.ip_forward', value: 1 }]);
    const noForwarding = { ...values, values: { ...values.values, 'net.ipv4.ip_forward': 1 } };
    const status = sysctlStatus(noForwarding, [], { kernelRelease: null, strictARP: false });
    expect(status.state).toBe('ipvs-absent');
    expect(status.message).toContain('ip_vs is not loaded');
  });

  it('messages name the sysctl, the expected value, the fix and the restart', async () => {
    const [conntrack] = checkSysctls(await read('ubuntu1804-4.15-conntrack-ipv4'), { kernelRelease: '4.15.0-213-generic', strictARP: false });
    expect(conntrack).toMatchObject({ kind: 'sysctl-mismatch', severity: 'critical', selfHealing: false, virtualServer: null, expected: { sysctl: 'net.ipv4.vs.conntrack', value: 1 }, actual: { sysctl: 'net.ipv4.vs.conntrack', value: 0 } });
    expect(conntrack?.message).toContain('net.ipv4.vs.conntrack is 0, kube-proxy sets 1');
    expect(conntrack?.message).toContain('`sysctl -w net.ipv4.vs.conntrack=1`');
    expect(conntrack?.message).toContain('restart kube-proxy');
  });
});

describe('conn_reuse_mode kernel rule', () => {
  const values = (reuse: number): SysctlValues => ({
    ipvsPresent: true,
    problems: [],
    values: {
      'net.ipv4.vs.conntrack': 1,
      'net.ipv4.vs.expire_nodest_conn': 1,
      'net.ipv4.vs.expire_quiescent_template': 1,
      'net.ipv4.vs.conn_reuse_mode': reuse,
      'net.ipv4.ip_forward': 1,
      'net.ipv4.conf.all.arp_ignore': 0,
      'net.ipv4.conf.all.arp_announce': 0,
    },
  });
  it.each([
    ['3.10.0-1160.el7.x86_64', 1, false],
    ['4.0.9', 1, false],
    ['4.1.0', 1, true],
    ['4.19.0-26-amd64', 1, true],
    ['5.8.18', 1, true],
    ['5.9.0', 1, false],
    ['6.1.0-56-amd64', 1, false],
    ['4.19.0-26-amd64', 0, false],
    [null, 1, false],
  ])('kernel %s with conn_reuse_mode=%i → finding: %s', (release, reuse, finding) => {
    expect(checkSysctls(values(reuse), { kernelRelease: release, strictARP: false }).length > 0).toBe(finding);
  });

  it('reports values it could not read as incomplete, without a finding', () => {
    const v = values(0);
    v.values['net.ipv4.vs.expire_nodest_conn'] = null;
    const findings = checkSysctls(v, { kernelRelease: '6.1.0', strictARP: false });
    expect(findings).toEqual([]);
    expect(sysctlStatus(v, findings, { kernelRelease: '6.1.0', strictARP: false })).toEqual({ state: 'incomplete', message: 'could not read net.ipv4.vs.expire_nodest_conn' });
  });
});

it('gives every sysctl finding its own identity for the grace tracker', async () => {
  const { findingId } = await import('../../../src/drift/finding-id.js');
  const findings = checkSysctls(await read('ubuntu1804-4.15-conntrack-ipv4'), { kernelRelease: '4.15.0-213-generic', strictARP: true });
  expect(new Set(findings.map(findingId)).size).toBe(findings.length);
});

describe('parseSysctlValue', () => {
  it.each([['1\n', 1], ['0', 0], [' 2 \n', 2], ['-1\n', -1], ['', null], ['1\t2\n', null], ['on', null]])('%j → %s', (text, value) => {
    expect(parseSysctlValue(text)).toBe(value);
  });
});
