import { describe, expect, it } from 'vitest';
import type { Node } from '../../../src/cluster/model.js';
import { localAddressesExceptKubeIpvs0, nodePortIPs, otherNodeAddresses, primaryNodeIP, resolveNodePortAddresses } from '../../../src/desired/node-addresses.js';
import type { NodeFacts } from '../../../src/desired/types.js';
import { iface, nodeObject } from '../../support/cluster-builders.js';

const node: NodeFacts = {
  name: 'node-a',
  zone: null,
  interfaces: [
    iface('lo', ['127.0.0.1/8', '::1/128', '10.255.0.9/32'], true),
    iface('eth0', ['192.168.1.10/24', '192.168.1.200/24', '2001:db8::10/64', 'fe80::1/64']),
    iface('docker0', ['172.17.0.1/16']),
    iface('tunl0', ['10.244.7.0/32']),
    iface('kube-ipvs0', ['10.96.0.1/32', '192.168.1.200/32', 'fd00:96::1/128']),
  ],
};

describe('nodePortAddresses → NodePort node IPs (docs/kube-proxy-rules.md §1.2)', () => {
  it.each<{ name: string; configured: string[]; ownNode: Node | null; inet: string[]; inet6: string[] }>([
    {
      name: 'empty: every non-loopback address except kube-ipvs0 (VIP on lo and address also on kube-ipvs0 count)',
      configured: [],
      ownNode: null,
      inet: ['10.244.7.0', '10.255.0.9', '172.17.0.1', '192.168.1.10', '192.168.1.200'],
      inet6: ['2001:db8::10'],
    },
    {
      name: 'zero CIDRs behave like empty',
      configured: ['0.0.0.0/0', '::/0'],
      ownNode: null,
      inet: ['10.244.7.0', '10.255.0.9', '172.17.0.1', '192.168.1.10', '192.168.1.200'],
      inet6: ['2001:db8::10'],
    },
    {
      name: 'explicit CIDR: any interface including kube-ipvs0; the other family falls back to all',
      configured: ['192.168.1.0/24', '10.96.0.0/12'],
      ownNode: null,
      inet: ['10.96.0.1', '192.168.1.10', '192.168.1.200'],
      inet6: ['2001:db8::10'],
    },
    {
      name: 'explicit IPv6 CIDR includes link-local addresses it covers',
      configured: ['fe80::/10'],
      ownNode: null,
      inet: ['10.244.7.0', '10.255.0.9', '172.17.0.1', '192.168.1.10', '192.168.1.200'],
      inet6: ['fe80::1'],
    },
    {
      name: 'a CIDR matching nothing: no NodePort VSs for that family',
      configured: ['203.0.113.0/24'],
      ownNode: null,
      inet: [],
      inet6: ['2001:db8::10'],
    },
    {
      name: 'primary: the Node object InternalIP per family',
      configured: ['primary'],
      ownNode: nodeObject('node-a', ['192.168.1.10', '2001:db8::10']),
      inet: ['192.168.1.10'],
      inet6: ['2001:db8::10'],
    },
    {
      name: 'primary with an IPv4-only Node: IPv6 has no CIDR and so takes all addresses',
      configured: ['primary'],
      ownNode: nodeObject('node-a', ['192.168.1.10']),
      inet: ['192.168.1.10'],
      inet6: ['2001:db8::10'],
    },
    {
      name: 'primary without a Node object: loopback fallback, so both families take all addresses',
      configured: ['primary'],
      ownNode: null,
      inet: ['10.244.7.0', '10.255.0.9', '172.17.0.1', '192.168.1.10', '192.168.1.200'],
      inet6: ['2001:db8::10'],
    },
    {
      name: 'localhost: loopback is never served in IPVS mode',
      configured: ['localhost'],
      ownNode: null,
      inet: [],
      inet6: [],
    },
    {
      name: 'all: zero CIDRs',
      configured: ['all'],
      ownNode: null,
      inet: ['10.244.7.0', '10.255.0.9', '172.17.0.1', '192.168.1.10', '192.168.1.200'],
      inet6: ['2001:db8::10'],
    },
    {
      name: 'entries that are not CIDRs are ignored',
      configured: ['eth0', '192.168.1.10/32'],
      ownNode: null,
      inet: ['192.168.1.10'],
      inet6: ['2001:db8::10'],
    },
  ])('$name', ({ configured, ownNode, inet, inet6 }) => {
    const cidrs = resolveNodePortAddresses(configured, ownNode);
    expect(nodePortIPs(cidrs, node, 'inet')).toEqual(inet);
    expect(nodePortIPs(cidrs, node, 'inet6')).toEqual(inet6);
  });

  it('primaryNodeIP prefers InternalIP over ExternalIP, per family', () => {
    const n: Node = {
      name: 'n',
      zone: null,
      addresses: [
        { type: 'ExternalIP', address: '203.0.113.5' },
        { type: 'InternalIP', address: '10.0.0.5' },
        { type: 'ExternalIP', address: '2001:db8::5' },
      ],
    };
    expect(primaryNodeIP(n, 'inet')).toBe('10.0.0.5');
    expect(primaryNodeIP(n, 'inet6')).toBe('2001:db8::5');
    expect(primaryNodeIP(null, 'inet')).toBeNull();
  });

  it('primary ignores a loopback node IP', () => {
    expect(resolveNodePortAddresses(['primary'], nodeObject('n', ['127.0.0.1', '::1']))).toEqual([]);
  });

  it('addresses on other interfaces (for kube-ipvs0 binding) skip loopback, IPv6 link-local and kube-ipvs0', () => {
    expect([...localAddressesExceptKubeIpvs0(node, 'inet')].sort()).toEqual(['10.244.7.0', '10.255.0.9', '172.17.0.1', '192.168.1.10', '192.168.1.200']);
    expect([...localAddressesExceptKubeIpvs0(node, 'inet6')]).toEqual(['2001:db8::10']);
  });
});

describe('otherNodeAddresses: what kube-ipvs0 must never hold', () => {
  it('lists every other Node\'s InternalIP and ExternalIP with its owner, and not this node\'s', () => {
    const nodes: Node[] = [
      nodeObject('node-a', ['192.168.1.10']),
      { name: 'node-c', zone: null, addresses: [{ type: 'InternalIP', address: '192.168.1.12' }, { type: 'ExternalIP', address: '203.0.113.12' }] },
      nodeObject('node-b', ['192.168.1.11', 'fd00::11']),
    ];
    expect([...otherNodeAddresses(nodes, 'node-a')]).toEqual([
      ['192.168.1.11', { node: 'node-b', type: 'InternalIP' }],
      ['fd00::11', { node: 'node-b', type: 'InternalIP' }],
      ['192.168.1.12', { node: 'node-c', type: 'InternalIP' }],
      ['203.0.113.12', { node: 'node-c', type: 'ExternalIP' }],
    ]);
  });

  it('gives an address two Nodes claim to the first by name', () => {
    const owners = otherNodeAddresses([nodeObject('node-z', ['10.0.0.5']), nodeObject('node-m', ['10.0.0.5'])], 'node-a');
    expect(owners.get('10.0.0.5')).toEqual({ node: 'node-m', type: 'InternalIP' });
  });
});
