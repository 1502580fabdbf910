/**
 * kube-proxy's own version, from the `kubernetes_build_info{git_version="v1.33.4",…} 1` line every
 * Kubernetes component exposes on its /metrics (k8s.io/component-base/metrics/prometheus/version).
 * parseBuildInfoVersion() is pure; readKubeProxyVersion() is the thin reader, bounded in time and
 * size, and never throws: an unreachable kube-proxy is an unknown version (null).
 */
import type { ClientRequest } from 'node:http';
import { requestFor } from '../util/node-http.js';

/** kube-proxy's /metrics is a few hundred kilobytes; past this it is not read. */
export const MAX_METRICS_BYTES = 8 * 1024 * 1024;

const VERSION = /^v\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]*)?$/;

/** The git_version label of kubernetes_build_info, or null when absent or not a version. */
export function parseBuildInfoVersion(metricsText: string): string | null {
  for (const line of metricsText.split('\n')) {
    if (!line.startsWith('kubernetes_build_info{')) continue;
    const m = /[{,]git_version="([^"\\]{1,64})"/.exec(line);
    if (m?.[1] !== undefined && VERSION.test(m[1])) return m[1];
  }
  return null;
}

/** GET <kubeProxyUrl>/metrics and read the version from it; null on any failure. */
export function readKubeProxyVersion(kubeProxyUrl: string, timeoutMs = 2000): Promise<string | null> {
  return new Promise((resolve) => {
    let request: ClientRequest | undefined;
    let settled = false;
    const settle = (version: string | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request?.destroy();
      resolve(version);
    };
    const timer = setTimeout(() => settle(null), timeoutMs);
    try {
      const url = new URL(`${kubeProxyUrl.replace(/\/+$/, '')}/metrics`);
      request = requestFor(url)(url, { method: 'GET' }, (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_METRICS_BYTES) settle(null);
          else chunks.push(chunk);
        });
        response.on('end', () => settle(response.statusCode === 200 ? parseBuildInfoVersion(Buffer.concat(chunks).toString('utf8')) : null));
        response.on('error', () => settle(null));
      });
      request.on('error', () => settle(null));
      request.end();
    } catch {
      settle(null);
    }
  });
}
