/**
 * One write (POST or PATCH) against the Kubernetes API with the kubeconfig's credentials, TLS and
 * proxy (KubeConfig.applyToFetchOptions, as src/cluster/api-request.ts does for reads), over
 * node:http(s). client-node's generated EventsV1Api and CoreV1Api would load the whole generated
 * API, which the agent's bundle leaves out on purpose (src/cluster/client-node.ts): these three
 * requests are written here instead, with the same paths, verbs and content types.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { apiRequestOptions, apiUrl } from '../cluster/api-request.js';
import { requestFor } from '../util/node-http.js';

/** An answer is read for its status and a bounded body: a proxy's error page is not held whole. */
const BODY_LIMIT = 256 * 1024;

export interface ApiAnswer {
  status: number;
  body: string;
}

export type ApiWriter = (method: 'POST' | 'PATCH' | 'GET', path: string, body: { contentType: string; text: string } | null, signal: AbortSignal) => Promise<ApiAnswer>;

/** A writer for the cluster of `kubeConfig`; rejects when no answer comes (network error, abort). */
export function kubeApiWriter(kubeConfig: KubeConfig): ApiWriter {
  return async (method, path, body, signal) => {
    const url = apiUrl(kubeConfig, path);
    if (!url) throw new Error('the kubeconfig names no API server');
    const init = await apiRequestOptions(kubeConfig, signal);
    const headers: Record<string, string> = { accept: 'application/json', ...init.headers };
    const payload = body === null ? null : Buffer.from(body.text);
    if (body && payload) {
      headers['content-type'] = body.contentType;
      headers['content-length'] = String(payload.length);
    }
    return new Promise<ApiAnswer>((resolve, reject) => {
      const request = requestFor(url)(url, { method, headers, agent: init.agent, signal }, (response) => {
        const parts: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          if (size < BODY_LIMIT) parts.push(chunk.subarray(0, BODY_LIMIT - size));
          size += chunk.length;
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8') }));
        response.on('error', reject);
        response.on('aborted', () => reject(new Error('the answer was cut off')));
      });
      request.on('error', reject);
      request.end(payload ?? undefined);
    });
  };
}
