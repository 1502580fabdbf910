/**
 * `ipvs-sentinel migration` end to end over recorded node readings: the agent's poll with a file
 * cluster, the report rendered, the exit code from the verdict; and /migration's cache per poll.
 */
import { describe, expect, it } from 'vitest';
import { Agent, type NodeSources } from '../../../src/agent/agent.js';
import { FileClusterSource } from '../../../src/agent/cluster-source.js';
import { parseCommandLine } from '../../../src/cli/flags.js';
import { runMigration } from '../../../src/cli/migration.js';
import type { ClusterSnapshot } from '../../../src/cluster/model.js';
import { computeDesiredState } from '../../../src/desired/compute.js';
import { MigrationReporter } from '../../../src/migration/reporter.js';
import type { HostSockets } from '../../../src/node/sockets.js';
import { config, endpoint, nodeFacts, port, service, slice } from '../../support/cluster-builders.js';
import { cleanCluster, ipvsSysctls, NODE, tableOf } from '../../support/migration-input.js';

function agentOver(cluster: ClusterSnapshot): Agent {
  const facts = nodeFacts({ name: NODE });
  const table = tableOf(computeDesiredState(cluster, config(), facts));
  const notHere = (): Promise<never> => Promise.reject(new Error('not read in this test'));
  const node = {
    netlink: () => Promise.resolve(table),
    modules: () => Promise.resolve({ release: '6.1.0-56-amd64', loaded: [], builtin: new Set<string>(), procNetIpvs: true, conntrackSysctls: true, problems: [] }),
    sysctl: () => Promise.resolve(ipvsSysctls()),
    'kube-proxy': () => Promise.resolve({ runningMode: 'ipvs', configz: { 'kubeproxy.config.k8s.io': { mode: 'ipvs', ipvs: { scheduler: 'rr' } } }, problems: [] }),
    interfaces: () => Promise.resolve(facts.interfaces),
    ipsets: () => Promise.resolve({ readable: true, sets: new Map() }),
    netfilter: notHere,
    'kube-proxy-health': notHere,
    conntrack: notHere,
  } as unknown as NodeSources;
  return new Agent({
    options: { nodeName: NODE, pollIntervalMs: 1000, graceMs: 0, scheduler: null },
    node,
    cluster: new FileClusterSource(cluster),
    logger: { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} },
    now: () => new Date('2026-01-01T00:00:00Z'),
  });
}

const noSockets = (): Promise<HostSockets> => Promise.resolve({ sockets: [], problems: [] });

async function run(argv: string[], cluster: ClusterSnapshot, readSockets = noSockets): Promise<{ code: number; out: string }> {
  let out = '';
  const io = { stdout: (t: string) => void (out += t), stderr: () => {}, env: {} };
  const agent = agentOver(cluster);
  const code = await runMigration(parseCommandLine(argv, {}).options, io, { agent, cluster: new FileClusterSource(cluster), whenClusterReady: () => Promise.resolve(), readSockets });
  return { code, out };
}

describe('ipvs-sentinel migration', () => {
  it('a clean node: exit 0, READY in the first line', async () => {
    const { code, out } = await run(['migration'], cleanCluster());
    expect(out.split('\n')[0]).toBe(`READY: node ${NODE} can switch to nftables mode; nothing it shows behaves differently`);
    expect(code).toBe(0);
  });

  it('a node with a blocker: exit 1, the blocker in the JSON with its evidence', async () => {
    const cluster = cleanCluster();
    cluster.services.push(service('shop/cart', { type: 'NodePort', clusterIPs: ['10.96.0.60'], internalTrafficPolicy: 'Local', ports: [port('http', 80, { nodePort: 30080 })] }));
    cluster.endpointSlices.push(slice('shop/cart', [endpoint('10.244.1.7', { nodeName: 'node-b' })]));
    const { code, out } = await run(['migration', '--output', 'json', '--kube-proxy-version', '1.33.4'], cluster);
    const report = JSON.parse(out) as { verdict: string; kubeProxy: { version: string }; findings: { id: string; evidence: { ref: string }[] }[] };
    expect(code).toBe(1);
    expect(report.verdict).toBe('blocked');
    expect(report.kubeProxy.version).toBe('v1.33.4');
    expect(report.findings.find((f) => f.id === 'itp-local-fallback')?.evidence.map((e) => e.ref)).toEqual(['TCP/10.96.0.60:80']);
  });

  it('unreadable sockets: exit 2, the verdict unknown and why', async () => {
    const { code, out } = await run(['migration', '--output', 'markdown'], cleanCluster(), () => Promise.resolve({ sockets: [], problems: ['cannot read /proc/net/tcp: EACCES'] }));
    expect(code).toBe(2);
    expect(out).toContain('**UNKNOWN: no blocker found on node node-a, but sockets could not be read');
    expect(out).toContain('- **sockets**: cannot read /proc/net/tcp: EACCES — hides `vip-bound-socket`');
  });

  it('--output markdown belongs to migration only', () => {
    expect(() => parseCommandLine(['check', '--output', 'markdown'], {})).toThrow(/takes table or json, not "markdown"/);
  });
});

describe('the agent\'s report cache', () => {
  it('builds once per poll, on request, and reads the sockets then', async () => {
    const agent = agentOver(cleanCluster());
    let reads = 0;
    const reporter = new MigrationReporter(agent, { readSockets: () => ((reads += 1), noSockets()) });
    expect(reporter.report()).toBeNull();
    await agent.pollOnce();
    expect(reporter.current()).toBeNull();
    const first = await reporter.report();
    expect(await reporter.report()).toBe(first);
    expect(reads).toBe(1);
    await agent.pollOnce();
    expect(reporter.current()).toBeNull();
    expect(await reporter.report()).not.toBe(first);
    expect(reads).toBe(2);
  });
});
