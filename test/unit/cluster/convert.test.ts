import { ObjectSerializer } from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js';
import { describe, expect, it } from 'vitest';
import { endpointSliceFromObject, nodeFromObject, objectName, serviceFromObject } from '../../../src/cluster/convert.js';
import { isSentinelError } from '../../../src/errors/index.js';

/** The same JSON as a @kubernetes/client-node 1.4 model instance (classes, Date objects). */
function asClientNode(obj: unknown, type: 'V1Service' | 'V1EndpointSlice' | 'V1Node'): unknown {
  return ObjectSerializer.deserialize(obj, type, '') as unknown;
}

const lbService = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'shop', namespace: 'prod', creationTimestamp: '2025-03-05T12:03:44Z', labels: { app: 'shop' } },
  spec: {
    type: 'LoadBalancer',
    clusterIP: '10.96.45.200',
    clusterIPs: ['10.96.45.200', 'FD00:10:96:0:0:0:0:C8'],
    externalIPs: ['198.51.100.4', 'not-an-ip'],
    externalTrafficPolicy: 'Local',
    internalTrafficPolicy: 'Cluster',
    allocateLoadBalancerNodePorts: true,
    healthCheckNodePort: 32145,
    loadBalancerSourceRanges: [' 192.168.56.0/24 ', '10.1.2.3/8', '2001:DB8::/32', 'not-a-cidr', '203.0.113.9', '0.0.0.0/0'],
    sessionAffinity: 'ClientIP',
    sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } },
    ports: [
      { name: 'https', port: 443, protocol: 'TCP', targetPort: 8443, nodePort: 31443 },
      { name: 'quic', port: 443, protocol: 'UDP', targetPort: 8443, nodePort: 31444 },
    ],
  },
  status: { loadBalancer: { ingress: [{ ip: '203.0.113.7', ipMode: 'VIP' }, { ip: '203.0.113.8', ipMode: 'Proxy' }, { hostname: 'lb.example.net' }] } },
};

const slice = {
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { name: 'shop-abcde', namespace: 'prod', labels: { 'kubernetes.io/service-name': 'shop' } },
  addressType: 'IPv4',
  ports: [
    { name: 'https', port: 8443, protocol: 'TCP' },
    { port: 9000, protocol: 'TCP' },
    { name: 'zero', port: 0, protocol: 'TCP' },
    { name: 'noport', protocol: 'TCP' },
    { name: 'defaulted', port: 7000 },
  ],
  endpoints: [
    { addresses: ['10.244.1.5', '10.244.1.6'], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'worker-1', hints: { forZones: [{ name: 'zone-a' }], forNodes: [{ name: 'worker-1' }] } },
    { addresses: ['10.244.2.7'], conditions: { ready: false, serving: true, terminating: true }, nodeName: 'worker-2', zone: 'zone-b' },
    { addresses: ['10.244.2.8'], conditions: {} },
    { addresses: [], conditions: { ready: true } },
  ],
};

const node = {
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name: 'worker-1', labels: { 'topology.kubernetes.io/zone': 'zone-a' }, creationTimestamp: '2025-03-02T09:16:40Z' },
  status: {
    addresses: [
      { type: 'Hostname', address: 'worker-1' },
      { type: 'InternalIP', address: '192.168.56.11' },
      { type: 'InternalIP', address: '2001:DB8::11' },
      { type: 'ExternalIP', address: '203.0.113.11' },
    ],
  },
};

describe.each([
  { shape: 'plain YAML/JSON object', wrap: (o: unknown, _t: 'V1Service' | 'V1EndpointSlice' | 'V1Node') => o },
  { shape: '@kubernetes/client-node instance', wrap: asClientNode },
])('converters accept a $shape', ({ wrap }) => {
  it('serviceFromObject keeps what the desired state needs, canonical', () => {
    expect(serviceFromObject(wrap(lbService, 'V1Service'))).toEqual({
      namespace: 'prod',
      name: 'shop',
      type: 'LoadBalancer',
      clusterIP: '10.96.45.200',
      clusterIPs: ['10.96.45.200', 'fd00:10:96::c8'],
      ports: [
        { name: 'https', protocol: 'TCP', port: 443, nodePort: 31443 },
        { name: 'quic', protocol: 'UDP', port: 443, nodePort: 31444 },
      ],
      externalIPs: ['198.51.100.4'],
      loadBalancerIngress: [
        { ip: '203.0.113.7', ipMode: 'VIP' },
        { ip: '203.0.113.8', ipMode: 'Proxy' },
        { ip: null, ipMode: null },
      ],
      sessionAffinity: 'ClientIP',
      sessionAffinityTimeoutSeconds: 600,
      externalTrafficPolicy: 'Local',
      internalTrafficPolicy: 'Cluster',
      allocateLoadBalancerNodePorts: true,
      // Trimmed, host bits cleared, canonical; not-a-CIDR entries dropped as kube-proxy drops them.
      loadBalancerSourceRanges: ['192.168.56.0/24', '10.0.0.0/8', '2001:db8::/32', '0.0.0.0/0'],
      healthCheckNodePort: 32145,
    });
  });

  it('endpointSliceFromObject keeps addresses[0], drops unusable ports and endpoints', () => {
    expect(endpointSliceFromObject(wrap(slice, 'V1EndpointSlice'))).toEqual({
      namespace: 'prod',
      name: 'shop-abcde',
      serviceName: 'shop',
      addressType: 'IPv4',
      ports: [
        { name: 'https', protocol: 'TCP', port: 8443 },
        { name: 'defaulted', protocol: 'TCP', port: 7000 },
      ],
      endpoints: [
        { address: '10.244.1.5', family: 'inet', ready: true, serving: true, terminating: false, nodeName: 'worker-1', zoneHints: ['zone-a'], nodeHints: ['worker-1'] },
        { address: '10.244.2.7', family: 'inet', ready: false, serving: true, terminating: true, nodeName: 'worker-2', zoneHints: [], nodeHints: [] },
        { address: '10.244.2.8', family: 'inet', ready: true, serving: true, terminating: false, nodeName: null, zoneHints: [], nodeHints: [] },
      ],
    });
  });

  it('nodeFromObject keeps name, zone and IP addresses', () => {
    expect(nodeFromObject(wrap(node, 'V1Node'))).toEqual({
      name: 'worker-1',
      zone: 'zone-a',
      addresses: [
        { type: 'InternalIP', address: '192.168.56.11' },
        { type: 'InternalIP', address: '2001:db8::11' },
        { type: 'ExternalIP', address: '203.0.113.11' },
      ],
    });
  });
});

describe('objects kube-proxy ignores', () => {
  const withLabels = (obj: typeof lbService | typeof slice, labels: Record<string, string>): unknown => ({
    ...obj,
    metadata: { ...obj.metadata, labels: { ...obj.metadata.labels, ...labels } },
  });
  it.each([
    { name: 'Service with service-proxy-name', value: () => serviceFromObject(withLabels(lbService, { 'service.kubernetes.io/service-proxy-name': 'foo' })) },
    { name: 'Service with the headless label', value: () => serviceFromObject(withLabels(lbService, { 'service.kubernetes.io/headless': '' })) },
    { name: 'EndpointSlice with service-proxy-name', value: () => endpointSliceFromObject(withLabels(slice, { 'service.kubernetes.io/service-proxy-name': '' })) },
    { name: 'EndpointSlice with the headless label', value: () => endpointSliceFromObject(withLabels(slice, { 'service.kubernetes.io/headless': '' })) },
    { name: 'EndpointSlice without kubernetes.io/service-name', value: () => endpointSliceFromObject({ ...slice, metadata: { ...slice.metadata, labels: {} } }) },
    { name: 'EndpointSlice of address type FQDN', value: () => endpointSliceFromObject({ ...slice, addressType: 'FQDN' }) },
  ])('$name → null', ({ value }) => {
    expect(value()).toBeNull();
  });

  it('keeps headless and ExternalName Services (the computation skips them per sync)', () => {
    const headless = serviceFromObject({ metadata: { name: 'db', namespace: 'ns' }, spec: { clusterIP: 'None', clusterIPs: ['None'] } });
    expect(headless).toMatchObject({ clusterIP: 'None', clusterIPs: [], type: 'ClusterIP', ports: [], sessionAffinity: 'None', sessionAffinityTimeoutSeconds: 10800 });
    const external = serviceFromObject({ metadata: { name: 'x', namespace: 'ns' }, spec: { type: 'ExternalName', externalName: 'example.com' } });
    expect(external).toMatchObject({ type: 'ExternalName', clusterIP: '', clusterIPs: [] });
  });

  it('falls back to spec.clusterIP when clusterIPs is absent (old objects), and defaults protocol to TCP', () => {
    const svc = serviceFromObject({ metadata: { name: 'a', namespace: 'ns' }, spec: { clusterIP: '10.96.0.5', ports: [{ port: 80 }, { port: 81, protocol: 'ICMP' }] } });
    expect(svc).toMatchObject({ clusterIPs: ['10.96.0.5'], ports: [{ name: '', protocol: 'TCP', port: 80, nodePort: 0 }], externalTrafficPolicy: null, internalTrafficPolicy: null, allocateLoadBalancerNodePorts: null, loadBalancerSourceRanges: [], healthCheckNodePort: 0 });
  });
});

describe('malformed objects', () => {
  it.each([
    { name: 'Service without a name', run: () => serviceFromObject({ metadata: { namespace: 'ns' } }) },
    { name: 'Service without a namespace', run: () => serviceFromObject({ metadata: { name: 'a' } }) },
    { name: 'EndpointSlice that is not an object', run: () => endpointSliceFromObject('nope') },
    { name: 'Node without metadata', run: () => nodeFromObject({}) },
  ])('$name → CLUSTER_STATE_INVALID', ({ run }) => {
    let caught: unknown;
    try {
      run();
    } catch (e) {
      caught = e;
    }
    expect(isSentinelError(caught, 'CLUSTER_STATE_INVALID')).toBe(true);
  });

  it('reads a field of the wrong type (an array, a string, null where an object belongs) as absent', () => {
    const meta = { name: 'a', namespace: 'ns' };
    const wrong = serviceFromObject({
      metadata: meta,
      spec: { clusterIP: '10.96.0.5', ports: [null, 'x', [80], { port: 80, protocol: ['TCP'] }, { port: 81 }], sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: [] } },
      status: { loadBalancer: [{ ingress: [{ ip: '192.0.2.1' }] }] },
    });
    expect(wrong).toMatchObject({ ports: [{ name: '', protocol: 'TCP', port: 81, nodePort: 0 }], sessionAffinity: 'ClientIP', sessionAffinityTimeoutSeconds: 10800, loadBalancerIngress: [] });
    expect(serviceFromObject({ metadata: meta, spec: ['clusterIP', '10.96.0.5'] })).toMatchObject({ clusterIP: '', clusterIPs: [], ports: [] });
    expect(serviceFromObject({ metadata: { ...meta, labels: ['service.kubernetes.io/headless'] } })).not.toBeNull();

    const slice = endpointSliceFromObject({
      metadata: { ...meta, labels: { 'kubernetes.io/service-name': 'a' } },
      addressType: 'IPv4',
      ports: ['http', { name: 'http', port: 8080 }],
      endpoints: [null, ['10.244.0.1'], { addresses: '10.244.0.2' }, { addresses: ['10.244.0.3'], conditions: [false], hints: [{ forZones: [{ name: 'z' }] }], nodeName: ['w'] }],
    });
    expect(slice).toMatchObject({ ports: [{ name: 'http', protocol: 'TCP', port: 8080 }] });
    expect(slice?.endpoints).toEqual([{ address: '10.244.0.3', family: 'inet', ready: true, serving: true, terminating: false, nodeName: null, zoneHints: [], nodeHints: [] }]);

    const node = nodeFromObject({ metadata: { name: 'n1', labels: 'topology.kubernetes.io/zone' }, status: { addresses: [null, ['InternalIP'], { type: 'InternalIP', address: '10.0.0.1' }] } });
    expect(node).toEqual({ name: 'n1', zone: null, addresses: [{ type: 'InternalIP', address: '10.0.0.1' }] });
  });

  it('objectName reads namespace/name or null', () => {
    expect(objectName({ metadata: { name: 'n1' } })).toEqual({ namespace: '', name: 'n1' });
    expect(objectName({ metadata: { namespace: 'ns', name: 'a' } })).toEqual({ namespace: 'ns', name: 'a' });
    expect(objectName(null)).toBeNull();
  });
});
