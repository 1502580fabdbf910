/**
 * Command-line flags (docs/contract.md §2). Every flag can also come from IPVS_SENTINEL_<FLAG_IN_CAPS>
 * (flags win). Pure: argv and env in, typed options or one clear BAD_FLAG error out.
 */
import { SentinelError } from '../errors/index.js';
import { parseDuration } from '../util/duration.js';
import { isIP } from 'node:net';
import { parseIPv6 } from '../util/ip.js';
import { CHECK_NAMES } from '../checks/names.js';

export const COMMANDS = ['serve', 'check', 'ipvs', 'modules', 'migration'] as const;
export type Command = (typeof COMMANDS)[number];

export interface Options {
  listen: { host: string; port: number };
  nodeName: string | null;
  kubeconfig: string | null;
  clusterState: string | null;
  pollIntervalMs: number;
  graceMs: number;
  scheduler: string | null;
  kubeProxyUrl: string;
  /** kube-proxy's healthz server: its /healthz URL (healthzBindAddress). */
  kubeProxyHealthzUrl: string;
  procRoot: string;
  modulesDir: string;
  /** markdown only for `migration`. */
  output: 'table' | 'json' | 'markdown';
  /** --target-version: the kube-proxy version the operator plans to run (migration). */
  targetVersion: string | null;
  /** --kube-proxy-version: kube-proxy's running version when the node cannot tell (migration). */
  kubeProxyVersion: string | null;
  /** --cluster: migration for every node, through the API (migration only). */
  cluster: boolean;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  backendMetrics: boolean;
  /** --events: Events on the Node (and a Service a finding names) for confirmed and cleared drift. */
  events: boolean;
  /** --node-condition: the IPVSConsistent condition on the Node's status. */
  nodeCondition: boolean;
  /** Checks not to run (--skip-checks), by their registry names. */
  skipChecks: string[];
  /** --auth: none, or kube (TokenReview + SubjectAccessReview on every route but the probes). */
  auth: 'none' | 'kube';
  /** --tls-cert-file and --tls-private-key-file (both or neither); TLS is served with them, or self-signed under --auth=kube. */
  tlsCertFile: string | null;
  tlsPrivateKeyFile: string | null;
}

interface FlagSpec {
  name: string;
  kind: 'string' | 'boolean';
  default: string | null;
  help: string;
  /** Environment variables consulted after IPVS_SENTINEL_<NAME>, e.g. NODE_NAME. */
  alsoEnv?: string[];
}

export const FLAGS: readonly FlagSpec[] = [
  { name: 'listen', kind: 'string', default: null, help: 'HTTP address for serve (host:port; [::1]:9742 for IPv6; default: $NODE_IP:9742, the node IP from the downward API, else 127.0.0.1:9742)' },
  { name: 'node-name', kind: 'string', default: null, alsoEnv: ['NODE_NAME'], help: "this node's name, as kube-proxy knows it (for NodePort addresses and Local traffic policies)" },
  { name: 'kubeconfig', kind: 'string', default: null, help: 'kubeconfig file (default: in-cluster, else ~/.kube/config)' },
  { name: 'cluster-state', kind: 'string', default: null, help: 'offline mode: Services, EndpointSlices, Nodes (and the kube-proxy ConfigMap) from `kubectl get ... -A -o yaml` instead of the API' },
  { name: 'poll-interval', kind: 'string', default: '10s', help: 'how often IPVS, modules, sysctls and kube-proxy are read' },
  { name: 'grace', kind: 'string', default: '30s', help: 'how long a difference must persist before it is confirmed drift; 0s confirms at once' },
  { name: 'scheduler', kind: 'string', default: null, help: 'expected IPVS scheduler (default: kube-proxy /configz, else the kube-proxy ConfigMap, else rr)' },
  { name: 'kube-proxy-url', kind: 'string', default: 'http://127.0.0.1:10249', help: "kube-proxy's metrics address (/proxyMode, /configz)" },
  { name: 'kube-proxy-healthz-url', kind: 'string', default: 'http://127.0.0.1:10256/healthz', help: "kube-proxy's healthz URL (its healthzBindAddress): 503 there means it stopped syncing" },
  { name: 'proc-root', kind: 'string', default: '/proc', help: 'where /proc is mounted (modules, sysctls, osrelease)' },
  { name: 'modules-dir', kind: 'string', default: '/lib/modules', help: 'where <release>/modules.builtin is read' },
  { name: 'output', kind: 'string', default: 'table', help: 'table or json (check, ipvs, modules); also markdown for migration' },
  { name: 'target-version', kind: 'string', default: null, help: 'migration: the kube-proxy version you plan to run nftables mode with, e.g. v1.34.2' },
  { name: 'kube-proxy-version', kind: 'string', default: null, help: "migration: kube-proxy's running version, e.g. v1.33.4 (the node cannot read it)" },
  { name: 'cluster', kind: 'boolean', default: 'false', help: 'migration: every node, from the API (--kubeconfig): each agent\'s report through the pod proxy, merged' },
  { name: 'log-level', kind: 'string', default: 'info', help: 'fatal, error, warn, info, debug, trace or silent; logs are JSON lines on stdout' },
  { name: 'backend-metrics', kind: 'boolean', default: 'true', help: 'per-real-server metric series; false for very large tables' },
  { name: 'events', kind: 'boolean', default: 'true', help: 'Kubernetes Events (events.k8s.io/v1) on the Node, and on a Service a finding names, when drift is confirmed and cleared' },
  { name: 'node-condition', kind: 'boolean', default: 'false', help: 'keep the IPVSConsistent condition on the Node\'s status (needs nodes/status patch: manifests/optional/node-condition-rbac.yaml)' },
  { name: 'skip-checks', kind: 'string', default: null, help: `checks not to run, comma-separated (${CHECK_NAMES.join(', ')}): their sources are not read, their /healthz lines left out` },
  { name: 'auth', kind: 'string', default: 'none', help: 'none, or kube: every route but /livez, /readyz and /healthz needs a bearer token the API accepts (TokenReview) for a user allowed to get the path (SubjectAccessReview); served over TLS' },
  { name: 'tls-cert-file', kind: 'string', default: null, help: 'PEM certificate (chain) to serve TLS with, read again when it changes; with --auth=kube and none, a self-signed one is made at start' },
  { name: 'tls-private-key-file', kind: 'string', default: null, help: "PEM private key of --tls-cert-file" },
];

export function envName(flag: string): string {
  return `IPVS_SENTINEL_${flag.toUpperCase().replaceAll('-', '_')}`;
}

export interface ParsedCommandLine {
  command: Command | null;
  help: boolean;
  version: boolean;
  options: Options;
}

function bad(message: string): SentinelError {
  return new SentinelError('BAD_FLAG', 'parse command line', message);
}

/** A flag's value and where it came from, so an error names the environment variable an operator set. */
interface Given {
  value: string;
  /** "--poll-interval" or "--poll-interval (from IPVS_SENTINEL_POLL_INTERVAL)". */
  label: string;
}

function parseCheckList(given: Given | null): string[] {
  if (given === null) return [];
  const names = given.value.split(',').map((n) => n.trim()).filter((n) => n !== '');
  const unknown = names.filter((n) => !CHECK_NAMES.includes(n));
  if (unknown.length > 0 || names.length === 0) {
    throw bad(`${given.label} takes check names separated by commas (${CHECK_NAMES.join(', ')}), not "${given.value}"`);
  }
  return [...new Set(names)];
}

function parseBoolean(given: Given): boolean {
  if (/^(true|1|yes)$/i.test(given.value)) return true;
  if (/^(false|0|no)$/i.test(given.value)) return false;
  throw bad(`${given.label} takes true or false, not "${given.value}"`);
}

/** The default port of --listen. */
export const DEFAULT_PORT = 9742;

/** No --listen: the node IP the DaemonSet passes in NODE_IP (status.hostIP), not every address; else loopback. */
function defaultListen(env: Record<string, string | undefined>): { host: string; port: number } {
  const nodeIp = env.NODE_IP?.trim();
  if (nodeIp === undefined || nodeIp === '') return { host: '127.0.0.1', port: DEFAULT_PORT };
  if (isIP(nodeIp) === 0) throw bad(`NODE_IP (the default --listen address) takes an IP address, not "${nodeIp}"`);
  return { host: nodeIp, port: DEFAULT_PORT };
}

function parseListen(given: Given): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(given.value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535 || (m[1] !== undefined && parseIPv6(m[1]) === null)) {
    throw bad(`${given.label} takes host:port (e.g. 0.0.0.0:9742 or [::]:9742), not "${given.value}"`);
  }
  return { host: m[1] ?? (m[2] === '' ? '0.0.0.0' : (m[2] ?? '0.0.0.0')), port };
}

/** The shortest poll interval: anything below would keep the node's CPU busy reading IPVS. */
export const MIN_POLL_INTERVAL_MS = 100;

function parseDurationFlag(given: Given, minimumMs: number): number {
  const ms = parseDuration(given.value);
  if (ms === null || ms < minimumMs) {
    const floor = minimumMs > 0 ? ` (at least ${minimumMs} ms)` : '';
    throw bad(`${given.label} takes a duration such as 500ms, 10s or 1m30s${floor}, not "${given.value}"`);
  }
  return ms;
}

export function parseCommandLine(argv: readonly string[], env: Record<string, string | undefined>): ParsedCommandLine {
  const given = new Map<string, string>();
  let command: Command | null = null;
  let help = false;
  let version = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (arg === '--version') {
      version = true;
      continue;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      const spec = FLAGS.find((f) => f.name === name);
      if (!spec) throw bad(`unknown flag --${name} (see ipvs-sentinel --help)`);
      let value: string;
      if (eq >= 0) value = arg.slice(eq + 1);
      else if (spec.kind === 'boolean') {
        value = 'true';
        // `--backend-metrics false` would otherwise silently mean true plus a stray argument.
        const next = argv[i + 1];
        if (next !== undefined && /^(true|false|1|0|yes|no)$/i.test(next)) throw bad(`--${name} takes its value after "=": --${name}=${next}`);
      } else {
        const next = argv[i + 1];
        if (next === undefined || next.startsWith('--')) throw bad(`--${name} needs a value`);
        value = next;
        i++;
      }
      if (value === '') throw bad(`--${name} needs a value`);
      if (given.has(name)) throw bad(`--${name} is given more than once`);
      given.set(name, value);
      continue;
    }
    if (arg.startsWith('-') && arg !== '-') throw bad(`unknown flag ${arg} (flags are written --name; see ipvs-sentinel --help)`);
    if (command === null && (COMMANDS as readonly string[]).includes(arg)) {
      command = arg as Command;
      continue;
    }
    throw bad(command === null ? `unknown command "${arg}" (commands: ${COMMANDS.join(', ')})` : `unexpected argument "${arg}"`);
  }

  const lookup = (name: string): Given | null => {
    const spec = FLAGS.find((f) => f.name === name);
    if (!spec) throw new Error(`no flag ${name}`);
    const fromFlag = given.get(name);
    if (fromFlag !== undefined) return { value: fromFlag, label: `--${name}` };
    for (const key of [envName(name), ...(spec.alsoEnv ?? [])]) {
      const v = env[key];
      if (v !== undefined && v !== '') return { value: v, label: `--${name} (from ${key})` };
    }
    return spec.default === null ? null : { value: spec.default, label: `--${name}` };
  };
  const value = (name: string): string | null => lookup(name)?.value ?? null;
  const required = (name: string): Given => lookup(name) ?? { value: '', label: `--${name}` };

  const output = required('output');
  const markdown = output.value === 'markdown' && command === 'migration';
  if (output.value !== 'table' && output.value !== 'json' && !markdown) throw bad(`${output.label} takes table or json${command === 'migration' ? ' or markdown' : ''}, not "${output.value}"`);
  const versionFlag = (name: string): string | null => {
    const given = lookup(name);
    if (given !== null && !/^v?\d+\.\d+(\.\d+)?([-+][0-9A-Za-z.+-]*)?$/.test(given.value)) throw bad(`${given.label} takes a version such as v1.34.2, not "${given.value}"`);
    return given === null ? null : given.value.startsWith('v') ? given.value : `v${given.value}`;
  };
  const logLevel = required('log-level');
  const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
  if (!(levels as readonly string[]).includes(logLevel.value)) throw bad(`${logLevel.label} takes one of ${levels.join(', ')}, not "${logLevel.value}"`);
  const kubeProxyUrl = required('kube-proxy-url');
  if (!/^https?:\/\/[^/\s]+\/?$/.test(kubeProxyUrl.value)) throw bad(`${kubeProxyUrl.label} takes http://host:port, not "${kubeProxyUrl.value}"`);
  const kubeProxyHealthzUrl = required('kube-proxy-healthz-url');
  if (!/^https?:\/\/[^/\s]+\/[^\s?#]*$/.test(kubeProxyHealthzUrl.value)) throw bad(`${kubeProxyHealthzUrl.label} takes http://host:port/path, not "${kubeProxyHealthzUrl.value}"`);
  const scheduler = lookup('scheduler');
  if (scheduler !== null && !/^[a-z0-9]{1,15}$/.test(scheduler.value)) {
    throw bad(`${scheduler.label} takes an IPVS scheduler name such as rr, wrr, lc, sh or mh, not "${scheduler.value}"`);
  }
  const nodeName = value('node-name');
  const auth = required('auth');
  if (auth.value !== 'none' && auth.value !== 'kube') throw bad(`${auth.label} takes none or kube, not "${auth.value}"`);
  const tlsCertFile = value('tls-cert-file');
  const tlsPrivateKeyFile = value('tls-private-key-file');
  if ((tlsCertFile === null) !== (tlsPrivateKeyFile === null)) throw bad('--tls-cert-file and --tls-private-key-file go together: give both or neither');
  const listen = lookup('listen');

  return {
    command,
    help,
    version,
    options: {
      listen: listen === null ? defaultListen(env) : parseListen(listen),
      nodeName: nodeName === null ? null : nodeName.toLowerCase(),
      kubeconfig: value('kubeconfig'),
      clusterState: value('cluster-state'),
      pollIntervalMs: parseDurationFlag(required('poll-interval'), MIN_POLL_INTERVAL_MS),
      graceMs: parseDurationFlag(required('grace'), 0),
      scheduler: scheduler?.value ?? null,
      kubeProxyUrl: kubeProxyUrl.value.replace(/\/$/, ''),
      kubeProxyHealthzUrl: kubeProxyHealthzUrl.value,
      procRoot: required('proc-root').value,
      modulesDir: required('modules-dir').value,
      output: output.value as Options['output'],
      targetVersion: versionFlag('target-version'),
      kubeProxyVersion: versionFlag('kube-proxy-version'),
      cluster: parseBoolean(required('cluster')),
      logLevel: logLevel.value as Options['logLevel'],
      backendMetrics: parseBoolean(required('backend-metrics')),
      events: parseBoolean(required('events')),
      nodeCondition: parseBoolean(required('node-condition')),
      skipChecks: parseCheckList(lookup('skip-checks')),
      auth: auth.value,
      tlsCertFile,
      tlsPrivateKeyFile,
    },
  };
}

export function usage(): string {
  const lines = [
    'ipvs-sentinel — does this node\'s IPVS table match what kube-proxy should have programmed?',
    '',
    'Usage: ipvs-sentinel <command> [flags]',
    '',
    'Commands:',
    '  serve     the DaemonSet agent: poll IPVS, watch the cluster, serve /healthz /ipvs /drift /modules /metrics',
    '  check     one-shot verdict: modules, IPVS table annotated with Services, drift (exit 0 ok, 1 drift, 2 error)',
    '  ipvs      dump the live IPVS table like `ipvsadm -Ln --stats` (exit 0, or 2 on error)',
    '  modules   kernel-module check only (exit 0 ok, 1 missing, 2 error)',
    '  migration can kube-proxy on this node move from IPVS to nftables mode? (exit 0 ready, 1 blocked, 2 unknown or error)',
    '',
    'Flags (each also read from IPVS_SENTINEL_<FLAG_IN_CAPS>; flags win):',
  ];
  for (const f of FLAGS) {
    const def = f.default === null ? '' : ` (default ${f.default})`;
    lines.push(`  --${f.name.padEnd(16)} ${f.help}${def}`);
  }
  lines.push('', 'Durations are written as kubectl writes them: 500ms, 2s, 1m30s, 0s.');
  return lines.join('\n') + '\n';
}
