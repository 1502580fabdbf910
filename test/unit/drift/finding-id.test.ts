import { describe, expect, it } from 'vitest';
import { findingId } from '../../../src/drift/finding-id.js';
import type { Finding } from '../../../src/drift/types.js';

type IdInput = Pick<Finding, 'kind' | 'virtualServer' | 'realServer' | 'subject'>;

const rsFinding: IdInput = { kind: 'weight-mismatch', virtualServer: 'TCP/10.96.0.1:443', realServer: '172.18.0.2:6443', subject: 'TCP/10.96.0.1:443 -> 172.18.0.2:6443' };

describe('findingId', () => {
  it.each<[string, IdInput, string]>([
    ['virtual server finding', { kind: 'missing-virtual-server', virtualServer: 'TCP/10.96.0.1:443', realServer: null, subject: 'TCP/10.96.0.1:443' }, 'missing-virtual-server|TCP/10.96.0.1:443||'],
    ['real server finding', rsFinding, 'weight-mismatch|TCP/10.96.0.1:443|172.18.0.2:6443|'],
    ['module', { kind: 'module-missing', virtualServer: null, realServer: null, subject: 'ip_vs' }, 'module-missing|||ip_vs'],
    ['sysctl', { kind: 'sysctl-mismatch', virtualServer: null, realServer: null, subject: 'net.ipv4.vs.conntrack' }, 'sysctl-mismatch|||net.ipv4.vs.conntrack'],
    ['address', { kind: 'kube-ipvs0-address-missing', virtualServer: null, realServer: null, subject: '10.96.0.1' }, 'kube-ipvs0-address-missing|||10.96.0.1'],
    ['device', { kind: 'kube-ipvs0-missing', virtualServer: null, realServer: null, subject: 'kube-ipvs0' }, 'kube-ipvs0-missing|||kube-ipvs0'],
    ['kube-proxy', { kind: 'proxy-mode-mismatch', virtualServer: null, realServer: null, subject: 'kube-proxy' }, 'proxy-mode-mismatch|||kube-proxy'],
  ])('%s', (_name, finding, id) => {
    expect(findingId(finding)).toBe(id);
  });

  it('is built from the subject, never from what the finding carries', () => {
    // Two findings of one kind whose payloads look alike are told apart by their subjects…
    const a: IdInput = { kind: 'kube-ipvs0-address-unexpected', virtualServer: null, realServer: null, subject: '10.96.0.7' };
    const b: IdInput = { ...a, subject: '10.96.0.8' };
    expect(findingId(a)).not.toBe(findingId(b));
    // …and one finding whose payload changes keeps its id.
    expect(findingId({ ...rsFinding })).toBe(findingId(rsFinding));
  });
});
