import { request } from 'node:http';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startHttpServer, type HttpLimits, type HttpServerHandle, type HttpServerOptions } from '../../../src/agent/http.js';
import { createMetrics } from '../../../src/agent/metrics.js';
import type { AgentView } from '../../../src/agent/view.js';
import { stringifyJson } from '../../../src/render/json.js';
import { snapshotJson } from '../../../src/render/snapshot.js';
import { allHealthy, fakeAgentView, okDrift, sampleModules, trackedFinding } from '../../support/agent-view.js';
import { rs, serviceRef, snapshot, vs } from '../../support/builders.js';
import { expectGolden } from '../../support/golden.js';

interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

const servers: HttpServerHandle[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function logCapture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream).child({ component: 'http' }), lines };
}

async function serve(view: AgentView, limits?: HttpLimits, metrics: HttpServerOptions['metrics'] = createMetrics({ backendMetrics: true, view })) {
  const { logger, lines } = logCapture();
  const server = await startHttpServer({ host: '127.0.0.1', port: 0, view, metrics, logger, limits: { closeGraceMs: 200, ...limits } });
  servers.push(server);
  const get = (path: string, method = 'GET', body?: string) =>
    new Promise<Response>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: server.address.port, path, method, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      req.end(body);
    });
  /** Raw bytes over TCP; resolves with everything the server sent once it closes (or after `waitMs`). */
  const raw = (bytes: string, waitMs = 1_000) =>
    new Promise<{ text: string; closedByServer: boolean }>((resolve, reject) => {
      const socket = connect(server.address.port, '127.0.0.1');
      let text = '';
      const timer = setTimeout(() => {
        socket.destroy();
        resolve({ text, closedByServer: false });
      }, waitMs);
      socket.on('data', (d: Buffer) => (text += d.toString()));
      socket.on('error', reject);
      socket.on('close', () => {
        clearTimeout(timer);
        resolve({ text, closedByServer: true });
      });
      socket.write(bytes);
    });
  /** A GET read to the end or to the cut: how much arrived and whether the body was complete. */
  const getStreamed = (path: string) =>
    new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; bytes: number; complete: boolean }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: server.address.port, path, agent: false }, (res) => {
        let bytes = 0;
        res.on('data', (c: Buffer) => (bytes += c.length));
        res.on('error', () => undefined);
        res.on('close', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes, complete: res.complete }));
      });
      req.on('error', reject);
      req.end();
    });
  return { server, get, raw, getStreamed, lines };
}

const METRICS_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** A metrics edge whose body is `pieces()`: to watch how the server consumes a streamed body. */
function fakeMetrics(pieces: () => Generator<Uint8Array>): HttpServerOptions['metrics'] {
  return { contentType: METRICS_TYPE, exposition: () => Promise.resolve(pieces()) };
}

/** Endless 64 KiB pieces; `stopped` resolves once the server stops asking (the generator is closed). */
function endlessPieces() {
  let produced = 0;
  let onStop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (onStop = resolve));
  function* pieces(): Generator<Uint8Array> {
    try {
      for (;;) {
        produced++;
        yield Buffer.alloc(65_536, 'x');
      }
    } finally {
      onStop();
    }
  }
  return { pieces, stopped, produced: () => produced };
}

function sampleState() {
  return fakeAgentView({
    snapshot: snapshot([
      vs('TCP/10.96.0.1:443', [rs('192.168.1.10:6443', { activeConns: 3 }), rs('192.168.1.9:6443', { weight: 0 })]),
      vs('UDP/10.96.0.10:53', [rs('10.244.1.5:53'), rs('10.244.2.7:53')]),
      vs('TCP/[fd00::10]:80', [rs('[fd00::7]:8080')]),
    ]),
    services: new Map([
      ['TCP/10.96.0.1:443', serviceRef('default/kubernetes:https')],
      ['UDP/10.96.0.10:53', serviceRef('kube-system/kube-dns:dns')],
      ['TCP/[fd00::10]:80', serviceRef('shop/web:http')],
    ]),
    modules: sampleModules(),
    drift: okDrift([
      trackedFinding('weight-mismatch', 'warning', false, { virtualServer: 'TCP/10.96.0.1:443', realServer: '192.168.1.9:6443', service: serviceRef('default/kubernetes:https') }),
      trackedFinding('scheduler-mismatch', 'warning', true, { virtualServer: 'UDP/10.96.0.10:53', service: serviceRef('kube-system/kube-dns:dns') }),
      trackedFinding('missing-real-server', 'critical', true, { virtualServer: 'UDP/10.96.0.10:53', realServer: '10.244.3.3:53', service: serviceRef('kube-system/kube-dns:dns') }),
      trackedFinding('missing-virtual-server', 'critical', true, { virtualServer: 'TCP/10.96.0.99:80', service: serviceRef('shop/api:http'), message: 'Service shop/api has no virtual server 10.96.0.99:80.' }),
      trackedFinding('module-missing', 'critical', true, { expected: { name: 'nf_conntrack' }, message: 'Load nf_conntrack.' }),
    ]),
  });
}

function failingHealth() {
  return allHealthy().map((c) =>
    c.name === 'kernel-modules' ? { ...c, ok: false, reason: 'nf_conntrack is neither loaded nor built in' } : c.name === 'drift' ? { ...c, ok: false, reason: '1 confirmed finding:\n1 critical (missing-virtual-server)' } : c,
  );
}

describe('startHttpServer routes', () => {
  it('/livez: 200 ok while live, 503 otherwise, never because of drift', async () => {
    const { view, state } = sampleState();
    state.health = failingHealth();
    const { get } = await serve(view);
    expect(await get('/livez')).toMatchObject({ status: 200, body: 'ok', headers: { 'content-type': 'text/plain; charset=utf-8' } });
    state.live = false;
    expect((await get('/livez')).status).toBe(503);
  });

  it('/readyz: 200 ok when ready, 503 with the reason before', async () => {
    const { view, state } = sampleState();
    const { get } = await serve(view);
    expect(await get('/readyz')).toMatchObject({ status: 200, body: 'ok' });
    state.ready = { ready: false, reason: 'cluster cache not synced' };
    expect(await get('/readyz')).toMatchObject({ status: 503, body: 'not ready: cluster cache not synced\n' });
  });

  it('/healthz: ok / verbose / json, 200 when every check passes', async () => {
    const { view } = sampleState();
    const { get } = await serve(view);
    expect(await get('/healthz')).toMatchObject({ status: 200, body: 'ok' });
    expect(await get('/healthz?verbose')).toMatchObject({
      status: 200,
      body: '[+]kube-proxy-sync ok\n[+]kernel-modules ok\n[+]ipvs ok\n[+]kube-proxy-mode ok\n[+]ipsets ok\n[+]iptables ok\n[+]cluster ok\n[+]drift ok\nhealthz check passed\n',
    });
    const j = await get('/healthz?format=json');
    expect(j.status).toBe(200);
    expect(j.headers['content-type']).toBe('application/json');
    expect(JSON.parse(j.body)).toEqual({ status: 'ok', checks: allHealthy() });
  });

  it('/healthz: 503 when a check fails; the list is printed even without ?verbose, as kube-apiserver does (golden)', async () => {
    const { view, state } = sampleState();
    state.health = failingHealth();
    const { get } = await serve(view);
    const plain = await get('/healthz');
    const verbose = await get('/healthz?verbose');
    expect(plain).toMatchObject({ status: 503 });
    expect(verbose.status).toBe(503);
    expect(plain.body).toBe(verbose.body);
    await expectGolden('test/fixtures/golden/http/healthz-verbose-failed.txt', verbose.body);
    const j = await get('/healthz?format=json');
    expect(j.status).toBe(503);
    await expectGolden('test/fixtures/golden/http/healthz-failed.json', j.body);
    expect((await get('/healthz?format=yaml')).status).toBe(400);
  });

  it('/healthz/<check> answers one check; unknown checks are 404', async () => {
    const { view, state } = sampleState();
    state.health = failingHealth();
    const { get } = await serve(view);
    expect(await get('/healthz/ipvs')).toMatchObject({ status: 200, body: 'ok' });
    expect(await get('/healthz/kernel-modules')).toMatchObject({ status: 503, body: 'internal server error: nf_conntrack is neither loaded nor built in\n' });
    expect((await get('/healthz/nope')).status).toBe(404);
  });

  it('/ipvs: the snapshot JSON with Service names, filtered by ?service', async () => {
    const { view } = sampleState();
    const { get } = await serve(view);
    const all = await get('/ipvs');
    expect(all.status).toBe(200);
    expect(all.headers['content-type']).toBe('application/json');
    const parsed = JSON.parse(all.body) as { node: string; services: { key: string; service: unknown }[] };
    expect(parsed.node).toBe('node-a');
    expect(parsed.services.map((s) => s.key)).toEqual(['TCP/10.96.0.1:443', 'TCP/[fd00::10]:80', 'UDP/10.96.0.10:53']);
    expect(parsed.services[0]?.service).toEqual({ namespace: 'default', name: 'kubernetes', port: 'https' });
    const one = JSON.parse((await get('/ipvs?service=kube-system/kube-dns')).body) as { services: { key: string }[] };
    expect(one.services.map((s) => s.key)).toEqual(['UDP/10.96.0.10:53']);
    const none = JSON.parse((await get('/ipvs?service=default/absent')).body) as { services: unknown[] };
    expect(none.services).toEqual([]);
  });

  it('/ipvs: compact JSON by default, indented with ?pretty (as kube-apiserver), streamed in chunks', async () => {
    const { view, state } = sampleState();
    const { get } = await serve(view);
    const options = { node: state.node, lookup: view.lookup };
    const snap = state.snapshot ?? snapshot([]);
    const compact = await get('/ipvs');
    expect(compact.headers['transfer-encoding']).toBe('chunked');
    expect(compact.headers['content-length']).toBeUndefined();
    expect(compact.body).toBe(stringifyJson(snapshotJson(snap, options), 0) + '\n');
    for (const path of ['/ipvs?pretty', '/ipvs?pretty=true', '/ipvs?pretty=1&service=kube-system/kube-dns']) {
      const service = path.includes('service=') ? 'kube-system/kube-dns' : undefined;
      expect((await get(path)).body, path).toBe(stringifyJson(snapshotJson(snap, { ...options, service })) + '\n');
    }
    expect((await get('/ipvs?pretty=false')).body).toBe(compact.body);
    const bad = await get('/ipvs?pretty=yes');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({ error: 'malformed pretty "yes"' });
  });

  it('/ipvs: a table of several megabytes arrives whole, also with several requests at once', async () => {
    const { view, state } = sampleState();
    state.snapshot = snapshot(Array.from({ length: 6_000 }, (_, i) => vs(`TCP/10.${96 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}:80`, [rs(`10.244.${(i >> 8) & 255}.${i & 255}:8080`), rs(`10.245.${(i >> 8) & 255}.${i & 255}:8080`)])));
    const { get } = await serve(view);
    const expected = stringifyJson(snapshotJson(state.snapshot, { node: state.node, lookup: view.lookup }), 0) + '\n';
    expect(expected.length).toBeGreaterThan(4_000_000);
    expect((await get('/ipvs')).body).toBe(expected);
    // again, and two at once: the piece buffers written for one answer are reused for the next
    const [a, b] = await Promise.all([get('/ipvs'), get('/ipvs?pretty=0')]);
    expect(a.body).toBe(expected);
    expect(b.body).toBe(expected);
  });

  it('/ipvs?format=text: the table annotated with Services and drift marks (golden)', async () => {
    const { view } = sampleState();
    const { get } = await serve(view);
    const res = await get('/ipvs?format=text');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.body).toContain('<- weight-mismatch (pending)');
    await expectGolden('test/fixtures/golden/http/ipvs.txt', res.body);
    const filtered = await get('/ipvs?format=text&service=shop/api');
    expect(filtered.body).toContain('TCP/10.96.0.99:80');
    expect(filtered.body).not.toContain('10.96.0.1:443');
    expect(filtered.body).not.toContain('module-missing');
  });

  it.each(['/ipvs?service=nonamespace', '/ipvs?service=a/b/c', '/ipvs?service=Bad_NS/x', '/ipvs?service=/x', '/ipvs?format=xml', '/ipvs?format=text&service=%2F%2F'])('%s → 400', async (path) => {
    const { view } = sampleState();
    const { get } = await serve(view);
    expect((await get(path)).status).toBe(400);
  });

  it('/ipvs before the first read: 503 with a JSON error (text for ?format=text)', async () => {
    const { view, state } = sampleState();
    state.snapshot = null;
    state.ready = { ready: false, reason: 'first IPVS read pending' };
    const { get } = await serve(view);
    const res = await get('/ipvs');
    expect(res.status).toBe(503);
    expect(res.headers['content-type']).toBe('application/json');
    expect(JSON.parse(res.body)).toEqual({ error: 'no IPVS snapshot yet', reason: 'first IPVS read pending' });
    expect(await get('/ipvs?format=text')).toMatchObject({ status: 503, body: 'no IPVS snapshot yet: first IPVS read pending\n' });
  });

  it('/drift: the drift report JSON', async () => {
    const { view } = sampleState();
    const { get } = await serve(view);
    const res = await get('/drift');
    expect(res.status).toBe(200);
    const body = JSON.parse(res.body) as { status: string; findings: { kind: string; firstSeen: string }[] };
    expect(body.status).toBe('ok');
    expect(body.findings.map((f) => f.kind)).toContain('missing-virtual-server');
    expect(body.findings[0]?.firstSeen).toBe('2025-03-01T12:00:00.000Z');
  });

  it('/modules: release and modules (golden); 503 before the first read', async () => {
    const { view, state } = sampleState();
    const { get } = await serve(view);
    const res = await get('/modules');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    await expectGolden('test/fixtures/golden/http/modules.json', res.body);
    state.modules = null;
    expect((await get('/modules')).status).toBe(503);
  });

  it('/metrics: the exposition with its content type', async () => {
    const { view } = sampleState();
    const { get } = await serve(view);
    const res = await get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(res.body).toContain('ipvs_sentinel_backend_weight{local_address="10.96.0.1"');
    expect(res.body).toContain('process_cpu_user_seconds_total');
  });
});

describe('startHttpServer protocol', () => {
  it('HEAD: same status and headers, content-length included, no body', async () => {
    const { view } = sampleState();
    const { get } = await serve(view);
    for (const path of ['/healthz?verbose', '/modules', '/ipvs?format=text', '/ipvs?pretty=maybe', '/nope']) {
      const getRes = await get(path);
      const head = await get(path, 'HEAD');
      expect(head.status, path).toBe(getRes.status);
      expect(head.body, path).toBe('');
      expect(head.headers['content-type'], path).toBe(getRes.headers['content-type']);
      expect(head.headers['content-length'], path).toBe(String(Buffer.byteLength(getRes.body)));
    }
  });

  it('HEAD of a streamed body (/ipvs, /metrics): same status and type, no body, and nothing rendered', async () => {
    const { view, state } = sampleState();
    let lookups = 0;
    const counting: AgentView = { ...view, node: view.node, lookup: (key) => (lookups++, state.services.get(key) ?? null) };
    let pieces = 0;
    const { get } = await serve(
      counting,
      undefined,
      fakeMetrics(function* () {
        pieces++;
        yield Buffer.from('m 1\n');
      }),
    );
    for (const path of ['/ipvs', '/metrics']) {
      const head = await get(path, 'HEAD');
      expect(head.status, path).toBe(200);
      expect(head.body, path).toBe('');
      expect(head.headers['content-length'], path).toBeUndefined();
    }
    expect((await get('/ipvs', 'HEAD')).headers['content-type']).toBe('application/json');
    expect((await get('/metrics', 'HEAD')).headers['content-type']).toBe(METRICS_TYPE);
    expect([lookups, pieces]).toEqual([0, 0]);
    expect((await get('/metrics')).body).toBe('m 1\n');
    expect(pieces).toBe(1);
  });

  it.each(['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'])('%s → 405 with allow: GET, HEAD', async (method) => {
    const { view } = sampleState();
    const { get } = await serve(view);
    const res = await get('/healthz', method, method === 'POST' || method === 'PUT' ? '{"x":1}' : undefined);
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD');
  });

  it.each(['/', '/nope', '/healthz/', '/ipvs/', '/metrics.txt', '/%', '/%zz?x=%', '//ipvs', '/livez/../ipvs'])('unknown path %s → 404', async (path) => {
    const { view } = sampleState();
    const { get } = await serve(view);
    expect((await get(path)).status).toBe(404);
  });

  it('malformed request lines and targets never crash the server', async () => {
    const { view } = sampleState();
    const { raw, get } = await serve(view);
    expect((await raw('GET /% HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).text).toMatch(/^HTTP\/1\.1 404/);
    expect((await raw('GET * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).text).toMatch(/^HTTP\/1\.1 400/);
    expect((await raw('GET http://evil.example/livez?x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).text).toMatch(/^HTTP\/1\.1 200[\s\S]*\r\n\r\nok$/);
    expect((await raw('BLAH\r\n\r\n')).text).toMatch(/^HTTP\/1\.1 400/);
    expect((await raw(`GET /healthz?${'a=b&'.repeat(10_000)} HTTP/1.1\r\nHost: x\r\n\r\n`)).text).toMatch(/^HTTP\/1\.1 431/);
    expect((await raw(`GET /ipvs?${'service=%ff%fe&'.repeat(200)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)).text).toMatch(/^HTTP\/1\.1 400/);
    expect((await get('/livez')).status).toBe(200);
  });

  it('HTTP/1.0 and pipelined requests are answered in order', async () => {
    const { view } = sampleState();
    const { raw } = await serve(view);
    const old = await raw('GET /livez HTTP/1.0\r\n\r\n');
    expect(old.closedByServer).toBe(true);
    expect(old.text).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nok$/);
    const pipelined = await raw('GET /livez HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\nGET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(pipelined.text.match(/HTTP\/1\.1 \d+/g)).toEqual(['HTTP/1.1 200', 'HTTP/1.1 404', 'HTTP/1.1 200']);
  });

  it('never reads a body: answers at once and closes instead of waiting for it', async () => {
    const { view } = sampleState();
    const { raw, get } = await serve(view);
    // 10 MB announced, 5 bytes sent: the answer must not wait for the rest
    const post = await raw('POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\nhello', 3_000);
    expect(post.text).toMatch(/^HTTP\/1\.1 405/);
    expect(post.closedByServer).toBe(true);
    const withBody = await raw('GET /livez HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n', 3_000);
    expect(withBody.text).toMatch(/^HTTP\/1\.1 200[\s\S]*ok$/);
    expect(withBody.closedByServer).toBe(true);
    expect((await get('/livez')).status).toBe(200);
  });

  it('a throwing view gives 500 with one line, a logged error, and the server keeps serving', async () => {
    const { view, state } = sampleState();
    const broken: AgentView = Object.create(view) as AgentView;
    let fail = true;
    broken.drift = () => {
      if (fail) throw new Error('boom');
      return state.drift;
    };
    const { get, lines } = await serve(broken);
    expect(await get('/drift')).toMatchObject({ status: 500, body: 'internal server error\n' });
    expect(lines.find((l) => l.msg === 'request handler failed')).toMatchObject({ level: 50, component: 'http', path: '/drift', err: { message: 'boom' } });
    expect((await get('/metrics')).status).toBe(500); // the drift findings gauge reads it too
    expect((await get('/livez')).status).toBe(200);
    fail = false;
    expect((await get('/drift')).status).toBe(200);
  });

  it('a body that fails before its first piece is a 500 with a logged error', async () => {
    const { view } = sampleState();
    const { get, lines } = await serve(
      view,
      undefined,
      // eslint-disable-next-line require-yield
      fakeMetrics(function* () {
        throw new Error('render broke');
      }),
    );
    expect(await get('/metrics')).toMatchObject({ status: 500, body: 'internal server error\n' });
    expect(lines.find((l) => l.msg === 'response failed')).toMatchObject({ level: 50, path: '/metrics', err: { message: 'render broke' } });
    expect((await get('/livez')).status).toBe(200);
  });

  it('a body that fails mid-stream cuts the connection (the client sees it incomplete), is logged, and the server keeps serving', async () => {
    const { view } = sampleState();
    const { get, getStreamed, lines } = await serve(
      view,
      undefined,
      fakeMetrics(function* () {
        yield Buffer.alloc(100_000, 'a');
        yield Buffer.alloc(100_000, 'b');
        throw new Error('render broke');
      }),
    );
    const res = await getStreamed('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['transfer-encoding']).toBe('chunked');
    expect(res.complete).toBe(false);
    expect(lines.find((l) => l.msg === 'response failed')).toMatchObject({ level: 50, path: '/metrics', err: { message: 'render broke' } });
    expect((await get('/livez')).status).toBe(200);
    expect((await get('/ipvs')).status).toBe(200);
  });

  it('stops rendering when the client goes away mid-stream', async () => {
    const { view } = sampleState();
    const endless = endlessPieces();
    const { server, get } = await serve(view, undefined, fakeMetrics(endless.pieces));
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: server.address.port, path: '/metrics', agent: false }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => undefined);
      req.on('close', resolve);
      req.on('timeout', reject);
      req.end();
    });
    await endless.stopped;
    const after = endless.produced();
    await new Promise((r) => setTimeout(r, 50));
    expect(endless.produced()).toBe(after);
    expect((await get('/livez')).status).toBe(200);
  });

  it('cuts off a client that stops reading a streamed body (sendStallMs)', async () => {
    const { view } = sampleState();
    const endless = endlessPieces();
    const { server, get } = await serve(view, { sendStallMs: 200 }, fakeMetrics(endless.pieces));
    const socket = connect(server.address.port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write('GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
    socket.pause(); // never read: the kernel buffers fill, then the server waits
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    await endless.stopped;
    socket.resume(); // drain what was buffered, then see the server's close
    await closed;
    expect((await get('/livez')).status).toBe(200);
  });

  it('close() ends idle keep-alive connections and resolves', async () => {
    const { view } = sampleState();
    const { server, raw } = await serve(view);
    const idle = raw('GET /livez HTTP/1.1\r\nHost: x\r\n\r\n', 5_000);
    await new Promise((r) => setTimeout(r, 100));
    await server.close();
    expect((await idle).closedByServer).toBe(true);
  });
});
