/**
 * `/metrics`: prom-client on its own Registry (default `process_`/`nodejs_` metrics included, under
 * their standard names) for the agent's own metrics, followed by the IPVS traffic families rendered
 * by hand (src/render/ipvs-metrics.ts). Everything but the read histogram, the read errors and the
 * drift-detected counter is computed at scrape time from the AgentView, so a scrape always shows
 * the latest poll and nothing stale survives a finding, a module or a mode that went away.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from './prom-client.js';
import { FINDING_KINDS } from '../checks/registry.js';
import { ipvsMetricsPieces } from '../render/ipvs-metrics.js';
import type { ClusterWatchStatus } from '../cluster/informers.js';
import type { PiecePool } from '../render/pieces.js';
import { CATALOGUE } from '../migration/catalogue.js';
import type { MigrationReport } from '../migration/types.js';
import type { AgentView, SourceName } from './view.js';

export const METRIC_PREFIX = 'ipvs_sentinel_';

/** 1 ms (a small netlink dump) to 30 s (a cluster relist on a slow API server). */
export const READ_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export interface MetricsOptions {
  /** Per-real-server series (`--backend-metrics`). */
  backendMetrics: boolean;
  view: AgentView;
  /** The informers' status when the cluster comes from the API (WatchClusterSource.status); absent or null with --cluster-state. */
  watchStatus?: () => ClusterWatchStatus | null;
  /** The migration report of the last poll (src/migration/reporter.ts), built on the first request after a poll; null before the first poll. */
  migration?: () => Promise<MigrationReport> | null;
}

export interface AgentMetrics {
  /** The agent's and the process's metrics; the IPVS traffic families are added by exposition(). */
  readonly registry: Registry;
  readonly contentType: string;
  /**
   * The exposition as UTF-8 pieces, in order: prom-client's families (collected now, so a failing
   * collector rejects here), then the IPVS traffic families, rendered piece by piece as the caller
   * iterates — a large table is tens of megabytes, never held whole. Piece buffers come from
   * `pool` when given (to be given back once written).
   */
  exposition(pool?: PiecePool): Promise<Iterable<Buffer>>;
  /** The complete exposition text (tests, tools). */
  render(): Promise<string>;
  /**
   * One read of a source. `error.reason` becomes a label: pass a short stable code (an error's
   * `code`, "timeout"), never a message, or the series count grows without bound.
   */
  recordRead(source: SourceName, seconds: number, error?: { reason: string }): void;
  /** A finding of this kind became confirmed (called by the agent on the transition, not per poll). */
  recordDriftDetected(kind: string): void;
}

export function createMetrics(options: MetricsOptions): AgentMetrics {
  const { view } = options;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const name = (suffix: string): string => METRIC_PREFIX + suffix;

  const readDuration = new Histogram({
    name: name('read_duration_seconds'),
    help: 'Duration of one read of a node or cluster source.',
    labelNames: ['source'],
    buckets: READ_DURATION_BUCKETS,
    registers,
  });
  const readErrors = new Counter({
    name: name('read_errors_total'),
    help: 'Failed reads of a node or cluster source, by reason.',
    labelNames: ['source', 'reason'],
    registers,
  });
  new Gauge({
    name: name('virtual_servers'),
    help: 'IPVS virtual servers in the latest read (0 before the first).',
    registers,
    collect() {
      this.set(view.snapshot()?.services.length ?? 0);
    },
  });
  new Gauge({
    name: name('real_servers'),
    help: 'IPVS real servers in the latest read, over all virtual servers (0 before the first).',
    registers,
    collect() {
      this.set((view.snapshot()?.services ?? []).reduce((n, vs) => n + vs.destinations.length, 0));
    },
  });
  new Gauge({
    name: name('drift_findings'),
    help: 'Current drift findings; confirmed="false" ones are within the grace period.',
    labelNames: ['kind', 'severity', 'confirmed'],
    registers,
    collect() {
      this.reset();
      const counts = new Map<string, { kind: string; severity: string; confirmed: string; n: number }>();
      for (const f of view.drift().findings) {
        const key = `${f.kind}|${f.severity}|${f.confirmed}`;
        const entry = counts.get(key) ?? { kind: f.kind, severity: f.severity, confirmed: String(f.confirmed), n: 0 };
        entry.n++;
        counts.set(key, entry);
      }
      for (const { n, ...labels } of counts.values()) this.set(labels, n);
    },
  });
  const driftDetected = new Counter({
    name: name('drift_detected_total'),
    help: 'Findings that became confirmed drift, by kind.',
    labelNames: ['kind'],
    registers,
  });
  // Every kind the registry declares starts at 0, so increase() and alerts see the first confirmation.
  for (const kind of FINDING_KINDS) driftDetected.inc({ kind }, 0);
  new Gauge({
    name: name('health_check'),
    help: 'Each /healthz line of the node verdict (the checks of src/checks/registry.ts that run, then cluster and drift): 1 passing, 0 failing.',
    labelNames: ['check'],
    registers,
    collect() {
      this.reset();
      for (const c of view.health()) this.set({ check: c.name }, c.ok ? 1 : 0);
    },
  });
  new Gauge({
    name: name('kernel_module_loaded'),
    help: 'Whether a kernel module IPVS mode needs is present: 1 when loaded or built into the kernel.',
    labelNames: ['module'],
    registers,
    collect() {
      this.reset();
      for (const m of view.modules()?.modules ?? []) this.set({ module: m.name }, m.loaded || m.builtin === true ? 1 : 0);
    },
  });
  new Gauge({
    name: name('kube_proxy_mode'),
    help: 'The mode kube-proxy reports at /proxyMode (always 1; mode="unknown" when it cannot be asked).',
    labelNames: ['mode'],
    registers,
    collect() {
      this.reset();
      this.set({ mode: view.proxyMode() ?? 'unknown' }, 1);
    },
  });
  new Gauge({
    name: name('cluster_synced'),
    help: 'Whether the cluster cache (Services, EndpointSlices, Nodes) is synced: 1 or 0.',
    registers,
    collect() {
      this.set(view.clusterSynced() ? 1 : 0);
    },
  });
  const { watchStatus } = options;
  if (watchStatus) {
    new Counter({
      name: name('watch_events_rejected_total'),
      help: 'Watch events and listed objects from the Kubernetes API that failed validation and were skipped, by resource.',
      labelNames: ['resource'],
      registers,
      collect() {
        // The informers count; the counter shows their totals.
        this.reset();
        for (const [resource, status] of Object.entries(watchStatus()?.perResource ?? {})) this.inc({ resource }, status.rejectedEvents);
      },
    });
  }
  const migration = options.migration;
  if (migration) {
    new Gauge({
      name: name('migration_findings'),
      help: 'Migration readiness (IPVS to nftables mode): 1 when the finding applies to this node, 0 when not; every catalogued id is listed.',
      labelNames: ['id', 'severity'],
      registers,
      async collect() {
        const report = await migration();
        this.reset();
        if (!report) return;
        const found = new Map(report.findings.map((f) => [f.id, f.severity]));
        for (const entry of CATALOGUE) this.set({ id: entry.id, severity: found.get(entry.id) ?? entry.severity }, found.has(entry.id) ? 1 : 0);
      },
    });
  }
  new Gauge({
    name: name('last_check_timestamp_seconds'),
    help: 'Unix time of the last completed check (0 before the first).',
    registers,
    collect() {
      this.set((view.lastCheck()?.getTime() ?? 0) / 1000);
    },
  });

  // The traffic families are rendered afresh per scrape, never cached: for a large table the text
  // is tens of megabytes, and rendering it again costs less than keeping it between scrapes.
  async function exposition(pool?: PiecePool): Promise<Iterable<Buffer>> {
    const own = Buffer.from(`${await registry.metrics()}\n`, 'utf8');
    return (function* () {
      yield own;
      yield* ipvsMetricsPieces(view.snapshot(), { lookup: view.lookup, backendMetrics: options.backendMetrics, prefix: METRIC_PREFIX, pool });
    })();
  }
  return {
    registry,
    contentType: registry.contentType,
    exposition,
    async render() {
      return Buffer.concat([...(await exposition())]).toString('utf8');
    },
    recordRead(source, seconds, error) {
      readDuration.observe({ source }, seconds);
      if (error) readErrors.inc({ source, reason: error.reason });
    },
    recordDriftDetected(kind) {
      driftDetected.inc({ kind });
    },
  };
}
