/**
 * The HTTP server under sockets that hold places without asking anything: idle and half-sent
 * requests, from one address and from many, with the kubelet's and Prometheus' requests alongside.
 * Every client here is on 127.0.0.0/8; a second loopback address stands for another host (the
 * node IP the kubelet probes from, a Prometheus pod).
 */
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import { ConnectionBook, clientOf } from '../../../src/agent/http-connections.js';
import { startHttpServer, type HttpLimits, type HttpServerHandle, type HttpServerOptions } from '../../../src/agent/http.js';
import { createMetrics } from '../../../src/agent/metrics.js';
import { fakeAgentView } from '../../support/agent-view.js';
import { sleep } from '../../support/wait.js';

const ATTACKER = '127.0.0.1';
const KUBELET = '127.0.0.2';
const PROMETHEUS = '127.0.0.3';

const servers: HttpServerHandle[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(limits?: HttpLimits, metrics?: HttpServerOptions['metrics']) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  const { view } = fakeAgentView();
  const server = await startHttpServer({
    host: '0.0.0.0',
    port: 0,
    view,
    metrics: metrics ?? createMetrics({ backendMetrics: true, view }),
    logger: pino({ level: 'debug' }, stream).child({ component: 'http' }),
    limits: { closeGraceMs: 200, ...limits },
  });
  servers.push(server);
  return { server, lines };
}

/** `read()` once `ok` accepts what it gives, else what it gives after a bounded number of tries. */
async function settled<T>(read: () => Promise<T>, ok: (value: T) => boolean, tries = 200): Promise<T> {
  let value = await read();
  for (let i = 0; i < tries && !ok(value); i++) {
    await sleep(10);
    value = await read();
  }
  return value;
}

/** One GET from `from`, as the kubelet or Prometheus would send it: a fresh connection, the request at once. */
function get(server: HttpServerHandle, path: string, from: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.address.port, path, localAddress: from, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

interface Held {
  socket: Socket;
  /** Resolves when the server ends the connection (its FIN, or a reset). */
  ended: Promise<void>;
  isEnded(): boolean;
}

/**
 * A socket that connects from `from`, sends `bytes` (maybe nothing) and then holds on: it never
 * closes its side, even once the server has closed its own (allowHalfOpen), as a misbehaving peer.
 */
function hold(server: HttpServerHandle, from: string, bytes = ''): Promise<Held> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: server.address.port, localAddress: from, allowHalfOpen: true });
    sockets.push(socket);
    let isEnded = false;
    const ended = new Promise<void>((done) => {
      socket.on('end', done);
      socket.on('close', () => done());
    }).then(() => {
      isEnded = true;
    });
    socket.on('error', () => undefined);
    socket.resume(); // takes whatever the server answers, so its end is seen
    socket.once('connect', () => {
      if (bytes) socket.write(bytes);
      resolve({ socket, ended, isEnded: () => isEnded });
    });
    socket.once('error', reject);
  });
}

async function holdMany(server: HttpServerHandle, count: number, from: string, bytes = ''): Promise<Held[]> {
  const held: Held[] = [];
  for (let i = 0; i < count; i++) held.push(await hold(server, from, bytes));
  return held;
}

/** Endless /metrics pieces: a request for it stays in flight while its client does not read. */
function endlessMetrics(): HttpServerOptions['metrics'] {
  return {
    contentType: 'text/plain; version=0.0.4; charset=utf-8',
    exposition: () =>
      Promise.resolve(
        (function* () {
          for (;;) yield Buffer.alloc(65_536, 'x');
        })(),
      ),
  };
}

/** A request sent, its answer no longer read after the first bytes: the connection stays in a request. */
async function stalledScrape(server: HttpServerHandle, from: string): Promise<Held> {
  const held = await hold(server, from, 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
  await new Promise((resolve) => held.socket.once('data', resolve));
  held.socket.pause();
  return held;
}

describe('HTTP server: idle sockets do not keep the probes out', () => {
  it('300 idle sockets and 20 half-sent requests from one address: the probes from the node IP, Prometheus and that address itself still get 200', async () => {
    const { server } = await serve(); // default limits
    const idle = await holdMany(server, 300, ATTACKER);
    const partial = await holdMany(server, 20, ATTACKER, 'GET /healthz HTT');
    expect(idle.length + partial.length).toBe(320);
    for (let round = 0; round < 3; round++) {
      expect(await get(server, '/livez', KUBELET)).toEqual({ status: 200, body: 'ok' });
      expect(await get(server, '/healthz', KUBELET)).toEqual({ status: 200, body: 'ok' });
      expect((await get(server, '/metrics', PROMETHEUS)).status).toBe(200);
      expect(await get(server, '/livez', ATTACKER)).toEqual({ status: 200, body: 'ok' });
    }
    // the address holds no more than its share; the rest were closed to make room
    expect(await settled(() => server.connections(), (n) => n <= 16)).toBeLessThanOrEqual(16);
  }, 30_000);

  it('idle sockets from many addresses, more than the server keeps: a new client still gets in', async () => {
    const { server } = await serve({ maxConnections: 32, maxConnectionsPerClient: 4 });
    for (let host = 10; host < 20; host++) await holdMany(server, 4, `127.0.0.${host}`);
    expect(await settled(() => server.connections(), (n) => n <= 32)).toBeLessThanOrEqual(32);
    expect(await get(server, '/livez', KUBELET)).toEqual({ status: 200, body: 'ok' });
    expect(await get(server, '/healthz', KUBELET)).toEqual({ status: 200, body: 'ok' });
  }, 30_000);

  it.each([
    ['sends nothing', ''],
    ['stops in the request line', 'GET /liv'],
    ['stops in the headers', 'GET /livez HTTP/1.1\r\nHost: x\r\n'],
    ['stops after a keep-alive request', 'GET /livez HTTP/1.1\r\nHost: x\r\n\r\n'],
  ])('a socket that %s is closed by the server once its deadline passes, and released', async (_what, bytes) => {
    const { server, lines } = await serve({ headersTimeoutMs: 150, keepAliveTimeoutMs: 150 });
    const held = await holdMany(server, 5, ATTACKER, bytes);
    await Promise.all(held.map((h) => h.ended));
    // Released, not half-open: the peer never closed its side, yet the server holds nothing.
    expect(await settled(() => server.connections(), (n) => n === 0)).toBe(0);
    if (bytes === '') expect(lines.filter((l) => l.msg === 'idle connection closed').map((l) => l.reason)).toEqual(Array(5).fill('no request head'));
  });

  it('a request line trickled a byte at a time does not extend the deadline', async () => {
    const { server, lines } = await serve({ headersTimeoutMs: 150 });
    const held = await hold(server, ATTACKER, 'GET /');
    let trickled = 0;
    const trickle = setInterval(() => {
      if (!held.socket.destroyed && held.socket.writable) held.socket.write('a'); // a path growing a byte at a time
      trickled++;
    }, 10);
    await held.ended;
    clearInterval(trickle);
    expect(trickled).toBeGreaterThan(0);
    expect(lines.find((l) => l.msg === 'idle connection closed')).toMatchObject({ reason: 'no request head' });
  });
});

describe('HTTP server: per-client and overall bounds', () => {
  it('a client over its share takes the place of its own oldest idle connection; other clients keep theirs', async () => {
    const { server, lines } = await serve({ maxConnectionsPerClient: 3 });
    const other = await hold(server, PROMETHEUS);
    const [oldest, ...rest] = await holdMany(server, 3, ATTACKER);
    const newcomer = await hold(server, ATTACKER);
    await oldest?.ended;
    expect([other, ...rest, newcomer].map((h) => h.isEnded())).toEqual([false, false, false, false]);
    expect(await settled(() => server.connections(), (n) => n === 4)).toBe(4);
    expect(lines.find((l) => l.msg === 'idle connection evicted')).toMatchObject({ client: ATTACKER, for: ATTACKER, bound: 'per-client' });
    // one warning, with what happened and the client
    expect(lines.filter((l) => l.level === 40)).toMatchObject([{ msg: expect.stringMatching(/^HTTP connections over their bounds/) as unknown, evicted: 1, refused: 0, client: ATTACKER, maxConnectionsPerClient: 3 }]);
  });

  it('a client whose every connection is in a request is refused another; other clients still get 200', async () => {
    const { server, lines } = await serve({ maxConnectionsPerClient: 3 }, endlessMetrics());
    for (let i = 0; i < 3; i++) await stalledScrape(server, ATTACKER);
    const refused = await hold(server, ATTACKER);
    await refused.ended;
    expect(lines.find((l) => l.msg === 'connection refused')).toMatchObject({ client: ATTACKER, bound: 'per-client' });
    expect(await get(server, '/livez', KUBELET)).toEqual({ status: 200, body: 'ok' });
  });

  it('when the server is full, a new client takes the place of an idle connection of the client holding the most', async () => {
    const { server, lines } = await serve({ maxConnections: 4, maxConnectionsPerClient: 3 });
    const heavy = await holdMany(server, 3, ATTACKER);
    const light = await hold(server, PROMETHEUS);
    expect(await get(server, '/livez', KUBELET)).toEqual({ status: 200, body: 'ok' });
    await heavy[0]?.ended;
    expect(lines.find((l) => l.msg === 'idle connection evicted')).toMatchObject({ client: ATTACKER, for: KUBELET, bound: 'overall' });
    expect([light, ...heavy.slice(1)].map((h) => h.isEnded())).toEqual([false, false, false]);
  });

  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['::ffff:10.0.0.7', '10.0.0.7'],
    ['FD00::1', 'fd00::1'],
    [undefined, null],
  ])('counts %s as client %s', (address, client) => {
    expect(clientOf(address)).toBe(client);
  });
});

/** A socket as the book sees it: an address, and destroy() closing it. */
function fakeSocket(remoteAddress: string): Socket {
  const socket = Object.assign(new EventEmitter(), {
    remoteAddress,
    destroyed: false,
    bytesRead: 0,
    destroy() {
      if (socket.destroyed) return socket;
      socket.destroyed = true;
      socket.emit('close');
      return socket;
    },
  });
  return socket as unknown as Socket;
}

describe('ConnectionBook warnings', () => {
  it('warns when a bound is first hit, then at most once per interval with the counts since', () => {
    let now = 0;
    const warnings: object[] = [];
    const book = new ConnectionBook({
      limits: { maxConnections: 10, maxConnectionsPerClient: 1, headersTimeoutMs: 60_000, keepAliveTimeoutMs: 60_000 },
      logger: { warn: (obj) => warnings.push(obj), debug: () => undefined },
      monotonicMs: () => now,
      warnIntervalMs: 1_000,
    });
    const busy = fakeSocket('10.0.0.9');
    book.admit(busy);
    book.requestStarted(busy);
    for (let i = 0; i < 4; i++) book.admit(fakeSocket('10.0.0.1')); // 3 evictions
    book.admit(fakeSocket('10.0.0.9')); // refused: its one connection is in a request
    now = 999;
    book.admit(fakeSocket('10.0.0.1'));
    expect(warnings).toMatchObject([{ evicted: 1, refused: 0, timedOut: 0, client: '10.0.0.1' }]);
    now = 1_000;
    book.admit(fakeSocket('10.0.0.1'));
    expect(warnings).toMatchObject([{ evicted: 1 }, { evicted: 4, refused: 1, timedOut: 0, client: '10.0.0.1', connections: 2, clients: 2 }]);
    expect(book.size).toBe(2);
  });
});
