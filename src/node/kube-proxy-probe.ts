/**
 * The kube-proxy probe: GET <kube-proxy-url>/proxyMode and /configz on kube-proxy's metrics server
 * (metricsBindAddress, default http://127.0.0.1:10249), each bounded by a short timeout. An
 * unreachable, slow or disabled metrics server is "unknown" (null), never an error: the caller
 * falls back to the ConfigMap and reports no proxy-mode finding.
 */
import { parseProxyMode } from './kube-proxy.js';

export const DEFAULT_KUBE_PROXY_URL = 'http://127.0.0.1:10249';
export const DEFAULT_KUBE_PROXY_TIMEOUT_MS = 2000;

export interface KubeProxyProbeOptions {
  /** --kube-proxy-url; default http://127.0.0.1:10249. */
  url?: string;
  /** Per request; default 2000 ms. */
  timeoutMs?: number;
}

export interface KubeProxyProbe {
  /** The running mode from /proxyMode, or null when unknown. */
  runningMode: string | null;
  /** The parsed /configz JSON, or null when unreachable or not JSON (parse it with parseConfigz). */
  configz: unknown;
  /** One line per failed request, e.g. "GET http://127.0.0.1:10249/proxyMode: timed out after 2000 ms". */
  problems: string[];
}

type Fetched = { ok: true; body: string } | { ok: false; problem: string };

async function get(url: string, timeoutMs: number): Promise<Fetched> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
    const body = await response.text();
    if (!response.ok) return { ok: false, problem: `GET ${url}: HTTP ${response.status}` };
    return { ok: true, body };
  } catch (error) {
    const name = error instanceof Error ? error.name : '';
    if (name === 'TimeoutError' || name === 'AbortError') return { ok: false, problem: `GET ${url}: timed out after ${timeoutMs} ms` };
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return { ok: false, problem: `GET ${url}: ${error instanceof Error ? error.message : String(error)}${cause}` };
  }
}

/** Query /proxyMode and /configz in parallel; never throws. */
export async function probeKubeProxy(options: KubeProxyProbeOptions = {}): Promise<KubeProxyProbe> {
  const base = (options.url ?? DEFAULT_KUBE_PROXY_URL).replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? DEFAULT_KUBE_PROXY_TIMEOUT_MS;
  const problems: string[] = [];
  const [modeAnswer, configzAnswer] = await Promise.all([get(`${base}/proxyMode`, timeoutMs), get(`${base}/configz`, timeoutMs)]);

  let runningMode: string | null = null;
  if (modeAnswer.ok) {
    runningMode = parseProxyMode(modeAnswer.body);
    if (runningMode === null) problems.push(`GET ${base}/proxyMode: unexpected answer ${JSON.stringify(modeAnswer.body.slice(0, 80))}`);
  } else {
    problems.push(modeAnswer.problem);
  }

  let configz: unknown = null;
  if (configzAnswer.ok) {
    try {
      configz = JSON.parse(configzAnswer.body) as unknown;
    } catch {
      problems.push(`GET ${base}/configz: answer is not JSON`);
    }
  } else {
    problems.push(configzAnswer.problem);
  }
  return { runningMode, configz, problems };
}
