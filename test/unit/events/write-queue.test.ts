import { describe, expect, it } from 'vitest';
import { RetryPacer } from '../../../src/cluster/backoff.js';
import { WriteQueue, type QueuedWrite, type WriteOutcome } from '../../../src/events/write-queue.js';

interface Line {
  level: 'info' | 'warn' | 'debug';
  obj: Record<string, unknown>;
  msg: string;
}

function logger(lines: Line[]): ConstructorParameters<typeof WriteQueue>[0]['logger'] {
  return {
    info: (obj, msg) => lines.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
    debug: (obj, msg) => lines.push({ level: 'debug', obj, msg }),
  };
}

/** A pacer with 1 ms steps, and the delays it was asked for. */
function fastPacer(): RetryPacer {
  return new RetryPacer({ initialMs: 1, maxMs: 4, jitter: 0 });
}

function write(key: string, outcomes: WriteOutcome[], calls: string[], extra: Partial<QueuedWrite> = {}): QueuedWrite {
  return {
    key,
    what: `write ${key}`,
    attempt: () => {
      calls.push(key);
      return Promise.resolve(outcomes.shift() ?? { ok: true });
    },
    ...extra,
  };
}

describe('WriteQueue', () => {
  it('retries a retryable failure with backoff, gives up a refused one at once; one warning, one recovery line', async () => {
    const lines: Line[] = [];
    const calls: string[] = [];
    const abandoned: string[] = [];
    const queue = new WriteQueue({ logger: logger(lines), pacer: fastPacer() });
    queue.enqueue(write('away', [{ ok: false, retry: true, error: 'connect ECONNREFUSED' }, { ok: false, retry: true, error: 'connect ECONNREFUSED' }], calls));
    queue.enqueue(write('refused', [{ ok: false, retry: false, error: 'HTTP 403: forbidden' }], calls, { abandoned: () => abandoned.push('refused') }));
    queue.enqueue(write('fine', [], calls));
    await queue.idle();
    expect(calls).toEqual(['away', 'away', 'away', 'refused', 'fine']);
    expect(abandoned).toEqual(['refused']);
    const visible = lines.filter((l) => l.level !== 'debug');
    expect(visible.map((l) => [l.level, l.msg])).toEqual([
      ['warn', 'Kubernetes writes (Events, NodeCondition) failing: connect ECONNREFUSED'],
      ['info', 'Kubernetes writes (Events, NodeCondition) succeed again'],
      ['warn', 'Kubernetes writes (Events, NodeCondition) failing: HTTP 403: forbidden'],
      ['info', 'Kubernetes writes (Events, NodeCondition) succeed again'],
    ]);
  });

  it('gives a write up after maxTries', async () => {
    const calls: string[] = [];
    const abandoned: string[] = [];
    const queue = new WriteQueue({ logger: logger([]), pacer: fastPacer(), maxTries: 3 });
    const failing = Array.from({ length: 10 }, (): WriteOutcome => ({ ok: false, retry: true, error: 'HTTP 503: ' }));
    queue.enqueue(write('a', failing, calls, { abandoned: () => abandoned.push('a') }));
    await queue.idle();
    expect(calls).toEqual(['a', 'a', 'a']);
    expect(abandoned).toEqual(['a']);
  });

  it('drops writes past its capacity with one log line while full, and says so again only after it drained', async () => {
    const lines: Line[] = [];
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const queue = new WriteQueue({ logger: logger(lines), pacer: fastPacer(), capacity: 2 });
    const sent: string[] = [];
    const gated = (key: string): QueuedWrite => ({ key, what: key, attempt: async () => (await gate, sent.push(key), { ok: true }) });
    const accepted = ['w0', 'w1', 'w2', 'w3', 'w4'].map((k) => queue.enqueue(gated(k)));
    // w0 is in flight at once; w1 and w2 fill the queue.
    expect(accepted).toEqual([true, true, true, false, false]);
    expect(queue.dropped).toBe(2);
    expect(lines.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual(['Kubernetes write queue full (2): dropping writes until it drains']);
    release();
    await queue.idle();
    expect(sent).toEqual(['w0', 'w1', 'w2']);
    queue.enqueue(gated('w5'));
    queue.enqueue(gated('w6'));
    queue.enqueue(gated('w7'));
    expect(queue.enqueue(gated('w8'))).toBe(false);
    expect(lines.filter((l) => l.level === 'warn')).toHaveLength(2);
    await queue.idle();
  });

  it('a newer write of a key replaces the waiting one', async () => {
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const sent: string[] = [];
    const queue = new WriteQueue({ logger: logger([]), pacer: fastPacer() });
    queue.enqueue({ key: 'first', what: 'first', attempt: async () => (await gate, sent.push('first'), { ok: true }) });
    for (const v of ['v1', 'v2', 'v3']) queue.enqueue({ key: 'condition', what: v, attempt: () => (sent.push(v), Promise.resolve({ ok: true })) });
    expect(queue.pending).toBe(1);
    release();
    await queue.idle();
    expect(sent).toEqual(['first', 'v3']);
  });

  it('an answer that never comes is aborted after timeoutMs and retried', async () => {
    const lines: Line[] = [];
    let tries = 0;
    const queue = new WriteQueue({ logger: logger(lines), pacer: fastPacer(), timeoutMs: 20 });
    queue.enqueue({
      key: 'slow',
      what: 'slow',
      attempt: (signal) => {
        tries++;
        if (tries > 1) return Promise.resolve({ ok: true });
        return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));
      },
    });
    await queue.idle();
    expect(tries).toBe(2);
    expect(lines.find((l) => l.level === 'warn')?.msg).toBe('Kubernetes writes (Events, NodeCondition) failing: no answer within 20 ms');
  });

  it('enqueue never waits for the API: it returns before the write is attempted', () => {
    const calls: string[] = [];
    const queue = new WriteQueue({ logger: logger([]), pacer: fastPacer() });
    expect(queue.enqueue(write('a', [], calls))).toBe(true);
    expect(calls).toEqual([]);
    return queue.stop();
  });
});
