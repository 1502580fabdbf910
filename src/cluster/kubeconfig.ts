/**
 * Where the agent finds the Kubernetes API: --kubeconfig, else the in-cluster service account, else
 * KUBECONFIG / ~/.kube/config (docs/contract.md §2, `--kubeconfig`). client-node's loadFromDefault would
 * silently fall back to http://localhost:8080, which it then refuses to use; we fail early instead.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KubeConfig } from './client-node.js';
import { SentinelError } from '../errors/index.js';

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';
const OP = 'load kubeconfig';

export interface KubeConfigOptions {
  /** --kubeconfig; empty or undefined means "not given". */
  kubeconfigPath?: string;
  /** Prefix of the service-account directory (client-node's loadFromCluster pathPrefix); tests only. */
  inClusterPathPrefix?: string;
}

function defaultKubeconfigFiles(): string[] {
  const fromEnv = (process.env.KUBECONFIG ?? '').split(path.delimiter).filter((f) => f !== '');
  return fromEnv.length > 0 ? fromEnv : [path.join(os.homedir(), '.kube', 'config')];
}

export function makeKubeConfig(options: KubeConfigOptions = {}): KubeConfig {
  const kc = new KubeConfig();
  const prefix = options.inClusterPathPrefix ?? '';
  let source: string;
  try {
    if (options.kubeconfigPath) {
      source = options.kubeconfigPath;
      kc.loadFromFile(options.kubeconfigPath);
    } else if (process.env.KUBERNETES_SERVICE_HOST && process.env.KUBERNETES_SERVICE_PORT && existsSync(prefix + SERVICE_ACCOUNT_TOKEN)) {
      source = 'in-cluster service account';
      kc.loadFromCluster(prefix);
    } else if (defaultKubeconfigFiles().some((f) => existsSync(f))) {
      source = defaultKubeconfigFiles().join(path.delimiter);
      kc.loadFromDefault();
    } else {
      throw new SentinelError(
        'KUBE_API_ERROR',
        OP,
        'no Kubernetes API configuration: not in a cluster (KUBERNETES_SERVICE_HOST unset or no service-account token), no --kubeconfig, no KUBECONFIG or ~/.kube/config',
      );
    }
  } catch (err) {
    if (err instanceof SentinelError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    throw new SentinelError('KUBE_API_ERROR', OP, `${options.kubeconfigPath ?? 'kubeconfig'}: ${message}`, { cause: err });
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new SentinelError('KUBE_API_ERROR', OP, `${source}: no current context or its cluster is missing`);
  if (cluster.server.startsWith('http:') && !cluster.skipTLSVerify) {
    // client-node refuses plain http unless TLS verification is explicitly skipped.
    throw new SentinelError('KUBE_API_ERROR', OP, `${source}: server ${cluster.server} is plain http; client-node requires insecure-skip-tls-verify: true for that`);
  }
  return kc;
}
