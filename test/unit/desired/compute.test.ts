import { describe, expect, it } from 'vitest';
import type { EndpointSlice, Node, Service } from '../../../src/cluster/model.js';
import { computeDesiredState } from '../../../src/desired/compute.js';
import type { ComputeOptions } from '../../../src/desired/compute.js';
import type { DesiredState, NodeFacts } from '../../../src/desired/types.js';
import type { KubeProxyConfig } from '../../../src/cluster/kube-proxy-config.js';
import { config, endpoint, nodeFacts, nodeObject, port, service, slice } from '../../support/cluster-builders.js';

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

/** "KEY -> rs rs" lines: the compact view the tables below assert. */
function table(state: DesiredState): string[] {
  return state.virtualServers.map((vs) => `${vs.key} ${vs.role} -> ${vs.realServers.map((r) => `${r.address}:${r.port}`).join(' ')}`.trimEnd());
}

const twoEndpoints = slice('ns/svc', [endpoint('10.244.1.5'), endpoint('10.244.2.6', { nodeName: 'node-a' })]);

describe('virtual servers per Service type (docs/kube-proxy-rules.md §1)', () => {
  it.each<{ name: string; svc: Service; expected: string[]; bound: string[] }>([
    {
      name: 'ClusterIP: one VS on the ClusterIP',
      svc: service('ns/svc'),
      expected: ['TCP/10.96.0.50:80 cluster-ip -> 10.244.1.5:8080 10.244.2.6:8080'],
      bound: ['10.96.0.50'],
    },
    {
      name: 'NodePort: ClusterIP + one VS per node IP (not kube-ipvs0, not loopback)',
      svc: service('ns/svc', { type: 'NodePort', ports: [port('http', 80, { nodePort: 30080 })] }),
      expected: [
        'TCP/10.244.0.1:30080 node-port -> 10.244.1.5:8080 10.244.2.6:8080',
        'TCP/10.96.0.50:80 cluster-ip -> 10.244.1.5:8080 10.244.2.6:8080',
        'TCP/192.168.1.10:30080 node-port -> 10.244.1.5:8080 10.244.2.6:8080',
      ],
      bound: ['10.96.0.50'],
    },
    {
      name: 'LoadBalancer with VIP-mode and unset ipMode ingress',
      svc: service('ns/svc', {
        type: 'LoadBalancer',
        ports: [port('http', 80, { nodePort: 30080 })],
        loadBalancerIngress: [
          { ip: '203.0.113.7', ipMode: 'VIP' },
          { ip: '203.0.113.8', ipMode: null },
        ],
      }),
      expected: [
        'TCP/10.244.0.1:30080 node-port -> 10.244.1.5:8080 10.244.2.6:8080',
        'TCP/10.96.0.50:80 cluster-ip -> 10.244.1.5:8080 10.244.2.6:8080',
        'TCP/192.168.1.10:30080 node-port -> 10.244.1.5:8080 10.244.2.6:8080',
        'TCP/203.0.113.7:80 load-balancer -> 10.244.1.5:8080 10.244.2.6:8080',
        'TCP/203.0.113.8:80 load-balancer -> 10.244.1.5:8080 10.244.2.6:8080',
      ],
      bound: ['10.96.0.50', '203.0.113.7', '203.0.113.8'],
    },
    {
      name: 'LoadBalancer with Proxy ipMode, hostname ingress and no node ports: ClusterIP only',
      svc: service('ns/svc', {
        type: 'LoadBalancer',
        allocateLoadBalancerNodePorts: false,
        loadBalancerIngress: [
          { ip: '203.0.113.7', ipMode: 'Proxy' },
          { ip: null, ipMode: null },
        ],
      }),
      expected: ['TCP/10.96.0.50:80 cluster-ip -> 10.244.1.5:8080 10.244.2.6:8080'],
      bound: ['10.96.0.50'],
    },
    {
      name: 'externalIPs: bound unless already on another interface (192.168.1.10 is eth0)',
      svc: service('ns/svc', { externalIPs: ['198.51.100.4', '192.168.1.10'] }),
      expected: [
        'TCP/10.96.0.50:80 cluster-ip -> 10.244.1.5:8080 10.244.2.6:8080',
        'TCP/192.168.1.10:80 external-ip -> 10.244.1.5:8080 10.244.2.6:8080',
        'TCP/198.51.100.4:80 external-ip -> 10.244.1.5:8080 10.244.2.6:8080',
      ],
      bound: ['10.96.0.50', '198.51.100.4'],
    },
    {
      name: 'headless (clusterIP None): nothing',
      svc: service('ns/svc', { clusterIP: 'None', clusterIPs: [] }),
      expected: [],
      bound: [],
    },
    {
      name: 'headless (clusterIP empty): nothing',
      svc: service('ns/svc', { clusterIP: '', clusterIPs: [] }),
      expected: [],
      bound: [],
    },
    {
      name: 'ExternalName, even with a clusterIP: nothing',
      svc: service('ns/svc', { type: 'ExternalName' }),
      expected: [],
      bound: [],
    },
    {
      name: 'IPv6-only Service on the IPv6 proxier, UDP',
      svc: service('ns/svc', { clusterIPs: ['fd00:10:96::10'], ports: [port('http', 53, { protocol: 'UDP' })] }),
      expected: ['UDP/[fd00:10:96::10]:53 cluster-ip ->'],
      bound: ['fd00:10:96::10'],
    },
  ])('$name', ({ svc, expected, bound }) => {
    const state = compute({ services: [svc], slices: [twoEndpoints] });
    expect(table(state)).toEqual(expected);
    expect(state.kubeIpvs0Addresses).toEqual(bound);
  });

  it('a Service port whose protocol has no matching slice port gets a VS without real servers (docs/kube-proxy-rules.md §2.5)', () => {
    const state = compute({ services: [service('ns/svc', { ports: [port('http', 80, { protocol: 'UDP' })] })], slices: [twoEndpoints] });
    expect(table(state)).toEqual(['UDP/10.96.0.50:80 cluster-ip ->']);
  });

  it('an unnamed Service port matches the slice port named ""', () => {
    const svc = service('ns/svc', { ports: [port('', 80)] });
    const s = slice('ns/svc', [endpoint('10.244.1.5')], { ports: [{ name: '', port: 9090 }] });
    expect(table(compute({ services: [svc], slices: [s] }))).toEqual(['TCP/10.96.0.50:80 cluster-ip -> 10.244.1.5:9090']);
  });

  it('ignores an EndpointSlice whose Service does not exist, as kube-proxy does', () => {
    const orphan = slice('ns/gone', [endpoint('10.244.9.9')]);
    const state = compute({ services: [service('ns/svc')], slices: [orphan] });
    expect(table(state)).toEqual(['TCP/10.96.0.50:80 cluster-ip ->']);
  });
});

describe('virtual-server attributes (docs/kube-proxy-rules.md §1.1)', () => {
  it.each<{ name: string; svc: Service; cfg: KubeProxyConfig; scheduler: string; flagBits: number; timeout: number }>([
    { name: 'defaults: rr, no flags', svc: service('ns/svc'), cfg: config(), scheduler: 'rr', flagBits: 0, timeout: 0 },
    {
      name: 'ClientIP with the API default timeout',
      svc: service('ns/svc', { sessionAffinity: 'ClientIP' }),
      cfg: config(),
      scheduler: 'rr',
      flagBits: 0x1,
      timeout: 10800,
    },
    {
      name: 'ClientIP with an explicit timeout',
      svc: service('ns/svc', { sessionAffinity: 'ClientIP', sessionAffinityTimeoutSeconds: 600 }),
      cfg: config({ scheduler: 'wrr' }),
      scheduler: 'wrr',
      flagBits: 0x1,
      timeout: 600,
    },
    { name: 'mh sets the mh-port flag', svc: service('ns/svc'), cfg: config({ scheduler: 'mh' }), scheduler: 'mh', flagBits: 0x10, timeout: 0 },
    {
      name: 'mh with ClientIP',
      svc: service('ns/svc', { sessionAffinity: 'ClientIP', sessionAffinityTimeoutSeconds: 30 }),
      cfg: config({ scheduler: 'mh' }),
      scheduler: 'mh',
      flagBits: 0x11,
      timeout: 30,
    },
    {
      name: 'the timeout is ignored without ClientIP affinity',
      svc: service('ns/svc', { sessionAffinityTimeoutSeconds: 600 }),
      cfg: config({ scheduler: 'sh' }),
      scheduler: 'sh',
      flagBits: 0,
      timeout: 0,
    },
  ])('$name', ({ svc, cfg, scheduler, flagBits, timeout }) => {
    const [vs] = compute({ services: [svc], config: cfg }).virtualServers;
    expect(vs).toMatchObject({ scheduler, flagBits, timeout, netmask: 32, family: 'inet', protocol: 'TCP', port: 80, address: '10.96.0.50' });
    expect(vs?.service).toEqual({ namespace: 'ns', name: 'svc', port: 'http' });
  });

  it('uses /128 for IPv6 virtual servers and formats the key with brackets', () => {
    const [vs] = compute({ services: [service('ns/svc', { clusterIPs: ['fd00::10'] })] }).virtualServers;
    expect(vs).toMatchObject({ key: 'TCP/[fd00::10]:80', netmask: 128, family: 'inet6' });
  });

  it('real servers are masq weight 1, sorted by address then port', () => {
    const s = slice('ns/svc', [endpoint('10.244.10.1'), endpoint('10.244.2.1'), endpoint('10.244.2.1', { nodeName: 'node-c' })], {
      ports: [{ name: 'http', port: 8080 }],
    });
    const s2 = slice('ns/svc', [endpoint('10.244.2.1')], { suffix: 'zzzzz', ports: [{ name: 'http', port: 80 }] });
    const [vs] = compute({ services: [service('ns/svc')], slices: [s, s2] }).virtualServers;
    expect(vs?.realServers).toEqual([
      { address: '10.244.2.1', port: 80, weight: 1, terminatingFallback: false, nodeName: 'node-b' },
      { address: '10.244.2.1', port: 8080, weight: 1, terminatingFallback: false, nodeName: 'node-b' },
      { address: '10.244.10.1', port: 8080, weight: 1, terminatingFallback: false, nodeName: 'node-b' },
    ]);
  });
});

describe('traffic policies (docs/kube-proxy-rules.md §2.3)', () => {
  const remote = endpoint('10.244.2.6', { nodeName: 'node-b' });
  const local = endpoint('10.244.1.5', { nodeName: 'node-a' });
  const nodePortSvc = (overrides: Partial<Service>): Service =>
    service('ns/svc', { type: 'NodePort', ports: [port('http', 80, { nodePort: 30080 })], ...overrides });

  it.each<{ name: string; svc: Service; endpoints: ReturnType<typeof endpoint>[]; clusterIP: string; nodePort: string | null; localOnly: [boolean, boolean | null] }>([
    {
      name: 'ETP Local with a local endpoint: external VSs get only it, ClusterIP all',
      svc: nodePortSvc({ externalTrafficPolicy: 'Local' }),
      endpoints: [local, remote],
      clusterIP: '10.244.1.5:8080 10.244.2.6:8080',
      nodePort: '10.244.1.5:8080',
      localOnly: [false, true],
    },
    {
      name: 'ETP Local without a local endpoint: IPVS falls back to all cluster endpoints',
      svc: nodePortSvc({ externalTrafficPolicy: 'Local' }),
      endpoints: [remote],
      clusterIP: '10.244.2.6:8080',
      nodePort: '10.244.2.6:8080',
      localOnly: [false, false],
    },
    {
      name: 'ITP Local on a ClusterIP Service with a local endpoint',
      svc: service('ns/svc', { internalTrafficPolicy: 'Local' }),
      endpoints: [local, remote],
      clusterIP: '10.244.1.5:8080',
      nodePort: null,
      localOnly: [true, null],
    },
    {
      name: 'ITP Local on a ClusterIP Service without a local endpoint: zero real servers',
      svc: service('ns/svc', { internalTrafficPolicy: 'Local' }),
      endpoints: [remote],
      clusterIP: '',
      nodePort: null,
      localOnly: [true, null],
    },
    {
      name: 'ITP Local on a NodePort Service without a local endpoint: ClusterIP falls back to cluster endpoints',
      svc: nodePortSvc({ internalTrafficPolicy: 'Local' }),
      endpoints: [remote],
      clusterIP: '10.244.2.6:8080',
      nodePort: '10.244.2.6:8080',
      localOnly: [false, false],
    },
    {
      name: 'ETP Local on a plain ClusterIP Service is ignored (not externally accessible)',
      svc: service('ns/svc', { externalTrafficPolicy: 'Local' }),
      endpoints: [local, remote],
      clusterIP: '10.244.1.5:8080 10.244.2.6:8080',
      nodePort: null,
      localOnly: [false, null],
    },
    {
      name: 'ETP and ITP Local with a local terminating endpoint only: the local serving+terminating fallback',
      svc: nodePortSvc({ externalTrafficPolicy: 'Local', internalTrafficPolicy: 'Local' }),
      endpoints: [{ ...local, ready: false, terminating: true }, remote],
      clusterIP: '10.244.1.5:8080',
      nodePort: '10.244.1.5:8080',
      localOnly: [true, true],
    },
  ])('$name', ({ svc, endpoints, clusterIP, nodePort, localOnly }) => {
    const state = compute({ services: [svc], slices: [slice('ns/svc', endpoints)], node: nodeFacts({ interfaces: [nodeFacts().interfaces[1]!] }) });
    const rsOf = (role: string): string | null => {
      const vs = state.virtualServers.find((v) => v.role === role);
      return vs ? vs.realServers.map((r) => `${r.address}:${r.port}`).join(' ') : null;
    };
    expect(rsOf('cluster-ip')).toBe(clusterIP);
    expect(rsOf('node-port')).toBe(nodePort);
    expect(state.virtualServers.find((v) => v.role === 'cluster-ip')?.localOnly).toBe(localOnly[0]);
    expect(state.virtualServers.find((v) => v.role === 'node-port')?.localOnly ?? null).toBe(localOnly[1]);
  });

  it('externalIP and LB VSs follow the external policy', () => {
    const svc = service('ns/svc', {
      type: 'LoadBalancer',
      externalTrafficPolicy: 'Local',
      externalIPs: ['198.51.100.4'],
      loadBalancerIngress: [{ ip: '203.0.113.7', ipMode: null }],
    });
    const state = compute({ services: [svc], slices: [slice('ns/svc', [local, remote])] });
    expect(table(state)).toEqual([
      'TCP/10.96.0.50:80 cluster-ip -> 10.244.1.5:8080 10.244.2.6:8080',
      'TCP/198.51.100.4:80 external-ip -> 10.244.1.5:8080',
      'TCP/203.0.113.7:80 load-balancer -> 10.244.1.5:8080',
    ]);
  });

  it('matches the endpoint node name against the lower-cased node name (hostname-override)', () => {
    const state = compute({ services: [service('ns/svc', { internalTrafficPolicy: 'Local' })], slices: [slice('ns/svc', [local])], node: nodeFacts({ name: ' Node-A ' }) });
    expect(table(state)).toEqual(['TCP/10.96.0.50:80 cluster-ip -> 10.244.1.5:8080']);
  });
});

describe('endpoint conditions (docs/kube-proxy-rules.md §2.1, §2.2)', () => {
  it.each<{ name: string; endpoints: ReturnType<typeof endpoint>[]; expected: string; fallback: boolean }>([
    { name: 'ready endpoints only', endpoints: [endpoint('10.0.0.1'), endpoint('10.0.0.2', { ready: false, serving: false })], expected: '10.0.0.1', fallback: false },
    {
      name: 'ready wins over serving+terminating',
      endpoints: [endpoint('10.0.0.1'), endpoint('10.0.0.2', { ready: false, terminating: true })],
      expected: '10.0.0.1',
      fallback: false,
    },
    {
      name: 'no ready endpoint: serving+terminating fallback',
      endpoints: [endpoint('10.0.0.2', { ready: false, terminating: true }), endpoint('10.0.0.3', { ready: false, serving: false, terminating: true })],
      expected: '10.0.0.2',
      fallback: true,
    },
    { name: 'not ready, serving, not terminating: nothing', endpoints: [endpoint('10.0.0.2', { ready: false })], expected: '', fallback: false },
  ])('$name', ({ endpoints, expected, fallback }) => {
    const [vs] = compute({ services: [service('ns/svc')], slices: [slice('ns/svc', endpoints)] }).virtualServers;
    expect(vs?.realServers.map((r) => r.address).join(' ')).toBe(expected);
    expect(vs?.realServers.every((r) => r.terminatingFallback === fallback)).toBe(true);
  });

  it('collapses duplicates across slices, preferring the local copy', () => {
    const a = slice('ns/svc', [endpoint('10.0.0.1', { nodeName: 'node-b' })], { suffix: 'aaaaa' });
    const b = slice('ns/svc', [endpoint('10.0.0.1', { nodeName: 'node-a' })], { suffix: 'bbbbb' });
    const [vs] = compute({ services: [service('ns/svc', { internalTrafficPolicy: 'Local' })], slices: [b, a] }).virtualServers;
    expect(vs?.realServers).toEqual([{ address: '10.0.0.1', port: 8080, weight: 1, terminatingFallback: false, nodeName: 'node-a' }]);
  });

  it('skips endpoints of the other family and slices of the other address type', () => {
    const mixed = slice('ns/svc', [endpoint('10.0.0.1'), endpoint('fd00::1')]);
    const v6 = slice('ns/svc', [endpoint('fd00::2')], { suffix: 'v6' });
    const state = compute({ services: [service('ns/svc', { clusterIPs: ['10.96.0.50', 'fd00:96::50'] })], slices: [mixed, v6] });
    expect(table(state)).toEqual(['TCP/10.96.0.50:80 cluster-ip -> 10.0.0.1:8080', 'TCP/[fd00:96::50]:80 cluster-ip -> fd00::2:8080']);
  });
});

describe('topology hints (docs/kube-proxy-rules.md §2.2)', () => {
  const hinted = [
    endpoint('10.0.0.1', { zoneHints: ['zone-a'], nodeHints: ['node-a'] }),
    endpoint('10.0.0.2', { zoneHints: ['zone-a'], nodeHints: ['node-x'] }),
    endpoint('10.0.0.3', { zoneHints: ['zone-b'], nodeHints: ['node-y'] }),
  ];
  it.each<{ name: string; endpoints: ReturnType<typeof endpoint>[]; zone: string | null; nodes: Node[]; preferSame: boolean; expected: string }>([
    { name: 'zone hints for this zone (NodeFacts.zone)', endpoints: hinted, zone: 'zone-a', nodes: [], preferSame: false, expected: '10.0.0.1 10.0.0.2' },
    { name: 'the Node object label wins over NodeFacts.zone', endpoints: hinted, zone: 'zone-a', nodes: [nodeObject('node-a', [], 'zone-b')], preferSame: false, expected: '10.0.0.3' },
    { name: 'no hint for this zone: all ready endpoints', endpoints: hinted, zone: 'zone-c', nodes: [], preferSame: false, expected: '10.0.0.1 10.0.0.2 10.0.0.3' },
    { name: 'no zone known: all ready endpoints', endpoints: hinted, zone: null, nodes: [], preferSame: false, expected: '10.0.0.1 10.0.0.2 10.0.0.3' },
    {
      name: 'one ready un-hinted endpoint disables hints',
      endpoints: [...hinted, endpoint('10.0.0.4')],
      zone: 'zone-a',
      nodes: [],
      preferSame: false,
      expected: '10.0.0.1 10.0.0.2 10.0.0.3 10.0.0.4',
    },
    {
      name: 'a not-ready un-hinted endpoint does not disable hints',
      endpoints: [...hinted, endpoint('10.0.0.4', { ready: false })],
      zone: 'zone-a',
      nodes: [],
      preferSame: false,
      expected: '10.0.0.1 10.0.0.2',
    },
    { name: 'node hints with PreferSameTrafficDistribution', endpoints: hinted, zone: 'zone-a', nodes: [], preferSame: true, expected: '10.0.0.1' },
    {
      name: 'node hints not for this node: zone hints apply',
      endpoints: hinted.map((e) => ({ ...e, nodeHints: ['node-z'] })),
      zone: 'zone-b',
      nodes: [],
      preferSame: true,
      expected: '10.0.0.3',
    },
  ])('$name', ({ endpoints, zone, nodes, preferSame, expected }) => {
    const [vs] = compute({
      services: [service('ns/svc')],
      slices: [slice('ns/svc', endpoints)],
      nodes,
      node: nodeFacts({ zone }),
      options: { preferSameTrafficDistribution: preferSame },
    }).virtualServers;
    expect(vs?.realServers.map((r) => r.address).join(' ')).toBe(expected);
  });

  it('the terminating fallback ignores topology', () => {
    const eps = hinted.map((e) => ({ ...e, ready: false, terminating: true }));
    const [vs] = compute({ services: [service('ns/svc')], slices: [slice('ns/svc', eps)], node: nodeFacts({ zone: 'zone-a' }) }).virtualServers;
    expect(vs?.realServers.map((r) => r.address).join(' ')).toBe('10.0.0.1 10.0.0.2 10.0.0.3');
  });
});

describe('dual-stack, excludeCIDRs and conflicts', () => {
  it('computes per family and unions the results', () => {
    const svc = service('ns/svc', { clusterIPs: ['fd00:96::50', '10.96.0.50'], type: 'NodePort', ports: [port('http', 80, { nodePort: 30080 })] });
    const state = compute({ services: [svc], slices: [slice('ns/svc', [endpoint('10.0.0.1')]), slice('ns/svc', [endpoint('fd00::1')], { suffix: 'v6' })] });
    expect(state.virtualServers.map((v) => v.key)).toEqual([
      'TCP/10.244.0.1:30080',
      'TCP/10.96.0.50:80',
      'TCP/192.168.1.10:30080',
      'TCP/[2001:db8::10]:30080',
      'TCP/[fd00:96::50]:80',
    ]);
    expect(state.kubeIpvs0Addresses).toEqual(['10.96.0.50', 'fd00:96::50']);
    expect(state.families).toEqual(['inet', 'inet6']);
  });

  it('lists only the configured families', () => {
    const svc = service('ns/svc', { clusterIPs: ['fd00:96::50', '10.96.0.50'] });
    const state = compute({ services: [svc], options: { families: ['inet'] } });
    expect(state.virtualServers.map((v) => v.key)).toEqual(['TCP/10.96.0.50:80']);
    expect(state.families).toEqual(['inet']);
  });

  it('passes excludeCIDRs through untouched and still expects VSs inside them', () => {
    const state = compute({ services: [service('ns/svc')], config: config({ excludeCIDRs: ['10.96.0.0/24', ' 192.0.2.0/24'] }) });
    expect(state.excludeCIDRs).toEqual(['10.96.0.0/24', ' 192.0.2.0/24']);
    expect(state.virtualServers).toHaveLength(1);
  });

  it('resolves two Services claiming one externalIP:port deterministically and reports the conflict', () => {
    const a = service('ns/alpha', { clusterIPs: ['10.96.0.1'], externalIPs: ['198.51.100.4'] });
    const b = service('ns/beta', { clusterIPs: ['10.96.0.2'], externalIPs: ['198.51.100.4'], sessionAffinity: 'ClientIP' });
    for (const services of [
      [a, b],
      [b, a],
    ]) {
      const state = compute({ services });
      const vs = state.virtualServers.find((v) => v.key === 'TCP/198.51.100.4:80');
      expect(vs?.service.name).toBe('alpha');
      expect(vs?.flagBits).toBe(0);
      expect(state.conflicts).toEqual([
        {
          key: 'TCP/198.51.100.4:80',
          winner: { namespace: 'ns', name: 'alpha', port: 'http' },
          claimants: [
            { namespace: 'ns', name: 'alpha', port: 'http' },
            { namespace: 'ns', name: 'beta', port: 'http' },
          ],
        },
      ]);
    }
  });

  it('an externalIP equal to its own LB VIP is one VS, not a conflict', () => {
    const svc = service('ns/svc', { type: 'LoadBalancer', externalIPs: ['203.0.113.7'], loadBalancerIngress: [{ ip: '203.0.113.7', ipMode: null }] });
    const state = compute({ services: [svc] });
    expect(state.virtualServers.filter((v) => v.key === 'TCP/203.0.113.7:80').map((v) => v.role)).toEqual(['load-balancer']);
    expect(state.conflicts).toEqual([]);
    expect(state.kubeIpvs0Addresses).toEqual(['10.96.0.50', '203.0.113.7']);
  });

  it('later duplicates of a Service replace earlier ones', () => {
    const state = compute({ services: [service('ns/svc', { clusterIPs: ['10.96.0.1'] }), service('ns/svc', { clusterIPs: ['10.96.0.2'] })] });
    expect(state.virtualServers.map((v) => v.key)).toEqual(['TCP/10.96.0.2:80']);
  });
});

describe('UDP Service ports for the conntrack check (CleanStaleEntries in pkg/proxy/conntrack/cleanup.go)', () => {
  const dnsPorts = [port('dns', 53, { protocol: 'UDP' }), port('dns-tcp', 53)];
  const dnsSlice = (endpoints: ReturnType<typeof endpoint>[]): EndpointSlice =>
    slice('kube-system/dns', endpoints, {
      ports: [
        { name: 'dns', protocol: 'UDP', port: 5353 },
        { name: 'dns-tcp', protocol: 'TCP', port: 5353 },
      ],
    });

  it('lists every serving endpoint, terminating ones too, whatever the traffic policies and topology keep in the virtual servers', () => {
    const svc = service('kube-system/dns', {
      type: 'LoadBalancer',
      ports: [port('dns', 53, { protocol: 'UDP', nodePort: 30053 }), port('dns-tcp', 53, { nodePort: 30054 })],
      externalIPs: ['203.0.113.9'],
      loadBalancerIngress: [{ ip: '198.51.100.9', ipMode: null }],
      externalTrafficPolicy: 'Local',
      internalTrafficPolicy: 'Local',
    });
    const state = compute({
      services: [svc],
      slices: [
        dnsSlice([
          endpoint('10.244.1.5', { nodeName: 'node-b', zoneHints: ['zone-b'] }),
          endpoint('10.244.2.6', { nodeName: 'node-a', zoneHints: ['zone-a'] }),
          endpoint('10.244.3.7', { ready: false, serving: true, terminating: true }),
          endpoint('10.244.4.8', { ready: false, serving: false, terminating: true }),
        ]),
      ],
    });
    // The Local policies leave only node-a's endpoint in the virtual servers; the cleanup judges by all serving ones.
    expect(state.virtualServers.find((v) => v.key === 'UDP/10.96.0.50:53')?.realServers.map((r) => r.address)).toEqual(['10.244.2.6']);
    expect(state.udpServicePorts).toEqual([
      {
        service: { namespace: 'kube-system', name: 'dns', port: 'dns' },
        family: 'inet',
        frontends: [
          { address: '10.96.0.50', role: 'cluster-ip' },
          { address: '198.51.100.9', role: 'load-balancer' },
          { address: '203.0.113.9', role: 'external-ip' },
        ],
        port: 53,
        nodePort: 30053,
        servingEndpoints: ['10.244.1.5', '10.244.2.6', '10.244.3.7'],
      },
    ]);
  });

  it('leaves out a UDP port without a serving endpoint, and TCP ports', () => {
    const svc = service('kube-system/dns', { ports: dnsPorts });
    expect(compute({ services: [svc], slices: [dnsSlice([endpoint('10.244.4.8', { ready: false, serving: false, terminating: true })])] }).udpServicePorts).toEqual([]);
    expect(compute({ services: [svc] }).udpServicePorts).toEqual([]);
    expect(compute({ services: [service('ns/svc')], slices: [twoEndpoints] }).udpServicePorts).toEqual([]);
  });
});
