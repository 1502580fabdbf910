// Adds up vitest JSON reports into the closing lines CI reads: first each failure, named by runtime, file
// and test with the first line of its message, then "tests: N passed, N failed, N skipped". The names
// come last because a CI log is often read from its tail, and a count alone does not say what to fix.
//
// A failed test counts once. vitest's numFailedTestSuites also counts every describe block and file
// around a failed test, so it is not added; a file that failed with no failed test in it (an import
// error, a throwing hook) counts once, as its own failure.
import { readFileSync } from 'node:fs';
import { basename, relative } from 'node:path';

let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];
const firstLine = (text) => String(text ?? '').split('\n').find((line) => line.trim() !== '')?.trim().slice(0, 300) ?? '';

for (const file of process.argv.slice(2)) {
  const runtime = basename(file, '.json');
  const report = JSON.parse(readFileSync(file, 'utf8'));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + (report.numTodoTests ?? 0);
  for (const suite of report.testResults ?? []) {
    const where = relative(process.cwd(), suite.name);
    const failedTests = (suite.assertionResults ?? []).filter((test) => test.status === 'failed');
    for (const test of failedTests) failures.push(`${runtime} ${where} › ${test.fullName}: ${firstLine(test.failureMessages?.[0])}`);
    if (suite.status === 'failed' && failedTests.length === 0) {
      failed += 1;
      failures.push(`${runtime} ${where}: ${firstLine(suite.message) || 'the file failed outside its tests'}`);
    }
  }
}
for (const failure of failures) console.log(`failed: ${failure}`);
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
