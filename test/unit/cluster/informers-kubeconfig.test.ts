/** makeKubeConfig: --kubeconfig, else in-cluster, else KUBECONFIG / ~/.kube/config, else a clear error. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { makeKubeConfig } from '../../../src/cluster/kubeconfig.js';
import { SentinelError } from '../../../src/errors/index.js';

function kubeconfigYaml(server: string, extra = ''): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: c1\n  cluster:\n    server: ${server}${extra}`,
    'users:',
    '- name: u1\n  user:\n    token: abc',
    'contexts:',
    '- name: ctx\n  context:\n    cluster: c1\n    user: u1',
    'current-context: ctx',
    '',
  ].join('\n');
}

function expectKubeApiError(fn: () => unknown, message: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SentinelError);
    expect(err).toMatchObject({ code: 'KUBE_API_ERROR', op: 'load kubeconfig' });
    expect((err as Error).message).toMatch(message);
    return;
  }
  throw new Error('expected a KUBE_API_ERROR');
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sentinel-kubeconfig-'));
  // A clean environment for each case: no cluster, no KUBECONFIG, an empty home.
  vi.stubEnv('KUBERNETES_SERVICE_HOST', '');
  vi.stubEnv('KUBERNETES_SERVICE_PORT', '');
  vi.stubEnv('KUBECONFIG', '');
  vi.stubEnv('HOME', dir);
});
afterEach(() => {
  vi.unstubAllEnvs();
  rmSync(dir, { recursive: true, force: true });
});

describe('makeKubeConfig', () => {
  it('loads the file given with --kubeconfig', () => {
    const file = path.join(dir, 'config');
    writeFileSync(file, kubeconfigYaml('https://api.example:6443'));
    expect(makeKubeConfig({ kubeconfigPath: file }).getCurrentCluster()?.server).toBe('https://api.example:6443');
  });

  it('prefers the in-cluster service account to ~/.kube/config when there is no --kubeconfig', () => {
    vi.stubEnv('KUBERNETES_SERVICE_HOST', '10.96.0.1');
    vi.stubEnv('KUBERNETES_SERVICE_PORT', '443');
    const sa = path.join(dir, 'var/run/secrets/kubernetes.io/serviceaccount');
    mkdirSync(sa, { recursive: true });
    writeFileSync(path.join(sa, 'token'), 'token');
    mkdirSync(path.join(dir, '.kube'));
    writeFileSync(path.join(dir, '.kube', 'config'), kubeconfigYaml('https://home.example:6443'));
    expect(makeKubeConfig({ inClusterPathPrefix: dir }).getCurrentCluster()?.server).toBe('https://10.96.0.1:443');
  });

  it('falls back to ~/.kube/config', () => {
    mkdirSync(path.join(dir, '.kube'));
    writeFileSync(path.join(dir, '.kube', 'config'), kubeconfigYaml('https://home.example:6443'));
    expect(makeKubeConfig().getCurrentCluster()?.server).toBe('https://home.example:6443');
  });

  it('honours KUBECONFIG', () => {
    const file = path.join(dir, 'other');
    writeFileSync(file, kubeconfigYaml('https://env.example:6443'));
    vi.stubEnv('KUBECONFIG', file);
    expect(makeKubeConfig().getCurrentCluster()?.server).toBe('https://env.example:6443');
  });

  it.each([
    ['a missing file', (): string => path.join(dir, 'missing'), /missing.*ENOENT|ENOENT.*missing/],
    ['plain http without insecure-skip-tls-verify', (): string => write(kubeconfigYaml('http://127.0.0.1:8080')), /plain http/],
    ['no current context', (): string => write('apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts: []\n'), /no current context/],
  ])('fails with KUBE_API_ERROR on %s', (_name, makePath, message) => {
    const file = makePath();
    expectKubeApiError(() => makeKubeConfig({ kubeconfigPath: file }), message);
  });

  it('fails with KUBE_API_ERROR when nothing is configured (instead of client-node\'s localhost:8080)', () => {
    expectKubeApiError(() => makeKubeConfig(), /no Kubernetes API configuration/);
  });
});

function write(text: string): string {
  const file = path.join(dir, `config-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, text);
  return file;
}
