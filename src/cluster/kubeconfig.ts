/**
 * Where the agent finds the Kubernetes API: --kubeconfig, else the in-cluster service account, else
 * KUBECONFIG / ~/.kube/config (docs/contract.md §2, `--kubeconfig`). client-node's loadFromDefault would
 * silently fall back to http://localhost:8080, which it then refuses to use; we fail early instead.
 */
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KubeConfig } from './client-node.js';
import { SentinelError } from '../errors/index.js';
import { firstLinePrintable, printable } from '../util/printable.js';
import { firstInvalidUtf8, utf16ByteOrderMark } from '../util/utf8.js';
import { loadYaml } from '../util/yaml.js';
import { yamlTooDeepAt } from './yaml-depth.js';

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';
const OP = 'load kubeconfig';
/** A kubeconfig with a few hundred clusters and their CA certificates is well under this. */
export const KUBECONFIG_MAX_BYTES = 1024 * 1024;
const KUBECONFIG_MAX_DEPTH = 64;

function kubeconfigError(file: string, problem: string, cause?: unknown): SentinelError {
  return new SentinelError('KUBE_API_ERROR', OP, `${file}: ${problem}`, cause === undefined ? undefined : { cause });
}

/** The file's bytes, or null when it has more than `max` (read no further than that: a pipe has no size). */
function readBounded(file: string, max: number): Buffer | null {
  const fd = openSync(file, 'r');
  try {
    if (fstatSync(fd).size > max) return null;
    const buffer = Buffer.alloc(max + 1);
    let length = 0;
    for (;;) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) return buffer.subarray(0, length);
      length += n;
      if (length > max) return null;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * The kubeconfig file's text, checked so that client-node's loader (js-yaml) only ever sees a
 * bounded, UTF-8, shallow YAML mapping: its own errors quote the file over several lines and an
 * empty file makes it read `clusters` of undefined. Every refusal names the file and what is wrong.
 */
function readKubeconfigText(file: string): string {
  let bytes: Buffer | null;
  try {
    bytes = readBounded(file, KUBECONFIG_MAX_BYTES);
  } catch (cause) {
    throw kubeconfigError(file, cause instanceof Error ? cause.message : String(cause), cause);
  }
  if (bytes === null) throw kubeconfigError(file, `not a kubeconfig: larger than ${KUBECONFIG_MAX_BYTES / 1024 / 1024} MiB`);
  const mark = utf16ByteOrderMark(bytes);
  if (mark !== null) throw kubeconfigError(file, `not a kubeconfig: UTF-16 or UTF-32 text (byte-order mark ${mark}); save it as UTF-8`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (cause) {
    const at = Math.max(0, firstInvalidUtf8(bytes));
    throw kubeconfigError(file, `not a kubeconfig: not UTF-8 text (an invalid byte sequence at byte ${at}, 0x${(bytes[at] ?? 0).toString(16).toUpperCase().padStart(2, '0')})`, cause);
  }
  // eslint-disable-next-line no-control-regex -- the C0 controls YAML forbids (tab, LF and CR aside)
  const control = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.exec(text);
  if (control !== null) {
    const { line, column } = lineColumn(text, control.index);
    const code = `U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
    throw kubeconfigError(file, `not a kubeconfig: a control character ${code} at line ${line}, column ${column} (a binary file?)`);
  }
  const tokens = Array.from(new (loadYaml().Parser)().parse(text));
  const deep = yamlTooDeepAt(tokens, KUBECONFIG_MAX_DEPTH);
  if (deep !== null) {
    const { line, column } = lineColumn(text, deep);
    throw kubeconfigError(file, `not a kubeconfig: nesting depth limit: more than ${KUBECONFIG_MAX_DEPTH} levels of mappings and lists at line ${line}, column ${column}`);
  }
  const root = tokens.find((t) => t.type === 'document');
  const value = root?.type === 'document' ? root.value : undefined;
  if (value === undefined) throw kubeconfigError(file, 'not a kubeconfig: the file is empty');
  const isMapping = value.type === 'block-map' || (value.type === 'flow-collection' && value.start.source === '{');
  if (!isMapping) {
    const { line, column } = lineColumn(text, value.offset);
    throw kubeconfigError(file, `not a kubeconfig: a YAML mapping (apiVersion, clusters, contexts, users) was expected, not ${describeYamlNode(value.type)} at line ${line}, column ${column}`);
  }
  return text;
}

function describeYamlNode(type: string): string {
  if (type === 'block-seq' || type === 'flow-collection') return 'a list';
  if (type === 'alias') return 'an alias';
  return type.endsWith('scalar') ? 'text' : printable(type, 40);
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const lastNl = before.lastIndexOf('\n');
  return { line: before.split('\n').length, column: offset - lastNl };
}

/** client-node's own loading errors, in one line: js-yaml's carry an excerpt of the file after the reason. */
function loadProblem(err: unknown): string {
  if (err instanceof Error && err.name === 'YAMLException') {
    const { reason, mark } = err as Error & { reason?: unknown; mark?: { line?: unknown; column?: unknown } };
    if (typeof reason === 'string') {
      const at = typeof mark?.line === 'number' && typeof mark.column === 'number' ? ` at line ${mark.line + 1}, column ${mark.column + 1}` : '';
      return `not a kubeconfig: malformed YAML${at}: ${firstLinePrintable(reason, 120)}`;
    }
  }
  return firstLinePrintable(err instanceof Error ? err.message : String(err));
}

/** loadFromFile, with the file read and checked by readKubeconfigText() first. */
function loadKubeconfigFile(kc: KubeConfig, file: string): void {
  const text = readKubeconfigText(file);
  try {
    kc.loadFromString(text);
  } catch (err) {
    throw kubeconfigError(file, loadProblem(err), err);
  }
  kc.makePathsAbsolute(path.dirname(file));
}

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
  let source: string | undefined;
  try {
    if (options.kubeconfigPath) {
      source = options.kubeconfigPath;
      loadKubeconfigFile(kc, options.kubeconfigPath);
    } else if (process.env.KUBERNETES_SERVICE_HOST && process.env.KUBERNETES_SERVICE_PORT && existsSync(prefix + SERVICE_ACCOUNT_TOKEN)) {
      source = 'in-cluster service account';
      kc.loadFromCluster(prefix);
    } else if (defaultKubeconfigFiles().some((f) => existsSync(f))) {
      source = defaultKubeconfigFiles().join(path.delimiter);
      // client-node merges these files itself; each is loaded once on its own first, so a bad one is named.
      for (const file of defaultKubeconfigFiles()) if (existsSync(file)) loadKubeconfigFile(new KubeConfig(), file);
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
    throw kubeconfigError(source ?? 'kubeconfig', loadProblem(err), err);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new SentinelError('KUBE_API_ERROR', OP, `${source}: no current context or its cluster is missing`);
  if (cluster.server.startsWith('http:') && !cluster.skipTLSVerify) {
    // client-node refuses plain http unless TLS verification is explicitly skipped.
    throw new SentinelError('KUBE_API_ERROR', OP, `${source}: server ${printable(cluster.server)} is plain http; client-node requires insecure-skip-tls-verify: true for that`);
  }
  return kc;
}
