import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { endpointSliceFromObject, nodeFromObject, serviceFromObject } from '../../../src/cluster/convert.js';
import type { ClusterResource } from '../../../src/cluster/informers.js';
import { projectObject } from '../../../src/cluster/project.js';

type Wire = Record<string, unknown> & { kind?: string };

const RESOURCE: Record<string, ClusterResource> = { Service: 'service', EndpointSlice: 'endpointslice', Node: 'node', ConfigMap: 'configmap' };

/** What the model makes of an object: its conversion, or the error conversion throws. */
function converted(resource: ClusterResource, obj: unknown): unknown {
  try {
    if (resource === 'service') return serviceFromObject(obj);
    if (resource === 'endpointslice') return endpointSliceFromObject(obj);
    if (resource === 'node') return nodeFromObject(obj);
    return (obj as { data?: Record<string, unknown> }).data?.['config.conf'] ?? null;
  } catch (err) {
    return { threw: err instanceof Error ? err.message : String(err) };
  }
}

function fixtureObjects(): Wire[] {
  const objects: Wire[] = [];
  for (const file of ['kubeadm-ipv4.yaml', 'kubeadm-dualstack.yaml', 'multi-document.yaml']) {
    for (const doc of parseAllDocuments(readFileSync(`test/fixtures/cluster/${file}`, 'utf8'))) {
      const value = doc.toJS() as (Wire & { items?: Wire[] }) | null;
      if (value === null) continue;
      objects.push(...(value.kind === 'List' ? (value.items ?? []) : [value]));
    }
  }
  const list = JSON.parse(readFileSync('test/fixtures/cluster/list.json', 'utf8')) as { items: Wire[] };
  objects.push(...list.items);
  return objects.filter((o) => o.kind !== undefined && o.kind in RESOURCE);
}

describe('projectObject', () => {
  const fixtures = fixtureObjects();

  it('keeps everything the model reads: every kubectl fixture object converts to the same thing', () => {
    expect(new Set(fixtures.map((o) => o.kind))).toEqual(new Set(['Service', 'EndpointSlice', 'Node', 'ConfigMap']));
    for (const obj of fixtures) {
      const resource = RESOURCE[obj.kind ?? ''] as ClusterResource;
      expect(converted(resource, projectObject(resource, structuredClone(obj))), `${obj.kind} ${JSON.stringify(obj.metadata)}`).toEqual(converted(resource, obj));
    }
  });

  it('drops what the model never reads, keeps the informer cache keys, leaves the input untouched', () => {
    const slice: Wire = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: 'web-x1',
        namespace: 'shop',
        uid: 'u-1',
        resourceVersion: '42',
        generateName: 'web-',
        creationTimestamp: '2026-01-01T00:00:00Z',
        labels: { 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' },
        annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': '2026-01-01T00:00:00Z' },
        ownerReferences: [{ kind: 'Service', name: 'web', uid: 'u-0' }],
        managedFields: [{ manager: 'kube-controller-manager', fieldsV1: { 'f:endpoints': {} } }],
      },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP', appProtocol: 'http' }],
      endpoints: [
        {
          addresses: ['10.244.1.5', '10.244.1.6'],
          conditions: { ready: true, serving: true, terminating: false },
          nodeName: 'worker-1',
          zone: 'zone-a',
          targetRef: { kind: 'Pod', name: 'web-7d4b9c-abcde', namespace: 'shop', uid: 'p-1' },
          hints: { forZones: [{ name: 'zone-a' }], forNodes: [{ name: 'worker-1' }] },
        },
      ],
    };
    const before = structuredClone(slice);
    expect(projectObject('endpointslice', slice)).toEqual({
      metadata: { name: 'web-x1', namespace: 'shop', uid: 'u-1', resourceVersion: '42', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: [
        {
          addresses: ['10.244.1.5'],
          conditions: { ready: true, serving: true, terminating: false },
          nodeName: 'worker-1',
          hints: { forZones: [{ name: 'zone-a' }], forNodes: [{ name: 'worker-1' }] },
        },
      ],
    });
    expect(slice).toEqual(before);

    const cm = { kind: 'ConfigMap', metadata: { name: 'kube-proxy', namespace: 'kube-system', resourceVersion: '7' }, data: { 'config.conf': 'mode: ipvs\n', kubeconfig: 'apiVersion: v1\n' } };
    expect(projectObject('configmap', cm)).toEqual({ metadata: { name: 'kube-proxy', namespace: 'kube-system', resourceVersion: '7' }, data: { 'config.conf': 'mode: ipvs\n' } });
  });

  it('hands a value that is not an object back as it is', () => {
    for (const value of [null, 'text', 7, [1, 2]]) expect(projectObject('service', value)).toBe(value);
  });

  // Any value where the API has a field, including the wrong types and absences convert.ts guards against.
  const anyValue = fc.oneof(fc.constant(undefined), fc.constant(null), fc.boolean(), fc.integer({ min: -1, max: 70000 }), fc.constantFrom('', 'TCP', 'UDP', 'SCTP', 'IPv4', 'IPv6', 'FQDN', 'Local', 'Cluster', 'ClientIP', 'VIP', 'Proxy', '10.0.0.1', 'fd00::1', 'InternalIP', 'ExternalIP', 'Hostname', 'zone-a', 'node-1'));
  const maybe = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arb, { nil: undefined });
  const labels = fc.dictionary(
    fc.constantFrom('kubernetes.io/service-name', 'service.kubernetes.io/headless', 'service.kubernetes.io/service-proxy-name', 'topology.kubernetes.io/zone', 'app'),
    fc.oneof(fc.constant(''), fc.constant('web'), fc.constant('zone-b')),
  );
  const metadata = fc.record({ name: maybe(fc.constantFrom('web', '', 'node-1')), namespace: maybe(fc.constantFrom('shop', '')), resourceVersion: fc.constant('1'), labels: maybe(labels), annotations: maybe(labels) });
  const port = fc.record({ name: anyValue, protocol: anyValue, port: anyValue, nodePort: anyValue, targetPort: anyValue });
  const service = fc.record({
    metadata,
    spec: maybe(
      fc.record({
        type: anyValue,
        clusterIP: anyValue,
        clusterIPs: maybe(fc.array(anyValue, { maxLength: 3 })),
        externalIPs: maybe(fc.array(anyValue, { maxLength: 2 })),
        ports: maybe(fc.oneof(fc.array(port, { maxLength: 3 }), anyValue)),
        sessionAffinity: anyValue,
        sessionAffinityConfig: maybe(fc.record({ clientIP: maybe(fc.record({ timeoutSeconds: anyValue })) })),
        externalTrafficPolicy: anyValue,
        internalTrafficPolicy: anyValue,
        allocateLoadBalancerNodePorts: anyValue,
        selector: maybe(labels),
      }),
    ),
    status: maybe(fc.record({ loadBalancer: maybe(fc.record({ ingress: maybe(fc.array(fc.record({ ip: anyValue, ipMode: anyValue, hostname: anyValue }), { maxLength: 2 })) })) })),
  });
  const hintList = maybe(fc.oneof(fc.array(fc.record({ name: anyValue }), { maxLength: 2 }), anyValue));
  const endpoint = fc.oneof(
    anyValue,
    fc.record({
      addresses: maybe(fc.oneof(fc.array(anyValue, { maxLength: 3 }), anyValue)),
      conditions: maybe(fc.oneof(fc.record({ ready: anyValue, serving: anyValue, terminating: anyValue }), anyValue)),
      nodeName: anyValue,
      zone: anyValue,
      hints: maybe(fc.oneof(fc.record({ forZones: hintList, forNodes: hintList }), anyValue)),
      targetRef: maybe(fc.record({ kind: fc.constant('Pod'), name: fc.constant('web-1') })),
    }),
  );
  const slice = fc.record({
    metadata,
    addressType: anyValue,
    ports: maybe(fc.oneof(fc.array(port, { maxLength: 3 }), anyValue)),
    endpoints: maybe(fc.oneof(fc.array(endpoint, { maxLength: 4 }), anyValue)),
  });
  const node = fc.record({ metadata, status: maybe(fc.record({ addresses: maybe(fc.oneof(fc.array(fc.record({ type: anyValue, address: anyValue }), { maxLength: 3 }), anyValue)) })) });

  it('converts to the same thing as the full object, for any shape the API could send (property)', () => {
    const same = (resource: ClusterResource) => (obj: unknown) => {
      const json = JSON.parse(JSON.stringify(obj)) as unknown; // the wire has no undefined
      expect(converted(resource, projectObject(resource, structuredClone(json)))).toEqual(converted(resource, json));
    };
    fc.assert(fc.property(service, same('service')), { numRuns: 500 });
    fc.assert(fc.property(slice, same('endpointslice')), { numRuns: 500 });
    fc.assert(fc.property(node, same('node')), { numRuns: 300 });
  });
});
