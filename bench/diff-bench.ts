/**
 * Differ benchmark: a synthetic 10,000-Service / 100,000-endpoint cluster (plus NodePorts on two
 * node IPs for every tenth Service) and the matching IPVS snapshot, diffed several times; prints
 * the median. Budget: desired state + diff ≤ 100 ms per poll, so the diff alone should stay well
 * under 50 ms. Built without the desired-state module so it measures the differ only.
 */
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import type { DesiredState, ExpectedVirtualServer } from '../src/desired/types.js';
import { diffIpvs } from '../src/drift/differ.js';
import type { IpvsSnapshot, IpvsStats, RealServer, VirtualServer } from '../src/ipvs/types.js';
import { SVC_FLAG } from '../src/ipvs/flags.js';
import { hostPort } from '../src/util/ip.js';

const NODE_IPS = ['172.18.0.2', '10.0.0.12'];

function stats(): IpvsStats {
  return { conns: 0n, inPkts: 0n, outPkts: 0n, inBytes: 0n, outBytes: 0n, cps: 0n, inPps: 0n, outPps: 0n, inBps: 0n, outBps: 0n };
}

/** Service i gets ClusterIP 10.96.x.y:80 and endpoints 10.(100+…).…:8080; every tenth also NodePort 30000+i/10. */
export function buildSyntheticTable(services: number, endpointsPerService: number): { desired: DesiredState; observed: IpvsSnapshot } {
  const expected: ExpectedVirtualServer[] = [];
  const actual: VirtualServer[] = [];
  let endpoint = 0;
  for (let i = 0; i < services; i++) {
    const realServers = Array.from({ length: endpointsPerService }, () => {
      const n = endpoint++;
      return { address: `10.${100 + (n >> 16)}.${(n >> 8) & 0xff}.${n & 0xff}`, port: 8080, weight: 1 as const, terminatingFallback: false, nodeName: null };
    });
    const service = { namespace: `ns-${i % 50}`, name: `svc-${i}`, port: 'http' };
    const vips: [string, number, ExpectedVirtualServer['role']][] = [[`10.96.${(i >> 8) & 0xff}.${i & 0xff}`, 80, 'cluster-ip']];
    if (i % 10 === 0) for (const ip of NODE_IPS) vips.push([ip, 30000 + i / 10, 'node-port']);
    for (const [address, port, role] of vips) {
      const key = `TCP/${hostPort(address, port)}`;
      expected.push({ key, family: 'inet', protocol: 'TCP', address, port, role, scheduler: 'rr', flagBits: 0, timeout: 0, netmask: 32, service, localOnly: false, realServers });
      actual.push({
        key,
        family: 'inet',
        protocol: 'TCP',
        address,
        port,
        fwmark: null,
        scheduler: 'rr',
        flagBits: SVC_FLAG.hashed,
        persistent: false,
        timeout: 0,
        netmask: 32,
        pe: null,
        stats: stats(),
        destinations: realServers.map(
          (r): RealServer => ({ address: r.address, addressFamily: 'inet', port: r.port, forward: 'masq', weight: 1, upperThreshold: 0, lowerThreshold: 0, activeConns: 3, inactiveConns: 7, persistentConns: 0, tunnel: null, stats: stats() }),
        ),
      });
    }
  }
  return {
    desired: { virtualServers: expected, kubeIpvs0Addresses: [], excludeCIDRs: [], families: ['inet'] },
    observed: { readAt: new Date(0), durationMs: 0, info: null, timeouts: null, services: actual, unknownAttributes: [] },
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Median, min and max milliseconds of `runs` full diffs after one warm-up run. */
async function measure(desired: DesiredState, observed: IpvsSnapshot, runs: number): Promise<{ median: number; min: number; max: number; findings: number }> {
  let findings = diffIpvs(desired, observed).length; // warm-up: let the JIT see the hot paths once
  const times: number[] = [];
  for (let run = 0; run < runs; run++) {
    const start = performance.now();
    findings = diffIpvs(desired, observed).length;
    times.push(performance.now() - start);
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { median: median(times), min: Math.min(...times), max: Math.max(...times), findings };
}

const ms = (n: number): string => `${n.toFixed(1)} ms`;

export async function runDiffBench(): Promise<void> {
  const runs = 9;
  const { desired, observed } = buildSyntheticTable(10_000, 10);
  const realServers = desired.virtualServers.reduce((n, v) => n + v.realServers.length, 0);
  const inOrder = await measure(desired, observed, runs);
  // Destinations listed in another order than the desired state's take the indexed path.
  const reordered: IpvsSnapshot = { ...observed, services: observed.services.map((s) => ({ ...s, destinations: [...s.destinations].reverse() })) };
  const indexed = await measure(desired, reordered, runs);
  // One foreign VS sorting first breaks the lockstep pairing: every VS goes through the identity index.
  const foreign: IpvsSnapshot = { ...reordered, services: [{ ...(observed.services[0] as VirtualServer), key: 'TCP/1.1.1.1:1', address: '1.1.1.1', port: 1 }, ...reordered.services] };
  const worst = await measure(desired, foreign, runs);
  console.log(
    `diff: 10000 Services, 100000 endpoints → ${desired.virtualServers.length} virtual servers, ${realServers} real servers; ` +
      `median ${ms(inOrder.median)} (min ${ms(inOrder.min)}, max ${ms(inOrder.max)}), ${inOrder.findings} findings; ` +
      `destinations reordered ${ms(indexed.median)} (${indexed.findings} findings); plus a foreign VS first ${ms(worst.median)} (${worst.findings} finding); ${runs} runs each`,
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await runDiffBench();
