import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_BACKOFF, RetryPacer } from '../../../src/cluster/backoff.js';

const NO_JITTER = { ...DEFAULT_BACKOFF, jitter: 0 };

describe('backoffDelay', () => {
  it.each([
    [1, 1000],
    [2, 2000],
    [3, 4000],
    [4, 8000],
    [5, 16_000],
    [6, 30_000],
    [7, 30_000],
    [1000, 30_000],
  ])('after %i failures waits %i ms (1 s doubling, capped at 30 s)', (failures, ms) => {
    expect(backoffDelay(failures, NO_JITTER, 0.5)).toBe(ms);
  });

  it.each([0, 0.25, 0.5, 0.75, 0.999_999])('never waits longer than the cap, jitter included (random %f)', (random) => {
    for (let failures = 1; failures <= 12; failures++) {
      const base = Math.min(30_000, 1000 * 2 ** (failures - 1));
      const delay = backoffDelay(failures, DEFAULT_BACKOFF, random);
      expect(delay).toBeLessThanOrEqual(30_000);
      expect(delay).toBeGreaterThanOrEqual(Math.floor(base * 0.8));
    }
  });

  it('spreads a fleet below the cap: at the cap the jitter only shortens the wait', () => {
    expect(backoffDelay(20, DEFAULT_BACKOFF, 0)).toBe(24_000);
    expect(backoffDelay(20, DEFAULT_BACKOFF, 0.999_999)).toBe(30_000);
  });
});

describe('RetryPacer', () => {
  it('grows with each failure and starts over after a success', () => {
    const pacer = new RetryPacer({ initialMs: 10, maxMs: 50, jitter: 0 }, () => 0);
    expect([pacer.failed(), pacer.failed(), pacer.failed(), pacer.failed()]).toEqual([10, 20, 40, 50]);
    expect(pacer.failures).toBe(4);
    pacer.succeeded();
    expect(pacer.failures).toBe(0);
    expect(pacer.failed()).toBe(10);
  });

  it('lets the first attempt and the one after a success go at once', async () => {
    let now = 1000;
    const pacer = new RetryPacer({ initialMs: 60_000 }, () => now);
    expect(await pacer.wait()).toBe(true);
    pacer.failed();
    pacer.succeeded();
    expect(await pacer.wait()).toBe(true);
    pacer.failed();
    now += 60_000 * 1.2;
    expect(await pacer.wait()).toBe(true);
  });

  it('waits out the delay, and a cancel ends the wait at once, now and later', async () => {
    const short = new RetryPacer({ initialMs: 5, jitter: 0 });
    short.failed();
    expect(await short.wait()).toBe(true);

    const long = new RetryPacer({ initialMs: 600_000, maxMs: 600_000 });
    long.failed();
    const waiting = long.wait();
    long.cancel();
    expect(await waiting).toBe(false);
    expect(await long.wait()).toBe(false);
  });
});
