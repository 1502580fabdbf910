import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WatchClusterSource } from '../../../src/agent/cluster-source.js';
import { toCached, type CachedObject } from '../../../src/cluster/cached.js';
import type { ClusterEvent, ClusterWatch, ClusterWatchStatus } from '../../../src/cluster/informers.js';
import type { KubeProxyConfig } from '../../../src/cluster/kube-proxy-config.js';
import type { Endpoint, EndpointSlice, LoadBalancerIngress, Node, Service, ServicePort } from '../../../src/cluster/model.js';
import type { Protocol } from '../../../src/ipvs/types.js';
import { computeDesiredState, proxyNodeName } from '../../../src/desired/compute.js';
import { otherNodeAddresses } from '../../../src/desired/node-addresses.js';
import { DesiredStateModel } from '../../../src/desired/model.js';
import type { NodeFacts } from '../../../src/desired/types.js';
import { config, endpoint, iface, nodeFacts, nodeObject, port, service, slice } from '../../support/cluster-builders.js';

const names = ['s0', 's1', 's2', 's3'];

const endpointArb: fc.Arbitrary<Endpoint> = fc
  .record({
    address: fc.constantFrom('10.0.0.1', '10.0.0.2', '10.0.0.3', 'fd00::1', 'fd00::2'),
    ready: fc.boolean(),
    serving: fc.boolean(),
    terminating: fc.boolean(),
    nodeName: fc.constantFrom('node-a', 'node-b', null),
    zoneHints: fc.constantFrom<string[]>([], ['zone-a'], ['zone-b']),
    nodeHints: fc.constantFrom<string[]>([], ['node-a'], ['node-b']),
  })
  .map(({ address, ...rest }) => endpoint(address, rest));

const serviceArb: fc.Arbitrary<Service> = fc
  .record({
    name: fc.constantFrom(...names),
    type: fc.constantFrom('ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'),
    clusterIPs: fc.constantFrom<string[]>(['10.96.0.1'], ['10.96.0.2'], ['fd00:96::1', '10.96.0.3'], ['None']),
    externalIPs: fc.constantFrom<string[]>([], ['198.51.100.1'], ['192.168.1.10']),
    ingress: fc.constantFrom<LoadBalancerIngress[]>([], [{ ip: '203.0.113.1', ipMode: null }], [{ ip: '203.0.113.1', ipMode: 'Proxy' }], [{ ip: '2001:db8:1::1', ipMode: 'VIP' }]),
    // The ipset inputs: source ranges (one holding node-a's Node IP, a zero CIDR, IPv6) and a health check node port.
    sourceRanges: fc.constantFrom<string[]>([], ['192.168.1.0/24'], ['0.0.0.0/0', '10.0.0.0/8'], ['2001:db8::/64', '198.51.100.0/24']),
    healthCheckNodePort: fc.constantFrom(0, 31999),
    etp: fc.constantFrom(null, 'Cluster' as const, 'Local' as const),
    itp: fc.constantFrom(null, 'Local' as const),
    affinity: fc.constantFrom('None' as const, 'ClientIP' as const),
    ports: fc.constantFrom<ServicePort[]>(
      [port('http', 80, { nodePort: 30080 })],
      [port('http', 80), port('dns', 53, { protocol: 'UDP', nodePort: 30053 })],
      [port('', 443)],
      [port('http', 80, { protocol: 'SCTP', nodePort: 30080 })],
    ),
  })
  .map((r) =>
    service(`ns/${r.name}`, {
      type: r.type,
      clusterIP: r.clusterIPs[0] ?? '',
      clusterIPs: r.clusterIPs[0] === 'None' ? [] : r.clusterIPs,
      externalIPs: r.externalIPs,
      loadBalancerIngress: r.ingress,
      externalTrafficPolicy: r.etp,
      internalTrafficPolicy: r.itp,
      sessionAffinity: r.affinity,
      loadBalancerSourceRanges: r.sourceRanges,
      healthCheckNodePort: r.healthCheckNodePort,
      ports: r.type === 'ClusterIP' || r.type === 'ExternalName' ? r.ports.map((p) => ({ ...p, nodePort: 0 })) : r.ports,
    }),
  );

const sliceArb: fc.Arbitrary<EndpointSlice> = fc
  .record({
    service: fc.constantFrom(...names, 'gone'),
    suffix: fc.constantFrom('a', 'b'),
    v6: fc.boolean(),
    endpoints: fc.array(endpointArb, { maxLength: 4 }),
    ports: fc.constantFrom<{ name: string; protocol?: Protocol; port: number }[]>([{ name: 'http', port: 8080 }], [{ name: 'dns', protocol: 'UDP' as const, port: 5353 }, { name: 'http', port: 8081 }], [{ name: '', port: 8443 }], [{ name: 'http', protocol: 'SCTP' as const, port: 2905 }]),
  })
  .map((r) => slice(`ns/${r.service}`, r.endpoints, { suffix: r.suffix, addressType: r.v6 ? 'IPv6' : 'IPv4', ports: r.ports }));

const nodeArb: fc.Arbitrary<Node> = fc
  .record({ name: fc.constantFrom('node-a', 'node-b'), zone: fc.constantFrom('zone-a', 'zone-b', null), primary: fc.constantFrom<string[]>(['192.168.1.10'], ['192.168.1.10', '2001:db8::10'], []) })
  .map((r) => nodeObject(r.name, r.primary, r.zone));

const configArb: fc.Arbitrary<KubeProxyConfig> = fc
  .record({ scheduler: fc.constantFrom('', 'mh', 'wrr'), nodePortAddresses: fc.constantFrom<string[]>([], ['primary'], ['192.168.1.0/24']), excludeCIDRs: fc.constantFrom<string[]>([], ['10.96.0.0/24']) })
  .map((r) => config(r));

const factsArb: fc.Arbitrary<NodeFacts> = fc.constantFrom(
  nodeFacts(),
  nodeFacts({ zone: 'zone-b' }),
  nodeFacts({ interfaces: [iface('eth0', ['192.168.1.10/24', '198.51.100.1/32'])] }),
);

type Op =
  | { op: 'upsertService'; svc: Service }
  | { op: 'deleteService'; name: string }
  | { op: 'upsertSlice'; slice: EndpointSlice }
  | { op: 'deleteSlice'; name: string }
  | { op: 'upsertNode'; node: Node }
  | { op: 'deleteNode'; name: string }
  | { op: 'config'; config: KubeProxyConfig }
  | { op: 'facts'; facts: NodeFacts }
  | { op: 'current' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: serviceArb.map((svc) => ({ op: 'upsertService' as const, svc })) },
  { weight: 1, arbitrary: fc.constantFrom(...names).map((name) => ({ op: 'deleteService' as const, name })) },
  { weight: 5, arbitrary: sliceArb.map((s) => ({ op: 'upsertSlice' as const, slice: s })) },
  { weight: 1, arbitrary: fc.constantFrom('s0-a', 's1-b', 'gone-a').map((name) => ({ op: 'deleteSlice' as const, name })) },
  { weight: 1, arbitrary: nodeArb.map((node) => ({ op: 'upsertNode' as const, node })) },
  { weight: 1, arbitrary: fc.constantFrom('node-a', 'node-b').map((name) => ({ op: 'deleteNode' as const, name })) },
  { weight: 1, arbitrary: configArb.map((c) => ({ op: 'config' as const, config: c })) },
  { weight: 1, arbitrary: factsArb.map((facts) => ({ op: 'facts' as const, facts })) },
  { weight: 3, arbitrary: fc.constant({ op: 'current' as const }) },
);

describe('DesiredStateModel', () => {
  it('always equals computeDesiredState over the same objects (random operation sequences)', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => {
        let cfg = config();
        let facts = nodeFacts();
        const services = new Map<string, Service>();
        const slices = new Map<string, EndpointSlice>();
        const nodes = new Map<string, Node>();
        const model = new DesiredStateModel(cfg, facts);
        const check = (): void => {
          const expected = computeDesiredState({ services: [...services.values()], endpointSlices: [...slices.values()], nodes: [...nodes.values()] }, cfg, facts);
          expect(model.current()).toEqual(expected);
          // The other Nodes' addresses follow every Node and node-fact change too (they are cached).
          expect(model.otherNodeAddresses()).toEqual(otherNodeAddresses(nodes.values(), proxyNodeName(facts)));
        };
        for (const op of ops) {
          switch (op.op) {
            case 'upsertService':
              services.set(op.svc.name, op.svc);
              model.upsertService(op.svc);
              break;
            case 'deleteService':
              services.delete(op.name);
              model.deleteService('ns', op.name);
              break;
            case 'upsertSlice':
              slices.set(op.slice.name, op.slice);
              model.upsertEndpointSlice(op.slice);
              break;
            case 'deleteSlice':
              slices.delete(op.name);
              model.deleteEndpointSlice('ns', op.name);
              break;
            case 'upsertNode':
              nodes.set(op.node.name, op.node);
              model.upsertNode(op.node);
              break;
            case 'deleteNode':
              nodes.delete(op.name);
              model.deleteNode(op.name);
              break;
            case 'config':
              cfg = op.config;
              model.setConfig(cfg);
              break;
            case 'facts':
              facts = op.facts;
              model.setNodeFacts(facts);
              break;
            case 'current':
              check();
              break;
          }
        }
        check();
      }),
      { numRuns: 300 },
    );
  });

  it('load() replaces every object', () => {
    const model = new DesiredStateModel(config(), nodeFacts());
    model.upsertService(service('ns/old', { clusterIPs: ['10.96.0.9'] }));
    expect(model.current().virtualServers.map((v) => v.key)).toEqual(['TCP/10.96.0.9:80']);
    const svc = service('ns/new');
    const s = slice('ns/new', [endpoint('10.0.0.1')]);
    model.load({ services: [svc], endpointSlices: [s], nodes: [nodeObject('node-a', [], 'zone-a')] });
    expect(model.current()).toEqual(computeDesiredState({ services: [svc], endpointSlices: [s], nodes: [nodeObject('node-a', [], 'zone-a')] }, config(), nodeFacts()));
    expect(model.snapshot()).toEqual({ services: [svc], endpointSlices: [s], nodes: [nodeObject('node-a', [], 'zone-a')], kubeProxyConfigMap: null });
  });

  it('a returned state is not changed by later updates', () => {
    const model = new DesiredStateModel(config(), nodeFacts());
    model.upsertService(service('ns/svc'));
    model.upsertEndpointSlice(slice('ns/svc', [endpoint('10.0.0.1')]));
    const before = model.current();
    const copy = JSON.stringify(before);
    model.upsertEndpointSlice(slice('ns/svc', [endpoint('10.0.0.2')]));
    const after = model.current();
    expect(JSON.stringify(before)).toBe(copy);
    expect(after.virtualServers[0]?.realServers.map((r) => r.address)).toEqual(['10.0.0.2']);
  });

  describe('fed by the informers, as the agent feeds it', () => {
    /**
     * The path production takes: a wire object is cached as toCached converts it (as the informers
     * do) and reaches the model through WatchClusterSource, whose applyEvent upserts the converted
     * form and deletes when it is null. The watch is a stand-in that is always synced.
     */
    function informerFed(): { source: WatchClusterSource; send: (event: ClusterEvent) => void } {
      let onChange: (event: ClusterEvent) => void = () => undefined;
      const status: ClusterWatchStatus = { synced: true, perResource: {} as ClusterWatchStatus['perResource'], lastError: null, unreachableSince: null };
      const watch: ClusterWatch = { status: () => status, whenSynced: () => Promise.resolve(), cached: () => [], stop: () => Promise.resolve() };
      const source = new WatchClusterSource((handler) => {
        onChange = handler;
        return watch;
      }, () => new Date());
      return { source, send: (event) => onChange(event) };
    }

    /** An object already in the model's form, cached under its own namespace/name. */
    function cached<M extends { namespace?: string; name: string }>(converted: M): CachedObject<M> {
      return { metadata: { namespace: converted.namespace, name: converted.name }, converted, problem: null };
    }

    it.each<{ name: string; events: ClusterEvent[]; expected: string[] }>([
      {
        name: 'a Service object upserts the Service',
        events: [{ type: 'update', resource: 'service', object: toCached('service', { metadata: { namespace: 'ns', name: 'svc' }, spec: { clusterIP: '10.96.0.7', ports: [{ name: 'http', port: 80 }] } }) }],
        expected: ['TCP/10.96.0.7:80 -> 10.0.0.1:8080'],
      },
      {
        name: 'a Service object that gains the service-proxy-name label deletes the Service',
        events: [
          {
            type: 'update',
            resource: 'service',
            object: toCached('service', {
              metadata: { namespace: 'ns', name: 'svc', labels: { 'service.kubernetes.io/service-proxy-name': 'other' } },
              spec: { clusterIP: '10.96.0.50', ports: [{ name: 'http', port: 80 }] },
            }),
          },
        ],
        expected: [],
      },
      {
        name: 'an EndpointSlice object upserts the slice',
        events: [
          {
            type: 'update',
            resource: 'endpointslice',
            object: toCached('endpointslice', {
              metadata: { namespace: 'ns', name: 'svc-abcde', labels: { 'kubernetes.io/service-name': 'svc' } },
              addressType: 'IPv4',
              ports: [{ name: 'http', port: 9090, protocol: 'TCP' }],
              endpoints: [{ addresses: ['10.0.0.9'] }],
            }),
          },
        ],
        expected: ['TCP/10.96.0.50:80 -> 10.0.0.9:9090'],
      },
      {
        name: 'an EndpointSlice object kube-proxy would not see deletes the slice',
        events: [
          {
            type: 'update',
            resource: 'endpointslice',
            object: toCached('endpointslice', {
              metadata: { namespace: 'ns', name: 'svc-abcde', labels: { 'kubernetes.io/service-name': 'svc', 'service.kubernetes.io/headless': '' } },
              addressType: 'IPv4',
            }),
          },
        ],
        expected: ['TCP/10.96.0.50:80 ->'],
      },
      {
        name: "this node's Node object changes the zone used by hints",
        events: [
          { type: 'update', resource: 'endpointslice', object: cached(slice('ns/svc', [endpoint('10.0.0.1', { zoneHints: ['zone-a'] }), endpoint('10.0.0.2', { zoneHints: ['zone-b'] })])) },
          { type: 'add', resource: 'node', object: toCached('node', { metadata: { name: 'node-a', labels: { 'topology.kubernetes.io/zone': 'zone-b' } } }) },
        ],
        expected: ['TCP/10.96.0.50:80 -> 10.0.0.2:8080'],
      },
    ])('$name', ({ events, expected }) => {
      const { source, send } = informerFed();
      send({ type: 'add', resource: 'service', object: cached(service('ns/svc')) });
      send({ type: 'add', resource: 'endpointslice', object: cached(slice('ns/svc', [endpoint('10.0.0.1')])) });
      source.current(nodeFacts(), config());
      for (const event of events) send(event);
      const desired = source.current(nodeFacts(), config()).desired;
      expect(desired?.virtualServers.map((v) => `${v.key} -> ${v.realServers.map((r) => `${r.address}:${r.port}`).join(' ')}`.trimEnd())).toEqual(expected);
    });
  });
});
