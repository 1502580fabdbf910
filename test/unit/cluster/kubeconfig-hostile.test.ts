/**
 * Bad kubeconfig files (issue 15): each is one KUBE_API_ERROR line from the CLI naming the file and
 * what is wrong — no excerpt of the file (client-node's YAML errors quote it over several lines), no
 * "Cannot read properties of undefined" for an empty one, nothing a terminal would act on.
 */
import { closeSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KUBECONFIG_MAX_BYTES, makeKubeConfig } from '../../../src/cluster/kubeconfig.js';
import { main } from '../../../src/cli/main.js';
import { expectSentinelError } from '../../support/errors.js';

const HOSTILE = new URL('../../fixtures/cluster/hostile/', import.meta.url);
// eslint-disable-next-line no-control-regex -- what a one-line message must not hold
const NOT_ONE_PRINTABLE_LINE = /[\u0000-\u001f\u007f-\u009f]/;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sentinel-kubeconfig-hostile-'));
  vi.stubEnv('KUBERNETES_SERVICE_HOST', '');
  vi.stubEnv('KUBERNETES_SERVICE_PORT', '');
  vi.stubEnv('KUBECONFIG', '');
  vi.stubEnv('HOME', dir);
});
afterEach(() => {
  vi.unstubAllEnvs();
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, content: string | Uint8Array): string {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
}

/** `ipvs-sentinel check` with these flags: exit code and stderr. */
async function check(...flags: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const code = await main(['check', '--node-name', 'worker-1', '--log-level', 'silent', ...flags], {
    stdout: () => undefined,
    stderr: (t) => (stderr += t),
    env: {},
  });
  return { code, stderr };
}

const deepFlow = `apiVersion: v1\nclusters: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`;

describe('a bad --kubeconfig: one coded line', () => {
  it.each([
    { name: 'garbage bytes (fixture)', file: () => fileURLToPath(new URL('kubeconfig-garbage', HOSTILE)), problem: /not a kubeconfig: not UTF-8 text \(an invalid byte sequence at byte 0, 0x89\)/ },
    { name: 'an empty file (fixture)', file: () => fileURLToPath(new URL('kubeconfig-empty', HOSTILE)), problem: /not a kubeconfig: the file is empty/ },
    { name: 'broken YAML (fixture)', file: () => fileURLToPath(new URL('kubeconfig-broken-yaml', HOSTILE)), problem: /not a kubeconfig: malformed YAML at line 4, column 1: unexpected end of the stream within a flow collection/ },
    { name: 'only comments', file: () => write('comments', '# nothing here\n\n'), problem: /not a kubeconfig: the file is empty/ },
    { name: 'text', file: () => write('text', 'hello world\n'), problem: /not a kubeconfig: a YAML mapping \(apiVersion, clusters, contexts, users\) was expected, not text at line 1, column 1/ },
    { name: 'a list', file: () => write('list', '- a\n- b\n'), problem: /was expected, not a list at line 1, column 1/ },
    { name: 'NUL bytes', file: () => write('nul', 'apiVersion: v1\nkind: Config\x00\n'), problem: /not a kubeconfig: a control character U\+0000 at line 2, column 13/ },
    { name: 'an escape sequence', file: () => write('esc', 'apiVersion: v1\n\x1b[2Jkind: Config\n'), problem: /a control character U\+001B at line 2, column 1/ },
    { name: 'UTF-16', file: () => write('utf16', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('apiVersion: v1\n', 'utf16le')])), problem: /not a kubeconfig: UTF-16 or UTF-32 text \(byte-order mark FF FE\)/ },
    { name: '20,000 nested lists', file: () => write('deep', deepFlow), problem: /not a kubeconfig: nesting depth limit: more than 64 levels of mappings and lists at line 2, column \d+/ },
    { name: 'an unknown tag with a long name', file: () => write('tag', `apiVersion: v1\nclusters: !${'x'.repeat(5000)} []\n`), problem: /not a kubeconfig: malformed YAML at line 2, column \d+: unknown tag !<!x{50,120}…$/ },
    { name: 'a key twice', file: () => write('twice', 'apiVersion: v1\napiVersion: v2\n'), problem: /not a kubeconfig: malformed YAML at line 2, column \d+: duplicated mapping key$/ },
    {
      name: 'a file over 1 MiB',
      file: () => {
        const file = path.join(dir, 'big');
        const fd = openSync(file, 'w');
        ftruncateSync(fd, KUBECONFIG_MAX_BYTES + 1);
        closeSync(fd);
        return file;
      },
      problem: /not a kubeconfig: larger than 1 MiB/,
    },
    { name: 'a missing file', file: () => path.join(dir, 'missing'), problem: /ENOENT: no such file or directory/ },
  ])('$name', async ({ file, problem }) => {
    const kubeconfig = file();
    const { code, stderr } = await check('--kubeconfig', kubeconfig);
    expect(code).toBe(2);
    expect(stderr.endsWith('\n')).toBe(true);
    const line = stderr.slice(0, -1);
    expect(line).not.toMatch(NOT_ONE_PRINTABLE_LINE);
    expect(line.startsWith(`ipvs-sentinel: KUBE_API_ERROR (load kubeconfig): ${kubeconfig}: `)).toBe(true);
    expect(line).toMatch(problem);
    expect(line.length).toBeLessThan(400);
  });

  it('never echoes the garbage file', async () => {
    const file = fileURLToPath(new URL('kubeconfig-garbage', HOSTILE));
    const { stderr } = await check('--kubeconfig', file);
    const problem = stderr.slice(stderr.indexOf(file) + file.length);
    for (const bytes of ['PNG', 'IHDR', 'garbage', 'more', 'red']) expect(problem).not.toContain(bytes);
  });
});

describe('KUBECONFIG and ~/.kube/config are checked the same way', () => {
  it('a garbage file in KUBECONFIG is named in one line', () => {
    const good = write('good', 'apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts: []\n');
    const bad = write('bad', 'clusters: [\n  {name: "c1"\n');
    vi.stubEnv('KUBECONFIG', `${good}${path.delimiter}${bad}`);
    const error = expectSentinelError(() => makeKubeConfig(), 'KUBE_API_ERROR', /malformed YAML at line 3, column 1/);
    expect(error.message).toMatch(new RegExp(`^${bad}: not a kubeconfig: `));
    expect(error.toLine()).not.toMatch(NOT_ONE_PRINTABLE_LINE);
  });

  it('an empty ~/.kube/config is named in one line', () => {
    mkdirSync(path.join(dir, '.kube'));
    const file = path.join(dir, '.kube', 'config');
    writeFileSync(file, '');
    const error = expectSentinelError(() => makeKubeConfig(), 'KUBE_API_ERROR');
    expect(error.message).toBe(`${file}: not a kubeconfig: the file is empty`);
  });
});

describe('a good kubeconfig still loads as client-node loads it', () => {
  it('relative certificate paths are taken from the file\'s directory', () => {
    const file = write(
      'config',
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '- name: c1\n  cluster:\n    server: https://api.example:6443\n    certificate-authority: certs/ca.crt',
        'users:',
        '- name: u1\n  user:\n    token: abc',
        'contexts:',
        '- name: ctx\n  context:\n    cluster: c1\n    user: u1',
        'current-context: ctx',
        '',
      ].join('\n'),
    );
    const cluster = makeKubeConfig({ kubeconfigPath: file }).getCurrentCluster();
    expect(cluster?.server).toBe('https://api.example:6443');
    expect(cluster?.caFile).toBe(path.join(dir, 'certs', 'ca.crt'));
  });
});
