/**
 * The retry pace of one informer: capped exponential backoff with jitter, counted in consecutive
 * failed attempts, as client-go's reflector backs off between ListAndWatch runs
 * (k8s.io/client-go/tools/cache/reflector.go, wait.NewExponentialBackoffManager). Every list and
 * every watch request waits here first, whoever asked for it — our restart after an error or
 * ListWatch's own re-watch and relist — so no failure, however it looks, can make a request storm.
 */

export interface BackoffOptions {
  initialMs?: number;
  /** No delay is ever longer, jitter included. */
  maxMs?: number;
  factor?: number;
  /** ± fraction of randomness on each delay, so a fleet of agents does not reconnect in step. */
  jitter?: number;
  /** Uniform in [0, 1); tests pass a fixed one. */
  random?: () => number;
}

export const DEFAULT_BACKOFF: Required<BackoffOptions> = { initialMs: 1000, maxMs: 30_000, factor: 2, jitter: 0.2, random: Math.random };

/** The wait before the next attempt after `failures` (≥ 1) consecutive failed ones; never above maxMs. */
export function backoffDelay(failures: number, options: Required<Omit<BackoffOptions, 'random'>>, random: number): number {
  const { initialMs, maxMs, factor, jitter } = options;
  const base = Math.min(maxMs, initialMs * factor ** Math.max(0, failures - 1));
  return Math.round(Math.min(maxMs, Math.max(0, base * (1 + jitter * (2 * random - 1)))));
}

/** One informer's retry state: how many attempts failed in a row, and when the next one may start. */
export class RetryPacer {
  private readonly options: Required<BackoffOptions>;
  private consecutive = 0;
  private nextAt = 0;
  private readonly sleepers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  private cancelled = false;

  constructor(
    options: BackoffOptions = {},
    private readonly monotonicMs: () => number = () => performance.now(),
  ) {
    this.options = { ...DEFAULT_BACKOFF, ...options };
  }

  get failures(): number {
    return this.consecutive;
  }

  /** An attempt failed: the next one waits longer. Returns that wait in ms. */
  failed(): number {
    this.consecutive++;
    const delay = backoffDelay(this.consecutive, this.options, this.options.random());
    this.nextAt = this.monotonicMs() + delay;
    return delay;
  }

  /** The API proved healthy: the next failure starts the schedule from the beginning. */
  succeeded(): void {
    this.consecutive = 0;
    this.nextAt = 0;
  }

  /** Resolves true when the next attempt may start, false once cancelled. */
  async wait(): Promise<boolean> {
    const ms = this.nextAt - this.monotonicMs();
    if (ms > 0 && !this.cancelled) {
      await new Promise<void>((resolve) => {
        const sleeper = {
          resolve,
          timer: setTimeout(() => {
            this.sleepers.delete(sleeper);
            resolve();
          }, ms),
        };
        this.sleepers.add(sleeper);
      });
    }
    return !this.cancelled;
  }

  /** Stop for good: a pending wait resolves false now, later ones at once. */
  cancel(): void {
    this.cancelled = true;
    for (const sleeper of this.sleepers) {
      clearTimeout(sleeper.timer);
      sleeper.resolve();
    }
    this.sleepers.clear();
  }
}
