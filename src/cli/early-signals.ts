/**
 * Signals that arrive while the CLI is still loading its modules. The launcher
 * (bin/ipvs-sentinel.js) creates this before it imports the rest, so SIGTERM, SIGINT and SIGHUP
 * are held instead of ending the process half-started:
 * - `serve` subscribes through `on()` and is handed the ones that came early (a SIGTERM then still
 *   ends it with exit 0 and a log line);
 * - every other command calls `release()`: the default action is back (the process ends by the
 *   signal, as a command-line tool should), and a signal that came early is raised again.
 * Imports nothing, so it is loaded in a few milliseconds.
 */
export const HELD_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;
export type HeldSignal = (typeof HELD_SIGNALS)[number];

/** The parts of `process` this needs. */
export interface SignalProcess {
  readonly pid: number;
  on(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  off(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  kill(pid: number, signal: NodeJS.Signals): unknown;
}

const isHeld = (signal: NodeJS.Signals): signal is HeldSignal => (HELD_SIGNALS as readonly string[]).includes(signal);

export class EarlySignals {
  private readonly early: HeldSignal[] = [];
  private readonly holding = new Set<HeldSignal>();
  private readonly hold = (signal: NodeJS.Signals): void => {
    if (isHeld(signal)) this.early.push(signal);
  };

  constructor(private readonly proc: SignalProcess = process) {
    for (const signal of HELD_SIGNALS) {
      proc.on(signal, this.hold);
      this.holding.add(signal);
    }
  }

  /** Listens from now on; a signal of this kind that came early is delivered at once. */
  on(signal: NodeJS.Signals, listener: () => void): void {
    this.proc.on(signal, listener);
    if (!isHeld(signal) || !this.holding.delete(signal)) return;
    this.proc.off(signal, this.hold);
    for (const s of this.early) if (s === signal) listener();
  }

  /** Back to the default actions; the first signal that came early, if any, is raised again. */
  release(): void {
    for (const signal of this.holding) this.proc.off(signal, this.hold);
    this.holding.clear();
    const first = this.early[0];
    if (first !== undefined) this.proc.kill(this.proc.pid, first);
  }
}
