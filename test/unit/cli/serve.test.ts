/**
 * runServe's order of things with signals from a stand-in source: the handlers come before the slow
 * start, a termination at any point ends with 0, SIGHUP and SIGUSR1 change nothing.
 * (test/unit/cli/serve-process.test.ts sends real signals to the built CLI.)
 */
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { SIGHUP_MESSAGE, SIGUSR1_MESSAGE, runServe, type HttpHandle, type ServeDeps, type ServeParts, type ServeSignal } from '../../../src/cli/serve.js';

function logCapture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream).child({ component: 'agent' }), lines };
}

function deferred<T>() {
  let resolve: (value: T) => void = () => undefined;
  let reject: (err: unknown) => void = () => undefined;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** What happened to the parts, in order. */
function fakeParts(events: string[]): ServeParts {
  return {
    agent: {
      node: 'worker-1',
      start: () => void events.push('agent started'),
      stop: () => {
        events.push('agent stopped');
        return Promise.resolve();
      },
    },
    cluster: {
      stop: () => {
        events.push('cluster stopped');
        return Promise.resolve();
      },
    },
  };
}

function setup(options: { startHttp?: () => Promise<HttpHandle> } = {}) {
  const { logger, lines } = logCapture();
  const signals = new EventEmitter();
  const events: string[] = [];
  const start = deferred<ServeParts>();
  const listenersAtStart: Partial<Record<ServeSignal, number>> = {};
  const deps: ServeDeps = {
    logger,
    signals: { on: (signal, listener) => void signals.on(signal, listener) },
    startAgent: () => {
      for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGUSR1'] as const) listenersAtStart[s] = signals.listenerCount(s);
      events.push('start called');
      return start.promise;
    },
    startHttp:
      options.startHttp ??
      (() => {
        events.push('http started');
        return Promise.resolve({
          address: { host: '127.0.0.1', port: 9742 },
          close: () => {
            events.push('http closed');
            return Promise.resolve();
          },
        });
      }),
    shutdownTimeoutMs: 1_000,
  };
  const flush = () => new Promise((resolve) => setImmediate(resolve));
  return { deps, signals, events, start, lines, listenersAtStart, flush, parts: fakeParts(events) };
}

describe('runServe', () => {
  it('installs every signal handler before the slow start begins', async () => {
    const t = setup();
    const running = runServe(t.deps);
    expect(t.listenersAtStart).toEqual({ SIGTERM: 1, SIGINT: 1, SIGHUP: 1, SIGUSR1: 1 });
    t.signals.emit('SIGTERM');
    expect(await running).toBe(0);
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('%s while the state file is still read: exit 0 with a log line, nothing served, what the start made stopped once it is there', async (signal) => {
    const t = setup();
    const running = runServe(t.deps);
    await t.flush();
    t.signals.emit(signal);
    expect(await running).toBe(0);
    expect(t.lines.map((l) => [l.msg, l.signal, l.during])).toEqual([
      ['starting', undefined, undefined],
      ['shutting down', signal, 'startup'],
      ['stopped', undefined, undefined],
    ]);
    t.start.resolve(t.parts);
    await t.flush();
    expect(t.events).toEqual(['start called', 'agent stopped', 'cluster stopped']);
  });

  it('a start that fails after the signal is not an unhandled rejection', async () => {
    const t = setup();
    const running = runServe(t.deps);
    t.signals.emit('SIGTERM');
    expect(await running).toBe(0);
    t.start.reject(new Error('state file broke'));
    await t.flush();
    expect(t.events).toEqual(['start called']);
  });

  it('serves until SIGTERM, then stops the agent, the cluster and HTTP, and returns 0', async () => {
    const t = setup();
    const running = runServe(t.deps);
    t.start.resolve(t.parts);
    await t.flush();
    expect(t.events).toEqual(['start called', 'http started', 'agent started']);
    expect(t.lines.find((l) => l.msg === 'serving')).toMatchObject({ listen: '127.0.0.1:9742', node: 'worker-1' });
    t.signals.emit('SIGTERM');
    expect(await running).toBe(0);
    expect(t.events.slice(3).sort()).toEqual(['agent stopped', 'cluster stopped', 'http closed']);
    expect(t.lines.at(-2)).toMatchObject({ msg: 'shutting down', signal: 'SIGTERM' });
  });

  it.each([
    ['SIGHUP', 30, SIGHUP_MESSAGE],
    ['SIGUSR1', 40, SIGUSR1_MESSAGE],
  ] as const)('%s, while starting and while serving, is one log line and changes nothing', async (signal, level, msg) => {
    const t = setup();
    const running = runServe(t.deps);
    t.signals.emit(signal);
    t.start.resolve(t.parts);
    await t.flush();
    t.signals.emit(signal);
    expect(t.lines.filter((l) => l.signal === signal)).toEqual([expect.objectContaining({ level, msg }), expect.objectContaining({ level, msg })]);
    expect(t.events).toEqual(['start called', 'http started', 'agent started']);
    t.signals.emit('SIGTERM');
    expect(await running).toBe(0);
  });

  it('a second SIGTERM during the shutdown is logged, not fatal', async () => {
    const t = setup();
    const running = runServe(t.deps);
    t.start.resolve(t.parts);
    await t.flush();
    t.signals.emit('SIGTERM');
    t.signals.emit('SIGINT');
    expect(await running).toBe(0);
    expect(t.lines.filter((l) => l.msg === 'already shutting down')).toMatchObject([{ signal: 'SIGINT' }]);
  });

  it('a failing listen stops what the start made and is thrown for main to print', async () => {
    const t = setup({ startHttp: () => Promise.reject(new Error('listen broke')) });
    const running = runServe(t.deps);
    t.start.resolve(t.parts);
    await expect(running).rejects.toThrow('listen broke');
    expect(t.events).toEqual(['start called', 'agent stopped', 'cluster stopped']);
  });

  it('a failing start is thrown for main to print', async () => {
    const t = setup();
    const running = runServe(t.deps);
    t.start.reject(new Error('unreadable'));
    await expect(running).rejects.toThrow('unreadable');
  });
});
