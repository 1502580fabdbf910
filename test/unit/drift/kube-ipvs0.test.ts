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
