/**
 * The composition root: the one place that builds the real edges (libnl, procfs, the Kubernetes
 * API, HTTP) and hands them to the core. Everything else receives what it needs as arguments.
 */
import { hostname } from 'node:os';
import { pino, type Logger } from './util/pino.js';
import { Agent, type NodeSources } from './agent/agent.js';
import type { DesiredState } from './desired/types.js';
import type { IpvsSnapshot } from './ipvs/types.js';
import type { TableBase } from './render/table.js';
import { FileClusterSource, WatchClusterSource, type ClusterSource } from './agent/cluster-source.js';
import { processHeapCompactor } from './agent/heap.js';
import type { AgentMetrics } from './agent/metrics.js';
import type { CheckDeps } from './cli/check.js';
import type { ServeDeps } from './cli/serve.js';
import type { ClusterWatch } from './cluster/informers.js';
import { readClusterStateFile } from './cluster/read-state-file.js';
import { effectiveScheduler } from './cluster/kube-proxy-config.js';
import { SentinelError } from './errors/index.js';
import { readNodeInterfaces } from './node/kube-ipvs0.js';
import { readSysctls } from './node/sysctl.js';
import type { Options } from './cli/flags.js';
import type { ModulesDeps } from './cli/modules.js';
import type { MigrationDeps } from './cli/migration.js';
import type { ClusterMigrationDeps } from './cli/migration-cluster.js';
import type { MigrationReporter } from './migration/reporter.js';
import type { IpvsReader } from './ipvs/reader.js';
import { createIpvsReader } from './ipvs/live-reader.js';
import { MemoryLimitWatch, readMemoryLimit } from './agent/memory-limit.js';
import { readModuleInputs } from './kmod/read.js';
import { readNodeIpsets } from './ipset/node.js';
import { readNodeConntrack, udpServiceFamilies } from './conntrack/node.js';
import { readUdpConntrack } from './conntrack/reader.js';
import { enabledChecks } from './checks/registry.js';
import { readIpset, readIpsets } from './ipset/reader.js';
import { IpsetReuse } from './ipset/reuse.js';
import type { IpsetDump } from './ipset/types.js';
import { readNodeNetfilter } from './iptables/node.js';
import { readIptables } from './iptables/read.js';
import { readNftChains, readNftTables } from './nftables/reader.js';
import { resolveKubeProxyConfig } from './node/kube-proxy.js';
import { probeKubeProxy } from './node/kube-proxy-probe.js';
import { probeKubeProxyHealth } from './node/kube-proxy-health-probe.js';

/**
 * Whether the IPVS family resolves — asked only when <proc-root>/net/ip_vs shows ip_vs is in the
 * kernel, because resolving the family name makes the kernel load ip_vs as a side effect (5.16+).
 */
export function probeIpvsFamily(options: Options, procNetIpvs: boolean | null): boolean | null {
  if (options.procRoot !== '/proc') return null; // a fixture or another host's /proc: this kernel is not that one
  if (procNetIpvs === false) return false;
  const reader = createIpvsReader();
  try {
    return reader.familyResolves();
  } catch {
    return null;
  } finally {
    reader.close();
  }
}

/** --scheduler, else kube-proxy's /configz, else rr. */
export async function schedulerFromKubeProxy(options: Options): Promise<string> {
  if (options.scheduler) return options.scheduler;
  const probe = await probeKubeProxy({ url: options.kubeProxyUrl });
  return effectiveScheduler(resolveKubeProxyConfig({ configz: probe.configz, configMapText: null }).config);
}

export function modulesDeps(options: Options): ModulesDeps {
  return {
    readFacts: () => readModuleInputs({ procRoot: options.procRoot, modulesDir: options.modulesDir }),
    ipvsFamilyResolves: (facts) => probeIpvsFamily(options, facts.procNetIpvs),
    scheduler: () => schedulerFromKubeProxy(options),
  };
}

// ---- the agent (check and serve) ------------------------------------------------------------------

/** JSON lines on stdout for serve; on stderr for the one-shot commands, whose stdout is the verdict. */
export function createLogger(options: Options, stream: 'stdout' | 'stderr' = 'stdout'): Logger {
  // Every edge logs through a child with its own `component`; the root carries none, so no key repeats.
  return pino(
    { level: options.logLevel, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ fd: stream === 'stdout' ? 1 : 2, sync: true }),
  );
}

/** kube-proxy's node name: --node-name / NODE_NAME, else the OS hostname, lower-cased as kube-proxy does. */
export function nodeNameOf(options: Options): string {
  return (options.nodeName ?? hostname()).trim().toLowerCase();
}

/** One read shared by every caller while it is in flight: the sources of one poll ask for it at once. */
export function sharedRead<T>(read: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | null = null;
  return () =>
    (inFlight ??= read().finally(() => {
      inFlight = null;
    }));
}

/** `desired`: the last poll's desired state (the agent's, once it exists). */
function nodeSources(options: Options, reader: IpvsTableReader, desired: () => DesiredState | null): NodeSources {
  // The module check and the ipset and nftables gates all need /proc/modules: read once per poll.
  const moduleInputs = sharedRead(() => readModuleInputs({ procRoot: options.procRoot, modulesDir: options.modulesDir }));
  // A set listed byte for byte as at the last poll is not decoded again (src/ipset/reuse.ts).
  const ipsetReuse = new IpsetReuse<IpsetDump>();
  return {
    netlink: () => reader.read(),
    modules: moduleInputs,
    sysctl: () => readSysctls({ procRoot: options.procRoot }),
    'kube-proxy': () => probeKubeProxy({ url: options.kubeProxyUrl }),
    'kube-proxy-health': () => probeKubeProxyHealth({ healthzUrl: options.kubeProxyHealthzUrl, metricsUrl: options.kubeProxyUrl }),
    interfaces: () => Promise.resolve(readNodeInterfaces()),
    ipsets: () =>
      readNodeIpsets({
        modules: moduleInputs,
        headers: () => readIpsets({ headersOnly: true }).sets,
        set: (name) => readIpset(name, { reuse: ipsetReuse }),
      }),
    netfilter: () =>
      readNodeNetfilter({
        modules: moduleInputs,
        nftTables: () => readNftTables().tables,
        nftChains: () => readNftChains().chains,
        iptables: (nftTables) => readIptables({ procRoot: options.procRoot, nftTables }),
      }),
    conntrack: () =>
      readNodeConntrack({
        modules: moduleInputs,
        interfaces: () => readNodeInterfaces(),
        dump: (families) => readUdpConntrack({ families }),
        serviceFamilies: () => udpServiceFamilies(desired()),
      }),
  };
}

/** The cluster from --cluster-state, else from the API (--kubeconfig, in-cluster, ~/.kube/config). */
export async function createClusterSource(options: Options, nodeName: string, logger: Logger): Promise<{ source: ClusterSource; whenReady: () => Promise<void> }> {
  if (options.clusterState) {
    const source = new FileClusterSource(await readClusterStateFile(options.clusterState));
    if (!source.hasNode(nodeName)) {
      throw new SentinelError(
        'NODE_NOT_FOUND',
        `read ${options.clusterState}`,
        `node "${nodeName}" is not among the Nodes in ${options.clusterState}; pass --node-name with the node's name as kube-proxy knows it`,
      );
    }
    return { source, whenReady: () => Promise.resolve() };
  }
  // client-node is heavy to load (most of a second): only the commands that talk to the API pay for it.
  const { makeKubeConfig } = await import('./cluster/kubeconfig.js');
  const { startClusterWatch } = await import('./cluster/informers.js');
  const kubeConfig = makeKubeConfig(options.kubeconfig ? { kubeconfigPath: options.kubeconfig } : {});
  let watch: ClusterWatch | null = null;
  const source = new WatchClusterSource((onChange) => {
    watch = startClusterWatch({ kubeConfig, nodeName, logger: logger.child({ component: 'cluster' }), onChange });
    return watch;
  }, () => new Date());
  return {
    source,
    whenReady: async () => {
      const timeout = new Promise<never>((_, reject) =>
        setTimeout(() => reject(new SentinelError('KUBE_API_ERROR', 'sync cluster cache', `the cluster cache did not sync within 60 s: ${source.status().lastError ?? 'no answer'}`)), 60_000).unref(),
      );
      await Promise.race([watch?.whenSynced(), timeout]);
    },
  };
}

export interface AgentBundle {
  agent: Agent;
  cluster: ClusterSource;
  whenClusterReady: () => Promise<void>;
  metrics: AgentMetrics;
  logger: Logger;
  /** The migration report of the last poll, built on request (GET /migration, the migration_findings metric). */
  migration: MigrationReporter;
  /** The snapshot's plain table when the reader had it written (check's table output), else null. */
  tableBase: (snapshot: IpvsSnapshot) => Promise<TableBase | null>;
}

/**
 * What the agent reads the IPVS table with: the in-process IpvsReader, or the one-shot commands'
 * ThreadedIpvsReader, which may also have each snapshot's plain table written beside the read.
 */
export type IpvsTableReader = Pick<IpvsReader, 'read' | 'close'> & { tableBase?(snapshot: IpvsSnapshot): Promise<TableBase | null> };

/**
 * `ipvs`: the one-shot commands' reader, started before anything else loads (src/ipvs/threaded-reader.ts);
 * without it, serve's in-process reader, whose reads share what did not change.
 */
export async function createAgent(options: Options, logStream: 'stdout' | 'stderr' = 'stdout', ipvs?: IpvsTableReader): Promise<AgentBundle> {
  const logger = createLogger(options, logStream);
  const nodeName = nodeNameOf(options);
  const cluster = await createClusterSource(options, nodeName, logger);
  const reader: IpvsTableReader = ipvs ?? createIpvsReader();
  // serve's loop compacts the heap after its polls (Agent.cycle); a one-shot command (given its
  // reader) polls once and exits, and must not set --expose-gc, which costs it its compile cache.
  const heap = ipvs === undefined ? processHeapCompactor() : null;
  if (ipvs === undefined && !heap) logger.child({ component: 'poller' }).info({}, 'heap compaction off: V8 gives no gc (node --expose-gc, or v8.setFlagsFromString, refused)');
  // After the collection, RSS against the container's memory limit: a warning before an OOM kill.
  const memoryLimit = readMemoryLimit();
  const memoryWatch = memoryLimit && new MemoryLimitWatch(memoryLimit, logger.child({ component: 'poller' }));
  const afterPoll = memoryWatch
    ? {
        afterPoll: () => {
          const compaction = heap?.afterPoll() ?? null;
          memoryWatch.afterPoll();
          return compaction;
        },
      }
    : heap;
  let metrics: AgentMetrics | null = null;
  // Events and the NodeCondition: serve's only (the one-shot commands, logging to stderr, are a
  // person's look at the node, not the agent speaking for it), and they need the API.
  const reporter =
    logStream === 'stdout' && options.clusterState === null && (options.events || options.nodeCondition)
      ? (await import('./events/create.js')).createClusterReporter({ ...options, nodeName, logger: logger.child({ component: 'events' }) })
      : null;
  const agent: Agent = new Agent({
    options: {
      nodeName,
      pollIntervalMs: options.pollIntervalMs,
      graceMs: options.graceMs,
      scheduler: options.scheduler,
      checks: enabledChecks(options.skipChecks),
      // A read in its own thread is not stretched by the other sources' work: they run beside it.
      ipvsAlone: ipvs === undefined,
    },
    // The conntrack source dumps only the families of the UDP Services the last poll computed.
    node: nodeSources(options, reader, (): DesiredState | null => agent.pollReadings()?.desired ?? null),
    cluster: cluster.source,
    logger: logger.child({ component: 'poller' }),
    heap: afterPoll,
    observers: reporter ? [reporter] : [],
    metrics: {
      recordRead: (source, seconds, error) => metrics?.recordRead(source, seconds, error),
      recordDriftDetected: (kind) => metrics?.recordDriftDetected(kind),
    },
  });
  const [{ createMetrics }, { MigrationReporter }, { readListeningSockets }, { readKubeProxyVersion }] = await Promise.all([
    import('./agent/metrics.js'),
    import('./migration/reporter.js'),
    import('./node/sockets.js'),
    import('./node/kube-proxy-version.js'),
  ]);
  const migration = new MigrationReporter(agent, {
    readSockets: () => readListeningSockets({ procRoot: options.procRoot }),
    kubeProxyVersion: options.kubeProxyVersion,
    readKubeProxyVersion: () => readKubeProxyVersion(options.kubeProxyUrl),
    targetVersion: options.targetVersion,
  });
  const watched = cluster.source;
  metrics = createMetrics({
    backendMetrics: options.backendMetrics,
    view: agent,
    watchStatus: watched instanceof WatchClusterSource ? () => watched.status() : undefined,
    migration: () => migration.report(),
  });
  const stop = agent.stop.bind(agent);
  agent.stop = async () => {
    await stop();
    await reporter?.stop();
    reader.close();
  };
  const tableBase = (snapshot: IpvsSnapshot): Promise<TableBase | null> => reader.tableBase?.(snapshot) ?? Promise.resolve(null);
  return { agent, cluster: cluster.source, whenClusterReady: cluster.whenReady, metrics, logger, migration, tableBase };
}

export function checkDeps(bundle: AgentBundle): CheckDeps {
  return {
    agent: bundle.agent,
    cluster: bundle.cluster,
    whenClusterReady: bundle.whenClusterReady,
    tableBase: bundle.tableBase,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    monotonicMs: () => performance.now(),
  };
}

/** `migration`: the agent bundle of `check`, and the host's sockets from <proc-root>/net (src/node/sockets.ts). */
export async function migrationDeps(options: Options, bundle: AgentBundle): Promise<MigrationDeps> {
  const [{ readListeningSockets }, { readKubeProxyVersion }] = await Promise.all([import('./node/sockets.js'), import('./node/kube-proxy-version.js')]);
  return {
    agent: bundle.agent,
    cluster: bundle.cluster,
    whenClusterReady: bundle.whenClusterReady,
    readSockets: () => readListeningSockets({ procRoot: options.procRoot }),
    readKubeProxyVersion: () => readKubeProxyVersion(options.kubeProxyUrl),
  };
}

/** `migration --cluster`: GETs against the API server of --kubeconfig, 15 s and 8 MiB each. */
export async function clusterMigrationDeps(options: Options): Promise<ClusterMigrationDeps> {
  const [{ makeKubeConfig }, { apiTextGetter }] = await Promise.all([import('./cluster/kubeconfig.js'), import('./cli/migration-cluster.js')]);
  return { now: () => new Date(), get: apiTextGetter(makeKubeConfig(options.kubeconfig ? { kubeconfigPath: options.kubeconfig } : {})) };
}

/** `signals`: the launcher's EarlySignals (src/cli/early-signals.ts), else the process's own. */
export function serveDeps(options: Options, signals: ServeDeps['signals'] = { on: (signal, listener) => void process.on(signal, listener) }): ServeDeps<AgentBundle> {
  return {
    logger: createLogger(options).child({ component: 'agent' }),
    signals,
    startAgent: () => createAgent(options),
    startHttp: async (bundle) => {
      const { startHttpServer } = await import('./agent/http.js');
      const { servingSecurity } = await import('./agent/auth/serving.js');
      const security = await servingSecurity({
        ...options,
        nodeName: nodeNameOf(options),
        kubeConfig: async () => (await import('./cluster/kubeconfig.js')).makeKubeConfig(options.kubeconfig ? { kubeconfigPath: options.kubeconfig } : {}),
        logger: bundle.logger.child({ component: 'auth' }),
      });
      return startHttpServer({
        host: options.listen.host,
        port: options.listen.port,
        view: bundle.agent,
        metrics: bundle.metrics,
        migration: () => bundle.migration.report(),
        logger: bundle.logger.child({ component: 'http' }),
        ...security,
      });
    },
  };
}
