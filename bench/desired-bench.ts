/**
 * Desired-state benchmark: a synthetic cluster of 10,000 Services and 100,000 endpoints on 50
 * nodes, computed from scratch and then incrementally (one EndpointSlice / one Service changed).
 * Targets: full computation ≤ 100 ms, one EndpointSlice change ≤ 1 ms.
 */
import { performance } from 'node:perf_hooks';
import { KUBE_PROXY_DEFAULTS } from '../src/cluster/kube-proxy-config.js';
import type { ClusterSnapshot, Endpoint, EndpointSlice, Node, Service } from '../src/cluster/model.js';
import { computeDesiredState } from '../src/desired/compute.js';
import { DesiredStateModel } from '../src/desired/model.js';
import type { NodeFacts } from '../src/desired/types.js';

export interface SyntheticClusterSize {
  services: number;
  endpointsPerService: number;
  nodes: number;
}

const NODE_NAME = 'node-0';

export const BENCH_NODE: NodeFacts = {
  name: NODE_NAME,
  zone: 'zone-a',
  interfaces: [
    { name: 'lo', loopback: true, addresses: [{ address: '127.0.0.1', prefixLength: 8, family: 'inet' }] },
    { name: 'eth0', loopback: false, addresses: [{ address: '10.0.0.10', prefixLength: 24, family: 'inet' }] },
    { name: 'cni0', loopback: false, addresses: [{ address: '10.244.0.1', prefixLength: 24, family: 'inet' }] },
    { name: 'kube-ipvs0', loopback: false, addresses: [] },
  ],
};

function ip4(base: number, n: number): string {
  const v = base + n;
  return `${(v >>> 24) & 255}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** A deterministic cluster: mostly ClusterIP, some NodePort/LoadBalancer, a few ETP/ITP Local and ClientIP. */
export function syntheticCluster(size: SyntheticClusterSize): ClusterSnapshot {
  const services: Service[] = [];
  const endpointSlices: EndpointSlice[] = [];
  const nodes: Node[] = [];
  for (let n = 0; n < size.nodes; n++) {
    nodes.push({ name: `node-${n}`, zone: `zone-${'abc'[n % 3]}`, addresses: [{ type: 'InternalIP', address: ip4(0x0a000000, 10 + n) }] });
  }
  let podIndex = 0;
  for (let s = 0; s < size.services; s++) {
    const namespace = `ns-${s % 100}`;
    const name = `svc-${s}`;
    const type = s % 10 === 0 ? 'LoadBalancer' : s % 5 === 0 ? 'NodePort' : 'ClusterIP';
    const twoPorts = s % 4 === 0;
    services.push({
      namespace,
      name,
      type,
      clusterIP: ip4(0x0a600000, s + 1),
      clusterIPs: [ip4(0x0a600000, s + 1)],
      ports: [
        { name: 'http', protocol: 'TCP', port: 80, nodePort: type === 'ClusterIP' ? 0 : 30000 + (s % 2700) * 1 },
        ...(twoPorts ? [{ name: 'dns', protocol: 'UDP' as const, port: 53, nodePort: 0 }] : []),
      ],
      externalIPs: [],
      loadBalancerIngress: type === 'LoadBalancer' ? [{ ip: ip4(0xc6336400, s), ipMode: null }] : [],
      sessionAffinity: s % 50 === 0 ? 'ClientIP' : 'None',
      sessionAffinityTimeoutSeconds: 10800,
      externalTrafficPolicy: type !== 'ClusterIP' && s % 20 === 0 ? 'Local' : type === 'ClusterIP' ? null : 'Cluster',
      internalTrafficPolicy: s % 97 === 0 ? 'Local' : 'Cluster',
      allocateLoadBalancerNodePorts: null,
    });
    const endpoints: Endpoint[] = [];
    for (let e = 0; e < size.endpointsPerService; e++) {
      const nodeName = `node-${(s + e) % size.nodes}`;
      endpoints.push({
        address: ip4(0x0af40000, podIndex++),
        family: 'inet',
        ready: e % 25 !== 24,
        serving: true,
        terminating: e % 25 === 24,
        nodeName,
        zoneHints: [],
        nodeHints: [],
      });
    }
    endpointSlices.push({
      namespace,
      name: `${name}-abcde`,
      serviceName: name,
      addressType: 'IPv4',
      ports: [
        { name: 'http', protocol: 'TCP', port: 8080 },
        ...(twoPorts ? [{ name: 'dns', protocol: 'UDP' as const, port: 5353 }] : []),
      ],
      endpoints,
    });
  }
  return { services, endpointSlices, nodes, kubeProxyConfigMap: null };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** Wall-clock and process CPU milliseconds: CPU time stays meaningful on a busy CI machine. */
function time<T>(fn: () => T): { ms: number; cpuMs: number; value: T } {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const value = fn();
  const used = process.cpuUsage(cpu);
  return { ms: performance.now() - start, cpuMs: (used.user + used.system) / 1000, value };
}

export async function runDesiredBench(): Promise<void> {
  const size: SyntheticClusterSize = { services: 10_000, endpointsPerService: 10, nodes: 50 };
  const cluster = syntheticCluster(size);
  const config = { ...KUBE_PROXY_DEFAULTS, mode: 'ipvs' };
  const endpointCount = cluster.endpointSlices.reduce((n, s) => n + s.endpoints.length, 0);
  console.log(`desired-state bench: ${cluster.services.length} Services, ${endpointCount} endpoints, ${cluster.nodes.length} nodes`);

  const full: number[] = [];
  const fullCpu: number[] = [];
  let vsCount = 0;
  let rsCount = 0;
  for (let i = 0; i < 7; i++) {
    const { ms, cpuMs, value } = time(() => computeDesiredState(cluster, config, BENCH_NODE));
    full.push(ms);
    fullCpu.push(cpuMs);
    vsCount = value.virtualServers.length;
    rsCount = value.virtualServers.reduce((n, vs) => n + vs.realServers.length, 0);
  }
  console.log(`  computeDesiredState (full): median ${median(full).toFixed(1)} ms (CPU ${median(fullCpu).toFixed(1)} ms) over ${full.length} runs (${vsCount} virtual servers, ${rsCount} real servers; target ≤ 100 ms)`);

  const model = new DesiredStateModel(config, BENCH_NODE);
  model.load(cluster);
  const first = time(() => model.current());
  console.log(`  DesiredStateModel first current(): ${first.ms.toFixed(1)} ms`);

  const sliceTimes: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const slice = cluster.endpointSlices[(i * 7919) % cluster.endpointSlices.length] as EndpointSlice;
    const flipped: EndpointSlice = { ...slice, endpoints: slice.endpoints.map((ep, j) => (j === i % ep.address.length ? { ...ep, ready: !ep.ready } : ep)) };
    const { ms } = time(() => {
      model.upsertEndpointSlice(flipped);
      return model.current();
    });
    sliceTimes.push(ms);
  }
  console.log(`  one EndpointSlice change + current(): median ${(median(sliceTimes) * 1000).toFixed(0)} µs, p99 ${(sliceTimes.sort((a, b) => a - b)[Math.floor(sliceTimes.length * 0.99)] ?? 0).toFixed(2)} ms (target ≤ 1 ms)`);

  const svcTimes: number[] = [];
  for (let i = 0; i < 500; i++) {
    const svc = cluster.services[(i * 104729) % cluster.services.length] as Service;
    const { ms } = time(() => {
      model.upsertService({ ...svc, ports: svc.ports.map((p) => ({ ...p, port: p.port + 1 + (i % 2) })) });
      return model.current();
    });
    svcTimes.push(ms);
  }
  console.log(`  one Service port change (re-sort) + current(): median ${median(svcTimes).toFixed(2)} ms`);
  await Promise.resolve();
}
