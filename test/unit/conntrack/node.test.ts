import { describe, expect, it } from 'vitest';
import { conntrackFamilies, conntrackReadGate, readNodeConntrack, udpServiceFamilies } from '../../../src/conntrack/node.js';
import type { AddressFamily } from '../../../src/ipvs/types.js';
import type { UdpServicePort } from '../../../src/desired/types.js';
import { iface } from '../../support/cluster-builders.js';
import type { ModuleFacts } from '../../../src/kmod/check.js';
import { parseProcModules } from '../../../src/kmod/proc-modules.js';

/** /proc/modules lines as m_show prints them. */
const loaded = (...names: string[]): ModuleFacts['loaded'] =>
  parseProcModules(names.map((n) => `${n} 16384 0 - Live 0xffffffffc0a00000\n`).join('')).modules;

const facts = (overrides: Partial<ModuleFacts>): ModuleFacts => ({
  release: '6.1.0-28-amd64',
  loaded: loaded('nf_conntrack', 'nf_conntrack_netlink'),
  builtin: new Set<string>(),
  procNetIpvs: true,
  conntrackSysctls: true,
  problems: [],
  ...overrides,
});

describe('conntrackReadGate', () => {
  it.each<[string, Partial<ModuleFacts>, boolean, RegExp]>([
    ['loaded', {}, true, /nf_conntrack_netlink is loaded/],
    ['built in', { loaded: loaded(), builtin: new Set(['nf_conntrack_netlink']) }, true, /built into the kernel/],
    ['a kernel without modules', { loaded: null }, true, /no loadable-module support/],
    ['neither loaded nor built in', { loaded: loaded('nf_conntrack') }, false, /would make it load nf_conntrack_netlink/],
    ['modules.builtin unreadable', { loaded: loaded(), builtin: null }, false, /modules\.builtin unreadable/],
    ['/proc/modules unreadable', { loaded: null, loadedUnreadable: true, problems: ['EACCES'] }, false, /could not be read.*EACCES/],
  ])('%s', (_, overrides, readable, reason) => {
    const gate = conntrackReadGate(facts(overrides));
    expect(gate.readable).toBe(readable);
    expect(gate.reason).toMatch(reason);
  });

  it('never asks the kernel when the gate is closed', async () => {
    let dumps = 0;
    const dump = (): ReturnType<Parameters<typeof readNodeConntrack>[0]['dump']> => {
      dumps++;
      return { entries: [], stats: { datagrams: 0, bytes: 0, attempts: 0, scanned: 0, skipped: 0, kernelFiltered: true, durationMs: 0 } };
    };
    const closed = await readNodeConntrack({ modules: () => Promise.resolve(facts({ loaded: loaded() })), interfaces: () => [], dump });
    expect(closed).toMatchObject({ readable: false });
    expect(dumps).toBe(0);
    const open = await readNodeConntrack({ modules: () => Promise.resolve(facts({})), interfaces: () => [], dump });
    expect(open).toMatchObject({ readable: true, entries: [] });
    expect(dumps).toBe(1);
  });
});

describe('conntrackFamilies', () => {
  it.each<[string, ReturnType<typeof iface>[], string[]]>([
    ['an IPv4 node', [iface('lo', ['127.0.0.1/8', '::1/128'], true), iface('eth0', ['10.0.0.10/24', 'fe80::1/64'])], ['inet']],
    ['a dual-stack node (IPv6 ClusterIPs on kube-ipvs0)', [iface('eth0', ['10.0.0.10/24']), iface('kube-ipvs0', ['10.96.0.10/32', 'fd00:96::a/128'])], ['inet', 'inet6']],
    ['an IPv6-only node', [iface('eth0', ['fd00:10::10/64', 'fe80::1/64'])], ['inet6']],
    ['only loopback and link-local addresses', [iface('lo', ['127.0.0.1/8'], true), iface('eth0', ['169.254.1.1/16', 'fe80::1/64'])], []],
  ])('%s', (_, interfaces, families) => {
    expect(conntrackFamilies(interfaces)).toEqual(families);
  });
});

describe('only the families of UDP Services are dumped', () => {
  const udpPort = (family: AddressFamily): UdpServicePort => ({
    service: { namespace: 'kube-system', name: 'kube-dns', port: 'dns' },
    family,
    frontends: [{ address: family === 'inet' ? '10.96.0.10' : 'fd00:96::a', role: 'cluster-ip' }],
    port: 53,
    nodePort: 0,
    servingEndpoints: [family === 'inet' ? '10.244.1.5' : 'fd00:244::5'],
  });

  it.each<[string, { udpServicePorts?: UdpServicePort[] } | null, AddressFamily[] | null]>([
    ['no desired state yet', null, null],
    ['a desired state without the UDP ports (not computed)', {}, null],
    ['no UDP Service with a serving endpoint', { udpServicePorts: [] }, []],
    ['single-stack IPv4 UDP Services', { udpServicePorts: [udpPort('inet'), udpPort('inet')] }, ['inet']],
    ['an IPv6 one too', { udpServicePorts: [udpPort('inet6'), udpPort('inet')] }, ['inet', 'inet6']],
  ])('udpServiceFamilies: %s', (_, desired, families) => {
    expect(udpServiceFamilies(desired)).toEqual(families);
  });

  // A dual-stack node: an IPv4 node address, IPv4 and IPv6 ClusterIPs on kube-ipvs0.
  it.each<[string, AddressFamily[] | null, AddressFamily[]]>([
    ['not known yet: every family of the node', null, ['inet', 'inet6']],
    ['IPv4 Services on a dual-stack node: no IPv6 walk', ['inet'], ['inet']],
    ['IPv6 Services on a dual-stack node', ['inet6'], ['inet6']],
    ['no UDP Service: nothing asked', [], []],
    ['both families of Services', ['inet', 'inet6'], ['inet', 'inet6']],
  ])('readNodeConntrack: %s', async (_, wanted, dumped) => {
    const asked: AddressFamily[][] = [];
    const interfaces = [iface('eth0', ['10.0.0.10/24']), iface('kube-ipvs0', ['10.96.0.10/32', 'fd00:96::a/128'])];
    await readNodeConntrack({
      modules: () => Promise.resolve(facts({})),
      interfaces: () => interfaces,
      serviceFamilies: () => wanted,
      dump: (families) => {
        asked.push([...families]);
        return { entries: [], stats: { datagrams: 0, bytes: 0, attempts: 0, scanned: 0, skipped: 0, kernelFiltered: true, durationMs: 0 } };
      },
    });
    expect(asked).toEqual([dumped]);
  });
});
