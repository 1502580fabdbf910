/**
 * A node's migration input built the way the agent builds it: the desired state computed from a
 * cluster (computeDesiredState), the IPVS table equal to it, the sysctls kube-proxy sets, a 6.1
 * kernel. `cleanCluster()` gives a node with nothing to report; tests change one thing each.
 */
import type { KubeProxyConfig } from '../../src/cluster/kube-proxy-config.js';
import type { ClusterSnapshot, Service } from '../../src/cluster/model.js';
import { namespacedKey } from '../../src/cluster/model.js';
import { computeDesiredState } from '../../src/desired/compute.js';
import type { DesiredState, NodeFacts } from '../../src/desired/types.js';
import { SVC_FLAG } from '../../src/ipvs/flags.js';
import type { IpvsSnapshot } from '../../src/ipvs/types.js';
import type { MigrationInput } from '../../src/migration/types.js';
import type { SysctlValues } from '../../src/node/sysctl.js';
import { rs, snapshot, vs } from './builders.js';
import { config, endpoint, nodeFacts, nodeObject, port, service, slice } from './cluster-builders.js';

export const NODE = 'node-a';

/** Two ClusterIP Services with endpoints on node-a and node-b; node-a's Node object with its primary IP. */
export function cleanCluster(): ClusterSnapshot {
  return {
    services: [
      service('shop/web', { clusterIPs: ['10.96.0.50'], ports: [port('http', 80)] }),
      service('kube-system/kube-dns', { clusterIPs: ['10.96.0.10'], ports: [port('dns', 53, { protocol: 'UDP' })] }),
    ],
    endpointSlices: [
      slice('shop/web', [endpoint('10.244.0.5', { nodeName: NODE }), endpoint('10.244.1.5', { nodeName: 'node-b' })]),
      slice('kube-system/kube-dns', [endpoint('10.244.1.9', { nodeName: 'node-b' })], { ports: [{ name: 'dns', protocol: 'UDP', port: 53 }] }),
    ],
    nodes: [nodeObject(NODE, ['192.168.1.10']), nodeObject('node-b', ['192.168.1.11'])],
    kubeProxyConfigMap: null,
  };
}

/** The IPVS table kube-proxy programs for `state`: what a node without drift holds. */
export function tableOf(state: DesiredState): IpvsSnapshot {
  return snapshot(
    state.virtualServers.map((e) =>
      vs(e.key, e.realServers.map((r) => rs(`${r.address.includes(':') ? `[${r.address}]` : r.address}:${r.port}`)), {
        scheduler: e.scheduler,
        flagBits: e.flagBits | SVC_FLAG.hashed,
        persistent: (e.flagBits & SVC_FLAG.persistent) !== 0,
        timeout: e.timeout,
      }),
    ),
  );
}

export function ipvsSysctls(overrides: Partial<SysctlValues['values']> = {}): SysctlValues {
  return {
    ipvsPresent: true,
    values: {
      'net.ipv4.vs.conntrack': 1,
      'net.ipv4.vs.expire_nodest_conn': 1,
      'net.ipv4.vs.expire_quiescent_template': 1,
      'net.ipv4.vs.conn_reuse_mode': null,
      'net.ipv4.ip_forward': 1,
      'net.ipv4.conf.all.arp_ignore': 0,
      'net.ipv4.conf.all.arp_announce': 0,
      ...overrides,
    },
    problems: [],
  };
}

export interface InputOptions {
  cluster?: ClusterSnapshot;
  config?: Partial<KubeProxyConfig>;
  facts?: Partial<NodeFacts>;
  /** Replaces the table equal to the desired state. */
  table?: (desired: DesiredState) => IpvsSnapshot;
}

/** The input of a node in IPVS mode; `overrides` replace fields after it is built. */
export function migrationInput(options: InputOptions = {}, overrides: Partial<MigrationInput> = {}): MigrationInput {
  const cluster = options.cluster ?? cleanCluster();
  const cfg = config(options.config);
  const facts = nodeFacts({ name: NODE, ...options.facts });
  const desired = computeDesiredState(cluster, cfg, facts);
  const services = new Map<string, Service>(cluster.services.map((s) => [namespacedKey(s.namespace, s.name), s]));
  return {
    node: NODE,
    generatedAt: new Date('2026-01-01T00:00:00.000Z'),
    runningMode: 'ipvs',
    config: cfg,
    configSource: 'configz',
    kubeProxyVersion: 'v1.35.2',
    targetVersion: null,
    snapshot: (options.table ?? tableOf)(desired),
    desired,
    services,
    primaryNodeIPs: ['192.168.1.10'],
    interfaces: facts.interfaces,
    sysctls: ipvsSysctls(),
    modules: { release: '6.1.0-56-amd64', loaded: [], builtin: new Set(), procNetIpvs: true, conntrackSysctls: true, problems: [] },
    sockets: [],
    ipsets: { readable: true, sets: new Map() },
    netfilter: null,
    unread: {},
    ...overrides,
  };
}
