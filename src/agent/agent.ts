/**
 * The agent loop: every poll reads the node sources (IPVS over netlink, modules, sysctls,
 * kube-proxy, interface addresses), takes the cluster's desired state, evaluates the findings and
 * runs them through the grace state machine. One log line per state change (drift confirmed or
 * cleared, a source failing or recovering), never one per poll. A failing source degrades its own
 * check; the others keep working.
 */
import { effectiveScheduler, type KubeProxyConfig, type KubeProxyConfigSource } from '../cluster/kube-proxy-config.js';
import { advanceWithTransitions } from '../drift/grace.js';
import { buildDriftReport } from '../drift/report.js';
import type { DriftReport, ServicePortRef, TrackedFinding } from '../drift/types.js';
import { SentinelError } from '../errors/index.js';
import type { DesiredState, ExpectedVirtualServer } from '../desired/types.js';
import type { IpvsSnapshot } from '../ipvs/types.js';
import type { PollReadings } from '../migration/from-poll.js';
import { checkModules } from '../kmod/check.js';
import type { ModuleReport } from '../kmod/types.js';
import { parseKubeProxyConfigMap, resolveKubeProxyConfig } from '../node/kube-proxy.js';
import { CHECKS, healthLinesOf } from '../checks/registry.js';
import type { NodeReadingsOf, NodeSourceName, NodeSources, Reading } from '../checks/sources.js';
import type { CheckDefinition, HealthLine } from '../checks/types.js';
import type { ClusterSource } from './cluster-source.js';
import type { Compaction } from './heap.js';
import type { PollChange } from '../events/intents.js';
import { evaluatePoll, healthChecks, schedulersInUse, type NodeObservation } from './evaluate.js';
import type { AgentView, HealthCheck, SourceName } from './view.js';

export type { NodeSources } from '../checks/sources.js';

const NOT_READ: Reading<never> = Object.freeze({ value: null, error: 'not read: its check is skipped (--skip-checks)', code: null });

export interface AgentLogger {
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
  debug(obj: Record<string, unknown>, msg: string): void;
}

export interface AgentMetricsHooks {
  recordRead(source: SourceName, seconds: number, error?: { reason: string }): void;
  recordDriftDetected(kind: string): void;
}

/** Told each poll's outcome after the grace machine (Events, the NodeCondition: src/events/); must return at once. */
export interface PollObserver {
  afterPoll(change: PollChange): void;
}

export interface AgentOptions {
  nodeName: string;
  pollIntervalMs: number;
  graceMs: number;
  /** --scheduler: overrides kube-proxy's configured scheduler. */
  scheduler: string | null;
  /** The checks to run (--skip-checks leaves some out); default every check of the registry. */
  checks?: readonly CheckDefinition[];
  /**
   * Whether the IPVS table is read first and alone, the other sources after it (default true); false
   * when it is read in a thread of its own (src/ipvs/threaded-reader.ts), which their work cannot stretch.
   */
  ipvsAlone?: boolean;
}

export interface AgentDeps {
  options: AgentOptions;
  node: NodeSources;
  cluster: ClusterSource;
  logger: AgentLogger;
  metrics?: AgentMetricsHooks;
  /** Gives the heap back after each poll of the loop (src/agent/heap.ts); absent: nothing. */
  heap?: { afterPoll(): Compaction | null } | null;
  observers?: readonly PollObserver[];
  now?: () => Date;
  monotonicMs?: () => number;
}

interface SourceState {
  failing: boolean;
  error: string | null;
}

export class Agent implements AgentView {
  readonly node: string;
  private readonly now: () => Date;
  private readonly monotonicMs: () => number;
  private findings = new Map<string, TrackedFinding>();
  private report: DriftReport;
  private checks: HealthCheck[];
  private observation: NodeObservation | null = null;
  private clusterUnknown: string | null = 'not polled yet';
  private synced = false;
  private lastPoll: Date | null = null;
  private lastTick: number;
  private polls = 0;
  private lookupMap = new Map<string, ServicePortRef>();
  /** The virtual servers lookupMap was built from (a copy): rebuilt only when the desired state's differ. */
  private lookupFrom: readonly ExpectedVirtualServer[] = [];
  private config: { config: KubeProxyConfig; source: KubeProxyConfigSource } | null = null;
  private desired: DesiredState | null = null;
  private readonly sources = new Map<SourceName, SourceState>();
  private readonly enabled: readonly CheckDefinition[];
  /** Sources of skipped checks: never read. */
  private readonly unread: ReadonlySet<NodeSourceName>;
  private readonly healthLines: readonly HealthLine[];
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly deps: AgentDeps) {
    this.node = deps.options.nodeName;
    this.now = deps.now ?? (() => new Date());
    this.monotonicMs = deps.monotonicMs ?? (() => performance.now());
    this.lastTick = this.monotonicMs();
    this.report = buildDriftReport({ node: this.node, checkedAt: this.now(), findings: [], unknownReason: 'not polled yet' });
    this.enabled = deps.options.checks ?? CHECKS;
    // A source some skipped check owns is read still while an enabled check owns it too.
    const owned = (checks: readonly CheckDefinition[]): NodeSourceName[] => checks.flatMap((c) => (c.ownSource === undefined ? [] : [c.ownSource]));
    const needed = new Set(owned(this.enabled));
    this.unread = new Set(owned(CHECKS.filter((c) => !this.enabled.includes(c))).filter((s) => !needed.has(s)));
    this.healthLines = healthLinesOf(this.enabled);
    this.checks = healthChecks(null, this.clusterUnknown, this.report, this.healthLines);
  }

  // ---- AgentView --------------------------------------------------------------------------------

  readonly lookup = (key: string): ServicePortRef | null => this.lookupMap.get(key) ?? null;

  live(): boolean {
    // Alive while the loop keeps ticking; a poll stuck far beyond its interval means a hung loop.
    const bound = Math.max(3 * this.deps.options.pollIntervalMs, 60_000);
    return !this.stopped && this.monotonicMs() - this.lastTick < bound;
  }

  ready(): { ready: boolean; reason: string | null } {
    if (this.polls === 0) return { ready: false, reason: 'the first poll has not completed' };
    if (!this.synced) return { ready: false, reason: this.clusterUnknown ?? 'the cluster cache is not synced' };
    return { ready: true, reason: null };
  }

  health(): HealthCheck[] {
    return this.checks;
  }

  snapshot(): IpvsSnapshot | null {
    return this.observation?.snapshot ?? null;
  }

  drift(): DriftReport {
    return this.report;
  }

  modules(): ModuleReport | null {
    return this.observation?.modules ?? null;
  }

  proxyMode(): string | null {
    return this.observation?.runningMode ?? null;
  }

  clusterSynced(): boolean {
    return this.synced;
  }

  lastCheck(): Date | null {
    return this.lastPoll;
  }

  /** kube-proxy's effective configuration and where it came from, as of the last poll. */
  kubeProxyConfig(): { config: KubeProxyConfig; source: KubeProxyConfigSource } | null {
    return this.config;
  }

  /** What the last poll read and computed, for reports built on request (the migration report); null before the first poll. */
  pollReadings(): PollReadings | null {
    if (!this.observation || !this.lastPoll) return null;
    return {
      node: this.node,
      polledAt: this.lastPoll,
      readings: this.observation.readings,
      runningMode: this.observation.runningMode,
      config: this.config,
      desired: this.desired,
      clusterUnknown: this.clusterUnknown,
      cluster: this.deps.cluster.clusterObjects?.() ?? null,
    };
  }

  /** How many polls have completed: a report cached per poll is stale once this moves. */
  pollCount(): number {
    return this.polls;
  }

  // ---- the loop ---------------------------------------------------------------------------------

  start(): void {
    const loop = async (): Promise<void> => {
      if (this.stopped) return;
      this.running = this.cycle();
      await this.running;
      this.running = null;
      if (!this.stopped) this.timer = setTimeout(() => void loop(), this.deps.options.pollIntervalMs);
    };
    void loop();
  }

  /** One turn of the loop: a poll, then the heap compaction. Never rejects. */
  async cycle(): Promise<void> {
    try {
      await this.pollOnce();
    } catch (err) {
      this.deps.logger.error({ err: String(err) }, 'poll failed unexpectedly');
    }
    let compaction: Compaction | null = null;
    try {
      compaction = this.deps.heap?.afterPoll() ?? null;
    } catch (err) {
      this.deps.logger.warn({ err: String(err) }, 'heap compaction failed');
    }
    if (compaction) {
      const mb = (bytes: number): number => Math.round(bytes / 2 ** 20);
      this.deps.logger.debug(
        { reducing: compaction.reducing, beforeMb: mb(compaction.beforeBytes), afterMb: mb(compaction.afterBytes), liveMb: mb(compaction.liveBytes), pauseMs: Math.round(compaction.pauseMs) },
        'heap compacted',
      );
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  /**
   * Every node-side source, each timed and failing on its own; a source only a skipped check needs
   * is not read at all. The IPVS table first and alone, the others then at once: started beside it,
   * their work (kube-ipvs0's addresses, the *-save tools' output, the conntrack dump) ran in the
   * turns the read gives the event loop, stretching the dump the kernel serves and the durationMs
   * it reports (issue 17); they are small next to it, so the poll takes about as long. A read in a
   * thread of its own (the one-shot commands) is not stretched: everything is then read at once,
   * and `others` is there before the table is. Neither promise rejects: a failure is its reading's.
   */
  private readNode(): { ipvs: Promise<NodeReadingsOf['netlink']>; others: Promise<Omit<NodeReadingsOf, 'netlink'>> } {
    const sources = this.deps.node;
    const names = (Object.keys(sources) as NodeSourceName[]).filter((name) => name !== 'netlink');
    const read = (name: NodeSourceName): Promise<Reading<unknown>> =>
      this.unread.has(name) ? Promise.resolve(NOT_READ) : this.timed<unknown>(name, sources[name]);
    const ipvs = read('netlink') as Promise<NodeReadingsOf['netlink']>;
    const start = (this.deps.options.ipvsAlone ?? true) ? ipvs.then(() => undefined) : Promise.resolve();
    const others = start
      .then(() => Promise.all(names.map(read)))
      .then((readings) => Object.fromEntries(names.map((name, i) => [name, readings[i]])) as unknown as Omit<NodeReadingsOf, 'netlink'>);
    return { ipvs, others };
  }

  private async timed<T>(source: SourceName, read: () => Promise<T>): Promise<Reading<T>> {
    const started = this.monotonicMs();
    try {
      const value = await read();
      this.deps.metrics?.recordRead(source, (this.monotonicMs() - started) / 1000);
      this.sourceState(source, null);
      return { value, error: null, code: null };
    } catch (err) {
      const error = err instanceof SentinelError ? err.toLine() : String(err);
      const reason = err instanceof SentinelError ? err.code : 'error';
      this.deps.metrics?.recordRead(source, (this.monotonicMs() - started) / 1000, { reason });
      this.sourceState(source, error);
      return { value: null, error, code: reason };
    }
  }

  private sourceState(source: SourceName, error: string | null): void {
    const previous = this.sources.get(source) ?? { failing: false, error: null };
    if (error !== null && !previous.failing) this.deps.logger.warn({ source, error }, `source ${source} is failing`);
    if (error === null && previous.failing) this.deps.logger.info({ source }, `source ${source} recovered`);
    this.sources.set(source, { failing: error !== null, error });
  }

  /**
   * One poll: read everything, evaluate, advance the grace machine. The desired state needs no IPVS
   * table: it is computed as soon as the other sources are read, while a read in its own thread may
   * still be in flight (issue 17).
   */
  async pollOnce(): Promise<void> {
    this.lastTick = this.monotonicMs();
    const reads = this.readNode();
    const others = await reads.others;
    const { modules: moduleFacts, 'kube-proxy': probe, interfaces } = others;

    const configMapText = this.deps.cluster.kubeProxyConfigMap();
    const resolved = resolveKubeProxyConfig({ configz: probe.value?.configz ?? null, configMapText });
    const config = this.deps.options.scheduler ? { ...resolved.config, scheduler: this.deps.options.scheduler } : resolved.config;
    this.config = { config, source: resolved.source };

    const clusterStarted = this.monotonicMs();
    const facts = { name: this.node, zone: null, interfaces: interfaces.value ?? this.observation?.readings.interfaces.value ?? [] };
    const cluster = this.deps.cluster.current(facts, config);
    this.deps.metrics?.recordRead('cluster', (this.monotonicMs() - clusterStarted) / 1000, cluster.unknownReason ? { reason: 'unknown' } : undefined);
    this.sourceState('cluster', cluster.unknownReason);
    this.synced = cluster.synced;
    this.clusterUnknown = cluster.unknownReason;
    // The incremental model hands out the same virtual-server objects while their Services are
    // unchanged: 10,000 map entries built again each poll were ~1 MB of old-generation garbage.
    if (cluster.desired && !sameObjects(cluster.desired.virtualServers, this.lookupFrom)) {
      this.lookupMap = new Map(cluster.desired.virtualServers.map((vs) => [vs.key, vs.service]));
      this.lookupFrom = [...cluster.desired.virtualServers];
    }

    const ipvs = await reads.ipvs;
    const readings: NodeReadingsOf = { netlink: ipvs, ...others };
    const snapshot = ipvs.value;
    const inUse = schedulersInUse(snapshot);
    const modules = moduleFacts.value
      ? checkModules({
          ...moduleFacts.value,
          scheduler: effectiveScheduler(config),
          ipvsFamilyResolves: snapshot ? true : ipvs.code === 'IPVS_UNAVAILABLE' ? false : null,
          schedulersInUse: inUse,
        })
      : null;

    const observation: NodeObservation = {
      readings,
      snapshot,
      schedulersInUse: inUse,
      modules,
      runningMode: probe.value?.runningMode ?? null,
    };
    const verdict = evaluatePoll(observation, {
      desired: cluster.desired,
      nodeAddresses: cluster.nodeAddresses,
      unknownReason: cluster.unknownReason,
      configuredMode: configuredMode(configMapText, resolved.source === 'configz' ? config.mode : null),
      strictARP: config.strictARP,
    }, this.enabled);

    const now = this.now();
    const { findings, confirmed, cleared } = advanceWithTransitions(this.findings, verdict.findings, now, { grace: this.deps.options.graceMs });
    this.findings = new Map(findings.map((f) => [f.id, f]));
    for (const f of confirmed) {
      this.deps.metrics?.recordDriftDetected(f.kind);
      const log = f.severity === 'info' ? this.deps.logger.info.bind(this.deps.logger) : this.deps.logger.warn.bind(this.deps.logger);
      log({ kind: f.kind, severity: f.severity, virtualServer: f.virtualServer, realServer: f.realServer, service: f.service, firstSeen: f.firstSeen.toISOString() }, `drift confirmed: ${f.message}`);
    }
    for (const f of cleared) {
      const fields = { kind: f.kind, virtualServer: f.virtualServer, realServer: f.realServer, service: f.service };
      // A difference gone within the grace (kube-proxy catching up) was never drift: not a state change.
      if (f.confirmed) this.deps.logger.info(fields, `drift cleared: ${f.kind}`);
      else this.deps.logger.debug(fields, `pending difference resolved within the grace: ${f.kind}`);
    }
    const previousStatus = this.report.status;
    this.report = buildDriftReport({ node: this.node, checkedAt: now, findings, unknownReason: verdict.unknownReason });
    if (this.report.status !== previousStatus) {
      this.deps.logger.info({ status: this.report.status, previous: previousStatus, reason: this.report.reason }, `node verdict is now ${this.report.status}`);
    }
    for (const observer of this.deps.observers ?? []) {
      try {
        observer.afterPoll({ report: this.report, previousStatus, confirmed, cleared });
      } catch (err) {
        this.deps.logger.error({ err: String(err) }, 'a poll observer failed');
      }
    }
    this.observation = observation;
    this.desired = cluster.desired;
    this.checks = healthChecks(observation, cluster.unknownReason, this.report, this.healthLines);
    this.lastPoll = now;
    this.polls++;
    this.lastTick = this.monotonicMs();
  }
}

function sameObjects<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The mode the cluster declares for kube-proxy: the ConfigMap's, which is what a running kube-proxy
 * is compared against (current kube-proxy echoes its own config at /proxyMode and /configz, so
 * those two never disagree); else /configz's; null when only defaults are known.
 */
function configuredMode(configMapText: string | null, configzMode: string | null): string | null {
  if (configMapText !== null) {
    try {
      return parseKubeProxyConfigMap(configMapText).mode;
    } catch {
      // An unparsable ConfigMap is reported by the config resolution; fall back to /configz.
    }
  }
  return configzMode;
}
