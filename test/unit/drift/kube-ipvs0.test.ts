import { describe, expect, it } from 'vitest';
import { diffKubeIpvs0, type KubeIpvs0Observed } from '../../../src/drift/kube-ipvs0.js';
import type { AddressFamily } from '../../../src/ipvs/types.js';

interface Case {
  name: string;
  expected: string[];
  actual: KubeIpvs0Observed | null;
  families: AddressFamily[];
  want: string[];
}

const cases: Case[] = [
  { name: 'all addresses bound', expected: ['10.96.0.1', '10.96.0.10'], actual: { present: true, addresses: ['10.96.0.10', '10.96.0.1'] }, families: ['inet'], want: [] },
  { name: 'device could not be read: no findings', expected: ['10.96.0.1'], actual: null, families: ['inet'], want: [] },
  { name: 'device missing: one critical finding', expected: ['10.96.0.1', '10.96.0.10'], actual: { present: false, addresses: [] }, families: ['inet'], want: ['critical kube-ipvs0-missing -'] },
  {
    name: 'address missing and address unexpected',
    expected: ['10.96.0.1', '10.96.0.10'],
    actual: { present: true, addresses: ['10.96.0.1', '10.96.0.77'] },
    families: ['inet'],
    want: ['critical kube-ipvs0-address-missing 10.96.0.10', 'warning kube-ipvs0-address-unexpected 10.96.0.77'],
  },
  {
    name: 'prefix lengths and non-canonical IPv6 text are normalised',
    expected: ['10.96.0.1', 'fd00:10:96::1'],
    actual: { present: true, addresses: ['10.96.0.1/32', 'FD00:10:96:0:0:0:0:1/128'] },
    families: ['inet', 'inet6'],
    want: [],
  },
  {
    name: 'IPv6 link-local is ignored',
    expected: ['fd00:10:96::1'],
    actual: { present: true, addresses: ['fd00:10:96::1', 'fe80::3c2a:1ff:fe4b:9a1e'] },
    families: ['inet6'],
    want: [],
  },
  {
    name: 'other family is not judged',
    expected: ['10.96.0.1'],
    actual: { present: true, addresses: ['10.96.0.1', 'fd00:10:96::1'] },
    families: ['inet'],
    want: [],
  },
  {
    name: 'IPv6 missing and unexpected',
    expected: ['fd00:10:96::1', 'fd00:10:96::a'],
    actual: { present: true, addresses: ['fd00:10:96::1', 'fd00:10:96::99'] },
    families: ['inet', 'inet6'],
    want: ['critical kube-ipvs0-address-missing fd00:10:96::a', 'warning kube-ipvs0-address-unexpected fd00:10:96::99'],
  },
];

describe('diffKubeIpvs0', () => {
  it.each(cases)('$name', ({ expected, actual, families, want }) => {
    const findings = diffKubeIpvs0(expected, actual, families);
    const text = findings.map((f) => `${f.severity} ${f.kind} ${typeof f.expected === 'string' ? f.expected : typeof f.actual === 'string' ? f.actual : '-'}`).sort();
    expect(text).toEqual(want);
    for (const f of findings) {
      expect(f).toMatchObject({ virtualServer: null, realServer: null, service: null, selfHealing: true });
      expect(f.message).toMatch(/^[A-Z].*kube-proxy.*\.$/);
    }
  });
});

describe('diffKubeIpvs0: an address that is another Node\'s (vip-shadows-node-ip)', () => {
  const nodeAddresses = new Map([
    ['192.168.56.12', { node: 'worker-2', type: 'InternalIP' as const }],
    ['203.0.113.7', { node: 'edge-1', type: 'ExternalIP' as const }],
  ]);
  const ref = { namespace: 'shop', name: 'web', port: 'http' };
  const serviceOf = (address: string) => (address === '192.168.56.12' ? ref : null);

  it('is critical and never self-healing when a Service wants it bound, and names the Service and the Node', () => {
    const findings = diffKubeIpvs0(['10.96.0.1', '192.168.56.12'], { present: true, addresses: ['10.96.0.1/32', '192.168.56.12/32'] }, ['inet'], { nodeAddresses, serviceOf });
    expect(findings).toEqual([
      {
        kind: 'vip-shadows-node-ip',
        severity: 'critical',
        virtualServer: null,
        realServer: null,
        subject: '192.168.56.12',
        service: ref,
        expected: null,
        actual: { address: '192.168.56.12', node: 'worker-2', addressType: 'InternalIP' },
        message: expect.stringMatching(/^Address 192\.168\.56\.12 on kube-ipvs0 is also the InternalIP of node worker-2, .*kubernetes#127410.*Service shop\/web, as kube-proxy binds it again on every sync\.$/) as unknown,
        selfHealing: false,
      },
    ]);
  });

  it('comes with kube-ipvs0-address-unexpected when no Service wants the address', () => {
    const findings = diffKubeIpvs0(['10.96.0.1'], { present: true, addresses: ['10.96.0.1', '203.0.113.7'] }, ['inet'], { nodeAddresses, serviceOf });
    expect(findings.map((f) => `${f.severity} ${f.kind} ${f.service === null ? '-' : f.service.name}`).sort()).toEqual([
      'critical vip-shadows-node-ip -',
      'warning kube-ipvs0-address-unexpected -',
    ]);
    const shadow = findings.find((f) => f.kind === 'vip-shadows-node-ip');
    expect(shadow?.message).toContain('the ExternalIP of node edge-1');
    // Nothing wants it bound, so kube-proxy takes it away on its next sync.
    expect(shadow?.selfHealing).toBe(true);
    expect(shadow?.message).toMatch(/kube-proxy removes it on its next sync/);
  });

  it('is judged on what is bound, not on what is wanted: a Node address not (yet) on kube-ipvs0 gives none', () => {
    const findings = diffKubeIpvs0(['10.96.0.1', '192.168.56.12'], { present: true, addresses: ['10.96.0.1'] }, ['inet'], { nodeAddresses, serviceOf });
    expect(findings.map((f) => f.kind)).toEqual(['kube-ipvs0-address-missing']);
  });

  it('gives none without the Nodes\' addresses', () => {
    expect(diffKubeIpvs0(['192.168.56.12'], { present: true, addresses: ['192.168.56.12'] }, ['inet'])).toEqual([]);
  });
});
