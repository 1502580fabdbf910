import { describe, expect, it } from 'vitest';
import { toCached } from '../../../src/cluster/cached.js';
import { endpointSliceFromObject, serviceFromObject } from '../../../src/cluster/convert.js';

const service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: {
    name: 'web',
    namespace: 'shop',
    uid: 'u-1',
    resourceVersion: '42',
    creationTimestamp: '2026-01-01T00:00:00Z',
    annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
    managedFields: [{ manager: 'kubectl' }],
  },
  spec: { clusterIP: '10.96.0.7', clusterIPs: ['10.96.0.7'], selector: { app: 'web' }, ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }] },
  status: { loadBalancer: {} },
};

describe('toCached', () => {
  it('keeps the identity ListWatch needs and the converted object, nothing of the wire object', () => {
    const cached = toCached('service', service);
    expect(cached).toEqual({ metadata: { name: 'web', namespace: 'shop', uid: 'u-1', resourceVersion: '42' }, converted: serviceFromObject(service), problem: null });
    expect(Object.keys(cached)).toEqual(['metadata', 'converted', 'problem']);
  });

  it('converts EndpointSlices as convert.ts does, null for those kube-proxy ignores', () => {
    const slice = {
      metadata: { name: 'web-x1', namespace: 'shop', resourceVersion: '9', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: [{ addresses: ['10.244.1.5', '10.244.1.6'], conditions: { ready: true }, nodeName: 'n1', targetRef: { kind: 'Pod', name: 'web-1' } }],
    };
    expect(toCached('endpointslice', slice).converted).toEqual(endpointSliceFromObject(slice));
    const fqdn = { ...slice, addressType: 'FQDN' };
    expect(toCached('endpointslice', fqdn)).toEqual({ metadata: { name: 'web-x1', namespace: 'shop', resourceVersion: '9' }, converted: null, problem: null });
  });

  it('reduces the kube-proxy ConfigMap to config.conf', () => {
    const cm = { metadata: { name: 'kube-proxy', namespace: 'kube-system', resourceVersion: '7' }, data: { 'config.conf': 'mode: ipvs\n', kubeconfig: 'apiVersion: v1\n' } };
    expect(toCached('configmap', cm).converted).toBe('mode: ipvs\n');
    expect(toCached('configmap', { metadata: { name: 'kube-proxy', namespace: 'kube-system' } }).converted).toBeNull();
  });

  it('keeps a conversion error as the problem instead of throwing into the watch', () => {
    const cached = toCached('service', { metadata: { name: 'web' }, spec: {} });
    expect(cached.converted).toBeNull();
    expect(cached.problem).toMatch(/Service web has no metadata.namespace/);
    expect(toCached('node', 'not an object')).toMatchObject({ metadata: { name: '' }, converted: null, problem: expect.stringMatching(/no metadata.name/) as unknown });
  });
});
