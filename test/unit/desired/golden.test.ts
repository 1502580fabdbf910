import { readFile } from 'node:fs/promises';
import { describe, it } from 'vitest';
import { parseClusterState } from '../../../src/cluster/state-file.js';
import type { KubeProxyConfig } from '../../../src/cluster/kube-proxy-config.js';
import { computeDesiredState } from '../../../src/desired/compute.js';
import type { NodeFacts } from '../../../src/desired/types.js';
import { expectGolden } from '../../support/golden.js';
import { config, iface } from '../../support/cluster-builders.js';

interface GoldenCase {
  fixture: string;
  config: KubeProxyConfig;
  node: NodeFacts;
}

/** The node each fixture is computed for: interfaces as `ip -br addr` shows them on that node. */
const cases: GoldenCase[] = [
  {
    fixture: 'kubeadm-ipv4.yaml',
    config: config({ excludeCIDRs: ['192.168.56.200/29'], strictARP: true }),
    node: {
      name: 'worker-1',
      zone: null,
      interfaces: [
        iface('lo', ['127.0.0.1/8', '::1/128'], true),
        iface('enp0s8', ['192.168.56.11/24', 'fe80::a00:27ff:fe4e:66a1/64']),
        iface('docker0', ['172.17.0.1/16']),
        iface('cni0', ['10.244.1.1/24']),
        iface('kube-ipvs0', ['10.96.0.1/32', '10.96.0.10/32']),
      ],
    },
  },
  {
    fixture: 'kubeadm-dualstack.yaml',
    config: config({ scheduler: 'mh', nodePortAddresses: ['primary'] }),
    node: {
      name: 'ds-worker-1',
      zone: null,
      interfaces: [
        iface('lo', ['127.0.0.1/8', '::1/128'], true),
        iface('eth0', ['192.168.100.21/24', 'fd00:100::21/64', 'fe80::5054:ff:fe12:3456/64']),
        iface('eth0.200', ['192.168.200.21/24']),
        iface('cni0', ['10.244.1.1/24', 'fd00:10:244:1::1/64']),
        iface('kube-ipvs0', []),
      ],
    },
  },
  {
    fixture: 'multi-document.yaml',
    config: config({ nodePortAddresses: ['10.20.0.0/16'] }),
    node: {
      name: 'mon-1',
      zone: null,
      interfaces: [iface('lo', ['127.0.0.1/8'], true), iface('ens3', ['10.20.0.31/16', '10.20.0.99/16']), iface('flannel.1', ['10.244.3.0/32'])],
    },
  },
  {
    // Written in kubectl's List format for the ipset rules kube-proxy-built clusters rarely show at
    // once: source ranges (one holding the node IP, one with a zero CIDR), ETP Local externalIPs,
    // an SCTP NodePort, a health check node port, not-ready and terminating local endpoints.
    fixture: 'edge-dualstack.yaml',
    config: config(),
    node: {
      name: 'edge-worker-1',
      zone: 'dc1',
      interfaces: [
        iface('lo', ['127.0.0.1/8', '::1/128'], true),
        iface('eth0', ['192.168.100.21/24', 'fd00:100::21/64', 'fe80::5054:ff:fe3a:2b1c/64']),
        iface('cni0', ['10.244.1.1/24', 'fd00:10:244:1::1/64']),
        iface('kube-ipvs0', []),
      ],
    },
  },
  {
    fixture: 'list.json',
    config: config({ scheduler: 'wlc' }),
    node: { name: 'LOG-1', zone: null, interfaces: [iface('lo', ['127.0.0.1/8'], true), iface('eth0', ['10.30.0.41/24'])] },
  },
];

/** JSON has no Map: DesiredState.ipsets is written as an object keyed by set name, in the Map's order. */
function mapsAsObjects(_key: string, value: unknown): unknown {
  return value instanceof Map ? Object.fromEntries(value) : value;
}

describe('desired state of the cluster fixtures (golden)', () => {
  it.each(cases)('$fixture', async ({ fixture, config: cfg, node }) => {
    const text = await readFile(new URL(`../../fixtures/cluster/${fixture}`, import.meta.url), 'utf8');
    const desired = computeDesiredState(parseClusterState(text, fixture), cfg, node);
    const name = fixture.replace(/\.(ya?ml|json)$/, '');
    await expectGolden(`test/fixtures/golden/desired/${name}.json`, `${JSON.stringify(desired, mapsAsObjects, 2)}\n`);
  });
});
