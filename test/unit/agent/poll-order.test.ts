/**
 * The order of a poll's reads (src/agent/agent.ts readNode): the IPVS table first and alone, so no
 * other source's work runs in the turns the read gives the event loop (issue 17), then every other
 * source at once; with the table read in a thread of its own (the one-shot commands), everything at
 * once, and the desired state computed while the table is still being read.
 */
import { describe, expect, it } from 'vitest';
import { Agent, type NodeSources } from '../../../src/agent/agent.js';
import type { ClusterSource } from '../../../src/agent/cluster-source.js';
import { desired, snapshot } from '../../support/builders.js';

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * An agent whose every node source logs when it starts and ends, each taking two event-loop turns
 * (the IPVS table `ipvsTurns`), and whose cluster logs when the desired state is asked for.
 */
function recordingAgent(options: { ipvsAlone?: boolean; ipvsTurns?: number } = {}): { agent: Agent; events: string[] } {
  const events: string[] = [];
  const source =
    <T,>(name: string, value: T, turns = 2) =>
    async (): Promise<T> => {
      events.push(`start ${name}`);
      for (let i = 0; i < turns; i++) await turn();
      events.push(`end ${name}`);
      return value;
    };
  const failing =
    (name: string) =>
    async (): Promise<never> => {
      await source(name, null)();
      throw new Error('not read in this test');
    };
  const node: NodeSources = {
    netlink: source('netlink', snapshot([]), options.ipvsTurns),
    modules: failing('modules'),
    sysctl: failing('sysctl'),
    'kube-proxy': source('kube-proxy', { runningMode: 'ipvs', configz: null, problems: [] }),
    'kube-proxy-health': failing('kube-proxy-health'),
    interfaces: failing('interfaces'),
    ipsets: failing('ipsets'),
    netfilter: failing('netfilter'),
    conntrack: failing('conntrack'),
  };
  const cluster: ClusterSource = {
    current: () => {
      events.push('desired state');
      return { desired: desired([], { families: ['inet'] }), nodeAddresses: null, unknownReason: null, synced: true, kubeProxyConfigMap: null };
    },
    kubeProxyConfigMap: () => null,
    hasNode: () => true,
    stop: () => Promise.resolve(),
  };
  const quiet = (): void => undefined;
  const agent = new Agent({
    options: { nodeName: 'worker-1', pollIntervalMs: 2000, graceMs: 0, scheduler: null, ...(options.ipvsAlone === undefined ? {} : { ipvsAlone: options.ipvsAlone }) },
    node,
    cluster,
    logger: { info: quiet, warn: quiet, error: quiet, debug: quiet },
  });
  return { agent, events };
}

describe('a poll reads', () => {
  it('the IPVS table first and alone, then every other source at once', async () => {
    const { agent, events } = recordingAgent();
    await agent.pollOnce();
    expect(events.slice(0, 2)).toEqual(['start netlink', 'end netlink']);
    const rest = events.slice(2);
    const others = ['modules', 'sysctl', 'kube-proxy', 'kube-proxy-health', 'interfaces', 'ipsets', 'netfilter', 'conntrack'];
    expect(rest.filter((e) => e.startsWith('start')).sort()).toEqual(others.map((o) => `start ${o}`).sort());
    // At once: every other source has started before the first of them ends.
    const firstEnd = rest.findIndex((e) => e.startsWith('end'));
    expect(rest.slice(0, firstEnd)).toHaveLength(others.length);
    expect(events.at(-1)).toBe('desired state');
  });

  it('with the table read in its own thread: every source at once, the desired state before the table is there', async () => {
    const { agent, events } = recordingAgent({ ipvsAlone: false, ipvsTurns: 20 });
    await agent.pollOnce();
    const firstEnd = events.findIndex((e) => e.startsWith('end'));
    expect(events.slice(0, firstEnd)).toHaveLength(9);
    expect(events.at(-1)).toBe('end netlink');
    expect(events.indexOf('desired state')).toBeLessThan(events.indexOf('end netlink'));
    // The table still reaches the verdict.
    expect(agent.snapshot()).not.toBeNull();
  });
});
