/**
 * `/metrics` benchmark: a synthetic IPVS table of 10,000 virtual servers × 10 real servers (all
 * with a Service name) rendered through createMetrics, with and without per-backend series: every
 * piece of the exposition produced (as the HTTP server would write them), none kept.
 * Target: ≤ 150 ms per scrape with backend metrics on (the render is part of it; sending it is the rest).
 */
import { performance } from 'node:perf_hooks';
import { createMetrics, type AgentMetrics } from '../src/agent/metrics.js';
import type { AgentView, HealthCheck } from '../src/agent/view.js';
import type { ServicePortRef } from '../src/drift/types.js';
import type { IpvsSnapshot, IpvsStats, RealServer, VirtualServer } from '../src/ipvs/types.js';
import { SVC_FLAG } from '../src/ipvs/flags.js';

const TARGET_MS = 150;

function ip4(v: number): string {
  return `${(v >>> 24) & 255}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

function stats(seed: number): IpvsStats {
  const n = BigInt(seed);
  return { conns: n, inPkts: n * 10n, outPkts: n * 9n, inBytes: n * 1500n, outBytes: n * 12000n, cps: 0n, inPps: 0n, outPps: 0n, inBps: 0n, outBps: 0n };
}

export function syntheticTable(virtualServers: number, realServersEach: number): { snapshot: IpvsSnapshot; services: Map<string, ServicePortRef> } {
  const services: VirtualServer[] = [];
  const refs = new Map<string, ServicePortRef>();
  for (let i = 0; i < virtualServers; i++) {
    const address = ip4(0x0a600000 + i);
    const key = `TCP/${address}:443`;
    const destinations: RealServer[] = [];
    for (let r = 0; r < realServersEach; r++) {
      destinations.push({
        address: ip4(0x0af40000 + i * realServersEach + r),
        addressFamily: 'inet',
        port: 8443,
        forward: 'masq',
        weight: 1,
        upperThreshold: 0,
        lowerThreshold: 0,
        activeConns: r,
        inactiveConns: r * 2,
        persistentConns: 0,
        tunnel: null,
        stats: stats(i + r),
      });
    }
    services.push({
      key,
      family: 'inet',
      protocol: 'TCP',
      address,
      port: 443,
      fwmark: null,
      scheduler: 'rr',
      flagBits: SVC_FLAG.hashed,
      persistent: false,
      timeout: 0,
      netmask: 32,
      pe: null,
      stats: stats(i * 1000),
      destinations,
    });
    refs.set(key, { namespace: `ns-${i % 100}`, name: `svc-${i}`, port: 'https' });
  }
  const snapshot: IpvsSnapshot = { readAt: new Date(), durationMs: 1, info: { version: '1.2.1', connTableSize: 4096 }, timeouts: null, services, unknownAttributes: [] };
  return { snapshot, services: refs };
}

function benchView(snapshot: IpvsSnapshot, refs: Map<string, ServicePortRef>): AgentView {
  const health: HealthCheck[] = [];
  return {
    node: 'bench',
    live: () => true,
    ready: () => ({ ready: true, reason: null }),
    health: () => health,
    snapshot: () => snapshot,
    lookup: (key) => refs.get(key) ?? null,
    drift: () => ({ node: 'bench', checkedAt: new Date(), status: 'ok', reason: null, findings: [] }),
    modules: () => null,
    proxyMode: () => 'ipvs',
    clusterSynced: () => true,
    lastCheck: () => new Date(),
  };
}

/** Produces every piece of one exposition; returns its size. */
async function scrape(metrics: AgentMetrics): Promise<number> {
  let bytes = 0;
  for (const piece of await metrics.exposition()) bytes += piece.length;
  return bytes;
}

async function measure(render: () => Promise<number>, runs: number): Promise<{ medianMs: number; maxMs: number; bytes: number }> {
  let bytes = 0;
  await render(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    bytes = await render();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { medianMs: times[Math.floor(times.length / 2)] ?? 0, maxMs: times[times.length - 1] ?? 0, bytes };
}

export async function runMetricsBench(): Promise<void> {
  const { snapshot, services } = syntheticTable(10_000, 10);
  const view = benchView(snapshot, services);
  console.log('metrics: /metrics render, 10,000 virtual servers × 10 real servers');
  for (const backendMetrics of [true, false]) {
    // A fresh snapshot object per render, as after every poll (nothing is cached between scrapes anyway).
    let current = snapshot;
    const fresh: AgentView = { ...view, snapshot: () => current };
    const metrics = createMetrics({ backendMetrics, view: fresh });
    const r = await measure(() => {
      current = { ...snapshot };
      return scrape(metrics);
    }, 9);
    const series = 10_000 * 5 + (backendMetrics ? 100_000 * 3 : 0);
    const verdict = backendMetrics ? (r.medianMs <= TARGET_MS ? `≤ ${TARGET_MS} ms ok` : `> ${TARGET_MS} ms TARGET MISSED`) : '';
    console.log(
      `  backend-metrics=${backendMetrics}: ${series.toLocaleString('en-US')} traffic series, ${(r.bytes / 1e6).toFixed(1)} MB, median ${r.medianMs.toFixed(1)} ms, max ${r.maxMs.toFixed(1)} ms ${verdict}`.trimEnd(),
    );
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await runMetricsBench();
