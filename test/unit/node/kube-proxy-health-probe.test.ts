import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { probeKubeProxyHealth } from '../../../src/node/kube-proxy-health-probe.js';

const fixture = (name: string): string => readFileSync(join(import.meta.dirname, '../../fixtures/kube-proxy-healthz', name), 'utf8');
const READ_AT = new Date('2025-03-20T08:17:30.000Z');

const servers: Server[] = [];
async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

/** kube-proxy's two servers on one port: its healthz (/healthz) and its metrics (/metrics). */
function kubeProxy(healthz: { status: number; body: string } | null, metrics: string | null) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    if (req.url === '/healthz' && healthz) res.writeHead(healthz.status, { 'content-type': 'application/json' }).end(healthz.body);
    else if (req.url === '/metrics' && metrics !== null) res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(metrics);
    else res.writeHead(404).end('404 page not found\n');
  };
}

describe('probeKubeProxyHealth', () => {
  it("reads a stale kube-proxy's 503 and its sync timestamps", async () => {
    const url = await serve(kubeProxy({ status: 503, body: fixture('v1.31-stale.503.json') }, fixture('metrics-v1.33-dualstack.txt')));
    const health = await probeKubeProxyHealth({ healthzUrl: `${url}/healthz`, metricsUrl: `${url}/`, timeoutMs: 1000, now: () => READ_AT });
    expect(health.problems).toEqual([]);
    expect(health.readAt).toBe(READ_AT);
    expect(health.healthz).toMatchObject({ status: 503, nodeEligible: true });
    expect(health.sync?.map((s) => s.ipFamily)).toEqual(['IPv4', 'IPv6']);
  });

  it('an unreachable kube-proxy is unknown: nothing read, a problem line each, no throw', async () => {
    const url = await serve(() => undefined);
    const port = new URL(url).port;
    servers[0]?.closeAllConnections();
    await new Promise<void>((resolve) => servers.shift()?.close(() => resolve()));
    const health = await probeKubeProxyHealth({ healthzUrl: `http://127.0.0.1:${port}/healthz`, metricsUrl: `http://127.0.0.1:${port}`, timeoutMs: 1000 });
    expect(health.healthz).toBeNull();
    expect(health.sync).toBeNull();
    expect(health.problems).toHaveLength(2);
  });

  it.each([
    ['a healthz body past 4 KiB', { status: 503, body: `{"lastUpdated": "${'x'.repeat(10_000)}"}` }, /answer larger than 4096 bytes/],
    ['a healthz that is not kube-proxy', { status: 503, body: '<html>Service Unavailable</html>' }, /not JSON/],
    ['a healthz redirect', { status: 301, body: '' }, /HTTP 301/],
  ])('%s: healthz unknown, the metrics still read', async (_name, answer, problem) => {
    const url = await serve(kubeProxy(answer, fixture('metrics-v1.28.txt')));
    const health = await probeKubeProxyHealth({ healthzUrl: `${url}/healthz`, metricsUrl: url, timeoutMs: 1000 });
    expect(health.healthz).toBeNull();
    expect(health.sync).toHaveLength(1);
    expect(health.problems).toHaveLength(1);
    expect(health.problems[0]).toMatch(problem);
  });

  it('metrics that 404 or are not Prometheus text are unknown', async () => {
    const url = await serve(kubeProxy({ status: 200, body: fixture('v1.28-healthy.200.json') }, null));
    const health = await probeKubeProxyHealth({ healthzUrl: `${url}/healthz`, metricsUrl: url, timeoutMs: 1000 });
    expect(health.healthz?.status).toBe(200);
    expect(health.sync).toBeNull();
    expect(health.problems).toEqual([`GET ${url}/metrics: HTTP 404`]);
  });
});
