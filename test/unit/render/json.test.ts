import { describe, expect, it } from 'vitest';
import { stringifyJson } from '../../../src/render/json.js';

describe('stringifyJson', () => {
  it.each<[string, unknown, string]>([
    ['a small bigint', { n: 1n }, '{"n":1}'],
    ['2^53 + 1 exactly', { n: 9007199254740993n }, '{"n":9007199254740993}'],
    ['2^64 - 1 exactly', { n: 18446744073709551615n }, '{"n":18446744073709551615}'],
    ['zero', [0n], '[0]'],
    ['bigints in nested arrays', { a: [{ b: 2n }, 3n] }, '{"a":[{"b":2},3]}'],
    ['plain values untouched', { s: 'x', n: 1.5, b: true, z: null }, '{"s":"x","n":1.5,"b":true,"z":null}'],
    ['a string that looks like a number stays a string', { s: '123' }, '{"s":"123"}'],
  ])('%s', (_name, value, want) => {
    expect(stringifyJson(value, 0)).toBe(want);
  });

  it('indents by 2 by default and parses back (bigints as numbers)', () => {
    const text = stringifyJson({ a: 1n, b: ['x'] });
    expect(text).toBe('{\n  "a": 1,\n  "b": [\n    "x"\n  ]\n}');
    expect(JSON.parse(text)).toEqual({ a: 1, b: ['x'] });
  });
});
