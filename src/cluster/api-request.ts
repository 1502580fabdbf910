/**
 * One GET against the Kubernetes API with the kubeconfig's credentials, TLS and proxy, as
 * client-node's own requests carry them (KubeConfig.applyToFetchOptions: the headers and a
 * per-request agent), made over node:http(s) rather than node-fetch 2: node-fetch never ends a body
 * whose Content-Length the server did not send in full (the list would hang until its timeout),
 * while node:http reports the cut ("aborted", ECONNRESET).
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Agent, IncomingMessage } from 'node:http';
import { requestFor } from '../util/node-http.js';

type HeaderBag = { forEach?: (fn: (value: string, name: string) => void) => void } | Record<string, unknown> | undefined;

function plainHeaders(bag: HeaderBag): Record<string, string> {
  const out: Record<string, string> = {};
  if (bag && typeof bag.forEach === 'function') {
    (bag.forEach as (fn: (value: string, name: string) => void) => void)((value, name) => {
      out[name] = value;
    });
  } else if (bag) {
    for (const [name, value] of Object.entries(bag)) if (typeof value === 'string') out[name] = value;
  }
  return out;
}

async function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted();
  let onAbort = (): void => undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new Error('aborted', { cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([promise, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/** What every request to the API carries: the kubeconfig's credentials as headers, and its TLS and proxy as an agent. */
export interface ApiRequestOptions {
  headers: Record<string, string>;
  agent: Agent | undefined;
}

/**
 * The credentials, TLS and proxy of `kubeConfig` for one request, as client-node's own requests
 * carry them (KubeConfig.applyToFetchOptions). Credentials may come from an exec plugin that never
 * returns: the abort ends the wait for them too (rejecting with an "aborted" Error).
 */
export async function apiRequestOptions(kubeConfig: KubeConfig, signal: AbortSignal): Promise<ApiRequestOptions> {
  const init = await untilAborted(kubeConfig.applyToFetchOptions({}), signal);
  return { headers: plainHeaders(init.headers as HeaderBag), agent: init.agent as Agent | undefined };
}

/** `path` on the kubeconfig's current API server, or null when it names none. */
export function apiUrl(kubeConfig: KubeConfig, path: string): URL | null {
  const server = kubeConfig.getCurrentCluster()?.server;
  if (!server) return null;
  return new URL(path, server.endsWith('/') ? server : `${server}/`);
}

/** The answer's status line and headers; its body is the returned message. Rejects when no answer comes (network error, abort). */
export async function apiGet(kubeConfig: KubeConfig, url: URL, signal: AbortSignal): Promise<IncomingMessage> {
  const init = await apiRequestOptions(kubeConfig, signal);
  const headers = { accept: 'application/json', ...init.headers };
  return new Promise((resolve, reject) => {
    const request = requestFor(url)(url, { method: 'GET', headers, agent: init.agent, signal }, (response) => {
      // TCP keepalive on the connection, as client-node's Watch sets it: a dead peer is noticed.
      response.socket.setKeepAlive(true, 30_000);
      resolve(response);
    });
    request.on('error', reject);
    request.end();
  });
}
