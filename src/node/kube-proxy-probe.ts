/**
 * The kube-proxy probe: GET <kube-proxy-url>/proxyMode and /configz on kube-proxy's metrics server
 * (metricsBindAddress, default http://127.0.0.1:10249), each bounded by a short timeout. An
 * unreachable, slow or disabled metrics server is "unknown" (null), never an error: the caller
 * falls back to the ConfigMap and reports no proxy-mode finding.
 */
import type { ClientRequest } from 'node:http';
import { requestFor } from '../util/node-http.js';
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

/** An answer of any status, or why there is none. */
export type Answer = { ok: true; status: number; body: string } | { ok: false; problem: string };

/** kube-proxy's answers are a word and a page of JSON; anything bigger is not kube-proxy. */
const MAX_ANSWER_BYTES = 1024 * 1024;

/**
 * One GET through node:http (not fetch: src/util/node-http.ts says why), bounded in time and size,
 * whatever its status: kube-proxy's healthz says what it means with a 503 and a body.
 */
export function getAnswer(url: string, timeoutMs: number, maxBytes: number = MAX_ANSWER_BYTES): Promise<Answer> {
  return new Promise((resolve) => {
    let request: ClientRequest | undefined;
    let settled = false;
    const settle = (answer: Answer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request?.destroy();
      resolve(answer);
    };
    const fail = (message: string): void => settle({ ok: false, problem: `GET ${url}: ${message}` });
    const timer = setTimeout(() => fail(`timed out after ${timeoutMs} ms`), timeoutMs);
    try {
      const target = new URL(url);
      request = requestFor(target)(target, { method: 'GET' }, (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) fail(`answer larger than ${maxBytes} bytes`);
          else chunks.push(chunk);
        });
        response.on('end', () => settle({ ok: true, status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', (err) => fail(err.message));
      });
      request.on('error', (err) => fail(err.message));
      request.end();
    } catch (err) {
      fail(err instanceof Error ? err.message : String(err));
    }
  });
}

/** A 2xx answer's body, or why there is none. */
async function get(url: string, timeoutMs: number): Promise<Fetched> {
  const answer = await getAnswer(url, timeoutMs);
  if (!answer.ok) return answer;
  if (answer.status < 200 || answer.status > 299) return { ok: false, problem: `GET ${url}: HTTP ${answer.status}` };
  return { ok: true, body: answer.body };
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
