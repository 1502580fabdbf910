import { describe, expect, it } from 'vitest';
import { CHECK_NAMES as LISTED } from '../../../src/checks/names.js';
import { CHECK_NAMES } from '../../../src/checks/registry.js';

describe('the command line\'s check names', () => {
  it('are the registry\'s, in its order', () => {
    expect(LISTED).toEqual(CHECK_NAMES);
  });
});
