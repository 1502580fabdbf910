/** `--listen` failures: one LISTEN_FAILED error naming the errno and what to do, never a raw throw. */
import { createServer, type Server } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { listenFailed, startHttpServer, type HttpServerOptions } from '../../../src/agent/http.js';
import { createMetrics } from '../../../src/agent/metrics.js';
import { isSentinelError, type SentinelError } from '../../../src/errors/index.js';
import { fakeAgentView } from '../../support/agent-view.js';

const blockers: Server[] = [];
afterEach(async () => {
  await Promise.all(blockers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

function start(host: string, port: number, lookup?: HttpServerOptions['lookup']) {
  const { view } = fakeAgentView();
  const silent = new Writable({ write: (_c, _e, cb) => cb() });
  return startHttpServer({ host, port, view, metrics: createMetrics({ backendMetrics: false, view }), logger: pino(silent), lookup });
}

async function failure(promise: Promise<unknown>): Promise<SentinelError> {
  const err = await promise.then(
    () => new Error('listened'),
    (e: unknown) => e,
  );
  if (!isSentinelError(err, 'LISTEN_FAILED')) throw new Error(`expected LISTEN_FAILED, got ${String(err)}`);
  return err;
}

async function busyPort(): Promise<number> {
  const blocker = createServer();
  blockers.push(blocker);
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  return (blocker.address() as { port: number }).port;
}

describe('startHttpServer: --listen failures', () => {
  it('a port in use: EADDRINUSE, stop the other process or choose another port', async () => {
    const port = await busyPort();
    const err = await failure(start('127.0.0.1', port));
    expect(err.op).toBe(`listen on 127.0.0.1:${port}`);
    expect(err.message).toMatch(/already in use \(EADDRINUSE\).*another port with --listen/);
  });

  it('an address that is not this host’s: EADDRNOTAVAIL, use one of its addresses', async () => {
    const err = await failure(start('192.0.2.1', 9742)); // TEST-NET-1: never a local address
    expect(err.toLine()).toMatch(/^LISTEN_FAILED \(listen on 192\.0\.2\.1:9742\): 192\.0\.2\.1 is not an address of this host \(EADDRNOTAVAIL\)/);
  });

  it('a host name that does not resolve: ENOTFOUND, give an IP address (the lookup is the one server.listen uses, stood in)', async () => {
    const lookup = (host: string) => Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND', syscall: 'getaddrinfo', hostname: host }));
    const err = await failure(start('no-such-node.invalid', 9742, lookup));
    expect(err.toLine()).toBe('LISTEN_FAILED (listen on no-such-node.invalid:9742): "no-such-node.invalid" does not resolve to an address (ENOTFOUND): give --listen an IP address, such as 0.0.0.0:9742 or the node IP');
  });

  it('a host name is resolved, then listened on', async () => {
    const server = await start('sentinel.test', 0, (host) => Promise.resolve(host === 'sentinel.test' ? '127.0.0.1' : '192.0.2.1'));
    expect(server.address.host).toBe('127.0.0.1');
    await server.close();
  });

  it.each([
    ['EADDRINUSE', '127.0.0.1', 9742, /^127\.0\.0\.1:9742 is already in use \(EADDRINUSE\)/],
    ['EADDRNOTAVAIL', 'fd00::1', 9742, /^fd00::1 is not an address of this host \(EADDRNOTAVAIL\)/],
    ['EACCES', '0.0.0.0', 80, /^not allowed to listen on 0\.0\.0\.0:80 \(EACCES\): ports below 1024 need root or CAP_NET_BIND_SERVICE; use a port from 1024 up/],
    ['EAI_AGAIN', 'node-a', 9742, /^"node-a" does not resolve to an address \(EAI_AGAIN\)/],
    ['EAFNOSUPPORT', '::', 9742, /^cannot listen on \[::\]:9742 \(EAFNOSUPPORT\): this host has no IPv6/],
    ['EMFILE', '::1', 9742, /^cannot listen on \[::1\]:9742: too many open files$/],
  ])('%s on %s:%d says what to do in one line', (code, host, port, message) => {
    const err = listenFailed(Object.assign(new Error('too many\r\n  open files'), { code }), host, port);
    expect(err.code).toBe('LISTEN_FAILED');
    expect(err.op).toBe(host.includes(':') ? `listen on [${host}]:${port}` : `listen on ${host}:${port}`);
    expect(err.message).toMatch(message);
    expect(err.toLine()).not.toMatch(/[\r\n]/);
  });
});
