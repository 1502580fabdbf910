/** Signals held while the CLI loads: handed to serve, given back to every other command. */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { EarlySignals, HELD_SIGNALS } from '../../../src/cli/early-signals.js';
import { main } from '../../../src/cli/main.js';

/** A process stand-in: signals are events, kill() is recorded. */
function fakeProcess() {
  const emitter = new EventEmitter();
  const killed: string[] = [];
  const proc = {
    pid: 4242,
    on: (signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void) => emitter.on(signal, listener),
    off: (signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void) => emitter.off(signal, listener),
    kill: (pid: number, signal: NodeJS.Signals) => killed.push(`${pid} ${signal}`),
  };
  const send = (signal: NodeJS.Signals) => emitter.emit(signal, signal);
  const listeners = () => Object.fromEntries(HELD_SIGNALS.map((s) => [s, emitter.listenerCount(s)]));
  return { proc, send, killed, listeners };
}

describe('EarlySignals', () => {
  it('holds SIGTERM, SIGINT and SIGHUP from the start, so none of them ends the process while it loads', () => {
    const p = fakeProcess();
    new EarlySignals(p.proc);
    expect(p.listeners()).toEqual({ SIGTERM: 1, SIGINT: 1, SIGHUP: 1 });
  });

  it('hands a signal that came early to the listener that subscribes later, once, and then listens as usual', () => {
    const p = fakeProcess();
    const early = new EarlySignals(p.proc);
    p.send('SIGHUP');
    p.send('SIGTERM');
    const got: string[] = [];
    early.on('SIGTERM', () => got.push('SIGTERM'));
    early.on('SIGHUP', () => got.push('SIGHUP'));
    early.on('SIGINT', () => got.push('SIGINT'));
    expect(got).toEqual(['SIGTERM', 'SIGHUP']);
    expect(p.listeners()).toEqual({ SIGTERM: 1, SIGINT: 1, SIGHUP: 1 }); // the holders are gone, the listeners stay
    p.send('SIGINT');
    expect(got).toEqual(['SIGTERM', 'SIGHUP', 'SIGINT']);
    expect(p.killed).toEqual([]);
  });

  it('release() gives the signals back to their default actions', () => {
    const p = fakeProcess();
    new EarlySignals(p.proc).release();
    expect(p.listeners()).toEqual({ SIGTERM: 0, SIGINT: 0, SIGHUP: 0 });
    expect(p.killed).toEqual([]);
  });

  it('release() raises again a signal that came early, so a command ends by it as it would have', () => {
    const p = fakeProcess();
    const early = new EarlySignals(p.proc);
    p.send('SIGINT');
    early.release();
    expect(p.killed).toEqual(['4242 SIGINT']);
    expect(p.listeners()).toEqual({ SIGTERM: 0, SIGINT: 0, SIGHUP: 0 });
  });

  it.each([
    ['--version', ['--version']],
    ['--help', ['serve', '--help']],
    ['a bad flag', ['serve', '--poll-interval', 'soon']],
    ['no command', []],
  ])('main gives the signals back for %s', async (_what, argv) => {
    const p = fakeProcess();
    const early = new EarlySignals(p.proc);
    const io = { stdout: () => undefined, stderr: () => undefined, env: {} };
    await main(argv, io, early);
    expect(p.listeners()).toEqual({ SIGTERM: 0, SIGINT: 0, SIGHUP: 0 });
  });
});
