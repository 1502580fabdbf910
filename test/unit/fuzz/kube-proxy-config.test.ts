/**
 * kube-proxy's configuration and mode as the agent reads them (src/node/kube-proxy.ts, the metav1
 * durations of src/util/duration.ts, the probe of src/node/kube-proxy-probe.ts): any /configz body,
 * any config.conf text, any KubeProxyConfiguration-shaped object with wrong types anywhere gives a
 * config or KUBE_PROXY_CONFIG_INVALID; a config written as kube-proxy writes it (Go field names in
 * /configz, the v1alpha1 / v1alpha2 YAML of the ConfigMap) reads back exactly; resolution never throws
 * and says which source it used; the probe survives any answer.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseCommandLine } from '../../../src/cli/flags.js';
import { KUBE_PROXY_DEFAULTS, type KubeProxyConfig } from '../../../src/cluster/kube-proxy-config.js';
import { probeKubeProxy } from '../../../src/node/kube-proxy-probe.js';
import { CONFIGZ_KEY, parseConfigz, parseKubeProxyConfigMap, parseProxyMode, resolveKubeProxyConfig } from '../../../src/node/kube-proxy.js';
import { formatDuration, parseDuration } from '../../../src/util/duration.js';
import { expectSentinelError } from '../../support/errors.js';
import { AWKWARD_NAMES, valueOrCoded } from './hostile.js';

const INVALID = ['KUBE_PROXY_CONFIG_INVALID'] as const;

// ---- durations ----------------------------------------------------------------------------------

const UNITS = ['ns', 'us', 'µs', 'μs', 'ms', 's', 'm', 'h'];
/** Go duration text: an optional sign, then number-unit components, the units sometimes words no unit is. */
const durationText = fc
  .tuple(
    fc.constantFrom('', '', '-', '+'),
    fc.array(
      fc.tuple(fc.stringMatching(/^\d{0,4}(\.\d{0,3})?$/), fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...UNITS) }, { weight: 1, arbitrary: fc.constantFrom('constructor', 'valueof', 'x', 'sec', 'S', '') })),
      { minLength: 1, maxLength: 4 },
    ),
  )
  .map(([sign, parts]) => sign + parts.map(([n, u]) => n + u).join(''));

describe('metav1.Duration text', () => {
  it('any text parses to a finite number of milliseconds or null, never a throw', () => {
    fc.assert(
      fc.property(fc.oneof(durationText, fc.string({ maxLength: 30 }), fc.constantFrom(...AWKWARD_NAMES).map((w) => `1${w}`)), (text) => {
        const ms = parseDuration(text);
        if (ms !== null) expect(Number.isFinite(ms)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('what formatDuration prints (as Duration.String() does) parses back to the same milliseconds, and prints again the same', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 43), max: 2 ** 43 }), (ms) => {
        const text = formatDuration(ms);
        expect(parseDuration(text)).toBe(ms);
        expect(formatDuration(parseDuration(text) ?? NaN)).toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  it.each([
    [686490215953, '190691h43m35.953s'],
    [-(2 ** 43) - 0.5, '-2443359h10m22.2085s'],
  ])('regression: %d ms prints as %s and parses back (no rounding through one double of nanoseconds)', (ms, text) => {
    // Found by the round trip above: past 2^53 ns (~104 days) |ms| * 1e6 was rounded as a double, so
    // 686490215953 ms printed as 190691h43m35.952999936s.
    expect(formatDuration(ms)).toBe(text);
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['1constructor', '30s1constructor', '-1constructor'])('regression: %j is not a duration (the unit table is not looked up through Object.prototype)', (text) => {
    // Found by the property above: UNIT_NS["constructor"] found Object's constructor, and mixing it
    // with a BigInt threw a TypeError out of parseConfigz, parseKubeProxyConfigMap and --grace.
    expect(parseDuration(text)).toBeNull();
    expectSentinelError(() => parseCommandLine(['check', '--grace', text], {}), 'BAD_FLAG', /--grace takes a duration/);
    expectSentinelError(() => parseConfigz({ [CONFIGZ_KEY]: { IPVS: { SyncPeriod: text } } }), 'KUBE_PROXY_CONFIG_INVALID', /syncPeriod is not a duration/i);
    expectSentinelError(() => parseKubeProxyConfigMap(`kind: KubeProxyConfiguration\nipvs:\n  tcpTimeout: ${text}\n`), 'KUBE_PROXY_CONFIG_INVALID', /tcpTimeout is not a duration/);
  });
});

// ---- /proxyMode ---------------------------------------------------------------------------------

describe('/proxyMode', () => {
  it('any body is a lower-case mode word or null; a mode word with any case and surrounding whitespace is that word', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 20 }), fc.tuple(fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9-]{0,12}$/), fc.stringMatching(/^[ \t\r\n]{0,3}$/), fc.stringMatching(/^[ \t\r\n]{0,3}$/)).map(([w, a, b]) => a + w + b)), (body) => {
        const mode = parseProxyMode(body);
        const word = body.trim();
        if (/^[a-zA-Z][a-zA-Z0-9-]*$/.test(word)) expect(mode).toBe(word.toLowerCase());
        else if (mode !== null) expect(mode).toMatch(/^[a-z][a-z0-9-]*$/);
      }),
      { numRuns: 500 },
    );
  });
});

// ---- KubeProxyConfiguration: round trips ----------------------------------------------------------

const cidr = fc.tuple(fc.nat(255), fc.nat(255), fc.integer({ min: 0, max: 32 })).map(([a, b, len]) => `${a}.${b}.0.0/${len}`);
const seconds = fc.nat({ max: 100_000 });
const config: fc.Arbitrary<KubeProxyConfig> = fc.record({
  mode: fc.constantFrom('', 'ipvs', 'iptables', 'nftables', 'IPVS'),
  scheduler: fc.constantFrom('', 'rr', 'lc', 'sh', 'mh', 'wrr'),
  syncPeriodSeconds: fc.integer({ min: 1, max: 100_000 }),
  minSyncPeriodSeconds: seconds,
  excludeCIDRs: fc.array(cidr, { maxLength: 3 }),
  nodePortAddresses: fc.array(fc.oneof(cidr, fc.constant('primary')), { maxLength: 3 }),
  strictARP: fc.boolean(),
  tcpTimeoutSeconds: seconds,
  tcpFinTimeoutSeconds: seconds,
  udpTimeoutSeconds: seconds,
  metricsBindAddress: fc.constantFrom('127.0.0.1:10249', '0.0.0.0:10249', '[::1]:10249', '[::]:9999', '10.0.0.1:1'),
  detectLocalMode: fc.constantFrom('', 'ClusterCIDR', 'NodeCIDR', 'BridgeInterface', 'InterfaceNamePrefix'),
  clusterCIDRs: fc.array(cidr, { maxLength: 2 }),
  detectLocalBridgeInterface: fc.constantFrom('', 'cbr0'),
  detectLocalInterfaceNamePrefix: fc.constantFrom('', 'veth'),
  iptablesMasqueradeBit: fc.integer({ min: 0, max: 31 }),
  nftablesMasqueradeBit: fc.integer({ min: 0, max: 31 }),
});

const go = (s: number): string => formatDuration(s * 1000);

/** The internal KubeProxyConfiguration as /configz marshals it: Go field names, sync periods in IPVS (≤ v1.28) or at the top. */
function configzOf(c: KubeProxyConfig, oldLayout: boolean): unknown {
  const sync = { SyncPeriod: go(c.syncPeriodSeconds), MinSyncPeriod: go(c.minSyncPeriodSeconds) };
  return {
    [CONFIGZ_KEY]: {
      Mode: c.mode,
      MetricsBindAddress: c.metricsBindAddress,
      NodePortAddresses: c.nodePortAddresses.length === 0 ? null : c.nodePortAddresses,
      ...(oldLayout ? {} : sync),
      DetectLocalMode: c.detectLocalMode,
      // Before v1.31 the internal config held one comma-separated ClusterCIDR, later DetectLocal.ClusterCIDRs.
      ...(oldLayout ? { ClusterCIDR: c.clusterCIDRs.join(',') } : {}),
      DetectLocal: { BridgeInterface: c.detectLocalBridgeInterface, InterfaceNamePrefix: c.detectLocalInterfaceNamePrefix, ...(oldLayout ? {} : { ClusterCIDRs: c.clusterCIDRs }) },
      IPTables: { MasqueradeBit: c.iptablesMasqueradeBit },
      NFTables: { MasqueradeBit: c.nftablesMasqueradeBit },
      IPVS: {
        ...(oldLayout ? sync : {}),
        Scheduler: c.scheduler,
        ExcludeCIDRs: c.excludeCIDRs.length === 0 ? null : c.excludeCIDRs,
        StrictARP: c.strictARP,
        TCPTimeout: go(c.tcpTimeoutSeconds),
        TCPFinTimeout: go(c.tcpFinTimeoutSeconds),
        UDPTimeout: go(c.udpTimeoutSeconds),
      },
    },
  };
}

/** config.conf as kubeadm writes it: v1alpha1 with the sync periods in ipvs, or v1alpha2 with them at the top. */
function configConfOf(c: KubeProxyConfig, v1alpha2: boolean): string {
  const sync = { syncPeriod: go(c.syncPeriodSeconds), minSyncPeriod: go(c.minSyncPeriodSeconds) };
  return stringify({
    apiVersion: `kubeproxy.config.k8s.io/${v1alpha2 ? 'v1alpha2' : 'v1alpha1'}`,
    kind: 'KubeProxyConfiguration',
    mode: c.mode,
    metricsBindAddress: c.metricsBindAddress,
    nodePortAddresses: c.nodePortAddresses,
    ...(v1alpha2 ? sync : {}),
    detectLocalMode: c.detectLocalMode,
    ...(v1alpha2 ? {} : { clusterCIDR: c.clusterCIDRs.join(',') }),
    detectLocal: { bridgeInterface: c.detectLocalBridgeInterface, interfaceNamePrefix: c.detectLocalInterfaceNamePrefix, ...(v1alpha2 ? { clusterCIDRs: c.clusterCIDRs } : {}) },
    iptables: { masqueradeBit: c.iptablesMasqueradeBit },
    nftables: { masqueradeBit: c.nftablesMasqueradeBit },
    ipvs: {
      ...(v1alpha2 ? {} : sync),
      scheduler: c.scheduler,
      excludeCIDRs: c.excludeCIDRs,
      strictARP: c.strictARP,
      tcpTimeout: go(c.tcpTimeoutSeconds),
      tcpFinTimeout: go(c.tcpFinTimeoutSeconds),
      udpTimeout: go(c.udpTimeoutSeconds),
    },
  });
}

describe('a configuration written as kube-proxy writes it reads back exactly', () => {
  it('/configz (the internal config, Go field names), either layout, as text or as parsed JSON', () => {
    fc.assert(
      fc.property(config, fc.boolean(), fc.boolean(), (c, oldLayout, asText) => {
        const doc = configzOf(c, oldLayout);
        expect(parseConfigz(asText ? JSON.stringify(doc) : doc)).toEqual(c);
      }),
      { numRuns: 300 },
    );
  });

  it('config.conf of the kube-system/kube-proxy ConfigMap, v1alpha1 or v1alpha2', () => {
    fc.assert(
      fc.property(config, fc.boolean(), (c, v1alpha2) => {
        expect(parseKubeProxyConfigMap(configConfOf(c, v1alpha2))).toEqual(c);
      }),
      { numRuns: 100 },
    );
  });
});

// ---- KubeProxyConfiguration: hostile ------------------------------------------------------------

/** A field's value: the right type most of the time, anything JSON can hold otherwise. */
const valueFor = (right: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> => fc.oneof({ weight: 3, arbitrary: right }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) });
/** A key as Go marshals it, as the external document spells it, or in another case. */
const spelled = (key: string): fc.Arbitrary<string> => fc.constantFrom(key, key[0]?.toLowerCase() + key.slice(1), key.toUpperCase(), key.toLowerCase());

function shaped(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Record<string, unknown>> {
  const entries = Object.entries(fields).map(([key, value]) => fc.option(fc.tuple(spelled(key), value), { freq: 3 }));
  return fc.tuple(...entries, fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 })).map((parts) => {
    const extra = parts.pop() as Record<string, unknown>;
    const out: Record<string, unknown> = { ...extra };
    for (const p of parts as ([string, unknown] | null)[]) if (p) out[p[0]] = p[1];
    return out;
  });
}

const duration = valueFor(fc.oneof(seconds.map(go), durationText));
const strings = valueFor(fc.array(fc.oneof(cidr, fc.string({ maxLength: 6 })), { maxLength: 3 }));
const ipvsSection = shaped({
  SyncPeriod: duration,
  MinSyncPeriod: duration,
  Scheduler: valueFor(fc.constantFrom('', 'rr', 'sh')),
  ExcludeCIDRs: strings,
  StrictARP: valueFor(fc.boolean()),
  TCPTimeout: duration,
  TCPFinTimeout: duration,
  UDPTimeout: duration,
});
const kubeProxyConfiguration = shaped({
  Kind: valueFor(fc.constantFrom('KubeProxyConfiguration', 'ConfigMap')),
  ApiVersion: valueFor(fc.constantFrom('kubeproxy.config.k8s.io/v1alpha1', 'kubeproxy.config.k8s.io/v1alpha2', 'v1')),
  Mode: valueFor(fc.constantFrom('', 'ipvs', 'iptables')),
  SyncPeriod: duration,
  MinSyncPeriod: duration,
  NodePortAddresses: strings,
  MetricsBindAddress: valueFor(fc.constantFrom('', '0.0.0.0', '::', '127.0.0.1:10249', '[::1]', 'host:port')),
  BindAddress: valueFor(fc.constantFrom('0.0.0.0', '::')),
  IPVS: valueFor(ipvsSection),
  DetectLocalMode: valueFor(fc.constantFrom('', 'ClusterCIDR', 'NodeCIDR', 'BridgeInterface')),
  ClusterCIDR: valueFor(fc.constantFrom('', '10.244.0.0/16', '10.244.0.0/16,fd00::/56', ' , ')),
  DetectLocal: valueFor(shaped({ ClusterCIDRs: strings, BridgeInterface: valueFor(fc.constantFrom('', 'cbr0')), InterfaceNamePrefix: valueFor(fc.constantFrom('', 'veth')) })),
  IPTables: valueFor(shaped({ MasqueradeBit: valueFor(fc.integer({ min: -2, max: 40 })) })),
  NFTables: valueFor(shaped({ MasqueradeBit: valueFor(fc.oneof(fc.integer({ min: 0, max: 31 }), fc.double())) })),
});

/** What every config the parsers return holds, whatever they were given. */
function expectWellFormed(c: KubeProxyConfig): void {
  for (const key of ['mode', 'scheduler', 'metricsBindAddress'] as const) expect(typeof c[key]).toBe('string');
  for (const key of ['syncPeriodSeconds', 'minSyncPeriodSeconds', 'tcpTimeoutSeconds', 'tcpFinTimeoutSeconds', 'udpTimeoutSeconds'] as const) {
    expect(Number.isFinite(c[key]) && c[key] >= 0, key).toBe(true);
  }
  expect(c.syncPeriodSeconds).toBeGreaterThan(0);
  expect(typeof c.strictARP).toBe('boolean');
  for (const list of [c.excludeCIDRs, c.nodePortAddresses, c.clusterCIDRs]) expect(list.every((s) => typeof s === 'string')).toBe(true);
  expect(c.clusterCIDRs.every((s) => s.trim() === s && s !== '')).toBe(true);
  for (const key of ['detectLocalMode', 'detectLocalBridgeInterface', 'detectLocalInterfaceNamePrefix'] as const) expect(typeof c[key]).toBe('string');
  for (const key of ['iptablesMasqueradeBit', 'nftablesMasqueradeBit'] as const) expect(Number.isInteger(c[key]) && c[key] >= 0, key).toBe(true);
  expect(c.metricsBindAddress).toMatch(/:\d+$/);
}

const YAML_TOKENS = ['kind: KubeProxyConfiguration\n', 'ipvs:\n', '  ', 'mode: ipvs\n', 'syncPeriod: 30s\n', '- ', '&a ', '*a ', '[', ']', '{', '}', ',', ': ', '? ', '!!str ', '!!binary ', '!x ', '"', "'", '|', '>-', '\n', '---\n', '...\n', '#', '%YAML 1.2\n', '__proto__: ', 'constructor: ', '<<: *a\n', 'null', '~', '1e999', '0x1', 'true'];

describe('any configuration text or object gives a config or KUBE_PROXY_CONFIG_INVALID', () => {
  it('/configz: any JSON, any text, any KubeProxyConfiguration-shaped object with wrong types anywhere', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.string({ maxLength: 60 }), kubeProxyConfiguration.map((c) => ({ [CONFIGZ_KEY]: c }))), fc.boolean(), (body, asText) => {
        const c = valueOrCoded(INVALID, () => parseConfigz(asText && typeof body !== 'string' ? JSON.stringify(body) : body));
        if (c !== undefined) expectWellFormed(c);
      }),
      { numRuns: 1000 },
    );
  });

  it('config.conf: any YAML-ish text, any shaped object written as YAML', () => {
    fc.assert(
      fc.property(fc.oneof(fc.array(fc.constantFrom(...YAML_TOKENS), { maxLength: 40 }).map((t) => t.join('')), fc.string({ maxLength: 60 }), kubeProxyConfiguration.map((c) => stringify(c))), (text) => {
        const c = valueOrCoded(INVALID, () => parseKubeProxyConfigMap(text));
        if (c !== undefined) expectWellFormed(c);
      }),
      { numRuns: 400 },
    );
  });

  it.each([
    ['an alias bomb', `a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [${Array(10).fill('*a').join(', ')}]\nc: &c [${Array(10).fill('*b').join(', ')}]\nipvs:\n  excludeCIDRs: [${Array(10).fill('*c').join(', ')}]\n`],
    ['20,000 nested flow sequences', `ipvs: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`],
    ['5,000 nested block mappings', Array.from({ length: 5000 }, (_, i) => `${' '.repeat(i)}k:`).join('\n')],
    ['a mapping key that is a mapping', '? {a: 1}\n: x\nmode: ipvs\n'],
  ])('config.conf with %s is KUBE_PROXY_CONFIG_INVALID or a config, nothing else', (_what, text) => {
    const c = valueOrCoded(INVALID, () => parseKubeProxyConfigMap(text));
    if (c !== undefined) expectWellFormed(c);
  });

  it('resolveKubeProxyConfig never throws: /configz when it parses, else the ConfigMap when it parses, else fresh defaults, with one problem per source skipped', () => {
    const configz = fc.oneof(fc.constant(null), fc.jsonValue({ maxDepth: 3 }), kubeProxyConfiguration.map((c) => ({ [CONFIGZ_KEY]: c })), config.map((c) => configzOf(c, false)));
    const text = fc.oneof(fc.constant(null), fc.string({ maxLength: 40 }), kubeProxyConfiguration.map((c) => stringify(c)), config.map((c) => configConfOf(c, false)));
    fc.assert(
      fc.property(configz, text, (z, t) => {
        const resolved = resolveKubeProxyConfig({ configz: z, configMapText: t });
        const fromConfigz = z === null ? undefined : valueOrCoded(INVALID, () => parseConfigz(z));
        const fromConfigMap = t === null ? undefined : valueOrCoded(INVALID, () => parseKubeProxyConfigMap(t));
        if (fromConfigz !== undefined) {
          expect(resolved).toEqual({ config: fromConfigz, source: 'configz', problems: [] });
        } else if (fromConfigMap !== undefined) {
          expect(resolved).toEqual({ config: fromConfigMap, source: 'configmap', problems: [expect.any(String)] });
        } else {
          expect(resolved).toEqual({ config: KUBE_PROXY_DEFAULTS, source: 'defaults', problems: [expect.any(String), expect.any(String)] });
          expect(resolved.config.excludeCIDRs).not.toBe(KUBE_PROXY_DEFAULTS.excludeCIDRs);
        }
      }),
      { numRuns: 250 },
    );
  });
});

// ---- the probe ----------------------------------------------------------------------------------

describe('probeKubeProxy against a metrics port that answers anything', () => {
  let server: Server;
  let url = '';
  let answer = { status: 200, mode: '', configz: '' };

  beforeAll(async () => {
    server = createServer((req, res) => {
      const body = req.url === '/proxyMode' ? answer.mode : answer.configz;
      res.writeHead(answer.status, { 'content-type': 'text/plain' }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('resolves with a mode word or null and the parsed JSON or null, a problem for each answer it could not use', async () => {
    const body = fc.oneof(fc.string({ maxLength: 40 }), fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)), config.map((c) => JSON.stringify(configzOf(c, true))));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(200, 200, 200, 204, 301, 404, 500), fc.oneof(body, fc.constantFrom('ipvs', 'IPVS\n', 'iptables')), body, async (status, mode, configz) => {
        answer = { status, mode, configz };
        const probe = await probeKubeProxy({ url, timeoutMs: 5000 });
        const ok = status >= 200 && status <= 299;
        // A 204 carries no body, whatever the handler wrote.
        const [modeSent, configzSent] = status === 204 ? ['', ''] : [mode, configz];
        let parsed: unknown = null;
        let parses = true;
        try {
          parsed = JSON.parse(configzSent);
        } catch {
          parses = false;
        }
        expect(probe.runningMode).toBe(ok ? parseProxyMode(modeSent) : null);
        expect(probe.configz).toEqual(ok && parses ? parsed : null);
        expect(probe.problems).toHaveLength((probe.runningMode === null ? 1 : 0) + (ok && parses ? 0 : 1));
      }),
      { numRuns: 40 },
    );
  });
});
