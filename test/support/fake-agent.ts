/**
 * An Agent over one fake node and one trusted cluster, on a clock the test moves: the node's IPVS
 * table is what the test sets, kube-proxy runs in IPVS mode, every other source fails to read (its
 * checks say nothing), and the cluster wants kube-dns's one real server. For tests of the agent's
 * poll-to-poll behaviour (log lines, observers, the heap hook).
 */
import { Agent, type AgentDeps, type AgentLogger } from '../../src/agent/agent.js';
import type { ClusterSource } from '../../src/agent/cluster-source.js';
import type { IpvsSnapshot } from '../../src/ipvs/types.js';
import { desired, expectedVs, snapshot } from './builders.js';

export interface FakeAgent {
  agent: Agent;
  setTable(table: IpvsSnapshot): void;
  advance(ms: number): void;
}

export function fakeAgent(deps: { logger: AgentLogger; graceMs: number; startsAt: string } & Pick<AgentDeps, 'heap' | 'observers'>): FakeAgent {
  let table = snapshot([]);
  let clock = Date.parse(deps.startsAt);
  const want = desired([expectedVs('TCP/10.96.0.10:53', ['10.244.1.4:53'])], { families: ['inet'] });
  const cluster: ClusterSource = {
    current: () => ({ desired: want, nodeAddresses: null, unknownReason: null, synced: true, kubeProxyConfigMap: null }),
    kubeProxyConfigMap: () => null,
    hasNode: () => true,
    stop: () => Promise.resolve(),
  };
  const unavailable = (): Promise<never> => Promise.reject(new Error('not read in this test'));
  const agent = new Agent({
    options: { nodeName: 'worker-1', pollIntervalMs: 2000, graceMs: deps.graceMs, scheduler: null },
    node: {
      netlink: () => Promise.resolve(table),
      modules: unavailable,
      sysctl: unavailable,
      'kube-proxy': () => Promise.resolve({ runningMode: 'ipvs', configz: null, problems: [] }),
      interfaces: unavailable,
      ipsets: unavailable,
      netfilter: unavailable,
      'kube-proxy-health': unavailable,
      conntrack: unavailable,
    },
    cluster,
    logger: deps.logger,
    ...(deps.heap === undefined ? {} : { heap: deps.heap }),
    ...(deps.observers === undefined ? {} : { observers: deps.observers }),
    now: () => new Date(clock),
    monotonicMs: () => clock,
  });
  return { agent, setTable: (t) => (table = t), advance: (ms) => (clock += ms) };
}
