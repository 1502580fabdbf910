// The agent at scale, natively on this machine (no IPVS here): the real cluster side (client-node
// informers against the API stand-in in a child process, the incremental desired state, the differ,
// the grace machine), the real HTTP server and metrics, with the IPVS read replaced by the snapshot
// kube-proxy would have programmed — built afresh per poll, as the netlink decoder does.
//   node bench/agent-host.mjs SERVICES BACKEND_METRICS  → one JSON line (bench/agent-scale.ts AgentScaleRow)
/* global fetch, setTimeout */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const t0 = performance.now();
const services = Number(process.argv[2] ?? '10000');
const backendMetrics = process.argv[3] !== 'false';
const ENDPOINTS = 10;
const POLL_INTERVAL_MS = 10_000; // the default --poll-interval
const dir = mkdtempSync(join(tmpdir(), 'agent-host-bench-'));
const port = 20000 + Math.floor(Math.random() * 20000);

const standin = spawn(
  process.execPath,
  ['node_modules/tsx/dist/cli.mjs', 'test/guest/standin-server.ts', '--port', String(port), '--control', String(port + 1), '--synthetic', String(services), '--ready', join(dir, 'ready')],
  { stdio: 'ignore' },
);
const cleanup = () => {
  standin.kill();
  rmSync(dir, { recursive: true, force: true });
};
try {
  while (!existsSync(join(dir, 'ready'))) await new Promise((r) => setTimeout(r, 100));
  writeFileSync(
    join(dir, 'kubeconfig'),
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 's', cluster: { server: `http://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 's', user: {} }],
      contexts: [{ name: 's', context: { cluster: 's', user: 's' } }],
      'current-context': 's',
    }),
  );

  const started = performance.now();
  const { Agent } = await import('../dist/agent/agent.js');
  const { createClusterSource, createLogger } = await import('../dist/wiring.js');
  const { createMetrics } = await import('../dist/agent/metrics.js');
  const { startHttpServer } = await import('../dist/agent/http.js');
  const { parseCommandLine } = await import('../dist/cli/flags.js');
  const options = parseCommandLine(['serve', '--kubeconfig', join(dir, 'kubeconfig'), '--log-level', 'silent', `--backend-metrics=${backendMetrics}`], {}).options;
  const logger = createLogger(options);
  const cluster = await createClusterSource(options, 'worker-1', logger);

  // Same numbering as test/guest/standin-server.ts's synthetic cluster.
  const clusterIp = (i) => `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
  const podIp = (k) => `10.${128 + (k >> 16)}.${(k >> 8) & 255}.${k & 255}`;
  const stats = () => ({ conns: 0n, inPkts: 0n, outPkts: 0n, inBytes: 0n, outBytes: 0n, cps: 0n, inPps: 0n, outPps: 0n, inBps: 0n, outBps: 0n });
  const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
  const order = Array.from({ length: services }, (_, i) => i).sort((a, b) => cmp(`TCP/${clusterIp(a)}:80`, `TCP/${clusterIp(b)}:80`));
  let netlinkMs = 0;
  const readIpvs = async () => {
    const s = performance.now();
    const snapshot = {
      readAt: new Date(),
      durationMs: 0,
      info: { version: '1.2.1', connTableSize: 4096 },
      timeouts: null,
      unknownAttributes: [],
      services: order.map((i) => ({
        key: `TCP/${clusterIp(i)}:80`,
        family: 'inet',
        protocol: 'TCP',
        address: clusterIp(i),
        port: 80,
        fwmark: null,
        scheduler: 'rr',
        flagBits: 2,
        persistent: false,
        timeout: 0,
        netmask: 32,
        pe: null,
        stats: stats(),
        destinations: Array.from({ length: ENDPOINTS }, (_, j) => ({
          address: podIp(i * ENDPOINTS + j),
          addressFamily: 'inet',
          port: 8080,
          forward: 'masq',
          weight: 1,
          upperThreshold: 0,
          lowerThreshold: 0,
          activeConns: 0,
          inactiveConns: 0,
          persistentConns: 0,
          tunnel: null,
          stats: stats(),
        })).sort((a, b) => cmp(a.address, b.address)),
      })),
    };
    netlinkMs = performance.now() - s;
    return snapshot;
  };
  const interfaces = [
    { name: 'lo', loopback: true, addresses: [{ address: '127.0.0.1', prefixLength: 8, family: 'inet' }] },
    { name: 'eth0', loopback: false, addresses: [{ address: '10.0.0.10', prefixLength: 24, family: 'inet' }] },
    { name: 'kube-ipvs0', loopback: false, addresses: order.map((i) => ({ address: clusterIp(i), prefixLength: 32, family: 'inet' })) },
  ];
  const unavailable = () => Promise.reject(new Error('not read on the host bench'));
  let metrics = null;
  const agent = new Agent({
    options: { nodeName: 'worker-1', pollIntervalMs: POLL_INTERVAL_MS, graceMs: 30_000, scheduler: null },
    node: {
      readIpvs,
      readModules: unavailable,
      readSysctls: unavailable,
      probeKubeProxy: () => Promise.resolve({ runningMode: 'ipvs', configz: null, problems: [] }),
      readInterfaces: () => Promise.resolve(interfaces),
    },
    cluster: cluster.source,
    logger: logger.child({ component: 'poller' }),
    metrics: { recordRead: (source, seconds, error) => metrics?.recordRead(source, seconds, error), recordDriftDetected: (kind) => metrics?.recordDriftDetected(kind) },
  });
  metrics = createMetrics({ backendMetrics, view: agent });
  const http = await startHttpServer({ host: '127.0.0.1', port: 0, view: agent, metrics, logger: logger.child({ component: 'http' }) });
  await cluster.whenReady();
  await agent.pollOnce();
  const readyMs = performance.now() - started;

  let cycleMs = 0;
  let clusterMs = 0;
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < 3; i++) {
    const s = performance.now();
    await agent.pollOnce();
    cycleMs += (performance.now() - s) / 3;
  }
  const cpu = process.cpuUsage(cpu0);
  const text = await metrics.render();
  const m = /ipvs_sentinel_read_duration_seconds_sum\{source="cluster"\} (\S+)/.exec(text);
  const n = /ipvs_sentinel_read_duration_seconds_count\{source="cluster"\} (\S+)/.exec(text);
  if (m && n) clusterMs = (Number(m[1]) / Number(n[1])) * 1000;
  // As deployed, the agent idles between polls (the guest bench reads RSS between real polls): give
  // V8 one poll interval to collect the last polls' garbage before reading RSS; the peak is VmHWM.
  await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS));
  const { rss } = process.memoryUsage();
  const hwm = process.resourceUsage().maxRSS * 1024;

  const latency = async (path) => {
    const times = [];
    let size = 0;
    for (let i = 0; i < 5; i++) {
      const s = performance.now();
      const body = await (await fetch(`http://127.0.0.1:${http.address.port}${path}`)).arrayBuffer();
      times.push(performance.now() - s);
      size = body.byteLength;
    }
    return { ms: times.sort((a, b) => a - b)[2], kb: Math.floor(size / 1024) };
  };
  const metricsLatency = await latency('/metrics');
  const ipvsLatency = await latency('/ipvs');
  const drift = agent.drift();
  const round = (x) => Math.round(x * 10) / 10;
  console.log(
    JSON.stringify({
      where: 'host',
      services,
      realServers: services * ENDPOINTS,
      backendMetrics,
      readyMs: Math.round(readyMs),
      rssMb: Math.round(rss / 2 ** 20),
      hwmMb: Math.round(hwm / 2 ** 20),
      cycleMs: Math.round(cycleMs),
      cycleCpuMs: Math.round((cpu.user + cpu.system) / 1000 / 3),
      netlinkMs: round(netlinkMs),
      clusterMs: round(clusterMs),
      metricsMs: round(metricsLatency.ms),
      metricsKb: metricsLatency.kb,
      ipvsMs: round(ipvsLatency.ms),
      ipvsKb: ipvsLatency.kb,
      driftStatus: drift.status,
      driftFindings: drift.findings.filter((f) => f.severity !== 'info').length,
    }),
  );
  await http.close();
  await cluster.source.stop();
  console.error(`total ${Math.round(performance.now() - t0)} ms`);
} finally {
  cleanup();
}
process.exit(0);
