/**
 * The agent's Service lookup by virtual-server key (AgentView.lookup, used by /ipvs and /metrics):
 * it follows the desired state from poll to poll, whether the model hands out the same virtual
 * servers again (src/agent/agent.ts keeps its map then) or new ones.
 */
import { describe, expect, it } from 'vitest';
import { Agent } from '../../../src/agent/agent.js';
import type { ClusterSource } from '../../../src/agent/cluster-source.js';
import type { DesiredState, ExpectedVirtualServer } from '../../../src/desired/types.js';
import { desired, expectedVs, snapshot } from '../../support/builders.js';

const DNS = expectedVs('TCP/10.96.0.10:53', ['10.244.1.4:53'], { service: { namespace: 'kube-system', name: 'kube-dns', port: 'dns-tcp' } });
const WEB = expectedVs('TCP/10.96.7.7:80', ['10.244.2.9:8080'], { service: { namespace: 'shop', name: 'web', port: 'http' } });
const WEB_MOVED = { ...WEB, service: { namespace: 'shop', name: 'web-v2', port: 'http' } };

/** An agent whose cluster wants, at each poll, the next desired state of the list (the last one then on). */
function agentOver(states: (DesiredState | null)[]): Agent {
  let poll = 0;
  const cluster: ClusterSource = {
    current: () => {
      const state = states[Math.min(poll++, states.length - 1)] ?? null;
      return { desired: state, nodeAddresses: null, unknownReason: state ? null : 'not synced', synced: state !== null, kubeProxyConfigMap: null };
    },
    kubeProxyConfigMap: () => null,
    hasNode: () => true,
    stop: () => Promise.resolve(),
  };
  const unavailable = (): Promise<never> => Promise.reject(new Error('not read in this test'));
  const quiet = (): void => undefined;
  return new Agent({
    options: { nodeName: 'worker-1', pollIntervalMs: 2000, graceMs: 0, scheduler: null },
    node: {
      netlink: () => Promise.resolve(snapshot([])),
      modules: unavailable,
      sysctl: unavailable,
      'kube-proxy': () => Promise.resolve({ runningMode: 'ipvs', configz: null, problems: [] }),
      'kube-proxy-health': unavailable,
      interfaces: unavailable,
      ipsets: unavailable,
      netfilter: unavailable,
      conntrack: unavailable,
    },
    cluster,
    logger: { info: quiet, warn: quiet, error: quiet, debug: quiet },
  });
}

const names = (agent: Agent): (string | null)[] => [DNS.key, WEB.key].map((key) => agent.lookup(key)?.name ?? null);

describe('the Service lookup across polls', () => {
  const dnsOnly = [DNS];
  const both = [DNS, WEB];
  it.each<[string, (ExpectedVirtualServer[] | null)[], (string | null)[][]]>([
    ['the same virtual servers again', [both, both, both], [['kube-dns', 'web'], ['kube-dns', 'web'], ['kube-dns', 'web']]],
    ['a virtual server added', [dnsOnly, both], [['kube-dns', null], ['kube-dns', 'web']]],
    ['a virtual server removed', [both, dnsOnly], [['kube-dns', 'web'], ['kube-dns', null]]],
    ['a virtual server replaced by another Service', [both, [DNS, WEB_MOVED]], [['kube-dns', 'web'], ['kube-dns', 'web-v2']]],
    ['the cluster not trusted for a poll: the last lookup kept', [both, null, dnsOnly], [['kube-dns', 'web'], ['kube-dns', 'web'], ['kube-dns', null]]],
  ])('%s', async (_, polls, expected) => {
    // One list object per distinct content, handed out again as the incremental model does.
    const states = polls.map((vss) => (vss === null ? null : desired(vss, { families: ['inet'] })));
    const agent = agentOver(states);
    const seen: (string | null)[][] = [];
    for (let i = 0; i < polls.length; i++) {
      await agent.pollOnce();
      seen.push(names(agent));
    }
    expect(seen).toEqual(expected);
  });

  it('follows a desired state whose list was changed in place since the last poll', async () => {
    const state = desired([DNS], { families: ['inet'] });
    const agent = agentOver([state]);
    await agent.pollOnce();
    state.virtualServers.push(WEB);
    await agent.pollOnce();
    expect(names(agent)).toEqual(['kube-dns', 'web']);
  });
});
