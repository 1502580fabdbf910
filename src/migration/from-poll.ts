/**
 * The migration input from what one agent poll read (the node sources, kube-proxy's configuration,
 * the desired state, the cluster's objects) plus the host's sockets, read on request. Pure: the
 * poll's readings in, the report's input out; a source that failed is null with its error line.
 */
import type { KubeProxyConfig, KubeProxyConfigSource } from '../cluster/kube-proxy-config.js';
import type { ClusterSnapshot, Service } from '../cluster/model.js';
import { namespacedKey } from '../cluster/model.js';
import type { NodeReadingsOf, Reading } from '../checks/sources.js';
import { primaryNodeIP } from '../desired/node-addresses.js';
import type { DesiredState } from '../desired/types.js';
import type { IpvsSnapshot } from '../ipvs/types.js';
import type { HostSockets } from '../node/sockets.js';
import type { MigrationInput } from './types.js';

export interface PollReadings {
  node: string;
  /** When the poll ran. */
  polledAt: Date;
  readings: NodeReadingsOf;
  runningMode: string | null;
  config: { config: KubeProxyConfig; source: KubeProxyConfigSource } | null;
  desired: DesiredState | null;
  /** Why the desired state is null. */
  clusterUnknown: string | null;
  /** The cluster's objects, null when the cache holds none we can trust. */
  cluster: ClusterSnapshot | null;
}

export interface RequestFacts {
  sockets: HostSockets | null;
  kubeProxyVersion: string | null;
  targetVersion: string | null;
}

/** ip_vs not loaded means no IPVS table at all, which is what a node after a clean switch shows. */
function tableOf(reading: Reading<IpvsSnapshot>, at: Date): IpvsSnapshot | null {
  if (reading.value) return reading.value;
  if (reading.code === 'IPVS_UNAVAILABLE') return { readAt: at, durationMs: 0, info: null, timeouts: null, services: [], unknownAttributes: [] };
  return null;
}

export function migrationInputFromPoll(poll: PollReadings, facts: RequestFacts): MigrationInput {
  const { readings } = poll;
  const unread: Record<string, string> = {};
  const value = <T>(name: string, reading: Reading<T>): T | null => {
    if (reading.value === null) unread[name] = reading.error ?? 'not read';
    return reading.value;
  };
  const snapshot = tableOf(readings.netlink, poll.polledAt);
  if (snapshot === null) unread.snapshot = readings.netlink.error ?? 'not read';
  if (poll.desired === null) unread.desired = poll.clusterUnknown ?? 'the desired state is not known yet';
  let services: Map<string, Service> | null = null;
  let primaryNodeIPs: string[] | null = null;
  if (poll.cluster && poll.clusterUnknown === null) {
    services = new Map(poll.cluster.services.map((s) => [namespacedKey(s.namespace, s.name), s]));
    const own = poll.cluster.nodes.find((n) => n.name === poll.node) ?? null;
    primaryNodeIPs = (['inet', 'inet6'] as const).flatMap((f) => primaryNodeIP(own, f) ?? []);
  } else {
    unread.services = poll.clusterUnknown ?? 'the cluster objects are not available';
    unread.primaryNodeIPs = unread.services;
  }
  if (poll.config === null) unread.config = 'kube-proxy\'s configuration is not known yet';
  let sockets = null;
  if (facts.sockets === null) unread.sockets = 'not read';
  else if (facts.sockets.sockets.length === 0 && facts.sockets.problems.length > 0) unread.sockets = facts.sockets.problems.join('; ');
  else sockets = facts.sockets.sockets;
  return {
    node: poll.node,
    generatedAt: poll.polledAt,
    runningMode: poll.runningMode,
    config: poll.config?.config ?? null,
    configSource: poll.config?.source ?? null,
    kubeProxyVersion: facts.kubeProxyVersion,
    targetVersion: facts.targetVersion,
    snapshot,
    desired: poll.desired,
    services,
    primaryNodeIPs,
    interfaces: value('interfaces', readings.interfaces),
    sysctls: value('sysctls', readings.sysctl),
    modules: value('modules', readings.modules),
    sockets,
    ipsets: value('ipsets', readings.ipsets),
    netfilter: value('netfilter', readings.netfilter),
    unread,
  };
}
