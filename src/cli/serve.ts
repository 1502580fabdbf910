/** `ipvs-sentinel serve`: the DaemonSet agent. Runs until SIGTERM/SIGINT, then exits 0. */
import type { Agent } from '../agent/agent.js';
import type { ClusterSource } from '../agent/cluster-source.js';
import type { AgentLogger } from '../agent/agent.js';

export interface ServeDeps {
  agent: Agent;
  cluster: ClusterSource;
  startHttp(): Promise<{ address: { host: string; port: number }; close(): Promise<void> }>;
  logger: AgentLogger;
  /** Resolves on the first termination signal (SIGTERM or SIGINT in production). */
  terminated: Promise<string>;
  /** Hard bound on shutdown, so a stuck close never keeps the pod terminating. */
  shutdownTimeoutMs?: number;
}

export async function runServe(deps: ServeDeps): Promise<number> {
  const http = await deps.startHttp();
  deps.logger.info({ listen: `${http.address.host}:${http.address.port}`, node: deps.agent.node }, 'serving');
  deps.agent.start();
  const signal = await deps.terminated;
  deps.logger.info({ signal }, 'shutting down');
  const shutdown = Promise.all([deps.agent.stop(), deps.cluster.stop(), http.close()]);
  const bound = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), deps.shutdownTimeoutMs ?? 5000).unref());
  if ((await Promise.race([shutdown, bound])) === 'timeout') deps.logger.warn({}, 'shutdown took too long; exiting anyway');
  deps.logger.info({}, 'stopped');
  return 0;
}
