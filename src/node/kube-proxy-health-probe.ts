/**
 * The kube-proxy health probe: GET kube-proxy's /healthz (its healthz server, --kube-proxy-healthz-url,
 * default http://127.0.0.1:10256/healthz) and /metrics (its metrics server, --kube-proxy-url), each
 * bounded in time and size, parsed by kube-proxy-health.ts. Never throws: a part that is unreachable,
 * slow or not kube-proxy's is null with a problem line — unknown, never an alarm.
 */
import { getAnswer } from './kube-proxy-probe.js';
import { parseHealthz, parseSyncMetrics, type KubeProxyHealth } from './kube-proxy-health.js';

export const DEFAULT_KUBE_PROXY_HEALTHZ_URL = 'http://127.0.0.1:10256/healthz';

/** kube-proxy's healthz body is one short line of JSON. */
const MAX_HEALTHZ_BYTES = 4096;
/** kube-proxy's whole /metrics page (histograms, client and Go runtime series) stays well under this. */
const MAX_METRICS_BYTES = 4 * 1024 * 1024;

export interface KubeProxyHealthProbeOptions {
  /** --kube-proxy-healthz-url. */
  healthzUrl?: string;
  /** --kube-proxy-url: the metrics server. */
  metricsUrl: string;
  /** Per request; default 2000 ms. */
  timeoutMs?: number;
  now?: () => Date;
}

export async function probeKubeProxyHealth(options: KubeProxyHealthProbeOptions): Promise<KubeProxyHealth> {
  const healthzUrl = options.healthzUrl ?? DEFAULT_KUBE_PROXY_HEALTHZ_URL;
  const metricsUrl = `${options.metricsUrl.replace(/\/+$/, '')}/metrics`;
  const timeoutMs = options.timeoutMs ?? 2000;
  const [healthzAnswer, metricsAnswer] = await Promise.all([getAnswer(healthzUrl, timeoutMs, MAX_HEALTHZ_BYTES), getAnswer(metricsUrl, timeoutMs, MAX_METRICS_BYTES)]);
  const readAt = (options.now ?? (() => new Date()))();
  const problems: string[] = [];

  let healthz: KubeProxyHealth['healthz'] = null;
  if (!healthzAnswer.ok) problems.push(healthzAnswer.problem);
  else {
    const parsed = parseHealthz(healthzAnswer.status, healthzAnswer.body);
    if (parsed.ok) healthz = parsed.value;
    else problems.push(`GET ${healthzUrl}: ${parsed.problem}`);
  }

  let sync: KubeProxyHealth['sync'] = null;
  if (!metricsAnswer.ok) problems.push(metricsAnswer.problem);
  else if (metricsAnswer.status !== 200) problems.push(`GET ${metricsUrl}: HTTP ${metricsAnswer.status}`);
  else {
    const parsed = parseSyncMetrics(metricsAnswer.body);
    if (parsed.ok) sync = parsed.value;
    else problems.push(`GET ${metricsUrl}: ${parsed.problem}`);
  }
  return { readAt, healthz, sync, problems };
}
