/**
 * kube-proxy's own account of its sync loop, parsed (pure; kube-proxy-health-probe.ts fetches):
 *
 * - its healthz server (healthzBindAddress, default :10256) answers /healthz 200 or 503 with
 *   `{"lastUpdated": %q,"currentTime": %q}`, plus `, "nodeEligible": %v` since ≈v1.28, where %q of a
 *   Go time.Time is its String() ("2024-05-01 10:00:00.123456789 +0000 UTC m=+12.5"); 503 when an
 *   update queued at T is not applied by T + healthTimeout, or (since ≈v1.28) when the Node is being
 *   deleted or tainted ToBeDeletedByClusterAutoscaler (pkg/proxy/healthcheck/proxier_health.go);
 * - its metrics server exposes kubeproxy_sync_proxy_rules_last_timestamp_seconds (the last sync that
 *   succeeded) and kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds (the last change queued,
 *   since v1.19, kubernetes#90175), with an ip_family label in newer releases
 *   (pkg/proxy/metrics/metrics.go);
 * - healthTimeout is 2 × the sync period (cmd/kube-proxy/app/server.go): the internal config's
 *   top-level SyncPeriod where it has one (the mode's, from ipvs.syncPeriod in IPVS mode), before
 *   that IPTables.SyncPeriod — iptables.syncPeriod, even in IPVS mode.
 *
 * Everything here comes from a port any local process could hold: it is validated, and whatever is
 * not kube-proxy's shape is a problem (unknown), never a finding.
 */
import { parseDuration } from '../util/duration.js';
import { CONFIGZ_KEY } from './kube-proxy.js';

/** What /healthz said. */
export interface KubeProxyHealthz {
  status: 200 | 503;
  /** When kube-proxy last synced (on a 200 it reports its current time, as older releases did); null: never. */
  lastUpdated: Date | null;
  currentTime: Date;
  /** null before ≈v1.28, which did not report it. */
  nodeEligible: boolean | null;
}

/** The two sync timestamps of one IP family (unix seconds); null when absent or 0 (never). */
export interface SyncTimestamps {
  /** The ip_family label ("IPv4", "IPv6"); "" for releases without it. */
  ipFamily: string;
  lastQueued: number | null;
  lastSynced: number | null;
}

/** One read of kube-proxy's health: each part null when it could not be read or was not kube-proxy's. */
export interface KubeProxyHealth {
  /** The agent's clock when the answers came. */
  readAt: Date;
  healthz: KubeProxyHealthz | null;
  /** null when the metrics were not read; [] when they hold neither timestamp (before v1.19: no queued one). */
  sync: SyncTimestamps[] | null;
  /** One line per part that could not be read or parsed. */
  problems: string[];
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

const GO_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))? ([+-])(\d{2})(\d{2})(?: [A-Za-z0-9+-]{1,10})?(?: m=[+-]\d{1,20}\.\d{1,9})?$/;

/**
 * A Go time.Time as String() prints it ("2006-01-02 15:04:05.999999999 -0700 MST", a monotonic
 * " m=±s" reading after it), or RFC 3339; null for Go's zero time (never), undefined when not a time.
 */
export function parseGoTime(text: string): Date | null | undefined {
  const m = GO_TIME.exec(text);
  if (m) {
    const [, y, mo, d, h, mi, s, frac, sign, oh, om] = m as unknown as string[];
    if (y === '0001' && mo === '01' && d === '01') return null;
    const ms = Number(`0.${frac ?? '0'}`) * 1000;
    const offsetMin = (Number(oh) * 60 + Number(om)) * (sign === '-' ? -1 : 1);
    const utc = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Math.floor(ms)) - offsetMin * 60_000;
    const date = new Date(utc);
    // Date.UTC rolls 31 February over into March: refuse what is not a calendar date.
    const back = new Date(utc + offsetMin * 60_000);
    if (back.getUTCMonth() !== Number(mo) - 1 || back.getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59 || Number(s) > 60) return undefined;
    return date;
  }
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/.test(text)) {
    if (text.startsWith('0001-01-01T00:00:00')) return null;
    const date = new Date(text);
    return Number.isNaN(date.getTime()) ? undefined : date;
  }
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Cut and quote text from outside for a problem line. */
function quoted(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}

/** A /healthz answer (its status and body) as kube-proxy writes it; anything else is a problem. */
export function parseHealthz(status: number, body: string): Parsed<KubeProxyHealthz> {
  if (status !== 200 && status !== 503) return { ok: false, problem: `HTTP ${status}, not kube-proxy's 200 or 503` };
  let doc: unknown;
  try {
    doc = JSON.parse(body) as unknown;
  } catch {
    return { ok: false, problem: `HTTP ${status} with a body that is not JSON: ${quoted(body)}` };
  }
  if (!isObject(doc)) return { ok: false, problem: `HTTP ${status} with a body that is not a JSON object` };
  const { lastUpdated, currentTime, nodeEligible } = doc;
  if (typeof lastUpdated !== 'string' || typeof currentTime !== 'string') return { ok: false, problem: `HTTP ${status} without the lastUpdated and currentTime strings` };
  const last = parseGoTime(lastUpdated);
  const current = parseGoTime(currentTime);
  if (last === undefined) return { ok: false, problem: `lastUpdated is not a time: ${quoted(lastUpdated)}` };
  if (current === undefined || current === null) return { ok: false, problem: `currentTime is not a time: ${quoted(currentTime)}` };
  if (nodeEligible !== undefined && typeof nodeEligible !== 'boolean') return { ok: false, problem: 'nodeEligible is not a boolean' };
  return { ok: true, value: { status, lastUpdated: last, currentTime: current, nodeEligible: nodeEligible ?? null } };
}

export const LAST_SYNCED_METRIC = 'kubeproxy_sync_proxy_rules_last_timestamp_seconds';
export const LAST_QUEUED_METRIC = 'kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds';

const SAMPLE = /^(kubeproxy_sync_proxy_rules_last_(?:queued_)?timestamp_seconds)(?:\{([^}]*)\})?[ \t]+(\S+)(?:[ \t]+-?\d+)?[ \t]*$/;
const LABEL = /\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)/y;

/** A label set's ip_family, "" without one; undefined when the set is not well formed. */
function ipFamilyOf(labels: string | undefined): string | undefined {
  if (labels === undefined || labels.trim() === '') return '';
  let family = '';
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < labels.length) {
    const m = LABEL.exec(labels);
    if (!m) return undefined;
    if (m[1] === 'ip_family') family = m[2] ?? '';
  }
  return /^[A-Za-z0-9]{0,16}$/.test(family) ? family : undefined;
}

/**
 * The two sync timestamps from a Prometheus text exposition, per ip_family; every other line is
 * skipped unread. A sample of one of the two names that is malformed, not a finite non-negative
 * number, or repeated for one family makes the page not kube-proxy's.
 */
export function parseSyncMetrics(text: string): Parsed<SyncTimestamps[]> {
  const families = new Map<string, SyncTimestamps>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('kubeproxy_sync_proxy_rules_last_')) continue;
    const name = line.startsWith(LAST_QUEUED_METRIC) ? LAST_QUEUED_METRIC : line.startsWith(LAST_SYNCED_METRIC) ? LAST_SYNCED_METRIC : null;
    if (name === null) continue;
    const next = line.charAt(name.length);
    if (next !== '{' && next !== ' ' && next !== '\t') continue; // another metric sharing the prefix
    const m = SAMPLE.exec(line.trimEnd());
    if (!m) return { ok: false, problem: `malformed sample ${quoted(line)}` };
    const family = ipFamilyOf(m[2]);
    if (family === undefined) return { ok: false, problem: `malformed labels in ${quoted(line)}` };
    const value = Number(m[3]);
    if (!/^[0-9.eE+-]+$/.test(m[3] ?? '') || !Number.isFinite(value) || value < 0) return { ok: false, problem: `${name} is not a timestamp: ${quoted(m[3] ?? '')}` };
    const entry = families.get(family) ?? { ipFamily: family, lastQueued: null, lastSynced: null };
    const key = name === LAST_QUEUED_METRIC ? 'lastQueued' : 'lastSynced';
    if (families.has(family) && entry[key] !== null) return { ok: false, problem: `${name}${family ? ` (${family})` : ''} appears twice` };
    entry[key] = value === 0 ? null : value;
    families.set(family, entry);
  }
  return { ok: true, value: [...families.values()].sort((a, b) => (a.ipFamily < b.ipFamily ? -1 : a.ipFamily > b.ipFamily ? 1 : 0)) };
}

/** kube-proxy's healthTimeout and the setting it comes from. */
export interface HealthTimeout {
  seconds: number;
  from: string;
}

const DEFAULT_SYNC_PERIOD_SECONDS = 30;

function fieldOf(obj: Record<string, unknown> | undefined, name: string): unknown {
  if (obj === undefined) return undefined;
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(obj)) if (key.toLowerCase() === lower) return value;
  return undefined;
}

function secondsOf(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const ms = parseDuration(value);
  return ms === null || ms <= 0 ? null : ms / 1000;
}

/**
 * healthTimeout = 2 × the sync period, read from /configz (the internal config: keys are Go field
 * names) as the running kube-proxy has it: the top-level SyncPeriod, else IPTables.SyncPeriod; the
 * default 30 s when /configz is not there or holds neither.
 */
export function kubeProxyHealthTimeout(configz: unknown): HealthTimeout {
  const config = isObject(configz) ? configz[CONFIGZ_KEY] : undefined;
  if (isObject(config)) {
    const top = secondsOf(fieldOf(config, 'SyncPeriod'));
    if (top !== null) return { seconds: 2 * top, from: `2 × syncPeriod ${top} s, from /configz` };
    const iptables = fieldOf(config, 'IPTables');
    const old = secondsOf(isObject(iptables) ? fieldOf(iptables, 'SyncPeriod') : undefined);
    if (old !== null) return { seconds: 2 * old, from: `2 × iptables.syncPeriod ${old} s, from /configz` };
  }
  return { seconds: 2 * DEFAULT_SYNC_PERIOD_SECONDS, from: `2 × the default syncPeriod ${DEFAULT_SYNC_PERIOD_SECONDS} s` };
}
