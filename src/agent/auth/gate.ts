/**
 * Who may read the agent (--auth=kube): every route but the probes needs a bearer token the API
 * accepts (TokenReview) for a user the API lets `get` the request's path (SubjectAccessReview on
 * the non-resource path), as the kubelet guards /metrics (pkg/kubelet/server/auth.go) and
 * kube-rbac-proxy guards its upstream. Both answers are cached for a short time with kube-rbac-proxy's
 * TTLs (k8s.io/apiserver DelegatingAuthenticatorConfig CacheTTL 2m; DelegatingAuthorizerConfig
 * AllowCacheTTL 5m, DenyCacheTTL 30s); an API that does not answer gives 503, never an open door,
 * and is never cached. Concurrent requests with the same question share one review.
 */
import { createHash } from 'node:crypto';
import { SentinelError } from '../../errors/index.js';
import { bearerToken } from './bearer.js';
import type { AccessReviewAnswer, ReviewClient, ReviewedUser, TokenReviewAnswer } from './reviews.js';
import { TtlCache } from './ttl-cache.js';

type LogFn = (obj: object, msg?: string) => void;

export type GateDecision =
  | { allowed: true; user: string | null }
  | { allowed: false; status: 401 | 403 | 503; error: string; reason: string };

export interface RequestGate {
  /** `path` is the request's path without its query; `authorization` its Authorization header. */
  check(request: { path: string; method: string; authorization: string | undefined }): Promise<GateDecision>;
}

export interface AuthTtls {
  /** An accepted token. */
  authenticatedMs: number;
  /** A token the API did not accept. */
  unauthenticatedMs: number;
  allowedMs: number;
  deniedMs: number;
}

export const DEFAULT_AUTH_TTLS: AuthTtls = { authenticatedMs: 120_000, unauthenticatedMs: 10_000, allowedMs: 300_000, deniedMs: 30_000 };
/** Entries per cache: a client sending a fresh token each time evicts only old answers. */
export const DEFAULT_AUTH_CACHE_ENTRIES = 1024;

export interface AuthGateOptions {
  reviews: ReviewClient;
  logger: { info: LogFn; warn: LogFn; debug: LogFn };
  /** Milliseconds on a monotonic clock (performance.now in production). */
  nowMs?: () => number;
  ttls?: Partial<AuthTtls>;
  maxEntries?: number;
}

/** The probes stay open: the kubelet probes without a token, and they reveal only ok / not ok per check. */
export function isOpenPath(path: string): boolean {
  if (path === '/livez' || path === '/readyz' || path === '/healthz') return true;
  return path.startsWith('/healthz/') && path.length > '/healthz/'.length && !path.slice('/healthz/'.length).includes('/');
}

/** The verb of a non-resource request, as the kubelet maps methods (pkg/kubelet/server/auth.go): the agent serves only GET and HEAD. */
function verbOf(method: string): string {
  return method === 'GET' || method === 'HEAD' ? 'get' : method.toLowerCase();
}

const UNAVAILABLE_REASON = 'the Kubernetes API could not review the request; it is retried with the next request';

export class AuthGate implements RequestGate {
  private readonly ttls: AuthTtls;
  private readonly tokens: TtlCache<TokenReviewAnswer>;
  private readonly access: TtlCache<AccessReviewAnswer>;
  private readonly pending = new Map<string, Promise<unknown>>();
  private apiAway = false;

  constructor(private readonly options: AuthGateOptions) {
    const nowMs = options.nowMs ?? (() => performance.now());
    const max = options.maxEntries ?? DEFAULT_AUTH_CACHE_ENTRIES;
    this.ttls = { ...DEFAULT_AUTH_TTLS, ...options.ttls };
    this.tokens = new TtlCache(max, nowMs);
    this.access = new TtlCache(max, nowMs);
  }

  async check({ path, method, authorization }: { path: string; method: string; authorization: string | undefined }): Promise<GateDecision> {
    if (isOpenPath(path)) return { allowed: true, user: null };
    const bearer = bearerToken(authorization);
    if ('problem' in bearer) return { allowed: false, status: 401, error: 'Unauthorized', reason: bearer.problem };
    let identity: TokenReviewAnswer;
    let verdict: AccessReviewAnswer;
    const verb = verbOf(method);
    try {
      identity = await this.reviewToken(bearer.token);
      if (!identity.authenticated) return { allowed: false, status: 401, error: 'Unauthorized', reason: identity.reason };
      verdict = await this.reviewAccess(identity.user, path, verb);
    } catch (err) {
      if (!this.apiAway) this.options.logger.warn({ err: err instanceof SentinelError ? err.toLine() : String(err) }, 'the Kubernetes API could not review a request: every protected route answers 503 until it can');
      this.apiAway = true;
      return { allowed: false, status: 503, error: 'Service Unavailable', reason: UNAVAILABLE_REASON };
    }
    if (this.apiAway) this.options.logger.info({}, 'the Kubernetes API reviews requests again');
    this.apiAway = false;
    const user = identity.user.username;
    if (!verdict.allowed) {
      this.options.logger.debug({ user, path, verb }, 'request forbidden');
      const why = verdict.reason ? `: ${verdict.reason.replace(/\s*[\r\n]+\s*/g, ' ')}` : '';
      return { allowed: false, status: 403, error: 'Forbidden', reason: `user "${user}" may not ${verb} path "${path}"${why}` };
    }
    return { allowed: true, user };
  }

  private reviewToken(token: string): Promise<TokenReviewAnswer> {
    // The cache is keyed by the token's digest: the token itself is kept nowhere.
    const key = createHash('sha256').update(token).digest('base64');
    const cached = this.tokens.get(key);
    if (cached) return Promise.resolve(cached);
    return this.shared(`token:${key}`, async () => {
      const answer = await this.options.reviews.reviewToken(token);
      this.tokens.set(key, answer, answer.authenticated ? this.ttls.authenticatedMs : this.ttls.unauthenticatedMs);
      return answer;
    });
  }

  private reviewAccess(user: ReviewedUser, path: string, verb: string): Promise<AccessReviewAnswer> {
    const key = JSON.stringify([user.username, user.uid, [...user.groups].sort(), Object.entries(user.extra).sort(), path, verb]);
    const cached = this.access.get(key);
    if (cached) return Promise.resolve(cached);
    return this.shared(`access:${key}`, async () => {
      const answer = await this.options.reviews.reviewAccess(user, path, verb);
      this.access.set(key, answer, answer.allowed ? this.ttls.allowedMs : this.ttls.deniedMs);
      return answer;
    });
  }

  private shared<T>(key: string, ask: () => Promise<T>): Promise<T> {
    const inFlight = this.pending.get(key);
    if (inFlight) return inFlight as Promise<T>;
    const promise = ask().finally(() => this.pending.delete(key));
    this.pending.set(key, promise);
    return promise;
  }
}
