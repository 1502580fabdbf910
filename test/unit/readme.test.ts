/** README.md stays in step with the code: every error code, finding kind and flag is documented. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FLAGS } from '../../src/cli/flags.js';
import { FINDING_KINDS } from '../../src/checks/registry.js';
import { ERROR_CODES } from '../../src/errors/index.js';
import { REPO_ROOT } from '../guest/harness.js';

const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');

describe('README.md', () => {
  it.each(Object.keys(ERROR_CODES))('documents error code %s in the error table', (code) => {
    expect(readme).toMatch(new RegExp(`^\\| \`${code}\` \\|`, 'm'));
  });

  it.each([...FINDING_KINDS])('documents finding kind %s with its fix', (kind) => {
    expect(readme).toMatch(new RegExp(`^\\| \`${kind}\` \\|`, 'm'));
  });

  it.each(FLAGS.map((f) => f.name))('documents flag --%s', (flag) => {
    expect(readme).toMatch(new RegExp(`^\\| \`--${flag}( FILE)?\` \\|`, 'm'));
  });

  it('gives the two commands that set up a fresh machine', () => {
    expect(readme).toContain('npm run demo');
    expect(readme).toContain('npm test');
  });
});
