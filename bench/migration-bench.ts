/**
 * Migration-report benchmark: the node report (every evaluator, then the JSON) for a synthetic
 * 10,000-Service / 100,000-endpoint node — every tenth Service a NodePort on two node IPs, every
 * twentieth with internalTrafficPolicy: Local and no local endpoint, every fiftieth with ClientIP
 * affinity — plus 500 host sockets. Prints the median of several builds. Budget: ≤ 200 ms on the host
 * (issue 13); it is built on request, never in the poll loop.
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { KUBE_PROXY_DEFAULTS } from '../src/cluster/kube-proxy-config.js';
import type { Service } from '../src/cluster/model.js';
import { buildMigrationReport } from '../src/migration/report.js';
import { renderMigrationJson } from '../src/migration/render.js';
import type { MigrationInput } from '../src/migration/types.js';
import type { ListeningSocket } from '../src/node/sockets.js';
import { buildSyntheticTable } from './diff-bench.js';

export function buildMigrationInput(services: number, endpointsPerService: number): MigrationInput {
  const { desired, observed } = buildSyntheticTable(services, endpointsPerService);
  const byName = new Map<string, Service>();
  for (let i = 0; i < services; i++) {
    const ns = `ns-${i % 50}`;
    const name = `svc-${i}`;
    byName.set(`${ns}/${name}`, {
      namespace: ns,
      name,
      type: i % 10 === 0 ? 'NodePort' : 'ClusterIP',
      clusterIP: `10.96.${(i >> 8) & 0xff}.${i & 0xff}`,
      clusterIPs: [`10.96.${(i >> 8) & 0xff}.${i & 0xff}`],
      ports: [{ name: 'http', protocol: 'TCP', port: 80, nodePort: i % 10 === 0 ? 30000 + i / 10 : 0 }],
      externalIPs: [],
      loadBalancerIngress: [],
      sessionAffinity: i % 50 === 0 ? 'ClientIP' : 'None',
      sessionAffinityTimeoutSeconds: 10800,
      externalTrafficPolicy: i % 10 === 0 ? 'Cluster' : null,
      internalTrafficPolicy: i % 20 === 0 ? 'Local' : null,
      allocateLoadBalancerNodePorts: null,
    });
  }
  const sockets: ListeningSocket[] = Array.from({ length: 500 }, (_, i) => ({ protocol: i % 2 === 0 ? 'TCP' : 'UDP', family: 'inet', address: i % 100 === 0 ? `10.96.0.${i / 100}` : '0.0.0.0', port: 1000 + i, inode: i, uid: 0 }));
  return {
    node: 'bench-node',
    generatedAt: new Date('2026-01-01T00:00:00Z'),
    runningMode: 'ipvs',
    config: { ...KUBE_PROXY_DEFAULTS, mode: 'ipvs' },
    configSource: 'configz',
    kubeProxyVersion: 'v1.35.0',
    targetVersion: null,
    snapshot: observed,
    desired,
    services: byName,
    primaryNodeIPs: ['172.18.0.2'],
    interfaces: [
      { name: 'eth0', loopback: false, addresses: [{ address: '172.18.0.2', prefixLength: 24, family: 'inet' }] },
      { name: 'eth1', loopback: false, addresses: [{ address: '10.0.0.12', prefixLength: 24, family: 'inet' }] },
    ],
    sysctls: { ipvsPresent: true, values: { 'net.ipv4.vs.conntrack': 1, 'net.ipv4.vs.expire_nodest_conn': 1, 'net.ipv4.vs.expire_quiescent_template': 1, 'net.ipv4.vs.conn_reuse_mode': null, 'net.ipv4.ip_forward': 1, 'net.ipv4.conf.all.arp_ignore': 0, 'net.ipv4.conf.all.arp_announce': 0 }, problems: [] },
    modules: { release: '6.1.0-56-amd64', loaded: [], builtin: new Set(), procNetIpvs: true, conntrackSysctls: true, problems: [] },
    sockets,
    ipsets: { readable: true, sets: new Map() },
    netfilter: null,
    unread: {},
  };
}

export async function runMigrationBench(): Promise<void> {
  const input = buildMigrationInput(10_000, 10);
  const times: number[] = [];
  let findings = 0;
  let bytes = 0;
  for (let run = 0; run < 7; run++) {
    const started = performance.now();
    const report = buildMigrationReport(input);
    bytes = renderMigrationJson(report).length;
    times.push(performance.now() - started);
    findings = report.findings.length;
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)] ?? 0;
  console.log(`migration report, 10,000 Services × 10 endpoints: median ${median.toFixed(1)} ms (min ${(times[0] ?? 0).toFixed(1)}, max ${(times.at(-1) ?? 0).toFixed(1)}) over ${times.length} builds, ${findings} findings, JSON ${(bytes / 1024).toFixed(0)} KiB — budget 200 ms`);
  await Promise.resolve();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runMigrationBench();
