import { describe, expect, it } from 'vitest';
import { findingId } from '../../../src/drift/finding-id.js';
import type { Finding } from '../../../src/drift/types.js';

type IdInput = Pick<Finding, 'kind' | 'virtualServer' | 'realServer' | 'expected' | 'actual'>;

const rsFinding = (weight: number): IdInput => ({ kind: 'weight-mismatch', virtualServer: 'TCP/10.96.0.1:443', realServer: '172.18.0.2:6443', expected: 1, actual: weight });

describe('findingId', () => {
  it.each<[string, IdInput, string]>([
    ['virtual server finding', { kind: 'missing-virtual-server', virtualServer: 'TCP/10.96.0.1:443', realServer: null, expected: { scheduler: 'rr' }, actual: null }, 'missing-virtual-server|TCP/10.96.0.1:443||'],
    ['real server finding', rsFinding(0), 'weight-mismatch|TCP/10.96.0.1:443|172.18.0.2:6443|'],
    ['module by expected.name', { kind: 'module-missing', virtualServer: null, realServer: null, expected: { name: 'ip_vs', loaded: true }, actual: { loaded: false } }, 'module-missing|||ip_vs'],
    ['sysctl by expected.sysctl', { kind: 'sysctl-mismatch', virtualServer: null, realServer: null, expected: { sysctl: 'net.ipv4.vs.conntrack', value: 1 }, actual: { value: 0 } }, 'sysctl-mismatch|||net.ipv4.vs.conntrack'],
    ['address as expected string', { kind: 'kube-ipvs0-address-missing', virtualServer: null, realServer: null, expected: '10.96.0.1', actual: null }, 'kube-ipvs0-address-missing|||10.96.0.1'],
    ['address as actual string', { kind: 'kube-ipvs0-address-unexpected', virtualServer: null, realServer: null, expected: null, actual: '10.96.0.7' }, 'kube-ipvs0-address-unexpected|||10.96.0.7'],
    ['device', { kind: 'kube-ipvs0-missing', virtualServer: null, realServer: null, expected: { device: 'kube-ipvs0', present: true }, actual: null }, 'kube-ipvs0-missing|||kube-ipvs0'],
    ['nothing to name', { kind: 'proxy-mode-mismatch', virtualServer: null, realServer: null, expected: 1, actual: null }, 'proxy-mode-mismatch|||'],
  ])('%s', (_name, finding, id) => {
    expect(findingId(finding)).toBe(id);
  });

  it('does not change when the compared values change', () => {
    expect(findingId(rsFinding(0))).toBe(findingId(rsFinding(7)));
  });

  it('tells different modules apart', () => {
    const mod = (name: string): IdInput => ({ kind: 'module-missing', virtualServer: null, realServer: null, expected: { name }, actual: null });
    expect(findingId(mod('ip_vs'))).not.toBe(findingId(mod('nf_conntrack')));
  });
});
