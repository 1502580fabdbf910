/**
 * scripts/test-summary.mjs, the closing lines of `npm test` that CI reads: every failure named, then
 * the counts, a failed test counted once. The reports are shaped as vitest's JSON reporter writes them
 * (one failed test in a describe block: numFailedTestSuites 2 for it, the block and the file).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const REPO = new URL('../../..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'ipvs-test-summary-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function report(file: string, body: object): string {
  const path = join(dir, file);
  writeFileSync(path, JSON.stringify(body));
  return path;
}

const passing = (title: string): object => ({ ancestorTitles: [], fullName: title, status: 'passed', title, failureMessages: [] });

function summary(...reports: string[]): string[] {
  return execFileSync(process.execPath, ['scripts/test-summary.mjs', ...reports], { cwd: REPO, encoding: 'utf8' }).trim().split('\n');
}

describe('the test summary', () => {
  it('names each failure by runtime, file and test with its first message line, then counts a failed test once', () => {
    const node20 = report('v20.20.2.json', {
      numFailedTestSuites: 3,
      numPassedTests: 2,
      numFailedTests: 1,
      numPendingTests: 1,
      numTodoTests: 0,
      testResults: [
        {
          name: join(REPO, 'test/guest/agent.test.ts'),
          status: 'failed',
          message: '',
          assertionResults: [
            passing('serve on the real kernel: routes answers /healthz'),
            { ancestorTitles: ['serve on the real kernel: routes'], fullName: 'serve on the real kernel: routes answers /drift', status: 'failed', title: 'answers /drift', failureMessages: ['\nAssertionError: expected 503 to be 200\n    at agent.test.ts:1:1'] },
          ],
        },
        { name: join(REPO, 'test/unit/ok.test.ts'), status: 'passed', message: '', assertionResults: [passing('fine')] },
      ],
    });
    const node24 = report('v24.21.0.json', {
      numFailedTestSuites: 1,
      numPassedTests: 3,
      numFailedTests: 0,
      numPendingTests: 0,
      numTodoTests: 1,
      testResults: [{ name: join(REPO, 'test/unit/broken.test.ts'), status: 'failed', message: 'Error: import blew up\nsecond line', assertionResults: [] }],
    });
    expect(summary(node20, node24)).toEqual([
      'failed: v20.20.2 test/guest/agent.test.ts › serve on the real kernel: routes answers /drift: AssertionError: expected 503 to be 200',
      'failed: v24.21.0 test/unit/broken.test.ts: Error: import blew up',
      'tests: 5 passed, 2 failed, 2 skipped',
    ]);
  });

  it('prints the counts alone when nothing failed', () => {
    const clean = report('v20.json', { numFailedTestSuites: 0, numPassedTests: 4, numFailedTests: 0, numPendingTests: 0, testResults: [] });
    expect(summary(clean)).toEqual(['tests: 4 passed, 0 failed, 0 skipped']);
  });
});
