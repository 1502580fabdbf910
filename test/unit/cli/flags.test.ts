import { describe, expect, it } from 'vitest';
import { envName, FLAGS, parseCommandLine, usage, type Options } from '../../../src/cli/flags.js';
import { expectSentinelError } from '../../support/errors.js';

type Env = Record<string, string | undefined>;

const DEFAULTS: Options = {
  listen: { host: '127.0.0.1', port: 9742 },
  nodeName: null,
  kubeconfig: null,
  clusterState: null,
  pollIntervalMs: 10_000,
  graceMs: 30_000,
  scheduler: null,
  kubeProxyUrl: 'http://127.0.0.1:10249',
  kubeProxyHealthzUrl: 'http://127.0.0.1:10256/healthz',
  procRoot: '/proc',
  modulesDir: '/lib/modules',
  output: 'table',
  targetVersion: null,
  kubeProxyVersion: null,
  cluster: false,
  logLevel: 'info',
  backendMetrics: true,
  events: true,
  nodeCondition: false,
  skipChecks: [],
  auth: 'none',
  tlsCertFile: null,
  tlsPrivateKeyFile: null,
};

describe('parseCommandLine: --events and --node-condition', () => {
  it.each([
    [['serve'], {}, { events: true, nodeCondition: false }],
    [['serve', '--events=false', '--node-condition'], {}, { events: false, nodeCondition: true }],
    [['serve'], { IPVS_SENTINEL_EVENTS: 'false', IPVS_SENTINEL_NODE_CONDITION: 'true' }, { events: false, nodeCondition: true }],
  ] as [string[], Env, { events: boolean; nodeCondition: boolean }][])('%j %j', (argv, env, expected) => {
    const { events, nodeCondition } = parseCommandLine(argv, env).options;
    expect({ events, nodeCondition }).toEqual(expected);
  });

  it('--events false (without =) is refused rather than read as true plus a stray argument', () => {
    expectSentinelError(() => parseCommandLine(['serve', '--events', 'false'], {}), 'BAD_FLAG', /--events=false/);
  });
});

describe('parseCommandLine: defaults and commands', () => {
  it('gives the defaults of docs/contract.md §2 with no flags and no environment', () => {
    expect(parseCommandLine(['serve'], {})).toEqual({ command: 'serve', help: false, version: false, options: DEFAULTS });
  });

  it.each(['serve', 'check', 'ipvs', 'modules'])('accepts the command %s, before or after flags', (command) => {
    expect(parseCommandLine([command], {}).command).toBe(command);
    expect(parseCommandLine(['--output', 'json', command], {}).command).toBe(command);
  });

  it('no command at all is not an error here (main prints the usage)', () => {
    expect(parseCommandLine([], {}).command).toBeNull();
  });

  it.each([['--help'], ['-h'], ['check', '--help']])('%s sets help', (...argv) => {
    expect(parseCommandLine(argv, {}).help).toBe(true);
  });

  it('--version sets version', () => {
    expect(parseCommandLine(['--version'], {}).version).toBe(true);
  });

  it('every flag of docs/contract.md §2 is known, and each has its IPVS_SENTINEL_ variable', () => {
    expect(FLAGS.map((f) => f.name).sort()).toEqual(
      ['backend-metrics', 'cluster-state', 'grace', 'kube-proxy-healthz-url', 'kube-proxy-url', 'kubeconfig', 'listen', 'log-level', 'modules-dir', 'node-name', 'output', 'poll-interval', 'proc-root', 'scheduler', 'skip-checks', 'auth', 'tls-cert-file', 'tls-private-key-file', 'target-version', 'kube-proxy-version', 'cluster', 'events', 'node-condition'].sort(),
    );
    expect(envName('poll-interval')).toBe('IPVS_SENTINEL_POLL_INTERVAL');
    expect(envName('kube-proxy-url')).toBe('IPVS_SENTINEL_KUBE_PROXY_URL');
    for (const f of FLAGS) expect(usage()).toContain(`--${f.name}`);
  });
});

describe('parseCommandLine: good flags', () => {
  const cases: [string, string[], Env, Partial<Options>][] = [
    ['--listen=value', ['--listen=127.0.0.1:8080'], {}, { listen: { host: '127.0.0.1', port: 8080 } }],
    ['--listen value', ['--listen', '10.0.0.5:9742'], {}, { listen: { host: '10.0.0.5', port: 9742 } }],
    ['--listen [::]:9742', ['--listen', '[::]:9742'], {}, { listen: { host: '::', port: 9742 } }],
    ['--listen [fd00::1]:80', ['--listen=[fd00::1]:80'], {}, { listen: { host: 'fd00::1', port: 80 } }],
    ['--listen :9742 (all addresses)', ['--listen', ':9742'], {}, { listen: { host: '0.0.0.0', port: 9742 } }],
    ['--listen localhost:65535', ['--listen', 'localhost:65535'], {}, { listen: { host: 'localhost', port: 65535 } }],
    ['--node-name', ['--node-name', 'worker-1'], {}, { nodeName: 'worker-1' }],
    ['--node-name lower-cased', ['--node-name=Worker-1'], {}, { nodeName: 'worker-1' }],
    ['NODE_NAME fallback', [], { NODE_NAME: 'node-from-downward-api' }, { nodeName: 'node-from-downward-api' }],
    ['IPVS_SENTINEL_NODE_NAME before NODE_NAME', [], { NODE_NAME: 'b', IPVS_SENTINEL_NODE_NAME: 'a' }, { nodeName: 'a' }],
    ['--node-name before both', ['--node-name=c'], { NODE_NAME: 'b', IPVS_SENTINEL_NODE_NAME: 'a' }, { nodeName: 'c' }],
    ['empty NODE_NAME ignored', [], { NODE_NAME: '' }, { nodeName: null }],
    ['--kubeconfig', ['--kubeconfig', '/home/me/.kube/config'], {}, { kubeconfig: '/home/me/.kube/config' }],
    ['--cluster-state', ['--cluster-state=./state.yaml'], {}, { clusterState: './state.yaml' }],
    ['--poll-interval 500ms', ['--poll-interval', '500ms'], {}, { pollIntervalMs: 500 }],
    ['--poll-interval=2s', ['--poll-interval=2s'], {}, { pollIntervalMs: 2000 }],
    ['--poll-interval 1m30s', ['--poll-interval', '1m30s'], {}, { pollIntervalMs: 90_000 }],
    ['--poll-interval 1h0m0s', ['--poll-interval', '1h0m0s'], {}, { pollIntervalMs: 3_600_000 }],
    ['--poll-interval 1.5s', ['--poll-interval=1.5s'], {}, { pollIntervalMs: 1500 }],
    ['--grace 0s', ['--grace', '0s'], {}, { graceMs: 0 }],
    ['--grace 0', ['--grace=0'], {}, { graceMs: 0 }],
    ['--grace 45s', ['--grace', '45s'], {}, { graceMs: 45_000 }],
    ['--scheduler', ['--scheduler', 'wrr'], {}, { scheduler: 'wrr' }],
    ['--kube-proxy-url', ['--kube-proxy-url=http://10.0.0.1:10249/'], {}, { kubeProxyUrl: 'http://10.0.0.1:10249' }],
    ['--kube-proxy-url https', ['--kube-proxy-url', 'https://[::1]:10249'], {}, { kubeProxyUrl: 'https://[::1]:10249' }],
    ['--kube-proxy-healthz-url', ['--kube-proxy-healthz-url', 'http://10.0.0.1:10256/healthz'], {}, { kubeProxyHealthzUrl: 'http://10.0.0.1:10256/healthz' }],
    ['--proc-root', ['--proc-root', '/host/proc'], {}, { procRoot: '/host/proc' }],
    ['--modules-dir', ['--modules-dir=/host/lib/modules'], {}, { modulesDir: '/host/lib/modules' }],
    ['--output json', ['--output', 'json'], {}, { output: 'json' }],
    ['--output=table', ['--output=table'], {}, { output: 'table' }],
    ['--log-level debug', ['--log-level', 'debug'], {}, { logLevel: 'debug' }],
    ['--log-level=silent', ['--log-level=silent'], {}, { logLevel: 'silent' }],
    ['--backend-metrics', ['--backend-metrics'], {}, { backendMetrics: true }],
    ['--backend-metrics=false', ['--backend-metrics=false'], {}, { backendMetrics: false }],
    ['--backend-metrics=true', ['--backend-metrics=true'], {}, { backendMetrics: true }],
    ['--backend-metrics=0', ['--backend-metrics=0'], {}, { backendMetrics: false }],
    ['IPVS_SENTINEL_POLL_INTERVAL', [], { IPVS_SENTINEL_POLL_INTERVAL: '5s' }, { pollIntervalMs: 5000 }],
    ['IPVS_SENTINEL_GRACE', [], { IPVS_SENTINEL_GRACE: '0s' }, { graceMs: 0 }],
    ['IPVS_SENTINEL_LISTEN', [], { IPVS_SENTINEL_LISTEN: '[::1]:9000' }, { listen: { host: '::1', port: 9000 } }],
    ['IPVS_SENTINEL_BACKEND_METRICS', [], { IPVS_SENTINEL_BACKEND_METRICS: 'false' }, { backendMetrics: false }],
    ['IPVS_SENTINEL_OUTPUT', [], { IPVS_SENTINEL_OUTPUT: 'json' }, { output: 'json' }],
    ['IPVS_SENTINEL_KUBE_PROXY_URL', [], { IPVS_SENTINEL_KUBE_PROXY_URL: 'http://localhost:10249' }, { kubeProxyUrl: 'http://localhost:10249' }],
    ['IPVS_SENTINEL_CLUSTER_STATE', [], { IPVS_SENTINEL_CLUSTER_STATE: '/tmp/s.json' }, { clusterState: '/tmp/s.json' }],
    ['flag wins over env', ['--poll-interval', '1s'], { IPVS_SENTINEL_POLL_INTERVAL: '5s' }, { pollIntervalMs: 1000 }],
    ['flag wins over a bad env value', ['--output=json'], { IPVS_SENTINEL_OUTPUT: 'yaml' }, { output: 'json' }],
    ['empty env value ignored', [], { IPVS_SENTINEL_GRACE: '' }, { graceMs: 30_000 }],
    ['a value that looks like a command', ['--node-name', 'check'], {}, { nodeName: 'check' }],
    ['--skip-checks one', ['--skip-checks', 'ipsets'], {}, { skipChecks: ['ipsets'] }],
    ['--skip-checks several, spaced and repeated', ['--skip-checks=ipsets, kube-ipvs0,ipsets'], {}, { skipChecks: ['ipsets', 'kube-ipvs0'] }],
    ['IPVS_SENTINEL_SKIP_CHECKS', [], { IPVS_SENTINEL_SKIP_CHECKS: 'sysctls' }, { skipChecks: ['sysctls'] }],
  ];

  it.each(cases)('%s', (_name, argv, env, want) => {
    const parsed = parseCommandLine(['check', ...argv], env);
    expect(parsed.options).toEqual({ ...DEFAULTS, ...want });
    expect(parsed.command).toBe('check');
  });

  it('does not read process.env by itself', () => {
    expect(parseCommandLine(['ipvs'], {}).options.nodeName).toBeNull();
  });
});

describe('parseCommandLine: bad flags give BAD_FLAG naming the flag', () => {
  const cases: [string, string[], Env, RegExp][] = [
    ['unknown flag', ['--pol-interval', '1s'], {}, /unknown flag --pol-interval/],
    ['unknown flag with =', ['--frobnicate=1'], {}, /unknown flag --frobnicate/],
    ['single-dash flag', ['-v'], {}, /unknown flag -v/],
    ['single-dash long flag', ['-output', 'json'], {}, /unknown flag -output/],
    ['missing value at the end', ['--node-name'], {}, /--node-name needs a value/],
    ['missing value before another flag', ['--listen', '--output', 'json'], {}, /--listen needs a value/],
    ['empty value with =', ['--proc-root='], {}, /--proc-root needs a value/],
    ['empty node name', ['--node-name='], {}, /--node-name needs a value/],
    ['duplicate flag', ['--grace', '1s', '--grace=2s'], {}, /--grace is given more than once/],
    ['duplicate boolean flag', ['--backend-metrics', '--backend-metrics=false'], {}, /--backend-metrics is given more than once/],
    ['unknown command', ['ipvsadm'], {}, /unknown command "ipvsadm"/],
    ['second positional', ['now'], {}, /unexpected argument "now"/],
    ['boolean value without =', ['--backend-metrics', 'false'], {}, /--backend-metrics takes its value after "=": --backend-metrics=false/],
    ['unknown check', ['--skip-checks=ipset'], {}, /--skip-checks takes check names separated by commas \(kube-proxy-sync, kernel-modules, .*\), not "ipset"/],
    ['only commas', ['--skip-checks=,,'], {}, /--skip-checks takes check names/],
    ['bad boolean', ['--backend-metrics=maybe'], {}, /--backend-metrics takes true or false, not "maybe"/],
    ['poll-interval 0s', ['--poll-interval', '0s'], {}, /--poll-interval takes a duration .*at least 100 ms.*"0s"/],
    ['poll-interval 1ns (would spin)', ['--poll-interval', '1ns'], {}, /--poll-interval takes a duration .*at least 100 ms.*"1ns"/],
    ['poll-interval 99ms', ['--poll-interval', '99ms'], {}, /at least 100 ms/],
    ['poll-interval without unit', ['--poll-interval', '10'], {}, /--poll-interval takes a duration/],
    ['poll-interval negative', ['--poll-interval=-1s'], {}, /--poll-interval takes a duration/],
    ['poll-interval unknown unit', ['--poll-interval', '10sec'], {}, /--poll-interval takes a duration/],
    ['grace negative', ['--grace', '-5s'], {}, /--grace takes a duration/],
    ['grace words', ['--grace', 'soon'], {}, /--grace takes a duration .* not "soon"/],
    ['listen without port', ['--listen', '0.0.0.0'], {}, /--listen takes host:port/],
    ['listen port too big', ['--listen', '0.0.0.0:65536'], {}, /--listen takes host:port/],
    ['listen unbracketed IPv6', ['--listen', '::1:9742'], {}, /--listen takes host:port/],
    ['listen bracketed non-address', ['--listen', '[:::]:9742'], {}, /--listen takes host:port.*"\[:::\]:9742"/],
    ['listen bracket without port', ['--listen', '[::1]'], {}, /--listen takes host:port/],
    ['listen non-numeric port', ['--listen=host:http'], {}, /--listen takes host:port/],
    ['output yaml', ['--output', 'yaml'], {}, /--output takes table or json, not "yaml"/],
    ['log-level verbose', ['--log-level=verbose'], {}, /--log-level takes one of fatal, error, warn, info, debug, trace, silent, not "verbose"/],
    ['scheduler upper case', ['--scheduler', 'RR'], {}, /--scheduler takes an IPVS scheduler name/],
    ['scheduler too long', ['--scheduler', 'abcdefghijklmnop'], {}, /--scheduler takes an IPVS scheduler name/],
    ['kube-proxy-url without scheme', ['--kube-proxy-url', '127.0.0.1:10249'], {}, /--kube-proxy-url takes http:\/\/host:port/],
    ['kube-proxy-url with a path', ['--kube-proxy-url', 'http://127.0.0.1:10249/metrics'], {}, /--kube-proxy-url takes http:\/\/host:port/],
    ['kube-proxy-healthz-url without a path', ['--kube-proxy-healthz-url', 'http://127.0.0.1:10256'], {}, /--kube-proxy-healthz-url takes http:\/\/host:port\/path/],
    ['kube-proxy-healthz-url with a query', ['--kube-proxy-healthz-url', 'http://127.0.0.1:10256/healthz?x=1'], {}, /--kube-proxy-healthz-url takes http:\/\/host:port\/path/],
    ['env poll-interval 0s', [], { IPVS_SENTINEL_POLL_INTERVAL: '0s' }, /--poll-interval \(from IPVS_SENTINEL_POLL_INTERVAL\) takes a duration/],
    ['env grace garbage', [], { IPVS_SENTINEL_GRACE: 'thirty' }, /--grace \(from IPVS_SENTINEL_GRACE\) takes a duration .* not "thirty"/],
    ['env listen', [], { IPVS_SENTINEL_LISTEN: '9742' }, /--listen \(from IPVS_SENTINEL_LISTEN\) takes host:port/],
    ['env output', [], { IPVS_SENTINEL_OUTPUT: 'yaml' }, /--output \(from IPVS_SENTINEL_OUTPUT\) takes table or json/],
    ['env log level', [], { IPVS_SENTINEL_LOG_LEVEL: 'loud' }, /--log-level \(from IPVS_SENTINEL_LOG_LEVEL\)/],
    ['env backend-metrics', [], { IPVS_SENTINEL_BACKEND_METRICS: 'off' }, /--backend-metrics \(from IPVS_SENTINEL_BACKEND_METRICS\) takes true or false, not "off"/],
    ['env scheduler', [], { IPVS_SENTINEL_SCHEDULER: 'Round Robin' }, /--scheduler \(from IPVS_SENTINEL_SCHEDULER\)/],
    ['env kube-proxy-url', [], { IPVS_SENTINEL_KUBE_PROXY_URL: 'localhost' }, /--kube-proxy-url \(from IPVS_SENTINEL_KUBE_PROXY_URL\)/],
  ];

  it.each(cases)('%s', (_name, argv, env, message) => {
    const err = expectSentinelError(() => parseCommandLine(argv[0] === 'ipvsadm' ? argv : ['check', ...argv], env), 'BAD_FLAG', message);
    expect(err.op).toBe('parse command line');
    expect(err.message).not.toMatch(/\n/);
  });
});
