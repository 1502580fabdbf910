// The agent at scale, natively on this machine (no IPVS here): the real cluster side (client-node
// informers against the API stand-in in a child process, the incremental desired state, the differ,
// the grace machine), the real HTTP server and metrics, and the real IPVS reader and decoder, whose
// netlink requests are answered in process with the table kube-proxy would have programmed
// (bench/scale-kernel.mjs), one backend in ten seeing traffic between polls; the real module,
// sysctl and kube-proxy readers against a recorded node; the heap collection after each poll (its CPU
// time reported apart: heapCpuMs).
//   NODE_OPTIONS=... node bench/agent-host.mjs SERVICES BACKEND_METRICS  → one JSON line (bench/agent-scale.ts AgentScaleRow)
//   (`npm run bench agent` passes the image's NODE_OPTIONS; BENCH_MEMORY_DETAIL=1 prints where the RSS is;
//   BENCH_POLLS=N times N polls, default 24; BENCH_SPACED=1 idles a poll interval before each)
/* global setTimeout */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scaleKernel } from './scale-kernel.mjs';

/** BENCH_MEMORY_DETAIL=1: where the RSS is (V8 spaces, used/physical MB; mappings), on stderr. */
function printMemoryDetail() {
  const spaces = getHeapSpaceStatistics()
    .filter((s) => s.physical_space_size > 0)
    .map((s) => `${s.space_name} ${Math.round(s.space_used_size / 2 ** 20)}/${Math.round(s.physical_space_size / 2 ** 20)}`);
  const byMapping = new Map();
  let mapping = '';
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header) mapping = header[1].includes('/') ? header[1].split('/').pop() : header[1] || '[anon]';
    const rss = /^Rss:\s+(\d+)/.exec(line);
    if (rss) byMapping.set(mapping, (byMapping.get(mapping) ?? 0) + Number(rss[1]));
  }
  const mappings = [...byMapping].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([k, v]) => `${k} ${Math.round(v / 1024)}`);
  console.error(`heap spaces (MB used/physical): ${spaces.join(', ')}\nmappings (MB): ${mappings.join(', ')}\n${JSON.stringify(process.memoryUsage())}`);
}

const t0 = performance.now();
const services = Number(process.argv[2] ?? '10000');
const backendMetrics = process.argv[3] !== 'false';
const ENDPOINTS = 10;
/** One real server in ten (so every virtual server) sees traffic between two polls. */
const BUSY_EVERY = 10;
const POLL_INTERVAL_MS = 10_000; // the default --poll-interval
/**
 * Polls timed after the first (BENCH_POLLS, default 24): the heap is not settled at three (without the
 * agent's heap compaction, Node 24 measured 246 MB of RSS after three polls and 321 MB after six), and
 * a collection policy that skips polls shows its RSS only over many (rssMaxMb is the highest after any).
 */
const POLLS = Number(process.env.BENCH_POLLS ?? '24');
const SPACED = process.env.BENCH_SPACED === '1';
const dir = mkdtempSync(join(tmpdir(), 'agent-host-bench-'));
const port = 20000 + Math.floor(Math.random() * 20000);

writeFileSync(join(dir, 'kube-proxy-mode'), 'ipvs\n');
writeFileSync(join(dir, 'kube-proxy-health'), 'fresh\n');
// kube-proxy's metrics port (port + 2) and its healthz server (port + 3), in sync throughout.
const kubeProxy = spawn(process.execPath, ['test/guest/fake-kube-proxy.mjs', join(dir, 'kube-proxy-mode'), String(port + 2), join(dir, 'kube-proxy-health'), String(port + 3)], { stdio: 'ignore' });
const standin = spawn(
  process.execPath,
  ['node_modules/tsx/dist/cli.mjs', 'test/guest/standin-server.ts', '--port', String(port), '--control', String(port + 1), '--synthetic', String(services), '--ready', join(dir, 'ready')],
  { stdio: 'ignore' },
);
const cleanup = () => {
  standin.kill();
  kubeProxy.kill();
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
  const { processHeapCompactor } = await import('../dist/agent/heap.js');
  const { createClusterSource, createLogger } = await import('../dist/wiring.js');
  const { createMetrics } = await import('../dist/agent/metrics.js');
  const { startHttpServer } = await import('../dist/agent/http.js');
  const { parseCommandLine } = await import('../dist/cli/flags.js');
  const options = parseCommandLine(['serve', '--kubeconfig', join(dir, 'kubeconfig'), '--log-level', 'silent', `--backend-metrics=${backendMetrics}`], {}).options;
  const logger = createLogger(options);
  const cluster = await createClusterSource(options, 'worker-1', logger);

  // Same numbering as test/guest/standin-server.ts's synthetic cluster and bench/scale-kernel.mjs.
  const clusterIp = (i) => `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
  const { IpvsReader } = await import('../dist/ipvs/reader.js');
  const reader = new IpvsReader({ open: scaleKernel({ services, endpoints: ENDPOINTS, busyEvery: BUSY_EVERY }).open });
  let netlinkMs = 0;
  const readIpvs = async () => {
    const snapshot = await reader.read();
    netlinkMs = snapshot.durationMs;
    return snapshot;
  };
  const order = Array.from({ length: services }, (_, i) => i);
  const interfaces = [
    { name: 'lo', loopback: true, addresses: [{ address: '127.0.0.1', prefixLength: 8, family: 'inet' }] },
    { name: 'eth0', loopback: false, addresses: [{ address: '10.0.0.10', prefixLength: 24, family: 'inet' }] },
    { name: 'kube-ipvs0', loopback: false, addresses: order.map((i) => ({ address: clusterIp(i), prefixLength: 32, family: 'inet' })) },
  ];
  // The node's other sources are the real readers, so the agent loads and runs what it does on a
  // node: procfs recorded on a Debian 12 node with IPVS loaded, with the ARP sysctls kube-proxy sets
  // for strictARP (which the fake kube-proxy's configz asks for), and kube-proxy's metrics endpoint
  // played by test/guest/fake-kube-proxy.mjs.
  const node = join(dir, 'node');
  cpSync('test/fixtures/proc-modules/debian12-6.1-modules', node, { recursive: true });
  writeFileSync(join(node, 'proc/sys/net/ipv4/conf/all/arp_ignore'), '1\n');
  writeFileSync(join(node, 'proc/sys/net/ipv4/conf/all/arp_announce'), '2\n');
  const { readModuleInputs: readModules } = await import('../dist/kmod/read.js');
  // As the agent's wiring does (src/wiring.ts nodeSources): /proc/modules read once per poll for
  // the module check and the conntrack, ipset and nftables gates.
  const { sharedRead } = await import('../dist/wiring.js');
  const readModuleInputs = sharedRead(() => readModules({ procRoot: `${node}/proc`, modulesDir: `${node}/lib/modules` }));
  const { readSysctls } = await import('../dist/node/sysctl.js');
  const { probeKubeProxy } = await import('../dist/node/kube-proxy-probe.js');
  const { probeKubeProxyHealth } = await import('../dist/node/kube-proxy-health-probe.js');
  const { readNodeConntrack } = await import('../dist/conntrack/node.js');
  const { readUdpConntrack } = await import('../dist/conntrack/reader.js');
  const { readNodeIpsets } = await import('../dist/ipset/node.js');
  const { readIpset, readIpsets } = await import('../dist/ipset/reader.js');
  const { IpsetReuse } = await import('../dist/ipset/reuse.js');
  const ipsetReuse = new IpsetReuse();
  const { readNodeNetfilter } = await import('../dist/iptables/node.js');
  const { readIptables } = await import('../dist/iptables/read.js');
  const { readNftTables } = await import('../dist/nftables/reader.js');
  let metrics = null;
  const clusterReads = [];
  // The agent's own heap compaction after each poll (src/agent/heap.ts), with its pauses recorded.
  const heap = processHeapCompactor();
  const compactionMs = [];
  let reducing = 0;
  let heapCpuMs = 0;
  const agent = new Agent({
    options: { nodeName: 'worker-1', pollIntervalMs: POLL_INTERVAL_MS, graceMs: 30_000, scheduler: null },
    node: {
      netlink: readIpvs,
      modules: readModuleInputs,
      sysctl: () => readSysctls({ procRoot: `${node}/proc` }),
      'kube-proxy': () => probeKubeProxy({ url: `http://127.0.0.1:${port + 2}` }),
      'kube-proxy-health': () => probeKubeProxyHealth({ healthzUrl: `http://127.0.0.1:${port + 3}/healthz`, metricsUrl: `http://127.0.0.1:${port + 2}` }),
      // The real ctnetlink reader, in this process's network namespace (its UDP entries, if any).
      conntrack: () => readNodeConntrack({ modules: readModuleInputs, interfaces: () => interfaces, dump: (families) => readUdpConntrack({ families }) }),
      interfaces: () => Promise.resolve(interfaces),
      // The real ipset reader in this process's network namespace, which holds no kube-proxy sets:
      // the check reports each set missing (a few findings); bench/ipset-bench.ts measures reading
      // them at scale.
      ipsets: () =>
        readNodeIpsets({
          modules: readModuleInputs,
          headers: () => readIpsets({ headersOnly: true }).sets,
          set: (name) => readIpset(name, { reuse: ipsetReuse }),
        }),
      // The real readers too: this process's network namespace's nftables tables and iptables rules.
      netfilter: () =>
        readNodeNetfilter({
          modules: readModuleInputs,
          nftTables: () => readNftTables().tables,
          iptables: (nftTables) => readIptables({ procRoot: `${node}/proc`, nftTables }),
        }),
    },
    cluster: cluster.source,
    logger: logger.child({ component: 'poller' }),
    heap: heap && {
      afterPoll: () => {
        const cpu = process.cpuUsage();
        const compaction = heap.afterPoll();
        const used = process.cpuUsage(cpu);
        heapCpuMs += (used.user + used.system) / 1000;
        if (compaction) compactionMs.push(compaction.pauseMs);
        if (compaction?.reducing) reducing++;
        return compaction;
      },
    },
    metrics: {
      recordRead: (source, seconds, error) => {
        if (source === 'cluster') clusterReads.push(seconds);
        metrics?.recordRead(source, seconds, error);
      },
      recordDriftDetected: (kind) => metrics?.recordDriftDetected(kind),
    },
  });
  metrics = createMetrics({ backendMetrics, view: agent });
  const http = await startHttpServer({ host: '127.0.0.1', port: 0, view: agent, metrics, logger: logger.child({ component: 'http' }) });
  await cluster.whenReady();
  await agent.cycle();
  const readyMs = performance.now() - started;

  let cycleMs = 0;
  let clusterMs = 0;
  const cpu0 = process.cpuUsage();
  // The collections of the timed polls only (the first poll's gives back what the initial list used).
  heapCpuMs = 0;
  reducing = 0;
  let rssMax = 0;
  for (let i = 0; i < POLLS; i++) {
    // BENCH_SPACED=1: a poll interval of idling before each poll, as deployed, so that CPU the
    // runtime spends between polls (V8's own collections) counts in cycleCpuMs too.
    if (SPACED) await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS));
    const s = performance.now();
    await agent.cycle();
    cycleMs += (performance.now() - s) / POLLS;
    rssMax = Math.max(rssMax, process.memoryUsage.rss());
  }
  const cpu = process.cpuUsage(cpu0);
  clusterMs = clusterReads.length === 0 ? 0 : (clusterReads.reduce((a, b) => a + b, 0) / clusterReads.length) * 1000;
  // As deployed, the agent idles between polls (the guest bench reads RSS between real polls): give
  // V8 one poll interval to collect the last polls' garbage before reading RSS; the peak is VmHWM.
  await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS));
  const { rss } = process.memoryUsage();
  if (process.env.BENCH_MEMORY_DETAIL) printMemoryDetail();
  const hwm = process.resourceUsage().maxRSS * 1024;

  // Time to the last byte as a scraper on another process sees it — curl, as the guest bench measures
  // (an in-process fetch would spend the agent's own event loop parsing the answer); median of 5.
  const latency = async (path) => {
    const times = [];
    let bytes = 0;
    for (let i = 0; i < 5; i++) {
      const curl = spawn('curl', ['-s', '-m', '120', '-o', '/dev/null', '-w', '%{time_total} %{size_download} %{http_code}', `http://127.0.0.1:${http.address.port}${path}`], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      curl.stdout.on('data', (chunk) => (out += chunk));
      const code = await new Promise((resolve) => curl.on('close', resolve));
      const [seconds, size, status] = out.trim().split(' ');
      if (code !== 0 || status !== '200') throw new Error(`curl ${path}: exit ${code}, HTTP ${status}`);
      times.push(Number(seconds) * 1000);
      bytes = Number(size);
    }
    return { ms: times.sort((a, b) => a - b)[2], kb: Math.floor(bytes / 1024) };
  };
  const metricsLatency = await latency('/metrics');
  const ipvsLatency = await latency('/ipvs');
  const rssAfterScrapes = process.memoryUsage().rss;
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
      rssMaxMb: Math.round(rssMax / 2 ** 20),
      hwmMb: Math.round(hwm / 2 ** 20),
      rssAfterScrapesMb: Math.round(rssAfterScrapes / 2 ** 20),
      cycleMs: Math.round(cycleMs),
      cycleCpuMs: Math.round((cpu.user + cpu.system) / 1000 / POLLS),
      compactions: compactionMs.length,
      reducing,
      heapCpuMs: Math.round(heapCpuMs / POLLS),
      compactionMs: compactionMs.length === 0 ? null : Math.round(Math.max(...compactionMs)),
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
