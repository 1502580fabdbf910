/**
 * `ipvs-sentinel serve`: the DaemonSet agent. Its signal handlers come first, before the slow start
 * (reading --cluster-state, loading the Kubernetes client), so a signal never kills it mid-way:
 * - SIGTERM / SIGINT, at any time: stop and exit 0 (shutdown bounded by `shutdownTimeoutMs`);
 * - SIGHUP: one log line and no harm. Nothing needs reloading: kube-proxy's configuration
 *   (/configz, the kube-system/kube-proxy ConfigMap) is read again on every poll, and the flags and
 *   --cluster-state are read at start only;
 * - SIGUSR1: one log line; it never opens the Node inspector (the launcher, bin/ipvs-sentinel.js,
 *   holds a listener from the first line on, which keeps Node from doing so).
 */
import type { Agent, AgentLogger } from '../agent/agent.js';
import type { ClusterSource } from '../agent/cluster-source.js';

/** The signals serve handles; each of them would otherwise end the process or open the inspector. */
export const SERVE_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGUSR1'] as const;
export type ServeSignal = (typeof SERVE_SIGNALS)[number];

/** Where signals come from (the process in production). */
export interface SignalSource {
  on(signal: ServeSignal, listener: () => void): void;
}

/** What the slow start builds: the agent and its cluster source (and whatever the HTTP server needs). */
export interface ServeParts {
  agent: Pick<Agent, 'node' | 'start' | 'stop'>;
  cluster: Pick<ClusterSource, 'stop'>;
}

export interface HttpHandle {
  address: { host: string; port: number };
  close(): Promise<void>;
}

export interface ServeDeps<P extends ServeParts = ServeParts> {
  /** Available before the agent is built, so the start and its signals are logged. */
  logger: AgentLogger;
  signals: SignalSource;
  /** Builds the agent: reads --cluster-state or starts the watches. The slow part. */
  startAgent(): Promise<P>;
  startHttp(parts: P): Promise<HttpHandle>;
  /** Hard bound on shutdown, so a stuck close never keeps the pod terminating. */
  shutdownTimeoutMs?: number;
}

export const SIGHUP_MESSAGE =
  "SIGHUP: nothing to reload — kube-proxy's configuration (/configz, the kube-proxy ConfigMap) is read again on every poll; flags and --cluster-state are read at start only (restart to change them)";
export const SIGUSR1_MESSAGE = 'SIGUSR1 ignored: ipvs-sentinel never opens the Node inspector on a signal';

export async function runServe<P extends ServeParts>(deps: ServeDeps<P>): Promise<number> {
  const { logger } = deps;
  let received: ServeSignal | null = null;
  const terminated = new Promise<ServeSignal>((resolve) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      deps.signals.on(signal, () => {
        if (received !== null) logger.info({ signal }, 'already shutting down');
        received ??= signal;
        resolve(signal);
      });
    }
  });
  deps.signals.on('SIGHUP', () => logger.info({ signal: 'SIGHUP' }, SIGHUP_MESSAGE));
  deps.signals.on('SIGUSR1', () => logger.warn({ signal: 'SIGUSR1' }, SIGUSR1_MESSAGE));

  logger.info({}, 'starting');
  const starting = deps.startAgent();
  const first = await Promise.race([starting.then((parts) => ({ parts })), terminated.then((signal) => ({ signal }))]);
  if ('signal' in first) {
    logger.info({ signal: first.signal, during: 'startup' }, 'shutting down');
    // Whatever the start still does is abandoned; what it started is stopped once it is there.
    starting.then((parts) => stopParts(parts), () => undefined).catch(() => undefined);
    logger.info({}, 'stopped');
    return 0;
  }
  const { parts } = first;

  let http: HttpHandle;
  try {
    http = await deps.startHttp(parts);
  } catch (err) {
    await bounded(stopParts(parts), deps);
    throw err;
  }
  if (received === null) {
    logger.info({ listen: `${http.address.host}:${http.address.port}`, node: parts.agent.node }, 'serving');
    parts.agent.start();
  }
  const signal = await terminated;
  logger.info({ signal }, 'shutting down');
  if ((await bounded(Promise.all([stopParts(parts), http.close()]), deps)) === 'timeout') {
    logger.warn({}, 'shutdown took too long; exiting anyway');
  }
  logger.info({}, 'stopped');
  return 0;
}

async function stopParts(parts: ServeParts): Promise<void> {
  await Promise.all([parts.agent.stop(), parts.cluster.stop()]);
}

/** Waits for `work` at most `shutdownTimeoutMs`; a failure is logged, never thrown over the reason to stop. */
function bounded(work: Promise<unknown>, { logger, shutdownTimeoutMs = 5000 }: Pick<ServeDeps, 'logger' | 'shutdownTimeoutMs'>): Promise<'done' | 'timeout'> {
  const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), shutdownTimeoutMs).unref());
  const done = work.then(
    () => 'done' as const,
    (err: unknown) => {
      logger.warn({ err: String(err) }, 'stopping failed');
      return 'done' as const;
    },
  );
  return Promise.race([done, timeout]);
}
