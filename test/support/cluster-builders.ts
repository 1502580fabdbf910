/**
 * Builders for the cluster model (src/cluster/model.ts) and node facts, with kube-proxy's API
 * defaults, so desired-state tests state only what matters:
 * `service('shop/web', { type: 'NodePort', ports: [port('http', 80, { nodePort: 30080 })] })`.
 */
import { KUBE_PROXY_DEFAULTS } from '../../src/cluster/kube-proxy-config.js';
import type { KubeProxyConfig } from '../../src/cluster/kube-proxy-config.js';
import type { Endpoint, EndpointSlice, Node, Service, ServicePort } from '../../src/cluster/model.js';
import type { NodeFacts, NodeInterface } from '../../src/desired/types.js';
import type { Protocol } from '../../src/ipvs/types.js';

function split(ref: string): { namespace: string; name: string } {
  const [namespace, name] = ref.split('/');
  if (namespace === undefined || name === undefined) throw new Error(`not namespace/name: ${ref}`);
  return { namespace, name };
}

export function port(name: string, portNumber: number, overrides: Partial<ServicePort> = {}): ServicePort {
  return { name, protocol: 'TCP', port: portNumber, nodePort: 0, ...overrides };
}

export function service(ref: string, overrides: Partial<Service> = {}): Service {
  const clusterIPs = overrides.clusterIPs ?? ['10.96.0.50'];
  return {
    ...split(ref),
    type: 'ClusterIP',
    clusterIP: clusterIPs[0] ?? '',
    clusterIPs,
    ports: [port('http', 80)],
    externalIPs: [],
    loadBalancerIngress: [],
    sessionAffinity: 'None',
    sessionAffinityTimeoutSeconds: 10800,
    externalTrafficPolicy: null,
    internalTrafficPolicy: null,
    allocateLoadBalancerNodePorts: null,
    ...overrides,
  };
}

export function endpoint(address: string, overrides: Partial<Endpoint> = {}): Endpoint {
  return {
    address,
    family: address.includes(':') ? 'inet6' : 'inet',
    ready: true,
    serving: true,
    terminating: false,
    nodeName: 'node-b',
    zoneHints: [],
    nodeHints: [],
    ...overrides,
  };
}

/** A slice of Service `serviceRef` (namespace/service) named `<service>-<suffix>`. */
export function slice(
  serviceRef: string,
  endpoints: Endpoint[],
  overrides: Omit<Partial<EndpointSlice>, 'ports'> & { ports?: { name: string; protocol?: Protocol; port: number }[]; suffix?: string } = {},
): EndpointSlice {
  const { namespace, name } = split(serviceRef);
  const { suffix, ports, ...rest } = overrides;
  return {
    namespace,
    name: `${name}-${suffix ?? 'abcde'}`,
    serviceName: name,
    addressType: endpoints[0]?.family === 'inet6' ? 'IPv6' : 'IPv4',
    ports: (ports ?? [{ name: 'http', port: 8080 }]).map((p) => ({ protocol: 'TCP', ...p })),
    endpoints,
    ...rest,
  };
}

export function nodeObject(name: string, addresses: string[], zone: string | null = null): Node {
  return { name, zone, addresses: addresses.map((address) => ({ type: 'InternalIP', address })) };
}

export function iface(name: string, cidrs: string[], loopback = false): NodeInterface {
  return {
    name,
    loopback,
    addresses: cidrs.map((c) => {
      const [address = '', len = '32'] = c.split('/');
      return { address, prefixLength: Number(len), family: address.includes(':') ? 'inet6' : 'inet' };
    }),
  };
}

/** Node "node-a": lo, eth0 192.168.1.10 + 2001:db8::10 + fe80::1, cni0 10.244.0.1, kube-ipvs0 with a ClusterIP. */
export function nodeFacts(overrides: Partial<NodeFacts> = {}): NodeFacts {
  return {
    name: 'node-a',
    zone: null,
    interfaces: [
      iface('lo', ['127.0.0.1/8', '::1/128'], true),
      iface('eth0', ['192.168.1.10/24', '2001:db8::10/64', 'fe80::1/64']),
      iface('cni0', ['10.244.0.1/24']),
      iface('kube-ipvs0', ['10.96.0.1/32']),
    ],
    ...overrides,
  };
}

export function config(overrides: Partial<KubeProxyConfig> = {}): KubeProxyConfig {
  return { ...KUBE_PROXY_DEFAULTS, mode: 'ipvs', ...overrides };
}
