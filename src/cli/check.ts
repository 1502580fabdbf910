/**
 * `ipvs-sentinel check`: one-shot verdict for a person on a node. Exit 0 healthy, 1 drift or a
 * failed check, 2 could not run. With a grace period, differences kube-proxy may still be
 * converging on are re-read until they are confirmed or gone, so a one-shot check never cries wolf;
 * `--grace 0s` confirms at once.
 */
import type { Agent } from '../agent/agent.js';
import type { ClusterSource } from '../agent/cluster-source.js';
import { formatDriftReportJson } from '../drift/report.js';
import { SentinelError } from '../errors/index.js';
import { effectiveScheduler } from '../cluster/kube-proxy-config.js';
import { renderCheck, renderCheckBytes } from '../render/check.js';
import type { IpvsSnapshot } from '../ipvs/types.js';
import type { TableBase } from '../render/table.js';
import { formatDuration } from '../util/duration.js';
import type { Options } from './flags.js';
import type { Io } from './io.js';

export interface CheckDeps {
  agent: Agent;
  cluster: ClusterSource;
  /** Resolves when the cluster is ready to compare (immediately for a file). */
  whenClusterReady(): Promise<void>;
  /** The snapshot's plain table if the thread that read it wrote it (src/ipvs/threaded-reader.ts), else null. */
  tableBase?(snapshot: IpvsSnapshot): Promise<TableBase | null>;
  sleep(ms: number): Promise<void>;
  monotonicMs(): number;
}

export async function runCheck(options: Options, io: Io, deps: CheckDeps): Promise<number> {
  const { agent } = deps;
  try {
    await deps.whenClusterReady();
    await agent.pollOnce();
    const deadline = deps.monotonicMs() + options.graceMs + options.pollIntervalMs;
    let announced = false;
    while (options.graceMs > 0 && agent.drift().findings.some((f) => !f.confirmed && f.severity !== 'info') && deps.monotonicMs() < deadline) {
      if (!announced && options.output === 'table') {
        io.stderr(`Differences seen; re-reading for up to ${formatDuration(options.graceMs)} while kube-proxy may still converge (--grace 0s to skip)…\n`);
        announced = true;
      }
      await deps.sleep(Math.min(options.pollIntervalMs, Math.max(0, deadline - deps.monotonicMs())));
      await agent.pollOnce();
    }
    const report = agent.drift();
    if (options.output === 'json') io.stdout(formatDriftReportJson(report));
    else {
      const config = agent.kubeProxyConfig();
      const verdict = {
        snapshot: agent.snapshot(),
        lookup: agent.lookup,
        report,
        checks: agent.health(),
        configSource: config?.source ?? null,
        scheduler: config ? effectiveScheduler(config.config) : null,
      };
      if (io.stdoutBytes) {
        const base = verdict.snapshot && deps.tableBase ? await deps.tableBase(verdict.snapshot) : null;
        io.stdoutBytes(renderCheckBytes(verdict, base));
      } else io.stdout(renderCheck(verdict));
    }
    const ipvs = agent.health().find((c) => c.name === 'ipvs');
    if (!agent.snapshot()) {
      // No IPVS access at all: the check could not run. Say why on stderr too, for scripts.
      io.stderr(`ipvs-sentinel: ${ipvs?.reason ?? 'the IPVS table could not be read'}\n`);
      return agent.modules()?.ok === false ? 1 : 2;
    }
    const cluster = agent.health().find((c) => c.name === 'cluster');
    if (cluster && !cluster.ok) {
      throw new SentinelError('KUBE_API_ERROR', 'check', cluster.reason ?? 'the cluster could not be read');
    }
    // unknown here means no comparison was possible for a node-side reason (e.g. kube-proxy not in IPVS mode).
    const failed = agent.health().some((c) => !c.ok);
    return report.status !== 'ok' || failed ? 1 : 0;
  } finally {
    await agent.stop();
    await deps.cluster.stop();
  }
}
