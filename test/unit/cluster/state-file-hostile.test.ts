/**
 * Hostile cluster-state files (issue 15): aliases, depth, size, encodings. Each is refused with one
 * CLUSTER_STATE_INVALID naming the file and what is wrong — never a stack, never the file's bytes —
 * and large files are read in bounded memory. Small fixtures are in test/fixtures/cluster/hostile/;
 * the large ones are written at test time into a temporary directory.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readClusterStateFile } from '../../../src/cluster/read-state-file.js';
import { parseClusterState, STATE_FILE_LIMITS } from '../../../src/cluster/state-file.js';
import { main } from '../../../src/cli/main.js';
import { expectSentinelError, expectSentinelRejection } from '../../support/errors.js';
import { stateDumpCounts, stateDumpJson, stateDumpYaml } from '../../support/state-dump.js';

const HOSTILE = new URL('../../fixtures/cluster/hostile/', import.meta.url);
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
// eslint-disable-next-line no-control-regex -- what a one-line message must not hold
const NOT_ONE_PRINTABLE_LINE = /[\u0000-\u001f\u007f-\u009f]/;

function fixture(name: string): string {
  return fileURLToPath(new URL(name, HOSTILE));
}

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ipvs-sentinel-hostile-state-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes `count` chunks from `chunk(i)` to a new file in the temporary directory, never holding them all. */
async function writeChunks(name: string, count: number, chunk: (i: number) => string | Uint8Array): Promise<string> {
  const path = join(dir, name);
  const handle = await open(path, 'w');
  try {
    for (let i = 0; i < count; i++) {
      const data = chunk(i);
      await (typeof data === "string" ? handle.write(data) : handle.write(data));
    }
  } finally {
    await handle.close();
  }
  return path;
}

async function writeText(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

/** Runs the CLI as `ipvs-sentinel check --cluster-state FILE`: its exit code and what it wrote to stderr. */
async function checkWithState(path: string): Promise<{ code: number; stderr: string; stdout: string }> {
  let stderr = '';
  let stdout = '';
  const code = await main(['check', '--cluster-state', path, '--node-name', 'worker-1', '--log-level', 'silent'], {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    env: {},
  });
  return { code, stderr, stdout };
}

const nestedListsJson = (depth: number): string =>
  `{"kind":"List","items":[${'{"kind":"List","items":['.repeat(depth)}{"kind":"Node","metadata":{"name":"n"}}${']}'.repeat(depth)}]}`;
const nestedListsYamlFlow = (depth: number): string =>
  `kind: List\nitems:\n- ${'{kind: List, items: ['.repeat(depth)}{kind: Node, metadata: {name: n}}${']}'.repeat(depth)}\n`;
function nestedListsYamlBlock(depth: number): string {
  const lines = ['kind: List', 'items:'];
  for (let i = 0; i < depth; i++) lines.push(`${'  '.repeat(i)}- kind: List`, `${'  '.repeat(i)}  items:`);
  lines.push(`${'  '.repeat(depth)}- kind: Node`, `${'  '.repeat(depth)}  metadata: {name: n}`, '');
  return lines.join('\n');
}
function nestedMappingsYamlBlock(depth: number): string {
  const lines = ['kind: Node', 'metadata: {name: n}', 'status:'];
  for (let i = 1; i <= depth; i++) lines.push(`${' '.repeat(i)}a:`);
  return `${lines.join('\n')}\n`;
}

describe('hostile fixtures: one CLUSTER_STATE_INVALID line each', () => {
  it.each([
    { file: 'billion-laughs.yaml', message: /document 1 items\[1\]: alias expansion limit: its aliases would expand past 100 nodes/ },
    { file: 'billion-laughs-document.yaml', message: /document 1: alias expansion limit/ },
    { file: 'circular-anchor.yaml', message: /document 1 items\[0\]: an anchor that contains its own alias/ },
    { file: 'cross-item-alias.yaml', message: /document 1 items\[1\]: an alias \(\*meta\) whose anchor is not earlier in the same object/ },
    { file: 'utf16le-bom.yaml', message: /is UTF-16 or UTF-32 text \(it starts with the byte-order mark FF FE\)/ },
    { file: 'utf16be-bom.yaml', message: /is UTF-16 or UTF-32 text \(it starts with the byte-order mark FE FF\)/ },
    { file: 'utf16le-no-bom.yaml', message: /a control character U\+0000 at line 1, column 2 \(NUL: a binary file, or UTF-16/ },
    { file: 'latin1.yaml', message: /is not UTF-8 text: an invalid byte sequence at byte 60 \(0xE9\)/ },
    { file: 'nul-in-item.yaml', message: /a control character U\+0000 at line 5, column 17/ },
    { file: 'escape-sequence-in-kind.yaml', message: /document 1 items\[0\] has kind Pod\\u001b\[2J\\u001b\[31mOWNED;/ },
  ])('$file', async ({ file, message }) => {
    const path = fixture(file);
    const error = await expectSentinelRejection(readClusterStateFile(path), 'CLUSTER_STATE_INVALID', message);
    expect(error.message).toContain(path);
    expect(error.toLine()).not.toMatch(NOT_ONE_PRINTABLE_LINE);
  });

  it('a UTF-8 byte-order mark is dropped', async () => {
    const state = await readClusterStateFile(fixture('utf8-bom.yaml'));
    expect(state.nodes.map((n) => n.name)).toEqual(['worker-1']);
  });

  it.each(['billion-laughs.yaml', 'latin1.yaml', 'utf16le-bom.yaml'])('the CLI prints one line for %s and exits 2', async (file) => {
    const { code, stderr, stdout } = await checkWithState(fixture(file));
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^ipvs-sentinel: CLUSTER_STATE_INVALID \(parse cluster state\): \S+hostile\/\S+ .+\n$/);
    expect(stderr.slice(0, -1)).not.toMatch(NOT_ONE_PRINTABLE_LINE);
  });
});

describe('nesting depth', () => {
  it.each([
    { name: '20,000 nested Lists, JSON', text: nestedListsJson(20_000), message: /document 1 items\[0\]: nesting depth limit: more than 64 levels of objects and arrays at line 1, column \d+/ },
    { name: '20,000 nested Lists, YAML flow', text: nestedListsYamlFlow(20_000), message: /document 1 items\[0\]: nesting depth limit: more than 64 levels of mappings and lists at line 3, column \d+/ },
    { name: '200 nested Lists, YAML block', text: nestedListsYamlBlock(200), message: /document 1 items\[0\]: nesting depth limit: more than 64 levels/ },
    { name: '1,000 nested mappings, YAML block', text: nestedMappingsYamlBlock(1000), message: /document 1: nesting depth limit: more than 64 levels of mappings and lists at line 67, column 65/ },
    { name: '20,000 nested mappings, YAML flow', text: `kind: Node\nmetadata: {name: n}\nstatus: ${'{a: '.repeat(20_000)}1${'}'.repeat(20_000)}\n`, message: /document 1: nesting depth limit/ },
    { name: '20,000 nested arrays in an item, JSON', text: `{"kind":"List","items":[{"kind":"Node","metadata":{"name":"n"},"x":${'['.repeat(20_000)}${']'.repeat(20_000)}}]}`, message: /document 1 items\[0\]: nesting depth limit/ },
  ])('$name → CLUSTER_STATE_INVALID, not a stack overflow', ({ text, message }) => {
    const error = expectSentinelError(() => parseClusterState(text, 'deep.yaml'), 'CLUSTER_STATE_INVALID', message);
    expect(error.message.startsWith('deep.yaml: ')).toBe(true);
  });

  it('the same depth twice in one process (a caught stack overflow once broke the next parse)', () => {
    for (let i = 0; i < 2; i++) expectSentinelError(() => parseClusterState(nestedListsYamlFlow(20_000)), 'CLUSTER_STATE_INVALID', /nesting depth limit/);
  });

  it.each([
    { name: 'JSON', text: nestedListsJson(20) },
    { name: 'YAML flow', text: nestedListsYamlFlow(20) },
    { name: 'YAML block', text: nestedListsYamlBlock(20) },
  ])('Lists nested 20 deep ($name) are within the limit and flattened', ({ text }) => {
    expect(parseClusterState(text).nodes.map((n) => n.name)).toEqual(['n']);
  });

  it('the CLI prints one line for 20,000 nested Lists', async () => {
    const { code, stderr } = await checkWithState(await writeText('nested.json', nestedListsJson(20_000)));
    expect(code).toBe(2);
    expect(stderr).toMatch(/^ipvs-sentinel: CLUSTER_STATE_INVALID \(parse cluster state\): \S+nested\.json: document 1 items\[0\]: nesting depth limit: .+\n$/);
  });
});

describe('size', () => {
  it('a 100 MB file of one string is refused once one object passes 2 MiB, without reading on', async () => {
    const mib = 'a'.repeat(1024 * 1024);
    const path = await writeChunks('one-string.yaml', 100, (i) => (i === 0 ? `"${mib.slice(1)}` : mib));
    await expectSentinelRejection(readClusterStateFile(path), 'CLUSTER_STATE_INVALID', /one-string\.yaml: document 1 \(from line 1\) is larger than 2 MiB, the most one object may take/);
  });

  it.each([
    { name: 'a YAML List item', text: `kind: List\nitems:\n- kind: ConfigMap\n  data:\n${'    k: vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv\n'.repeat(60_000)}`, message: /document 1 items\[0\] \(from line 3\) is larger than 2 MiB/ },
    { name: 'a JSON List item', text: `{"kind": "List", "items": [\n{"kind": "ConfigMap", "data": {"k": "${'v'.repeat(3 * 1024 * 1024)}"}}]}`, message: /document 1 items\[0\] \(from line 2\) is larger than 2 MiB/ },
    { name: 'a JSON member', text: `{"kind": "List", "metadata": {"k": "${'v'.repeat(3 * 1024 * 1024)}"}, "items": []}`, message: /document 1 \(from line 1\) is larger than 2 MiB/ },
    { name: 'a YAML document', text: `kind: ConfigMap\ndata:\n${'  k: vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv\n'.repeat(60_000)}`, message: /document 1 \(from line 1\) is larger than 2 MiB/ },
  ])('one object over 2 MiB: $name', ({ text, message }) => {
    expectSentinelError(() => parseClusterState(text, 'big'), 'CLUSTER_STATE_INVALID', message);
  });

  it('a file over the size limit is refused before it is read', async () => {
    const path = join(dir, 'sparse.yaml');
    const handle = await open(path, 'w');
    await handle.truncate(STATE_FILE_LIMITS.fileBytes + 1); // sparse: no disk, no reading
    await handle.close();
    await expectSentinelRejection(readClusterStateFile(path), 'CLUSTER_STATE_INVALID', /sparse\.yaml is 256\.0 MiB; a cluster-state file may be at most 256 MiB/);
  });

  it('2 MB of --- is refused after 1,000 empty documents; 1,000 are fine', async () => {
    const path = await writeText('dashes.yaml', '---\n'.repeat(500_000));
    await expectSentinelRejection(readClusterStateFile(path), 'CLUSTER_STATE_INVALID', /dashes\.yaml: more than 1000 empty YAML documents \(--- with nothing before the next ---\), at line 1002/);
    expect(parseClusterState(`${'---\n'.repeat(1001)}kind: Node\nmetadata: {name: n}\n`).nodes).toHaveLength(1);
  });
});

describe('50,000-object Lists under a small heap', () => {
  // A child with a 128 MB old generation: parsing the List whole (the yaml package's document
  // model, ~100× the text) needs gigabytes and dies there; one object at a time fits.
  const size = { services: 25_000, endpointsPerSlice: 1, nodes: 50 };
  it.each([
    { format: 'yaml', text: () => stateDumpYaml(size) },
    { format: 'json', text: () => stateDumpJson(size) },
  ])('$format: every object read, with a 128 MB heap', async ({ format, text }) => {
    const path = await writeText(`dump-50k.${format}`, text());
    const child = spawnSync(process.execPath, ['--expose-gc', '--max-old-space-size=128', '--import', 'tsx', 'test/support/parse-state-child.ts', path], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    const result = JSON.parse(child.stdout) as { services: number; endpointSlices: number; nodes: number; heapUsedAfterGc: number };
    expect({ services: result.services, endpointSlices: result.endpointSlices, nodes: result.nodes }).toEqual(stateDumpCounts(size));
    // The model of 50,000 objects, not their text: the List is 33 MB of YAML / 70 MB of JSON.
    expect(result.heapUsedAfterGc).toBeLessThan(64 * 1024 * 1024);
  }, 600_000);
});
