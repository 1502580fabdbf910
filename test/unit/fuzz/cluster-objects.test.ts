/**
 * Cluster objects as the API (or a state file) hands them over: the converters of
 * src/cluster/convert.ts and the cache edge of src/cluster/cached.ts. The watch-event and list-page
 * validators have their own properties (test/unit/cluster/watch-event.test.ts); these cover what
 * comes after them. A Service, EndpointSlice or Node the API could serve converts to exactly the
 * model it describes, however its addresses are spelled; any object shaped like one — wrong types in
 * every field, long arrays, deep nesting — converts to a model, to null (an object kube-proxy
 * ignores) or to CLUSTER_STATE_INVALID, and what comes out is canonical and no bigger than what went in.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { statusDetail } from '../../../src/cluster/api-error.js';
import { checkCached, toCached, type ClusterResource } from '../../../src/cluster/cached.js';
import { endpointSliceFromObject, nodeFromObject, serviceFromObject } from '../../../src/cluster/convert.js';
import {
  LABEL_HEADLESS,
  LABEL_SERVICE_NAME,
  LABEL_SERVICE_PROXY_NAME,
  LABEL_TOPOLOGY_ZONE,
  type Endpoint,
  type EndpointSlice,
  type Node,
  type Service,
} from '../../../src/cluster/model.js';
import type { AddressFamily, Protocol } from '../../../src/ipvs/types.js';
import { canonicalNetwork } from '../../../src/util/cidr.js';
import { canonicalAddress, formatAddress } from '../../../src/util/ip.js';
import { AWKWARD_NAMES, valueOrCoded } from './hostile.js';

const INVALID = ['CLUSTER_STATE_INVALID'] as const;

// ---- objects the API could serve: the round trip ------------------------------------------------

const family = fc.constantFrom<AddressFamily>('inet', 'inet6');
const addressOf = (f: AddressFamily): fc.Arbitrary<string> => fc.uint8Array({ minLength: f === 'inet' ? 4 : 16, maxLength: f === 'inet' ? 4 : 16 }).map((b) => formatAddress(f, b));
const address = family.chain(addressOf);
/** How a person or a tool may write an address the API still accepts: upper case, padded with spaces. */
const spelled = (text: string): fc.Arbitrary<string> => fc.constantFrom(text, text.toUpperCase(), ` ${text}`, `${text}\t`);
const network = fc.tuple(family, fc.nat()).chain(([f, n]) => addressOf(f).map((a) => canonicalNetwork(`${a}/${n % (f === 'inet' ? 33 : 129)}`) as string));
const dnsName = fc.stringMatching(/^[a-z0-9]([a-z0-9.-]{0,20}[a-z0-9])?$/);
const protocol = fc.constantFrom<Protocol>('TCP', 'UDP', 'SCTP');
const port = fc.integer({ min: 1, max: 65535 });
const trafficPolicy = fc.constantFrom(null, 'Cluster' as const, 'Local' as const);

const service: fc.Arbitrary<Service> = fc.record({
  namespace: dnsName,
  name: dnsName,
  type: fc.constantFrom('ClusterIP' as const, 'NodePort' as const, 'LoadBalancer' as const, 'ExternalName' as const),
  clusterIP: fc.constant(''),
  clusterIPs: fc.array(address, { minLength: 1, maxLength: 2 }),
  ports: fc.array(fc.record({ name: fc.string({ maxLength: 8 }), protocol, port, nodePort: fc.integer({ min: 0, max: 65535 }) }), { maxLength: 4 }),
  externalIPs: fc.array(address, { maxLength: 3 }),
  loadBalancerIngress: fc.array(fc.record({ ip: fc.option(address), ipMode: fc.constantFrom(null, 'VIP' as const, 'Proxy' as const) }), { maxLength: 2 }),
  sessionAffinity: fc.constantFrom('None' as const, 'ClientIP' as const),
  sessionAffinityTimeoutSeconds: fc.integer({ min: 1, max: 86400 }),
  externalTrafficPolicy: trafficPolicy,
  internalTrafficPolicy: trafficPolicy,
  allocateLoadBalancerNodePorts: fc.option(fc.boolean()),
  loadBalancerSourceRanges: fc.array(network, { maxLength: 3 }),
  healthCheckNodePort: fc.integer({ min: 0, max: 65535 }),
}).map((s) => ({ ...s, clusterIP: s.clusterIPs[0] ?? '' }));

/** The Service as `kubectl get -o json` prints it; nulls left out as the API server leaves them out. */
function serviceObject(s: Service, spell: (text: string) => string): Record<string, unknown> {
  const spec: Record<string, unknown> = {
    type: s.type,
    clusterIP: s.clusterIP,
    clusterIPs: s.clusterIPs.map(spell),
    ports: s.ports.map((p) => ({ name: p.name, protocol: p.protocol, port: p.port, ...(p.nodePort === 0 ? {} : { nodePort: p.nodePort }) })),
    externalIPs: s.externalIPs.map(spell),
    sessionAffinity: s.sessionAffinity,
    sessionAffinityConfig: { clientIP: { timeoutSeconds: s.sessionAffinityTimeoutSeconds } },
    loadBalancerSourceRanges: s.loadBalancerSourceRanges,
    healthCheckNodePort: s.healthCheckNodePort,
  };
  if (s.externalTrafficPolicy !== null) spec.externalTrafficPolicy = s.externalTrafficPolicy;
  if (s.internalTrafficPolicy !== null) spec.internalTrafficPolicy = s.internalTrafficPolicy;
  if (s.allocateLoadBalancerNodePorts !== null) spec.allocateLoadBalancerNodePorts = s.allocateLoadBalancerNodePorts;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: s.name, namespace: s.namespace, resourceVersion: '1', labels: { app: s.name } },
    spec,
    status: { loadBalancer: { ingress: s.loadBalancerIngress.map((i) => ({ ...(i.ip === null ? {} : { ip: spell(i.ip) }), ...(i.ipMode === null ? {} : { ipMode: i.ipMode }) })) } },
  };
}

const endpointSlice: fc.Arbitrary<EndpointSlice> = fc.constantFrom('IPv4' as const, 'IPv6' as const).chain((addressType) =>
  fc.record({
    namespace: dnsName,
    name: dnsName,
    serviceName: dnsName,
    addressType: fc.constant(addressType),
    ports: fc.array(fc.record({ name: fc.string({ maxLength: 8 }), protocol, port }), { maxLength: 3 }),
    endpoints: fc.array(
      fc.record({
        address: addressOf(addressType === 'IPv4' ? 'inet' : 'inet6'),
        family: fc.constant<AddressFamily>(addressType === 'IPv4' ? 'inet' : 'inet6'),
        ready: fc.boolean(),
        serving: fc.boolean(),
        terminating: fc.boolean(),
        nodeName: fc.option(dnsName),
        zoneHints: fc.array(dnsName, { maxLength: 2 }),
        nodeHints: fc.array(dnsName, { maxLength: 2 }),
      }),
      { maxLength: 4 },
    ),
  }),
);

/** Conditions the API server leaves out mean ready/serving true and terminating false: leave them out then, sometimes. */
function endpointObject(e: Endpoint, omitDefaults: boolean, spell: (text: string) => string): Record<string, unknown> {
  const conditions: Record<string, boolean> = {};
  if (!(omitDefaults && e.ready)) conditions.ready = e.ready;
  if (!(omitDefaults && e.serving)) conditions.serving = e.serving;
  if (!(omitDefaults && !e.terminating)) conditions.terminating = e.terminating;
  const hints: Record<string, unknown> = {};
  if (e.zoneHints.length > 0) hints.forZones = e.zoneHints.map((name) => ({ name }));
  if (e.nodeHints.length > 0) hints.forNodes = e.nodeHints.map((name) => ({ name }));
  return { addresses: [spell(e.address)], conditions, ...(e.nodeName === null ? {} : { nodeName: e.nodeName }), ...(Object.keys(hints).length > 0 ? { hints } : {}) };
}

function sliceObject(s: EndpointSlice, omitDefaults: boolean, spell: (text: string) => string): Record<string, unknown> {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: s.name, namespace: s.namespace, resourceVersion: '7', labels: { [LABEL_SERVICE_NAME]: s.serviceName, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' } },
    addressType: s.addressType,
    ports: s.ports,
    endpoints: s.endpoints.map((e) => endpointObject(e, omitDefaults, spell)),
  };
}

const node: fc.Arbitrary<Node> = fc.record({
  name: dnsName,
  zone: fc.option(dnsName),
  addresses: fc.array(fc.record({ type: fc.constantFrom('InternalIP' as const, 'ExternalIP' as const), address }), { maxLength: 4 }),
});

function nodeObject(n: Node, spell: (text: string) => string): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: n.name, resourceVersion: '3', labels: { 'kubernetes.io/hostname': n.name, ...(n.zone === null ? {} : { [LABEL_TOPOLOGY_ZONE]: n.zone }) } },
    // kubelet also reports its Hostname, which kube-proxy never uses as an address.
    status: { addresses: [{ type: 'Hostname', address: n.name }, ...n.addresses.map((a) => ({ type: a.type, address: spell(a.address) }))] },
  };
}

/** One spelling per address, chosen by the property. */
const spelling = fc.func(fc.nat({ max: 3 })).map((pick) => (text: string): string => [text, text.toUpperCase(), ` ${text}`, `${text}\t`][pick(text)] ?? text);

describe('objects the API could serve convert to exactly what they describe', () => {
  it('Service, however its addresses are spelled', () => {
    fc.assert(
      fc.property(service, spelling, (s, spell) => {
        expect(serviceFromObject(serviceObject(s, spell))).toEqual(s);
        expect(checkCached('service', serviceObject(s, spell))).toEqual({ ok: true, value: { metadata: { name: s.name, namespace: s.namespace, resourceVersion: '1' }, converted: s, problem: null } });
      }),
      { numRuns: 300 },
    );
  });

  it('EndpointSlice, with its default conditions written or left out', () => {
    fc.assert(
      fc.property(endpointSlice, fc.boolean(), spelling, (s, omitDefaults, spell) => {
        expect(endpointSliceFromObject(sliceObject(s, omitDefaults, spell))).toEqual(s);
      }),
      { numRuns: 300 },
    );
  });

  it('Node: its InternalIP and ExternalIP addresses, never its Hostname', () => {
    fc.assert(
      fc.property(node, spelling, (n, spell) => {
        expect(nodeFromObject(nodeObject(n, spell))).toEqual(n);
      }),
      { numRuns: 300 },
    );
  });

  it('an object with the proxy-name or headless label is one kube-proxy never sees: null', () => {
    fc.assert(
      fc.property(fc.oneof(service.map((s) => serviceObject(s, (t) => t)), endpointSlice.map((s) => sliceObject(s, false, (t) => t))), fc.constantFrom(LABEL_SERVICE_PROXY_NAME, LABEL_HEADLESS), fc.string({ maxLength: 5 }), (obj, label, value) => {
        const metadata = obj.metadata as { labels: Record<string, string> };
        const labelled = { ...obj, metadata: { ...metadata, labels: { ...metadata.labels, [label]: value } } };
        expect(obj.kind === 'Service' ? serviceFromObject(labelled) : endpointSliceFromObject(labelled)).toBeNull();
      }),
      { numRuns: 100 },
    );
  });
});

// ---- objects shaped like them, wrong anywhere ---------------------------------------------------

/** A field's value: a plausible one most of the time, any JSON (deep, long arrays) otherwise. */
const anyJson = fc.jsonValue({ maxDepth: 4 });
const valueFor = (right: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> => fc.oneof({ weight: 3, arbitrary: right }, { weight: 1, arbitrary: anyJson });
const maybe = (fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Record<string, unknown>> => fc.record(fields, { requiredKeys: [] });
const list = (item: fc.Arbitrary<unknown>, maxLength = 5): fc.Arbitrary<unknown> => valueFor(fc.array(item, { maxLength }));
const addressText = valueFor(fc.oneof(address.chain(spelled), fc.constantFrom('None', '', '1.2.3', '::ffff:1.2.3.4', 'fe80::1%eth0', '300.1.1.1', '1:2:3:4:5:6:7:8:9', ...AWKWARD_NAMES)));
const portNumber = valueFor(fc.oneof(port, fc.constantFrom(0, -1, 1.5, 65536, 2 ** 53, Number.MAX_SAFE_INTEGER)));
const word = (...words: string[]): fc.Arbitrary<unknown> => valueFor(fc.constantFrom(...words, ...AWKWARD_NAMES));

const metadata = valueFor(
  maybe({
    name: valueFor(fc.oneof(dnsName, fc.constantFrom('', ...AWKWARD_NAMES))),
    namespace: valueFor(fc.oneof(dnsName, fc.constant(''))),
    resourceVersion: valueFor(fc.constantFrom('1', '')),
    uid: valueFor(fc.uuid()),
    labels: valueFor(fc.dictionary(fc.constantFrom(LABEL_SERVICE_NAME, LABEL_TOPOLOGY_ZONE, LABEL_HEADLESS, LABEL_SERVICE_PROXY_NAME, 'app', '__proto__', 'constructor'), valueFor(dnsName), { maxKeys: 3 })),
  }),
);

const serviceShaped = maybe({
  kind: word('Service', 'Node'),
  metadata,
  spec: valueFor(
    maybe({
      type: word('ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'),
      clusterIP: addressText,
      clusterIPs: list(addressText),
      ports: list(valueFor(maybe({ name: valueFor(fc.string({ maxLength: 4 })), protocol: word('TCP', 'UDP', 'SCTP', 'tcp'), port: portNumber, nodePort: portNumber }))),
      externalIPs: list(addressText),
      sessionAffinity: word('None', 'ClientIP'),
      sessionAffinityConfig: valueFor(maybe({ clientIP: valueFor(maybe({ timeoutSeconds: portNumber })) })),
      externalTrafficPolicy: word('Cluster', 'Local'),
      internalTrafficPolicy: word('Cluster', 'Local'),
      allocateLoadBalancerNodePorts: valueFor(fc.boolean()),
      loadBalancerSourceRanges: list(valueFor(fc.oneof(network, fc.constantFrom('10.0.0.1/33', '10.0.0.0/8/8', 'fe80::/10%eth0', ' 10.1.2.3/8 ')))),
      healthCheckNodePort: portNumber,
    }),
  ),
  status: valueFor(maybe({ loadBalancer: valueFor(maybe({ ingress: list(valueFor(maybe({ ip: addressText, ipMode: word('VIP', 'Proxy') }))) })) })),
});

const sliceShaped = maybe({
  kind: word('EndpointSlice'),
  metadata,
  addressType: word('IPv4', 'IPv6', 'FQDN'),
  ports: list(valueFor(maybe({ name: valueFor(fc.string({ maxLength: 4 })), protocol: word('TCP', 'UDP'), port: portNumber }))),
  endpoints: list(
    valueFor(
      maybe({
        addresses: list(addressText, 3),
        conditions: valueFor(maybe({ ready: valueFor(fc.boolean()), serving: valueFor(fc.boolean()), terminating: valueFor(fc.boolean()) })),
        nodeName: valueFor(dnsName),
        hints: valueFor(maybe({ forZones: list(valueFor(maybe({ name: valueFor(dnsName) }))), forNodes: list(valueFor(maybe({ name: valueFor(dnsName) }))) })),
      }),
    ),
  ),
});

const nodeShaped = maybe({
  kind: word('Node'),
  metadata,
  status: valueFor(maybe({ addresses: list(valueFor(maybe({ type: word('InternalIP', 'ExternalIP', 'Hostname'), address: addressText }))) })),
});

const configMapShaped = maybe({ kind: word('ConfigMap'), metadata, data: valueFor(maybe({ 'config.conf': valueFor(fc.string({ maxLength: 20 })), other: anyJson })) });

/** How long a list was in the object handed in (0 when it was not a list). */
function lengthAt(obj: unknown, ...path: string[]): number {
  let value: unknown = obj;
  for (const key of path) value = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;
  return Array.isArray(value) ? value.length : 0;
}

function expectCanonical(...addresses: (string | null)[]): void {
  for (const a of addresses) if (a !== null) expect(canonicalAddress(a)).toBe(a);
}

function expectPort(n: number): void {
  expect(Number.isInteger(n)).toBe(true);
}

function expectIdentity(x: { namespace?: string; name: string }): void {
  expect(typeof x.name === 'string' && x.name !== '').toBe(true);
  if (x.namespace !== undefined) expect(typeof x.namespace === 'string' && x.namespace !== '').toBe(true);
}

describe('objects shaped like Services, EndpointSlices and Nodes, wrong anywhere', () => {
  it('Service: a canonical model no bigger than the object, null, or CLUSTER_STATE_INVALID', () => {
    fc.assert(
      fc.property(fc.oneof({ weight: 4, arbitrary: serviceShaped }, { weight: 1, arbitrary: anyJson }), (obj) => {
        const s = valueOrCoded(INVALID, () => serviceFromObject(obj));
        if (s === undefined || s === null) return;
        expectIdentity(s);
        expectCanonical(...s.clusterIPs, ...s.externalIPs, ...s.loadBalancerIngress.map((i) => i.ip));
        for (const r of s.loadBalancerSourceRanges ?? []) expect(canonicalNetwork(r)).toBe(r);
        for (const p of s.ports) {
          expect(['TCP', 'UDP', 'SCTP']).toContain(p.protocol);
          expectPort(p.port);
          expectPort(p.nodePort);
        }
        expect(s.ports.length).toBeLessThanOrEqual(lengthAt(obj, 'spec', 'ports'));
        expect(s.clusterIPs.length).toBeLessThanOrEqual(Math.max(1, lengthAt(obj, 'spec', 'clusterIPs')));
        expect(s.externalIPs.length).toBeLessThanOrEqual(lengthAt(obj, 'spec', 'externalIPs'));
        expect(s.loadBalancerIngress.length).toBeLessThanOrEqual(lengthAt(obj, 'status', 'loadBalancer', 'ingress'));
      }),
      { numRuns: 800 },
    );
  });

  it('EndpointSlice: endpoints with canonical addresses of a family, ports with names, null, or CLUSTER_STATE_INVALID', () => {
    fc.assert(
      fc.property(fc.oneof({ weight: 4, arbitrary: sliceShaped }, { weight: 1, arbitrary: anyJson }), (obj) => {
        const s = valueOrCoded(INVALID, () => endpointSliceFromObject(obj));
        if (s === undefined || s === null) return;
        expectIdentity(s);
        expect(s.serviceName).not.toBe('');
        expect(['IPv4', 'IPv6']).toContain(s.addressType);
        for (const e of s.endpoints) {
          expectCanonical(e.address);
          expect(e.address.includes(':')).toBe(e.family === 'inet6');
          for (const b of [e.ready, e.serving, e.terminating]) expect(typeof b).toBe('boolean');
          expect(e.nodeName).not.toBe('');
        }
        for (const p of s.ports) expect(p.port !== 0 && Number.isInteger(p.port)).toBe(true);
        expect(s.endpoints.length).toBeLessThanOrEqual(lengthAt(obj, 'endpoints'));
        expect(s.ports.length).toBeLessThanOrEqual(lengthAt(obj, 'ports'));
      }),
      { numRuns: 800 },
    );
  });

  it('Node: InternalIP/ExternalIP addresses, canonical, a zone that is not empty, or CLUSTER_STATE_INVALID', () => {
    fc.assert(
      fc.property(fc.oneof({ weight: 4, arbitrary: nodeShaped }, { weight: 1, arbitrary: anyJson }), (obj) => {
        const n = valueOrCoded(INVALID, () => nodeFromObject(obj));
        if (n === undefined) return;
        expectIdentity(n);
        expect(n.zone).not.toBe('');
        for (const a of n.addresses) {
          expect(['InternalIP', 'ExternalIP']).toContain(a.type);
          expectCanonical(a.address);
        }
        expect(n.addresses.length).toBeLessThanOrEqual(lengthAt(obj, 'status', 'addresses'));
      }),
      { numRuns: 500 },
    );
  });

  it('checkCached and toCached never throw for any resource: an accepted object has the identity ListWatch keys it by, and its conversion or the problem', () => {
    const RESOURCES: ClusterResource[] = ['service', 'endpointslice', 'node', 'configmap'];
    fc.assert(
      fc.property(fc.constantFrom(...RESOURCES), fc.oneof(serviceShaped, sliceShaped, nodeShaped, configMapShaped, anyJson), (resource, obj) => {
        const cached = toCached(resource, obj);
        expect(cached.converted === null || cached.problem === null).toBe(true);
        if (cached.problem !== null) expect(cached.problem).toMatch(/has no metadata/);
        const checked = checkCached(resource, obj);
        if (!checked.ok) {
          expect(typeof checked.reason).toBe('string');
          return;
        }
        expect(checked.value.metadata.name).not.toBe('');
        expect(typeof checked.value.metadata.resourceVersion).toBe('string');
        if (resource !== 'node') expect(checked.value.metadata.namespace).toBeTruthy();
        expect(checked.value).toEqual(cached);
      }),
      { numRuns: 800 },
    );
  });

  /** `depth` nested objects built without recursion, so no stack depends on the depth. */
  function deep(depth: number, leaf: unknown): unknown {
    let value = leaf;
    for (let i = 0; i < depth; i++) value = { a: value, name: value };
    return value;
  }

  it.each([
    ['100,000-deep objects in every field', (v: unknown) => deep(100_000, v)],
    ['20,000-element arrays in every list', (v: unknown) => Array.from({ length: 20_000 }, () => v)],
  ])('%s: converted by looking only as deep as the model needs, the output no bigger than the input', (_what, fill) => {
    const everywhere = fill(fill('10.0.0.1'));
    const svc = { metadata: { name: 'web', namespace: 'shop', labels: everywhere }, spec: { clusterIPs: everywhere, ports: everywhere, externalIPs: everywhere, sessionAffinityConfig: everywhere, loadBalancerSourceRanges: everywhere }, status: { loadBalancer: { ingress: everywhere } } };
    const s = serviceFromObject(svc);
    expect(s?.ports.length ?? 0).toBeLessThanOrEqual(20_000);
    const slice = { metadata: { name: 'web-1', namespace: 'shop', labels: { [LABEL_SERVICE_NAME]: 'web' } }, addressType: 'IPv4', ports: everywhere, endpoints: everywhere };
    expect(endpointSliceFromObject(slice)?.endpoints.length ?? 0).toBeLessThanOrEqual(20_000);
    expect(nodeFromObject({ metadata: { name: 'n', labels: everywhere }, status: { addresses: everywhere } }).addresses.length).toBeLessThanOrEqual(20_000);
    expect(checkCached('configmap', { metadata: { name: 'kube-proxy', namespace: 'kube-system', resourceVersion: '1' }, data: everywhere }).ok).toBe(true);
  });
});

describe('an API error answer', () => {
  it('statusDetail: any status and body give one bounded line, the Status message when the body is one', () => {
    const body = fc.oneof(fc.string({ maxLength: 700 }), fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)), fc.record({ kind: fc.constant('Status'), message: fc.string({ maxLength: 700 }) }).map((v) => JSON.stringify(v)));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 999 }), body, (status, text) => {
        const detail = statusDetail(status, text);
        expect(detail.length).toBeLessThanOrEqual(500);
        const parsed = ((): unknown => {
          try {
            return JSON.parse(text) as unknown;
          } catch {
            return null;
          }
        })();
        const message = typeof parsed === 'object' && parsed !== null ? (parsed as { message?: unknown }).message : undefined;
        if (typeof message === 'string' && message !== '') expect(detail).toBe(message.slice(0, 500));
        else expect(detail.includes('\n')).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});
