/**
 * `ipvs-sentinel migration`: can kube-proxy on this node move from IPVS to nftables mode now? One
 * poll of the agent's sources and the cluster, then the readiness report (src/migration/) as a
 * table, JSON or Markdown for a change ticket. Exit 0 ready (with or without changes to review),
 * 1 blocked, 2 unknown or could not run.
 */
import type { Agent } from '../agent/agent.js';
import type { ClusterSource } from '../agent/cluster-source.js';
import { SentinelError } from '../errors/index.js';
import { renderMigration } from '../migration/render.js';
import { MigrationReporter } from '../migration/reporter.js';
import type { HostSockets } from '../node/sockets.js';
import type { Options } from './flags.js';
import type { Io } from './io.js';

export interface MigrationDeps {
  agent: Agent;
  cluster: ClusterSource;
  whenClusterReady: () => Promise<void>;
  readSockets: () => Promise<HostSockets>;
  /** kube-proxy's version from its /metrics, null when unknown (--kube-proxy-version wins). */
  readKubeProxyVersion?: () => Promise<string | null>;
}

export async function runMigration(options: Options, io: Io, deps: MigrationDeps): Promise<number> {
  try {
    await deps.whenClusterReady();
    await deps.agent.pollOnce();
    const report = await new MigrationReporter(deps.agent, {
      readSockets: deps.readSockets,
      kubeProxyVersion: options.kubeProxyVersion,
      readKubeProxyVersion: deps.readKubeProxyVersion,
      targetVersion: options.targetVersion,
    }).report();
    if (!report) throw new SentinelError('INTERNAL', 'migration', 'no poll completed');
    io.stdout(renderMigration(report, options.output));
    switch (report.verdict) {
      case 'ready':
      case 'ready-with-changes':
        return 0;
      case 'blocked':
        return 1;
      case 'unknown':
        return 2;
    }
  } finally {
    await deps.agent.stop();
    await deps.cluster.stop();
  }
}
