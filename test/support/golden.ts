/**
 * Golden files for every external format, as node_exporter keeps collector/fixtures/. Compare `actual` with the committed file;
 * `UPDATE_GOLDEN=1 npx vitest run …` rewrites the files instead — review the diff before committing.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export async function expectGolden(relativePathFromRepoRoot: string, actual: string): Promise<void> {
  const path = resolve(repoRoot, relativePathFromRepoRoot);
  if (process.env.UPDATE_GOLDEN === '1') {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, actual);
    return;
  }
  let expected: string;
  try {
    expected = await readFile(path, 'utf8');
  } catch (cause) {
    throw new Error(`golden file ${relativePathFromRepoRoot} is missing; create it with UPDATE_GOLDEN=1`, { cause });
  }
  expect(actual, `golden file ${relativePathFromRepoRoot} (update with UPDATE_GOLDEN=1)`).toBe(expected);
}
