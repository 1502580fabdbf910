import { describe, expect, it } from 'vitest';
import { trimmed } from '../../../src/util/trimmed.js';

describe('trimmed', () => {
  it('returns an equal array that is not the pushed one', () => {
    const built: number[] = [];
    built.push(1, 2);
    const kept = trimmed(built);
    expect(kept).toEqual([1, 2]);
    expect(kept).not.toBe(built);
    expect(trimmed([])).toEqual([]);
  });
});
