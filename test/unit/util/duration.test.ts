import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../../src/util/duration.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['2s', 2000],
    ['1m30s', 90_000],
    ['0s', 0],
    ['0', 0],
    ['1h', 3_600_000],
    ['1h0m0s', 3_600_000],
    ['1.5s', 1500],
    ['.5s', 500],
    ['1.s', 1000],
    ['2h45m', 9_900_000],
    ['1us', 0.001],
    ['1\u00b5s', 0.001],
    ['1\u03bcs', 0.001],
    ['1500ns', 0.0015],
    ['3ms5us', 3.005],
    ['-2s', -2000],
    ['+2s', 2000],
    ['15m0s', 900_000],
    ['2562047h47m16.854775807s', 9_223_372_036_854.775],
  ])('%s → %s ms', (text, ms) => {
    expect(parseDuration(text)).toBeCloseTo(ms, 6);
  });

  it.each(['', '1', 's', '.s', '-', '1x', '1 s', ' 1s', '1s ', '1.2.3s', '1e3s', 'abc', '1m-1s', '2562047h47m16.854775808s', '30S'])(
    'rejects %j',
    (text) => {
      expect(parseDuration(text)).toBeNull();
    },
  );
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [500, '500ms'],
    [2000, '2s'],
    [90_000, '1m30s'],
    [3_600_000, '1h0m0s'],
    [1500, '1.5s'],
    [1.5, '1.5ms'],
    [0.001, '1\u00b5s'],
    [0.0000004, '0s'],
    [0.000001, '1ns'],
    [-2000, '-2s'],
    [86_400_000, '24h0m0s'],
    [900_000, '15m0s'],
    [61_001, '1m1.001s'],
  ])('%s ms → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('round-trips what it prints', () => {
    for (const ms of [0, 1, 999, 1000, 59_999, 60_000, 3_599_999, 3_600_000, 123_456_789, 0.25]) {
      expect(parseDuration(formatDuration(ms))).toBeCloseTo(ms, 6);
    }
  });

  it('rejects non-finite numbers', () => {
    expect(() => formatDuration(Number.NaN)).toThrow(RangeError);
  });
});
