import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { probeKubeProxy } from '../../../src/node/kube-proxy-probe.js';
import { parseConfigz, resolveKubeProxyConfig } from '../../../src/node/kube-proxy.js';

const CONFIGZ = readFileSync(join(import.meta.dirname, '../../fixtures/kube-proxy/configz-v1.28-ipvs.json'), 'utf8');

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

/** kube-proxy's metrics mux: /proxyMode as text/plain, /configz as JSON, 404 otherwise. */
function kubeProxy(mode: string, configz: string | null) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    if (req.url === '/proxyMode') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' }).end(mode);
    } else if (req.url === '/configz' && configz !== null) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(configz);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
    }
  };
}

describe('probeKubeProxy', () => {
  it('reads the running mode and the configz of a live kube-proxy', async () => {
    const url = await serve(kubeProxy('ipvs', CONFIGZ));
    const probe = await probeKubeProxy({ url: `${url}/`, timeoutMs: 1000 });
    expect(probe.runningMode).toBe('ipvs');
    expect(probe.problems).toEqual([]);
    expect(parseConfigz(probe.configz)).toMatchObject({ mode: 'ipvs', syncPeriodSeconds: 30 });
    expect(resolveKubeProxyConfig({ configz: probe.configz, configMapText: null }).source).toBe('configz');
  });

  it('an old kube-proxy without /configz still gives its mode', async () => {
    const url = await serve(kubeProxy('iptables', null));
    const probe = await probeKubeProxy({ url, timeoutMs: 1000 });
    expect(probe).toEqual({ runningMode: 'iptables', configz: null, problems: [`GET ${url}/configz: HTTP 404`] });
  });

  it('a server that never answers is unknown after the timeout', async () => {
    const url = await serve(() => {
      // Accept the request and never answer.
    });
    const started = Date.now();
    const probe = await probeKubeProxy({ url, timeoutMs: 200 });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(probe.runningMode).toBeNull();
    expect(probe.configz).toBeNull();
    expect(probe.problems).toEqual([`GET ${url}/proxyMode: timed out after 200 ms`, `GET ${url}/configz: timed out after 200 ms`]);
  });

  it('a closed port is unknown, not an error', async () => {
    const url = await serve(() => undefined);
    const server = servers.pop();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    const probe = await probeKubeProxy({ url, timeoutMs: 1000 });
    expect(probe.runningMode).toBeNull();
    expect(probe.configz).toBeNull();
    expect(probe.problems).toHaveLength(2);
    expect(probe.problems[0]).toMatch(/ECONNREFUSED/);
  });

  it('an answer that is not a mode or not JSON is reported, not trusted', async () => {
    const url = await serve((req, res) => res.writeHead(200).end(req.url === '/proxyMode' ? '<html>hello</html>' : '{broken'));
    const probe = await probeKubeProxy({ url, timeoutMs: 1000 });
    expect(probe.runningMode).toBeNull();
    expect(probe.configz).toBeNull();
    expect(probe.problems).toEqual([`GET ${url}/proxyMode: unexpected answer "<html>hello</html>"`, `GET ${url}/configz: answer is not JSON`]);
  });

  it('does not follow redirects, and refuses an answer too big to be kube-proxy\'s', async () => {
    const url = await serve((req, res) => {
      if (req.url === '/proxyMode') res.writeHead(302, { location: '/elsewhere' }).end();
      else res.writeHead(200).end(Buffer.alloc(2 * 1024 * 1024, 0x20));
    });
    const probe = await probeKubeProxy({ url, timeoutMs: 2000 });
    expect(probe).toEqual({
      runningMode: null,
      configz: null,
      problems: [`GET ${url}/proxyMode: HTTP 302`, `GET ${url}/configz: answer larger than 1048576 bytes`],
    });
  });

  it('reports a URL it cannot request', async () => {
    const probe = await probeKubeProxy({ url: 'ftp://127.0.0.1:10249', timeoutMs: 200 });
    expect(probe.problems).toEqual([
      'GET ftp://127.0.0.1:10249/proxyMode: unsupported URL scheme "ftp:" (http: or https:)',
      'GET ftp://127.0.0.1:10249/configz: unsupported URL scheme "ftp:" (http: or https:)',
    ]);
  });
});
