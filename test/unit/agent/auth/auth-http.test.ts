/**
 * --auth=kube end to end on the host: the agent's HTTPS server with the request gate, the real
 * client-node KubeConfig, and the API stand-in answering TokenReview and SubjectAccessReview.
 */
import { request } from 'node:https';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AuthGate } from '../../../../src/agent/auth/gate.js';
import { MAX_TOKEN_BYTES } from '../../../../src/agent/auth/bearer.js';
import { apiReviewClient } from '../../../../src/agent/auth/reviews.js';
import { startHttpServer, type HttpServerHandle } from '../../../../src/agent/http.js';
import { createMetrics } from '../../../../src/agent/metrics.js';
import { fixedTls } from '../../../../src/agent/tls.js';
import { selfSignedCertificate } from '../../../../src/agent/tls-self-signed.js';
import { fakeAgentView } from '../../../support/agent-view.js';
import { KubeApiStandin } from '../../../support/kube-api-standin.js';
import { ReviewsStandin } from '../../../support/kube-api-reviews.js';
import { standinKubeConfig } from '../../../support/standin-kubeconfig.js';

const READER = 'system:serviceaccount:monitoring:prometheus-k8s';
const READER_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.reader.sig';
const STRANGER_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.stranger.sig';
const pair = selfSignedCertificate({ commonName: 'node-a', hosts: ['127.0.0.1', 'localhost'] });

let standin: KubeApiStandin;
let reviews: ReviewsStandin;
let server: HttpServerHandle;
const lines: Record<string, unknown>[] = [];

beforeAll(async () => {
  standin = await KubeApiStandin.start();
  reviews = new ReviewsStandin();
  standin.use(reviews.extension);
  reviews.addToken(READER_TOKEN, { username: READER, uid: 'u-1', groups: ['system:serviceaccounts', 'system:authenticated'] });
  reviews.addToken(STRANGER_TOKEN, { username: 'system:serviceaccount:default:default' });
  for (const path of ['/metrics', '/ipvs', '/drift', '/modules']) reviews.allow(READER, path);
  const logger = pino(
    { level: 'debug' },
    new Writable({
      write: (chunk: Buffer, _e, cb) => {
        for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
        cb();
      },
    }),
  );
  const { view } = fakeAgentView();
  const gate = new AuthGate({ reviews: apiReviewClient(standinKubeConfig(standin.url), 2_000), logger });
  server = await startHttpServer({ host: '127.0.0.1', port: 0, view, metrics: createMetrics({ backendMetrics: false, view }), logger, gate, tls: fixedTls(pair) });
});

afterAll(async () => {
  await server.close();
  await standin.stop();
});

afterEach(() => {
  standin.healFaults();
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A GET over TLS that trusts only the agent's certificate, as `curl --cacert` does. */
function get(path: string, token?: string, authorization?: string, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (authorization !== undefined) headers.authorization = authorization;
    else if (token !== undefined) headers.authorization = `Bearer ${token}`;
    const req = request({ host: '127.0.0.1', port: server.address.port, path, method, headers, ca: pair.cert, servername: 'localhost', agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('--auth=kube over TLS', () => {
  it.each(['/livez', '/readyz', '/healthz', '/healthz/ipvs'])('%s is open without a token (the kubelet probes without one)', async (path) => {
    const before = reviews.seen.length;
    expect((await get(path)).status).toBe(200);
    expect(reviews.seen.length).toBe(before);
  });

  it.each([
    ['no Authorization header', undefined, undefined, /no bearer token/],
    ['another scheme', undefined, 'Basic dXNlcjpwYXNz', /not a bearer token/],
    ['an empty bearer', undefined, 'Bearer ', /empty|not a bearer token/],
    ['a token with a header-smuggling character', undefined, 'Bearer abc"def', /characters a token never has/],
    ['a token over the bound', 'a'.repeat(MAX_TOKEN_BYTES + 1), undefined, /longer than 8192 bytes/],
  ])('%s: 401 with the JSON error body, and no review asked', async (_name, token, authorization, reason) => {
    const before = reviews.seen.length;
    const answer = await get('/metrics', token, authorization);
    expect(answer.status).toBe(401);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(answer.headers['www-authenticate']).toBe('Bearer realm="ipvs-sentinel"');
    const body = JSON.parse(answer.body) as { error: string; reason: string };
    expect(body.error).toBe('Unauthorized');
    expect(body.reason).toMatch(reason);
    expect(reviews.seen.length).toBe(before);
  });

  it('a token the API does not accept: 401', async () => {
    const answer = await get('/metrics', 'eyJ.unknown.token');
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.body)).toEqual({ error: 'Unauthorized', reason: 'the token was not accepted: [invalid bearer token, token lookup failed]' });
  });

  it('a user the API does not let get the path: 403 naming the user and the path', async () => {
    const answer = await get('/ipvs', STRANGER_TOKEN);
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body)).toEqual({ error: 'Forbidden', reason: 'user "system:serviceaccount:default:default" may not get path "/ipvs"' });
  });

  it.each(['/metrics', '/ipvs', '/drift', '/modules'])('an allowed user gets %s (200 or the route’s own answer), and the review asked is the non-resource path with verb get', async (path) => {
    const answer = await get(path, READER_TOKEN);
    expect(answer.status).not.toBe(401);
    expect(answer.status).not.toBe(403);
    const sar = reviews.seen.filter((r) => r.kind === 'SubjectAccessReview').map((r) => r.body.spec as Record<string, unknown>).find((s) => s.user === READER && (s.nonResourceAttributes as { path: string }).path === path);
    expect(sar).toEqual({ user: READER, uid: 'u-1', groups: ['system:serviceaccounts', 'system:authenticated'], extra: {}, nonResourceAttributes: { path, verb: 'get' } });
  });

  it('HEAD is reviewed as get too', async () => {
    const stranger = 'eyJ.head.only';
    reviews.addToken(stranger, { username: 'head-user' });
    reviews.allow('head-user', '/modules', 'get');
    expect((await get('/modules', stranger, undefined, 'HEAD')).status).not.toBe(403);
    expect((await get('/metrics', stranger, undefined, 'HEAD')).status).toBe(403);
  });

  it('an unknown path needs a token as well (nothing answers without one)', async () => {
    expect((await get('/nope')).status).toBe(401);
    expect((await get('/nope', READER_TOKEN)).status).toBe(403);
  });

  it('answers are cached: the same token and path again asks the API nothing', async () => {
    await get('/drift', READER_TOKEN);
    const before = reviews.seen.length;
    for (let i = 0; i < 3; i++) expect((await get('/drift', READER_TOKEN)).status).toBe(200);
    expect(reviews.seen.length).toBe(before);
  });

  it('the API refusing the agent (403 on TokenReview) or away: 503 on protected routes, never an open door; probes stay open; one log line, one on recovery', async () => {
    const fresh = 'eyJ.fresh.token';
    reviews.addToken(fresh, { username: READER });
    standin.injectFaults(Infinity, { status: 403 }, (r) => r.path.endsWith('/tokenreviews'));
    const from = lines.length;
    const refused = await get('/metrics', fresh);
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body)).toEqual({ error: 'Service Unavailable', reason: 'the Kubernetes API could not review the request; it is retried with the next request' });
    standin.healFaults();
    await standin.stop();
    expect((await get('/ipvs', 'eyJ.other.token')).status).toBe(503);
    expect((await get('/healthz')).status).toBe(200);
    const warnings = lines.slice(from).filter((l) => l.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.err).toMatch(/AUTH_REVIEW_FAILED \(create TokenReview\): the API answered 403/);
    await standin.start();
    expect((await get('/metrics', fresh)).status).toBe(200);
    expect(lines.slice(from).filter((l) => l.msg === 'the Kubernetes API reviews requests again')).toHaveLength(1);
  });

  it('never logs a token', () => {
    const text = JSON.stringify(lines);
    for (const token of [READER_TOKEN, STRANGER_TOKEN, 'eyJ.fresh.token', 'eyJ.unknown.token']) expect(text).not.toContain(token);
    expect(lines.some((l) => l.msg === 'request forbidden')).toBe(true);
  });
});
