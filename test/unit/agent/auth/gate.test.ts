/** The request gate's decisions and caches, over a scripted ReviewClient and a hand-moved clock. */
import { describe, expect, it } from 'vitest';
import { bearerToken, MAX_TOKEN_BYTES } from '../../../../src/agent/auth/bearer.js';
import { AuthGate, DEFAULT_AUTH_TTLS, isOpenPath } from '../../../../src/agent/auth/gate.js';
import { parseAccessReview, parseTokenReview, type ReviewClient, type ReviewedUser } from '../../../../src/agent/auth/reviews.js';
import { TtlCache } from '../../../../src/agent/auth/ttl-cache.js';
import { SentinelError } from '../../../../src/errors/index.js';

const silent = { info: () => undefined, warn: () => undefined, debug: () => undefined };

/** Tokens `t-<user>` belong to <user>; `allowed` holds "user path" pairs; `away` makes every review throw. */
function scripted(allowed: Set<string>) {
  const calls = { token: 0, access: 0 };
  let away = false;
  let release: (() => void) | null = null;
  const client: ReviewClient = {
    reviewToken: async (token) => {
      calls.token++;
      if (release) await new Promise<void>((resolve) => (release = resolve));
      if (away) throw new SentinelError('AUTH_REVIEW_FAILED', 'create TokenReview', 'the API could not be reached: connect ECONNREFUSED');
      return token.startsWith('t-') ? { authenticated: true, user: { username: token.slice(2), uid: '', groups: [], extra: {} } } : { authenticated: false, reason: 'the token was not accepted' };
    },
    reviewAccess: (user: ReviewedUser, path: string) => {
      calls.access++;
      if (away) return Promise.reject(new SentinelError('AUTH_REVIEW_FAILED', 'create SubjectAccessReview', 'x'));
      return Promise.resolve({ allowed: allowed.has(`${user.username} ${path}`), reason: '' });
    },
  };
  return {
    client,
    calls,
    setAway: (v: boolean) => (away = v),
    hold: () => (release = () => undefined),
    releaseAll: () => {
      const r = release;
      release = null;
      r?.();
    },
  };
}

function gateWith(allowed: string[], now: { ms: number }, maxEntries?: number) {
  const api = scripted(new Set(allowed));
  const gate = new AuthGate({ reviews: api.client, logger: silent, nowMs: () => now.ms, maxEntries });
  const check = (token: string | null, path = '/metrics') => gate.check({ path, method: 'GET', authorization: token === null ? undefined : `Bearer ${token}` });
  return { api, gate, check };
}

describe('bearerToken', () => {
  it.each([
    ['Bearer abc.def-ghi_jkl~m+n/o==', { token: 'abc.def-ghi_jkl~m+n/o==' }],
    ['bearer abc', { token: 'abc' }],
    ['BEARER   abc  ', { token: 'abc' }],
    [undefined, { problem: 'no bearer token: send Authorization: Bearer <token>' }],
    ['', { problem: 'no bearer token: send Authorization: Bearer <token>' }],
    ['Basic abc', { problem: 'the Authorization header is not a bearer token' }],
    ['Bearerabc', { problem: 'the Authorization header is not a bearer token' }],
    ['Bearer a b', { problem: 'the bearer token is empty or holds characters a token never has' }],
    ['Bearer a\u00e9', { problem: 'the bearer token is empty or holds characters a token never has' }],
    [`Bearer ${'a'.repeat(MAX_TOKEN_BYTES)}`, { token: 'a'.repeat(MAX_TOKEN_BYTES) }],
    [`Bearer ${'a'.repeat(MAX_TOKEN_BYTES + 1)}`, { problem: 'the bearer token is longer than 8192 bytes' }],
  ])('%j → %j', (header, expected) => {
    expect(bearerToken(header)).toEqual(expected);
  });
});

describe('isOpenPath', () => {
  it.each([
    ['/livez', true],
    ['/readyz', true],
    ['/healthz', true],
    ['/healthz/ipvs', true],
    ['/healthz/', false],
    ['/healthz/a/b', false],
    ['/healthz/../ipvs', false],
    ['/livez/', false],
    ['/metrics', false],
    ['/', false],
  ])('%s → %s', (path, open) => {
    expect(isOpenPath(path)).toBe(open);
  });
});

describe('TtlCache', () => {
  it('forgets an entry at its TTL and the least recently used one past the bound', () => {
    const now = { ms: 0 };
    const cache = new TtlCache<number>(2, () => now.ms);
    cache.set('a', 1, 100);
    cache.set('b', 2, 1000);
    expect(cache.get('a')).toBe(1); // a is now the most recently used
    cache.set('c', 3, 1000);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.size).toBe(2);
    now.ms = 100;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('c')).toBe(3);
  });
});

describe('AuthGate', () => {
  it('allowed, forbidden, unauthenticated, open', async () => {
    const { check } = gateWith(['alice /metrics'], { ms: 0 });
    expect(await check('t-alice')).toEqual({ allowed: true, user: 'alice' });
    expect(await check('t-alice', '/ipvs')).toMatchObject({ allowed: false, status: 403 });
    expect(await check('nobody')).toMatchObject({ allowed: false, status: 401, reason: 'the token was not accepted' });
    expect(await check(null, '/readyz')).toEqual({ allowed: true, user: null });
  });

  it.each([
    ['an accepted token', 't-alice', 'authenticatedMs', 'token'],
    ['a refused token', 'nobody', 'unauthenticatedMs', 'token'],
    ['an allowed path', 't-alice', 'allowedMs', 'access'],
  ] as const)('%s is asked again only once its TTL is over', async (_name, token, ttl, kind) => {
    const now = { ms: 0 };
    const { api, check } = gateWith(['alice /metrics'], now);
    await check(token);
    await check(token);
    expect(api.calls[kind]).toBe(1);
    now.ms = DEFAULT_AUTH_TTLS[ttl] - 1;
    // everything still cached below the shortest relevant TTL
    if (ttl !== 'allowedMs') {
      await check(token);
      expect(api.calls[kind]).toBe(1);
    }
    now.ms = DEFAULT_AUTH_TTLS[ttl];
    await check(token);
    expect(api.calls[kind]).toBe(2);
  });

  it('a denied answer is cached shorter than an allowed one', async () => {
    const now = { ms: 0 };
    const { api, check } = gateWith([], now);
    await check('t-bob');
    now.ms = DEFAULT_AUTH_TTLS.deniedMs - 1;
    await check('t-bob');
    expect(api.calls.access).toBe(1);
    now.ms = DEFAULT_AUTH_TTLS.deniedMs;
    await check('t-bob');
    expect(api.calls.access).toBe(2);
    expect(DEFAULT_AUTH_TTLS.deniedMs).toBeLessThan(DEFAULT_AUTH_TTLS.allowedMs);
  });

  it('the API away: 503, nothing cached, the next request asks again', async () => {
    const { api, check } = gateWith(['alice /metrics'], { ms: 0 });
    api.setAway(true);
    expect(await check('t-alice')).toMatchObject({ allowed: false, status: 503 });
    expect(await check('t-alice')).toMatchObject({ allowed: false, status: 503 });
    expect(api.calls.token).toBe(2);
    api.setAway(false);
    expect(await check('t-alice')).toEqual({ allowed: true, user: 'alice' });
  });

  it('concurrent requests with one token share one review', async () => {
    const { api, check } = gateWith(['alice /metrics'], { ms: 0 });
    api.hold();
    const answers = Promise.all([check('t-alice'), check('t-alice'), check('t-alice')]);
    await new Promise((resolve) => setImmediate(resolve));
    api.releaseAll();
    expect((await answers).every((a) => a.allowed)).toBe(true);
    expect(api.calls.token).toBe(1);
    expect(api.calls.access).toBe(1);
  });

  it('a flood of fresh tokens keeps the cache at its bound', async () => {
    const { gate, check } = gateWith([], { ms: 0 }, 8);
    for (let i = 0; i < 100; i++) await check(`junk-${i}`);
    expect((gate as unknown as { tokens: TtlCache<unknown> }).tokens.size).toBe(8);
  });
});

describe('review answers from the API', () => {
  it.each([
    ['authenticated', { status: { authenticated: true, user: { username: 'a', uid: 'u', groups: ['g'], extra: { k: ['v'] } } } }, { authenticated: true, user: { username: 'a', uid: 'u', groups: ['g'], extra: { k: ['v'] } } }],
    ['authenticated, no uid/groups', { status: { authenticated: true, user: { username: 'a' } } }, { authenticated: true, user: { username: 'a', uid: '', groups: [], extra: {} } }],
    ['refused with error', { status: { user: {}, error: 'expired' } }, { authenticated: false, reason: 'the token was not accepted: expired' }],
    ['no status', {}, null],
    ['authenticated without a username', { status: { authenticated: true, user: { username: '' } } }, null],
    ['groups not strings', { status: { authenticated: true, user: { username: 'a', groups: [1] } } }, null],
    ['too many groups', { status: { authenticated: true, user: { username: 'a', groups: Array<string>(257).fill('g') } } }, null],
    ['not an object', 'garbage', null],
  ])('TokenReview %s', (_name, json, expected) => {
    expect(parseTokenReview(json)).toEqual(expected);
  });

  it.each([
    ['allowed', { status: { allowed: true } }, { allowed: true, reason: '' }],
    ['allowed but denied', { status: { allowed: true, denied: true } }, { allowed: false, reason: '' }],
    ['not allowed with reason', { status: { allowed: false, reason: 'no RBAC' } }, { allowed: false, reason: 'no RBAC' }],
    ['allowed not a boolean', { status: { allowed: 'yes' } }, null],
    ['null', null, null],
  ])('SubjectAccessReview %s', (_name, json, expected) => {
    expect(parseAccessReview(json)).toEqual(expected);
  });
});
