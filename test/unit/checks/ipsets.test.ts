import { describe, expect, it } from 'vitest';
import { diffIpset, ipsetsCheck } from '../../../src/checks/ipsets.js';
import type { ComparisonContext, NodeObservation } from '../../../src/checks/types.js';
import type { DesiredIpset, DesiredState } from '../../../src/desired/types.js';
import { advance } from '../../../src/drift/grace.js';
import { buildDriftReport, formatDriftReportJson } from '../../../src/drift/report.js';
import { ipsetEntry } from '../../../src/ipset/entry.js';
import type { IpSet, IpsetEntry } from '../../../src/ipset/types.js';
import { findingId } from '../../../src/drift/finding-id.js';
import { expectGolden } from '../../support/golden.js';

function observed(name: string, type: IpSet['type'], entries: Partial<IpsetEntry>[]): IpSet {
  return {
    name,
    type,
    family: type === 'bitmap:port' ? null : name.startsWith('KUBE-6-') ? 'inet6' : 'inet',
    revision: 0,
    header: { references: 1, elements: entries.length, memSize: 0 },
    entriesListed: true,
    entries: entries.map(ipsetEntry),
  };
}

const desired = (name: string, type: DesiredIpset['type'], entries: string[]): DesiredIpset => ({
  name,
  family: name.startsWith('KUBE-6-') ? 'inet6' : 'inet',
  type,
  entries: [...entries].sort(),
});

const CLUSTER_IP = desired('KUBE-CLUSTER-IP', 'hash:ip,port', ['10.96.0.1,tcp:443', '10.96.0.10,udp:53']);

describe('diffIpset', () => {
  it('says nothing when the set holds exactly the desired entries, whatever their order', () => {
    const set = observed('KUBE-CLUSTER-IP', 'hash:ip,port', [
      { ip: '10.96.0.10', protocol: 'udp', port: 53 },
      { ip: '10.96.0.1', protocol: 'tcp', port: 443 },
    ]);
    expect(diffIpset(CLUSTER_IP, set)).toEqual([]);
  });

  it.each<[string, DesiredIpset, IpSet | undefined, string[]]>([
    ['a missing set, once (not once per entry)', CLUSTER_IP, undefined, ['critical ipset-missing KUBE-CLUSTER-IP']],
    [
      'a missing entry of a set that decides traffic is critical',
      CLUSTER_IP,
      observed('KUBE-CLUSTER-IP', 'hash:ip,port', [{ ip: '10.96.0.1', protocol: 'tcp', port: 443 }]),
      ['critical ipset-entry-missing KUBE-CLUSTER-IP 10.96.0.10,udp:53'],
    ],
    [
      'a set of the right name but another type, once',
      CLUSTER_IP,
      observed('KUBE-CLUSTER-IP', 'hash:ip', [{ ip: '10.96.0.1' }]),
      ['critical ipset-missing KUBE-CLUSTER-IP'],
    ],
    [
      'an entry no Service puts there',
      CLUSTER_IP,
      observed('KUBE-CLUSTER-IP', 'hash:ip,port', [
        { ip: '10.96.0.1', protocol: 'tcp', port: 443 },
        { ip: '10.96.0.10', protocol: 'udp', port: 53 },
        { ip: '10.96.200.1', protocol: 'tcp', port: 80 },
      ]),
      ['warning ipset-entry-unexpected KUBE-CLUSTER-IP 10.96.200.1,tcp:80'],
    ],
    [
      'a node-port set entry is a warning (masquerading, not reachability)',
      desired('KUBE-NODE-PORT-TCP', 'bitmap:port', ['30080', '30443']),
      observed('KUBE-NODE-PORT-TCP', 'bitmap:port', [{ port: 30080 }]),
      ['warning ipset-entry-missing KUBE-NODE-PORT-TCP 30443'],
    ],
    [
      'IPv6 names and entries, hairpin set',
      desired('KUBE-6-LOOP-BACK', 'hash:ip,port,ip', ['fd00:10:244:1::5,tcp:8080,fd00:10:244:1::5']),
      observed('KUBE-6-LOOP-BACK', 'hash:ip,port,ip', [{ ip: 'fd00:10:244:1::6', protocol: 'tcp', port: 8080, ip2: 'fd00:10:244:1::6' }]),
      ['critical ipset-entry-missing KUBE-6-LOOP-BACK fd00:10:244:1::5,tcp:8080,fd00:10:244:1::5', 'warning ipset-entry-unexpected KUBE-6-LOOP-BACK fd00:10:244:1::6,tcp:8080,fd00:10:244:1::6'],
    ],
    [
      'source ranges with their prefix',
      desired('KUBE-LOAD-BALANCER-SOURCE-CIDR', 'hash:ip,port,net', ['203.0.113.10,tcp:443,198.51.100.0/24']),
      observed('KUBE-LOAD-BALANCER-SOURCE-CIDR', 'hash:ip,port,net', [{ ip: '203.0.113.10', protocol: 'tcp', port: 443, ip2: '198.51.100.0', cidr2: 24 }]),
      [],
    ],
  ])('%s', (_name, want, have, expected) => {
    expect(diffIpset(want, have).map((f) => `${f.severity} ${f.kind} ${f.subject}`)).toEqual(expected);
  });

  it('names set and entry as the subject, so two entries of one set are two findings', () => {
    const findings = diffIpset(CLUSTER_IP, observed('KUBE-CLUSTER-IP', 'hash:ip,port', []));
    expect(findings.map((f) => f.subject)).toEqual(['KUBE-CLUSTER-IP 10.96.0.1,tcp:443', 'KUBE-CLUSTER-IP 10.96.0.10,udp:53']);
    expect(new Set(findings.map(findingId)).size).toBe(2);
    for (const f of findings) {
      expect(f.message).toContain('KUBE-CLUSTER-IP');
      expect(f.expected).toEqual({ set: 'KUBE-CLUSTER-IP', entry: f.subject.split(' ')[1] });
    }
  });
});

describe('ipsetsCheck', () => {
  const unread = { value: null, error: null, code: null };
  const node = (ipsets: NodeObservation['readings']['ipsets']): NodeObservation => ({
    readings: { netlink: unread, modules: unread, sysctl: unread, 'kube-proxy': unread, interfaces: unread, ipsets, netfilter: unread, 'kube-proxy-health': unread, conntrack: unread },
    snapshot: null,
    schedulersInUse: null,
    modules: null,
    runningMode: 'ipvs',
  });
  const state: DesiredState = {
    virtualServers: [],
    kubeIpvs0Addresses: [],
    excludeCIDRs: [],
    families: ['inet'],
    ipsets: new Map([
      ['KUBE-CLUSTER-IP', CLUSTER_IP],
      ['KUBE-LOOP-BACK', desired('KUBE-LOOP-BACK', 'hash:ip,port,ip', ['10.244.1.5,tcp:8080,10.244.1.5'])],
      ['KUBE-NODE-PORT-TCP', desired('KUBE-NODE-PORT-TCP', 'bitmap:port', ['30080'])],
    ]),
  };
  const ctx = (o: NodeObservation): ComparisonContext => ({
    node: o,
    cluster: { desired: state, unknownReason: null, configuredMode: 'ipvs', strictARP: false },
    desired: state,
    snapshot: { node: null, readAt: new Date(0), durationMs: 0, info: null, timeouts: null, services: [], unknownAttributes: [] } as unknown as ComparisonContext['snapshot'],
  });
  const report = buildDriftReport({ node: 'worker-1', checkedAt: new Date('2026-12-06T20:00:00.000Z'), findings: [], unknownReason: null });

  it('compares every desired set and reports the findings of a drifted node (golden)', async () => {
    const sets = new Map<string, IpSet>([
      ['KUBE-CLUSTER-IP', observed('KUBE-CLUSTER-IP', 'hash:ip,port', [{ ip: '10.96.0.1', protocol: 'tcp', port: 443 }, { ip: '10.96.99.9', protocol: 'tcp', port: 80 }])],
      ['KUBE-NODE-PORT-TCP', observed('KUBE-NODE-PORT-TCP', 'bitmap:port', [{ port: 30080 }])],
    ]);
    const findings = ipsetsCheck.evaluate(ctx(node({ value: { readable: true, sets }, error: null, code: null })));
    const tracked = advance([], findings, new Date('2026-12-06T20:00:00.000Z'), { grace: 0 });
    const drift = buildDriftReport({ node: 'worker-1', checkedAt: new Date('2026-12-06T20:00:00.000Z'), findings: tracked, unknownReason: null });
    expect(drift.status).toBe('drift');
    await expectGolden('test/fixtures/golden/drift/ipsets.json', formatDriftReportJson(drift));
  });

  it('says nothing, and fails its /healthz line with the reason, when the sets could not be read', () => {
    const reason = 'ip_set is neither loaded nor built in: not read';
    const o = node({ value: { readable: false, reason }, error: null, code: null });
    expect(ipsetsCheck.evaluate(ctx(o))).toEqual([]);
    expect(ipsetsCheck.health?.evaluate({ node: o, clusterUnknown: null, report })).toEqual({ ok: false, reason });
    const failed = node({ value: null, error: 'IPSET_PERMISSION_DENIED (list ipsets): EPERM', code: 'IPSET_PERMISSION_DENIED' });
    expect(ipsetsCheck.health?.evaluate({ node: failed, clusterUnknown: null, report })).toEqual({ ok: false, reason: 'IPSET_PERMISSION_DENIED (list ipsets): EPERM' });
  });

  it('passes its /healthz line once the sets were read', () => {
    const o = node({ value: { readable: true, sets: new Map() }, error: null, code: null });
    expect(ipsetsCheck.health?.evaluate({ node: o, clusterUnknown: null, report })).toEqual({ ok: true, reason: null });
  });
});
