/**
 * kube-proxy's running mode and effective configuration (docs/kube-proxy-rules.md §5.1, §5.3, §5.4). Pure:
 * the probe (kube-proxy-probe.ts) fetches, these functions parse and judge.
 *
 * - /proxyMode is plain text: the mode string ("ipvs", "iptables", "nftables").
 * - /configz is component-base's configz JSON, `{"kubeproxy.config.k8s.io": <config>}`, where
 *   <config> is kube-proxy's *internal* KubeProxyConfiguration marshalled by encoding/json. The
 *   internal types have no json tags, so the keys are Go field names ("Mode", "IPVS": {"Scheduler",
 *   "StrictARP", ...}, "NodePortAddresses") and durations are metav1.Duration strings ("30s").
 *   Until ≈v1.29 the sync periods sit in "IPVS" ("SyncPeriod"), later at the top level. Keys are
 *   therefore matched case-insensitively, which also reads an external (camelCase) document.
 * - The ConfigMap (kube-system/kube-proxy, key config.conf) is a v1alpha1 (or v1alpha2)
 *   KubeProxyConfiguration in YAML; kube-proxy's defaulting is applied (syncPeriod 0s → 30s, ...).
 */
import { loadYaml } from '../util/yaml.js';
import { KUBE_PROXY_DEFAULTS, type KubeProxyConfig, type KubeProxyConfigSource } from '../cluster/kube-proxy-config.js';
import type { Finding } from '../drift/types.js';
import { SentinelError } from '../errors/index.js';
import { parseDuration } from '../util/duration.js';

export const CONFIGZ_KEY = 'kubeproxy.config.k8s.io';
const DEFAULT_METRICS_PORT = 10249;

/** The mode from a /proxyMode body, lower-cased; null when the body is not a mode word. */
export function parseProxyMode(text: string): string | null {
  const mode = text.trim().toLowerCase();
  return /^[a-z][a-z0-9-]*$/.test(mode) ? mode : null;
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Case-insensitive key lookup: "IPVS" and "ipvs", "SyncPeriod" and "syncPeriod". */
function field(obj: JsonObject | undefined, name: string): unknown {
  if (obj === undefined) return undefined;
  if (name in obj) return obj[name];
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(obj)) if (key.toLowerCase() === lower) return value;
  return undefined;
}

function invalid(op: string, message: string): SentinelError {
  return new SentinelError('KUBE_PROXY_CONFIG_INVALID', op, message);
}

function stringField(obj: JsonObject | undefined, name: string, op: string): string | undefined {
  const value = field(obj, name);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalid(op, `${name} is not a string`);
  return value;
}

function boolField(obj: JsonObject | undefined, name: string, op: string): boolean | undefined {
  const value = field(obj, name);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw invalid(op, `${name} is not a boolean`);
  return value;
}

function listField(obj: JsonObject | undefined, name: string, op: string): string[] | undefined {
  const value = field(obj, name);
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw invalid(op, `${name} is not a list of strings`);
  return value;
}

/** A non-negative integer (a masquerade bit); undefined when absent or null, as kubeadm writes an unset one. */
function intField(obj: JsonObject | undefined, name: string, op: string): number | undefined {
  const value = field(obj, name);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw invalid(op, `${name} is not a non-negative integer`);
  return value;
}

/** A metav1.Duration ("30s", "1m0s") in whole seconds; undefined when absent. */
function durationField(obj: JsonObject | undefined, name: string, op: string): number | undefined {
  const text = stringField(obj, name, op);
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  if (ms === null || ms < 0) throw invalid(op, `${name} is not a duration: ${JSON.stringify(text)}`);
  return ms / 1000;
}

function sectionField(obj: JsonObject | undefined, name: string, op: string): JsonObject | undefined {
  const value = field(obj, name);
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw invalid(op, `${name} is not an object`);
  return value;
}

/** kube-proxy's defaulting of metricsBindAddress: "" → 127.0.0.1:10249 ([::1] for an IPv6 bindAddress), host only → host:10249. */
function defaultMetricsBindAddress(value: string | undefined, bindAddress: string | undefined): string {
  if (value === undefined || value === '') {
    return bindAddress !== undefined && bindAddress.includes(':') ? `[::1]:${DEFAULT_METRICS_PORT}` : KUBE_PROXY_DEFAULTS.metricsBindAddress;
  }
  const hasPort = value.startsWith('[') ? /\]:\d+$/.test(value) : /^[^:]*:\d+$/.test(value);
  if (hasPort) return value;
  return value.includes(':') && !value.startsWith('[') ? `[${value}]:${DEFAULT_METRICS_PORT}` : `${value}:${DEFAULT_METRICS_PORT}`;
}

interface Sections {
  top: JsonObject;
  ipvs: JsonObject | undefined;
}

/** detectLocal.clusterCIDRs (v1alpha2, the internal config since v1.31), else clusterCIDR split at commas. */
function clusterCIDRs(top: JsonObject, detectLocal: JsonObject | undefined, op: string): string[] {
  const list = listField(detectLocal, 'clusterCIDRs', op) ?? (stringField(top, 'clusterCIDR', op) ?? '').split(',');
  return list.map((s) => s.trim()).filter((s) => s !== '');
}

function buildConfig({ top, ipvs }: Sections, op: string, syncPeriod: number | undefined, minSyncPeriod: number | undefined): KubeProxyConfig {
  const detectLocal = sectionField(top, 'detectLocal', op);
  return {
    mode: stringField(top, 'mode', op) ?? KUBE_PROXY_DEFAULTS.mode,
    scheduler: stringField(ipvs, 'scheduler', op) ?? KUBE_PROXY_DEFAULTS.scheduler,
    syncPeriodSeconds: syncPeriod === undefined || syncPeriod === 0 ? KUBE_PROXY_DEFAULTS.syncPeriodSeconds : syncPeriod,
    minSyncPeriodSeconds: minSyncPeriod ?? KUBE_PROXY_DEFAULTS.minSyncPeriodSeconds,
    excludeCIDRs: listField(ipvs, 'excludeCIDRs', op) ?? [],
    nodePortAddresses: listField(top, 'nodePortAddresses', op) ?? [],
    strictARP: boolField(ipvs, 'strictARP', op) ?? KUBE_PROXY_DEFAULTS.strictARP,
    tcpTimeoutSeconds: durationField(ipvs, 'tcpTimeout', op) ?? KUBE_PROXY_DEFAULTS.tcpTimeoutSeconds,
    tcpFinTimeoutSeconds: durationField(ipvs, 'tcpFinTimeout', op) ?? KUBE_PROXY_DEFAULTS.tcpFinTimeoutSeconds,
    udpTimeoutSeconds: durationField(ipvs, 'udpTimeout', op) ?? KUBE_PROXY_DEFAULTS.udpTimeoutSeconds,
    metricsBindAddress: defaultMetricsBindAddress(stringField(top, 'metricsBindAddress', op), stringField(top, 'bindAddress', op)),
    detectLocalMode: stringField(top, 'detectLocalMode', op) ?? KUBE_PROXY_DEFAULTS.detectLocalMode,
    clusterCIDRs: clusterCIDRs(top, detectLocal, op),
    detectLocalBridgeInterface: stringField(detectLocal, 'bridgeInterface', op) ?? '',
    detectLocalInterfaceNamePrefix: stringField(detectLocal, 'interfaceNamePrefix', op) ?? '',
    iptablesMasqueradeBit: intField(sectionField(top, 'iptables', op), 'masqueradeBit', op) ?? KUBE_PROXY_DEFAULTS.iptablesMasqueradeBit,
    nftablesMasqueradeBit: intField(sectionField(top, 'nftables', op), 'masqueradeBit', op) ?? KUBE_PROXY_DEFAULTS.nftablesMasqueradeBit,
  };
}

/**
 * Parse a /configz body (text or already-parsed JSON) into our config. Throws
 * SentinelError(KUBE_PROXY_CONFIG_INVALID) when it is not JSON, lacks the kube-proxy entry (or the
 * entry is null, as when the component could not register its config) or has mistyped fields.
 */
export function parseConfigz(json: unknown): KubeProxyConfig {
  const op = 'parse kube-proxy /configz';
  let doc = json;
  if (typeof json === 'string') {
    try {
      doc = JSON.parse(json) as unknown;
    } catch (error) {
      throw new SentinelError('KUBE_PROXY_CONFIG_INVALID', op, `not JSON: ${(error as Error).message}`, { cause: error });
    }
  }
  if (!isObject(doc)) throw invalid(op, 'not a JSON object');
  const top = doc[CONFIGZ_KEY];
  if (!isObject(top)) throw invalid(op, `no "${CONFIGZ_KEY}" configuration in the answer`);
  const ipvs = sectionField(top, 'ipvs', op);
  // Newer internal configs carry the mode's sync periods at the top level, older ones in IPVS.
  const syncPeriod = durationField(top, 'syncPeriod', op) ?? durationField(ipvs, 'syncPeriod', op);
  const minSyncPeriod = durationField(top, 'minSyncPeriod', op) ?? durationField(ipvs, 'minSyncPeriod', op);
  return buildConfig({ top, ipvs }, op, syncPeriod, minSyncPeriod);
}

/**
 * Parse config.conf of the kube-system/kube-proxy ConfigMap (a KubeProxyConfiguration in YAML, as
 * kubeadm writes it) with kube-proxy's defaulting. Throws SentinelError(KUBE_PROXY_CONFIG_INVALID).
 */
export function parseKubeProxyConfigMap(configConfText: string): KubeProxyConfig {
  const op = 'parse kube-proxy ConfigMap config.conf';
  let doc: unknown;
  try {
    // logLevel error: a warning (an unknown tag) would go to stderr as a Node warning, outside the JSON log lines.
    doc = loadYaml().parse(configConfText, { logLevel: 'error' }) as unknown;
  } catch (error) {
    throw new SentinelError('KUBE_PROXY_CONFIG_INVALID', op, `not YAML: ${(error as Error).message}`, { cause: error });
  }
  if (!isObject(doc)) throw invalid(op, 'not a YAML mapping');
  const kind = stringField(doc, 'kind', op);
  if (kind !== undefined && kind !== 'KubeProxyConfiguration') throw invalid(op, `kind is ${kind}, not KubeProxyConfiguration`);
  const apiVersion = stringField(doc, 'apiVersion', op) ?? '';
  const ipvs = sectionField(doc, 'ipvs', op);
  if (apiVersion.endsWith('/v1alpha2')) {
    // v1alpha2 moved the sync periods to the top level; minSyncPeriod defaults to 1s there.
    return buildConfig({ top: doc, ipvs }, op, durationField(doc, 'syncPeriod', op), durationField(doc, 'minSyncPeriod', op) ?? 1);
  }
  return buildConfig({ top: doc, ipvs }, op, durationField(ipvs, 'syncPeriod', op), durationField(ipvs, 'minSyncPeriod', op));
}

export interface ResolvedKubeProxyConfig {
  config: KubeProxyConfig;
  source: KubeProxyConfigSource;
  /** Why earlier sources were skipped (unreachable, unparsable); empty when configz was used. */
  problems: string[];
}

/**
 * Pick kube-proxy's effective configuration: /configz when it parses, else the ConfigMap's
 * config.conf, else KUBE_PROXY_DEFAULTS. `configz` is the /configz body (null when unreachable),
 * `configMapText` the config.conf text (null when the ConfigMap is absent).
 */
export function resolveKubeProxyConfig(input: { configz: unknown; configMapText: string | null }): ResolvedKubeProxyConfig {
  const problems: string[] = [];
  if (input.configz !== null && input.configz !== undefined) {
    try {
      return { config: parseConfigz(input.configz), source: 'configz', problems };
    } catch (error) {
      problems.push(error instanceof SentinelError ? error.toLine() : String(error));
    }
  } else {
    problems.push('kube-proxy /configz not available');
  }
  if (input.configMapText !== null) {
    try {
      return { config: parseKubeProxyConfigMap(input.configMapText), source: 'configmap', problems };
    } catch (error) {
      problems.push(error instanceof SentinelError ? error.toLine() : String(error));
    }
  } else {
    problems.push('ConfigMap kube-system/kube-proxy (config.conf) not available');
  }
  return { config: { ...KUBE_PROXY_DEFAULTS, excludeCIDRs: [], nodePortAddresses: [], clusterCIDRs: [] }, source: 'defaults', problems };
}

/** The mode a config means on Linux: "" is iptables. */
export function effectiveMode(configuredMode: string): string {
  return configuredMode === '' ? 'iptables' : configuredMode.toLowerCase();
}

/**
 * proxy-mode-mismatch (critical): kube-proxy runs in another mode than ipvs while its config says
 * ipvs, or runs ipvs while the config says otherwise. runningMode null (metrics port unreachable)
 * or configuredMode null (config only guessed from defaults) is "unknown": never a finding.
 */
export function checkProxyMode(input: { runningMode: string | null; configuredMode: string | null }): Finding[] {
  if (input.runningMode === null || input.configuredMode === null) return [];
  const running = input.runningMode.toLowerCase();
  const configured = effectiveMode(input.configuredMode);
  if (running === configured || (running !== 'ipvs' && configured !== 'ipvs')) return [];
  const message =
    configured === 'ipvs'
      ? `kube-proxy runs in ${running} mode although its configuration says ipvs (older kube-proxy falls back silently when IPVS prerequisites are missing): fix the kernel-module findings, then restart kube-proxy.`
      : `kube-proxy runs in ipvs mode although its configuration says ${configured}: the configuration was changed without restarting kube-proxy, or this node's kube-proxy has its own flags; restart kube-proxy (and run \`kube-proxy --cleanup\` when switching away from IPVS).`;
  return [
    {
      kind: 'proxy-mode-mismatch',
      subject: 'kube-proxy',
      severity: 'critical',
      virtualServer: null,
      realServer: null,
      service: null,
      expected: { mode: configured },
      actual: { mode: running },
      message,
      selfHealing: false,
    },
  ];
}
