import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { KubeProxyConfig } from '../../../src/cluster/kube-proxy-config.js';
import type { EndpointSlice, Node, Service } from '../../../src/cluster/model.js';
import { parseClusterState } from '../../../src/cluster/state-file.js';
import { computeDesiredState } from '../../../src/desired/compute.js';
import type { ComputeOptions } from '../../../src/desired/compute.js';
import { findIpset, ipsetEntryText, ipsetName, ipsetNames, ipsetsOfFamily, KUBE_PROXY_IPSETS } from '../../../src/desired/ipsets.js';
import type { KubeProxyIpsetEntry } from '../../../src/desired/ipsets.js';
import { DesiredStateModel } from '../../../src/desired/model.js';
import type { DesiredState, NodeFacts } from '../../../src/desired/types.js';
import { config, endpoint, iface, nodeFacts, nodeObject, port, service, slice } from '../../support/cluster-builders.js';

interface Input {
  services: Service[];
  slices?: EndpointSlice[];
  nodes?: Node[];
  config?: KubeProxyConfig;
  node?: NodeFacts;
  options?: ComputeOptions;
}

function compute(input: Input): DesiredState {
  return computeDesiredState(
    { services: input.services, endpointSlices: input.slices ?? [], nodes: input.nodes ?? [] },
    input.config ?? config(),
    input.node ?? nodeFacts(),
    input.options,
  );
}

/** Every set that has entries, name → entries: a table asserting it fails on any entry too many. */
function nonEmpty(state: DesiredState): Record<string, readonly string[]> {
  const out: Record<string, readonly string[]> = {};
  for (const [name, set] of state.ipsets ?? []) if (set.entries.length > 0) out[name] = set.entries;
  return out;
}

/** Node "node-a" as its Node object shows it: the proxier's node IPs 192.168.1.10 and 2001:db8::10. */
const nodeA = nodeObject('node-a', ['192.168.1.10', '2001:db8::10']);
const remote = endpoint('10.244.1.8', { nodeName: 'node-b' });

describe('the set catalogue (pkg/proxy/ipvs/ipset.go, ipsetInfo in pkg/proxy/ipvs/proxier.go)', () => {
  // Written from kube-proxy's constants, not from the code under test.
  it.each<{ inet: string; inet6: string; type: string }>([
    { inet: 'KUBE-LOOP-BACK', inet6: 'KUBE-6-LOOP-BACK', type: 'hash:ip,port,ip' },
    { inet: 'KUBE-CLUSTER-IP', inet6: 'KUBE-6-CLUSTER-IP', type: 'hash:ip,port' },
    { inet: 'KUBE-EXTERNAL-IP', inet6: 'KUBE-6-EXTERNAL-IP', type: 'hash:ip,port' },
    { inet: 'KUBE-EXTERNAL-IP-LOCAL', inet6: 'KUBE-6-EXTERNAL-IP-LOCAL', type: 'hash:ip,port' },
    { inet: 'KUBE-LOAD-BALANCER', inet6: 'KUBE-6-LOAD-BALANCER', type: 'hash:ip,port' },
    { inet: 'KUBE-LOAD-BALANCER-FW', inet6: 'KUBE-6-LOAD-BALANCER-FW', type: 'hash:ip,port' },
    { inet: 'KUBE-LOAD-BALANCER-LOCAL', inet6: 'KUBE-6-LOAD-BALANCER-LOCAL', type: 'hash:ip,port' },
    { inet: 'KUBE-LOAD-BALANCER-SOURCE-IP', inet6: 'KUBE-6-LOAD-BALANCER-SOURCE-IP', type: 'hash:ip,port,ip' },
    { inet: 'KUBE-LOAD-BALANCER-SOURCE-CIDR', inet6: 'KUBE-6-LOAD-BALANCER-SOURCE-CID', type: 'hash:ip,port,net' },
    { inet: 'KUBE-NODE-PORT-TCP', inet6: 'KUBE-6-NODE-PORT-TCP', type: 'bitmap:port' },
    { inet: 'KUBE-NODE-PORT-LOCAL-TCP', inet6: 'KUBE-6-NODE-PORT-LOCAL-TCP', type: 'bitmap:port' },
    { inet: 'KUBE-NODE-PORT-UDP', inet6: 'KUBE-6-NODE-PORT-UDP', type: 'bitmap:port' },
    { inet: 'KUBE-NODE-PORT-LOCAL-UDP', inet6: 'KUBE-6-NODE-PORT-LOCAL-UDP', type: 'bitmap:port' },
    { inet: 'KUBE-NODE-PORT-SCTP-HASH', inet6: 'KUBE-6-NODE-PORT-SCTP-HASH', type: 'hash:ip,port' },
    { inet: 'KUBE-NODE-PORT-LOCAL-SCTP-HASH', inet6: 'KUBE-6-NODE-PORT-LOCAL-SCTP-HAS', type: 'hash:ip,port' },
    { inet: 'KUBE-HEALTH-CHECK-NODE-PORT', inet6: 'KUBE-6-HEALTH-CHECK-NODE-PORT', type: 'bitmap:port' },
    { inet: 'KUBE-IPVS-IPS', inet6: 'KUBE-6-IPVS-IPS', type: 'hash:ip' },
  ])('$inet / $inet6 ($type)', ({ inet, inet6, type }) => {
    expect(ipsetName(inet, 'inet')).toBe(inet);
    expect(ipsetName(inet, 'inet6')).toBe(inet6);
    expect(findIpset(inet)).toMatchObject({ name: inet, family: 'inet', type, base: inet });
    expect(findIpset(inet6)).toMatchObject({ name: inet6, family: 'inet6', type, base: inet });
  });

  it('has the 17 sets in ipsetInfo order, every IPv6 name within the 31 characters the kernel takes', () => {
    expect(KUBE_PROXY_IPSETS).toHaveLength(17);
    expect(ipsetsOfFamily('inet').map((s) => s.name)).toEqual(KUBE_PROXY_IPSETS.map((s) => s.base));
    expect(ipsetsOfFamily('inet6').every((s) => s.name.length <= 31 && s.name.startsWith('KUBE-6-'))).toBe(true);
    expect(ipsetNames('inet6').loadBalancerSourceCIDR).toBe('KUBE-6-LOAD-BALANCER-SOURCE-CID');
    expect(findIpset('KUBE-6-LOAD-BALANCER-SOURCE-CIDR')).toBeUndefined();
  });

  it('leaves a name without the KUBE- prefix alone, as NewIPSet does', () => {
    expect(ipsetName('OTHER-SET', 'inet6')).toBe('OTHER-SET');
  });
});

describe('entry text (Entry.String in pkg/proxy/ipvs/ipset/ipset.go)', () => {
  it.each<{ entry: KubeProxyIpsetEntry; text: string }>([
    { entry: { type: 'hash:ip', ip: '10.96.0.1' }, text: '10.96.0.1' },
    { entry: { type: 'hash:ip,port', ip: '10.96.0.10', protocol: 'UDP', port: 53 }, text: '10.96.0.10,udp:53' },
    { entry: { type: 'hash:ip,port', ip: 'fd00:10:96::a', protocol: 'SCTP', port: 2905 }, text: 'fd00:10:96::a,sctp:2905' },
    { entry: { type: 'hash:ip,port,ip', ip: '10.244.1.5', protocol: 'TCP', port: 8080, ip2: '10.244.1.5' }, text: '10.244.1.5,tcp:8080,10.244.1.5' },
    { entry: { type: 'hash:ip,port,net', ip: '203.0.113.7', protocol: 'TCP', port: 443, net: '198.51.100.0/24' }, text: '203.0.113.7,tcp:443,198.51.100.0/24' },
    { entry: { type: 'hash:ip,port,net', ip: '2001:db8::7', protocol: 'TCP', port: 443, net: '2001:db8:ff::/48' }, text: '2001:db8::7,tcp:443,2001:db8:ff::/48' },
    { entry: { type: 'bitmap:port', port: 30080 }, text: '30080' },
  ])('$entry.type → $text', ({ entry, text }) => {
    expect(ipsetEntryText(entry)).toBe(text);
  });
});

describe('what each service port puts in the sets (syncProxyRules in pkg/proxy/ipvs/proxier.go)', () => {
  const lb = (overrides: Partial<Service> = {}): Service =>
    service('ns/svc', {
      type: 'LoadBalancer',
      ports: [port('https', 443, { nodePort: 30443 })],
      loadBalancerIngress: [{ ip: '203.0.113.7', ipMode: 'VIP' }],
      externalTrafficPolicy: 'Cluster',
      ...overrides,
    });

  it.each<{ name: string; input: Input; expected: Record<string, readonly string[]> }>([
    {
      name: 'ClusterIP Service: KUBE-CLUSTER-IP, and its ClusterIP in KUBE-IPVS-IPS',
      input: { services: [service('ns/svc')], slices: [slice('ns/svc', [remote])] },
      expected: { 'KUBE-CLUSTER-IP': ['10.96.0.50,tcp:80'], 'KUBE-IPVS-IPS': ['10.96.0.50'] },
    },
    {
      name: 'KUBE-LOOP-BACK: every local endpoint — ready, not ready, terminating — and no remote one',
      input: {
        services: [service('ns/svc', { ports: [port('dns', 53, { protocol: 'UDP' })] })],
        slices: [
          slice(
            'ns/svc',
            [
              endpoint('10.244.0.5', { nodeName: 'node-a' }),
              endpoint('10.244.0.6', { nodeName: 'node-a', ready: false, serving: false }),
              endpoint('10.244.0.7', { nodeName: 'node-a', ready: false, serving: true, terminating: true }),
              remote,
            ],
            { ports: [{ name: 'dns', protocol: 'UDP', port: 5353 }] },
          ),
        ],
      },
      expected: {
        'KUBE-LOOP-BACK': ['10.244.0.5,udp:5353,10.244.0.5', '10.244.0.6,udp:5353,10.244.0.6', '10.244.0.7,udp:5353,10.244.0.7'],
        'KUBE-CLUSTER-IP': ['10.96.0.50,udp:53'],
        'KUBE-IPVS-IPS': ['10.96.0.50'],
      },
    },
    {
      name: 'KUBE-LOOP-BACK ignores the traffic policy: ITP Local with only a not-ready local endpoint (zero real servers)',
      input: {
        services: [service('ns/svc', { internalTrafficPolicy: 'Local' })],
        slices: [slice('ns/svc', [endpoint('10.244.0.5', { nodeName: 'node-a', ready: false, serving: false }), remote])],
      },
      expected: { 'KUBE-LOOP-BACK': ['10.244.0.5,tcp:8080,10.244.0.5'], 'KUBE-CLUSTER-IP': ['10.96.0.50,tcp:80'], 'KUBE-IPVS-IPS': ['10.96.0.50'] },
    },
    {
      name: 'externalIPs with external policy Cluster: KUBE-EXTERNAL-IP; one on a node interface is listed but not bound',
      input: { services: [service('ns/svc', { externalIPs: ['198.51.100.1', '192.168.1.10'], externalTrafficPolicy: 'Cluster' })] },
      expected: {
        'KUBE-CLUSTER-IP': ['10.96.0.50,tcp:80'],
        'KUBE-EXTERNAL-IP': ['192.168.1.10,tcp:80', '198.51.100.1,tcp:80'],
        'KUBE-IPVS-IPS': ['10.96.0.50', '198.51.100.1'],
      },
    },
    {
      name: 'externalIPs with external policy Local: KUBE-EXTERNAL-IP-LOCAL only, never KUBE-EXTERNAL-IP',
      input: { services: [service('ns/svc', { externalIPs: ['198.51.100.1'], externalTrafficPolicy: 'Local' })] },
      expected: { 'KUBE-CLUSTER-IP': ['10.96.0.50,tcp:80'], 'KUBE-EXTERNAL-IP-LOCAL': ['198.51.100.1,tcp:80'], 'KUBE-IPVS-IPS': ['10.96.0.50', '198.51.100.1'] },
    },
    {
      name: 'LoadBalancer, external policy Cluster: KUBE-LOAD-BALANCER and the TCP node port',
      input: { services: [lb()] },
      expected: {
        'KUBE-CLUSTER-IP': ['10.96.0.50,tcp:443'],
        'KUBE-LOAD-BALANCER': ['203.0.113.7,tcp:443'],
        'KUBE-NODE-PORT-TCP': ['30443'],
        'KUBE-IPVS-IPS': ['10.96.0.50', '203.0.113.7'],
      },
    },
    {
      name: 'LoadBalancer, external policy Local: the -LOCAL sets too, and the health check node port',
      input: { services: [lb({ externalTrafficPolicy: 'Local', healthCheckNodePort: 31999 })] },
      expected: {
        'KUBE-CLUSTER-IP': ['10.96.0.50,tcp:443'],
        'KUBE-LOAD-BALANCER': ['203.0.113.7,tcp:443'],
        'KUBE-LOAD-BALANCER-LOCAL': ['203.0.113.7,tcp:443'],
        'KUBE-NODE-PORT-TCP': ['30443'],
        'KUBE-NODE-PORT-LOCAL-TCP': ['30443'],
        'KUBE-HEALTH-CHECK-NODE-PORT': ['31999'],
        'KUBE-IPVS-IPS': ['10.96.0.50', '203.0.113.7'],
      },
    },
    {
      name: 'a health check node port only for LoadBalancer + Local (NeedsHealthCheck): not for a NodePort Service',
      input: { services: [service('ns/svc', { type: 'NodePort', ports: [port('http', 80, { nodePort: 30080 })], externalTrafficPolicy: 'Local', healthCheckNodePort: 31999 })] },
      expected: { 'KUBE-CLUSTER-IP': ['10.96.0.50,tcp:80'], 'KUBE-NODE-PORT-TCP': ['30080'], 'KUBE-NODE-PORT-LOCAL-TCP': ['30080'], 'KUBE-IPVS-IPS': ['10.96.0.50'] },
    },
    {
      name: 'source ranges: KUBE-LOAD-BALANCER-FW, one SOURCE-CIDR entry per range, SOURCE-IP (vip,proto:port,vip) when the node IP is inside one',
      input: { services: [lb({ loadBalancerSourceRanges: ['192.168.1.0/24', '10.0.0.0/8'] })], nodes: [nodeA] },
      expected: {
        'KUBE-CLUSTER-IP': ['10.96.0.50,tcp:443'],
        'KUBE-LOAD-BALANCER': ['203.0.113.7,tcp:443'],
        'KUBE-LOAD-BALANCER-FW': ['203.0.113.7,tcp:443'],
        'KUBE-LOAD-BALANCER-SOURCE-IP': ['203.0.113.7,tcp:443,203.0.113.7'],
        'KUBE-LOAD-BALANCER-SOURCE-CIDR': ['203.0.113.7,tcp:443,10.0.0.0/8', '203.0.113.7,tcp:443,192.168.1.0/24'],
        'KUBE-NODE-PORT-TCP': ['30443'],
        'KUBE-IPVS-IPS': ['10.96.0.50', '203.0.113.7'],
      },
    },
    {
      name: 'source ranges without the node IP: no SOURCE-IP entry (the node IP is the Node object\u2019s, not any interface address)',
      input: { services: [lb({ allocateLoadBalancerNodePorts: false, ports: [port('https', 443)], loadBalancerSourceRanges: ['10.244.0.0/16'] })], nodes: [nodeA] },
      expected: {
        'KUBE-CLUSTER-IP': ['10.96.0.50,tcp:443'],
        'KUBE-LOAD-BALANCER': ['203.0.113.7,tcp:443'],
        'KUBE-LOAD-BALANCER-FW': ['203.0.113.7,tcp:443'],
        'KUBE-LOAD-BALANCER-SOURCE-CIDR': ['203.0.113.7,tcp:443,10.244.0.0/16'],
        'KUBE-IPVS-IPS': ['10.96.0.50', '203.0.113.7'],
      },
    },
    {
      name: 'without its Node object the proxier\u2019s node IP is 127.0.0.1 (detectNodeIPs), so a loopback range allows the node',
      input: { services: [lb({ allocateLoadBalancerNodePorts: false, ports: [port('https', 443)], loadBalancerSourceRanges: ['127.0.0.0/8'] })] },
      expected: {
        'KUBE-CLUSTER-IP': ['10.96.0.50,tcp:443'],
        'KUBE-LOAD-BALANCER': ['203.0.113.7,tcp:443'],
        'KUBE-LOAD-BALANCER-FW': ['203.0.113.7,tcp:443'],
        'KUBE-LOAD-BALANCER-SOURCE-IP': ['203.0.113.7,tcp:443,203.0.113.7'],
        'KUBE-LOAD-BALANCER-SOURCE-CIDR': ['203.0.113.7,tcp:443,127.0.0.0/8'],
        'KUBE-IPVS-IPS': ['10.96.0.50', '203.0.113.7'],
      },
    },
    {
      name: 'a zero CIDR means "allow any": no FW, SOURCE-CIDR or SOURCE-IP entry of that family (kubernetes#132722); the other family keeps its ranges',
      input: {
        services: [
          lb({
            clusterIPs: ['10.96.0.50', 'fd00:96::50'],
            allocateLoadBalancerNodePorts: false,
            ports: [port('https', 443)],
            loadBalancerIngress: [
              { ip: '203.0.113.7', ipMode: 'VIP' },
              { ip: '2001:db8:1::7', ipMode: null },
            ],
            loadBalancerSourceRanges: ['0.0.0.0/0', '192.168.1.0/24', '2001:db8::/64'],
          }),
        ],
        nodes: [nodeA],
      },
      expected: {
        'KUBE-CLUSTER-IP': ['10.96.0.50,tcp:443'],
        'KUBE-LOAD-BALANCER': ['203.0.113.7,tcp:443'],
        'KUBE-IPVS-IPS': ['10.96.0.50', '203.0.113.7'],
        'KUBE-6-CLUSTER-IP': ['fd00:96::50,tcp:443'],
        'KUBE-6-LOAD-BALANCER': ['2001:db8:1::7,tcp:443'],
        'KUBE-6-LOAD-BALANCER-FW': ['2001:db8:1::7,tcp:443'],
        'KUBE-6-LOAD-BALANCER-SOURCE-IP': ['2001:db8:1::7,tcp:443,2001:db8:1::7'],
        'KUBE-6-LOAD-BALANCER-SOURCE-CID': ['2001:db8:1::7,tcp:443,2001:db8::/64'],
        'KUBE-6-IPVS-IPS': ['2001:db8:1::7', 'fd00:96::50'],
      },
    },
    {
      name: 'ipMode Proxy and hostname-only ingress: no load-balancer entries at all',
      input: {
        services: [
          lb({
            allocateLoadBalancerNodePorts: false,
            ports: [port('https', 443)],
            loadBalancerSourceRanges: ['192.168.1.0/24'],
            loadBalancerIngress: [
              { ip: '203.0.113.7', ipMode: 'Proxy' },
              { ip: null, ipMode: null },
            ],
          }),
        ],
        nodes: [nodeA],
      },
      expected: { 'KUBE-CLUSTER-IP': ['10.96.0.50,tcp:443'], 'KUBE-IPVS-IPS': ['10.96.0.50'] },
    },
    {
      name: 'UDP node port: KUBE-NODE-PORT-UDP',
      input: { services: [service('ns/svc', { type: 'NodePort', ports: [port('syslog', 514, { protocol: 'UDP', nodePort: 30514 })], externalTrafficPolicy: 'Local' })] },
      expected: { 'KUBE-CLUSTER-IP': ['10.96.0.50,udp:514'], 'KUBE-NODE-PORT-UDP': ['30514'], 'KUBE-NODE-PORT-LOCAL-UDP': ['30514'], 'KUBE-IPVS-IPS': ['10.96.0.50'] },
    },
    {
      name: 'SCTP node port: nodeIP,sctp:port for every NodePort node IP (not kube-ipvs0, not loopback)',
      input: { services: [service('ns/svc', { type: 'NodePort', ports: [port('m3ua', 2905, { protocol: 'SCTP', nodePort: 32905 })], externalTrafficPolicy: 'Local' })] },
      expected: {
        'KUBE-CLUSTER-IP': ['10.96.0.50,sctp:2905'],
        'KUBE-NODE-PORT-SCTP-HASH': ['10.244.0.1,sctp:32905', '192.168.1.10,sctp:32905'],
        'KUBE-NODE-PORT-LOCAL-SCTP-HASH': ['10.244.0.1,sctp:32905', '192.168.1.10,sctp:32905'],
        'KUBE-IPVS-IPS': ['10.96.0.50'],
      },
    },
    {
      name: 'SCTP node port with nodePortAddresses [primary]: the primary node IP only',
      input: {
        services: [service('ns/svc', { type: 'NodePort', ports: [port('m3ua', 2905, { protocol: 'SCTP', nodePort: 32905 })], externalTrafficPolicy: 'Cluster' })],
        nodes: [nodeA],
        config: config({ nodePortAddresses: ['primary'] }),
      },
      expected: { 'KUBE-CLUSTER-IP': ['10.96.0.50,sctp:2905'], 'KUBE-NODE-PORT-SCTP-HASH': ['192.168.1.10,sctp:32905'], 'KUBE-IPVS-IPS': ['10.96.0.50'] },
    },
    {
      name: 'no NodePort node IP: no node-port entry and — kube-proxy `continue`s — no health check node port either',
      input: {
        services: [lb({ externalTrafficPolicy: 'Local', healthCheckNodePort: 31999 })],
        node: nodeFacts({ interfaces: [iface('lo', ['127.0.0.1/8', '::1/128'], true), iface('kube-ipvs0', [])] }),
      },
      expected: {
        'KUBE-CLUSTER-IP': ['10.96.0.50,tcp:443'],
        'KUBE-LOAD-BALANCER': ['203.0.113.7,tcp:443'],
        'KUBE-LOAD-BALANCER-LOCAL': ['203.0.113.7,tcp:443'],
        'KUBE-IPVS-IPS': ['10.96.0.50', '203.0.113.7'],
      },
    },
    {
      name: 'no NodePort node IP but no node port allocated: the health check node port stays',
      input: {
        services: [lb({ externalTrafficPolicy: 'Local', healthCheckNodePort: 31999, allocateLoadBalancerNodePorts: false, ports: [port('https', 443)] })],
        node: nodeFacts({ interfaces: [iface('lo', ['127.0.0.1/8', '::1/128'], true), iface('kube-ipvs0', [])] }),
      },
      expected: {
        'KUBE-CLUSTER-IP': ['10.96.0.50,tcp:443'],
        'KUBE-LOAD-BALANCER': ['203.0.113.7,tcp:443'],
        'KUBE-LOAD-BALANCER-LOCAL': ['203.0.113.7,tcp:443'],
        'KUBE-HEALTH-CHECK-NODE-PORT': ['31999'],
        'KUBE-IPVS-IPS': ['10.96.0.50', '203.0.113.7'],
      },
    },
    {
      name: 'dual-stack: each proxier fills its own sets; both bitmap sets hold the node port',
      input: {
        services: [service('ns/svc', { type: 'NodePort', clusterIPs: ['fd00:96::50', '10.96.0.50'], ports: [port('http', 80, { nodePort: 30080 })] })],
        slices: [slice('ns/svc', [endpoint('fd00:244::5', { nodeName: 'node-a' })], { suffix: 'v6' }), slice('ns/svc', [endpoint('10.244.0.5', { nodeName: 'node-a' })], { suffix: 'v4' })],
      },
      expected: {
        'KUBE-LOOP-BACK': ['10.244.0.5,tcp:8080,10.244.0.5'],
        'KUBE-CLUSTER-IP': ['10.96.0.50,tcp:80'],
        'KUBE-NODE-PORT-TCP': ['30080'],
        'KUBE-IPVS-IPS': ['10.96.0.50'],
        'KUBE-6-LOOP-BACK': ['fd00:244::5,tcp:8080,fd00:244::5'],
        'KUBE-6-CLUSTER-IP': ['fd00:96::50,tcp:80'],
        'KUBE-6-NODE-PORT-TCP': ['30080'],
        'KUBE-6-IPVS-IPS': ['fd00:96::50'],
      },
    },
    {
      name: 'headless and ExternalName Services: nothing',
      input: { services: [service('ns/db', { clusterIP: 'None', clusterIPs: [] }), service('ns/ext', { type: 'ExternalName' })], slices: [slice('ns/db', [endpoint('10.244.0.5', { nodeName: 'node-a' })])] },
      expected: {},
    },
    {
      name: 'two Services wanting the same externalIP:port: one entry',
      input: { services: [service('ns/a', { externalIPs: ['198.51.100.1'] }), service('ns/b', { clusterIPs: ['10.96.0.51'], externalIPs: ['198.51.100.1'] })] },
      expected: {
        'KUBE-CLUSTER-IP': ['10.96.0.50,tcp:80', '10.96.0.51,tcp:80'],
        'KUBE-EXTERNAL-IP': ['198.51.100.1,tcp:80'],
        'KUBE-IPVS-IPS': ['10.96.0.50', '10.96.0.51', '198.51.100.1'],
      },
    },
  ])('$name', ({ input, expected }) => {
    expect(nonEmpty(compute(input))).toEqual(expected);
  });

  it('lists every set of each proxied family, empty ones too', () => {
    const both = compute({ services: [] });
    expect([...(both.ipsets?.keys() ?? [])]).toEqual([...ipsetsOfFamily('inet'), ...ipsetsOfFamily('inet6')].map((s) => s.name));
    expect([...(both.ipsets?.values() ?? [])].every((s) => s.entries.length === 0)).toBe(true);
    const v4 = compute({ services: [service('ns/svc')], options: { families: ['inet'] } });
    expect([...(v4.ipsets?.values() ?? [])].map((s) => `${s.name} ${s.family} ${s.type}`)).toEqual(ipsetsOfFamily('inet').map((s) => `${s.name} inet ${s.type}`));
  });
});

describe('the edge-dualstack fixture, entries derived by hand from kube-proxy\u2019s rules', () => {
  const node: NodeFacts = {
    name: 'edge-worker-1',
    zone: 'dc1',
    interfaces: [
      iface('lo', ['127.0.0.1/8', '::1/128'], true),
      iface('eth0', ['192.168.100.21/24', 'fd00:100::21/64', 'fe80::5054:ff:fe3a:2b1c/64']),
      iface('cni0', ['10.244.1.1/24', 'fd00:10:244:1::1/64']),
      iface('kube-ipvs0', []),
    ],
  };
  const state = (async () => {
    const text = await readFile(new URL('../../fixtures/cluster/edge-dualstack.yaml', import.meta.url), 'utf8');
    return computeDesiredState(parseClusterState(text, 'edge-dualstack.yaml'), config(), node);
  })();

  it.each<{ set: string; why: string; entries: string[] }>([
    {
      set: 'KUBE-LOOP-BACK',
      why: 'local endpoints of every port, including gateway\u2019s not-ready 10.244.1.41 and partner-feed\u2019s terminating 10.244.1.60',
      entries: ['10.244.1.40,tcp:8443,10.244.1.40', '10.244.1.41,tcp:8443,10.244.1.41', '10.244.1.60,tcp:8443,10.244.1.60', '10.244.1.70,tcp:8080,10.244.1.70', '10.244.1.80,sctp:2905,10.244.1.80'],
    },
    { set: 'KUBE-EXTERNAL-IP', why: 'legacy-gw is external policy Local', entries: [] },
    { set: 'KUBE-EXTERNAL-IP-LOCAL', why: 'both legacy-gw externalIPs, the node\u2019s own one too', entries: ['192.168.100.21,tcp:8080', '192.168.100.50,tcp:8080'] },
    { set: 'KUBE-LOAD-BALANCER-FW', why: 'public-api\u2019s 0.0.0.0/0 voids its IPv4 ranges', entries: ['192.168.100.240,tcp:443', '192.168.100.242,tcp:8443'] },
    {
      set: 'KUBE-LOAD-BALANCER-SOURCE-CIDR',
      why: 'gateway\u2019s IPv4 ranges (one whitespace-padded) and partner-feed\u2019s',
      entries: ['192.168.100.240,tcp:443,10.200.0.0/16', '192.168.100.240,tcp:443,192.168.100.0/24', '192.168.100.240,tcp:443,198.51.100.0/24', '192.168.100.242,tcp:8443,198.18.0.0/15'],
    },
    { set: 'KUBE-LOAD-BALANCER-SOURCE-IP', why: '192.168.100.21 is inside gateway\u2019s 192.168.100.0/24, not inside partner-feed\u2019s', entries: ['192.168.100.240,tcp:443,192.168.100.240'] },
    { set: 'KUBE-6-LOAD-BALANCER-SOURCE-CID', why: 'gateway\u2019s IPv6 range, under the truncated name', entries: ['2001:db8:100::240,tcp:443,fd00:100::/64'] },
    { set: 'KUBE-6-LOAD-BALANCER-SOURCE-IP', why: 'fd00:100::21 is inside fd00:100::/64', entries: ['2001:db8:100::240,tcp:443,2001:db8:100::240'] },
    { set: 'KUBE-NODE-PORT-TCP', why: 'gateway and public-api; partner-feed allocates no node port', entries: ['30080', '30443'] },
    { set: 'KUBE-NODE-PORT-UDP', why: 'syslog', entries: ['30514'] },
    { set: 'KUBE-NODE-PORT-LOCAL-SCTP-HASH', why: 'sigtran, on both IPv4 node IPs', entries: ['10.244.1.1,sctp:32905', '192.168.100.21,sctp:32905'] },
    { set: 'KUBE-6-NODE-PORT-LOCAL-SCTP-HAS', why: 'sigtran, on both IPv6 node IPs (not link-local)', entries: ['fd00:100::21,sctp:32905', 'fd00:10:244:1::1,sctp:32905'] },
    { set: 'KUBE-HEALTH-CHECK-NODE-PORT', why: 'gateway', entries: ['31999'] },
    { set: 'KUBE-6-HEALTH-CHECK-NODE-PORT', why: 'gateway is dual-stack', entries: ['31999'] },
    {
      set: 'KUBE-IPVS-IPS',
      why: 'ClusterIPs, VIPs and 192.168.100.50, not 192.168.100.21 (on eth0)',
      entries: ['10.96.80.10', '10.96.80.11', '10.96.80.12', '10.96.80.13', '10.96.90.5', '10.96.90.6', '192.168.100.240', '192.168.100.241', '192.168.100.242', '192.168.100.50'],
    },
  ])('$set: $why', async ({ set, entries }) => {
    expect((await state).ipsets?.get(set)?.entries).toEqual(entries);
  });

  it('KUBE-IPVS-IPS and KUBE-6-IPVS-IPS are exactly the kube-ipvs0 addresses of their family', async () => {
    const s = await state;
    const v4 = s.ipsets?.get('KUBE-IPVS-IPS')?.entries ?? [];
    const v6 = s.ipsets?.get('KUBE-6-IPVS-IPS')?.entries ?? [];
    expect([...v4, ...v6].sort()).toEqual([...s.kubeIpvs0Addresses].sort());
    expect(v6).toEqual(['2001:db8:100::240', 'fd00:10:96::50', 'fd00:10:96::5a']);
  });
});

describe('DesiredStateModel keeps the sets incrementally', () => {
  it('an entry two Services want stays until both are gone', () => {
    const model = new DesiredStateModel(config(), nodeFacts());
    model.upsertService(service('ns/a', { externalIPs: ['198.51.100.1'] }));
    model.upsertService(service('ns/b', { clusterIPs: ['10.96.0.51'], externalIPs: ['198.51.100.1'] }));
    expect(model.current().ipsets?.get('KUBE-EXTERNAL-IP')?.entries).toEqual(['198.51.100.1,tcp:80']);
    model.deleteService('ns', 'a');
    expect(model.current().ipsets?.get('KUBE-EXTERNAL-IP')?.entries).toEqual(['198.51.100.1,tcp:80']);
    model.deleteService('ns', 'b');
    expect(model.current().ipsets?.get('KUBE-EXTERNAL-IP')?.entries).toEqual([]);
  });

  it('follows its own Node object: a new InternalIP inside a source range adds the SOURCE-IP entry', () => {
    const model = new DesiredStateModel(config(), nodeFacts());
    const svc = service('ns/svc', {
      type: 'LoadBalancer',
      ports: [port('https', 443)],
      allocateLoadBalancerNodePorts: false,
      loadBalancerIngress: [{ ip: '203.0.113.7', ipMode: 'VIP' }],
      loadBalancerSourceRanges: ['192.168.1.0/24'],
    });
    model.upsertService(svc);
    model.upsertNode(nodeObject('node-a', ['10.0.0.10']));
    expect(model.current().ipsets?.get('KUBE-LOAD-BALANCER-SOURCE-IP')?.entries).toEqual([]);
    model.upsertNode(nodeObject('node-a', ['192.168.1.10']));
    expect(model.current().ipsets?.get('KUBE-LOAD-BALANCER-SOURCE-IP')?.entries).toEqual(['203.0.113.7,tcp:443,203.0.113.7']);
  });

  it('a returned state\u2019s sets are not changed by later updates', () => {
    const model = new DesiredStateModel(config(), nodeFacts());
    model.upsertService(service('ns/svc'));
    model.upsertEndpointSlice(slice('ns/svc', [endpoint('10.244.0.5', { nodeName: 'node-a' })]));
    const before = model.current();
    const loopBack = before.ipsets?.get('KUBE-LOOP-BACK');
    model.upsertEndpointSlice(slice('ns/svc', [endpoint('10.244.0.6', { nodeName: 'node-a' })]));
    const after = model.current();
    expect(loopBack?.entries).toEqual(['10.244.0.5,tcp:8080,10.244.0.5']);
    expect(before.ipsets?.get('KUBE-LOOP-BACK')).toBe(loopBack);
    expect(after.ipsets?.get('KUBE-LOOP-BACK')?.entries).toEqual(['10.244.0.6,tcp:8080,10.244.0.6']);
    // A set nothing touched is the same object from one state to the next.
    expect(after.ipsets?.get('KUBE-CLUSTER-IP')).toBe(before.ipsets?.get('KUBE-CLUSTER-IP'));
  });
});
