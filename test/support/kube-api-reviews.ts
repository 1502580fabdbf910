/**
 * TokenReview and SubjectAccessReview for the API stand-in (./kube-api-standin.ts, registered with
 * `standin.use(reviews.extension)`), answering as kube-apiserver does
 * (pkg/registry/authentication/tokenreview/storage.go, pkg/registry/authorization/subjectaccessreview/rest.go):
 * POST only, 201 Created with the review and its status; 400 BadRequest for a TokenReview without a
 * token or a body that is not the kind; 422 Invalid for a SubjectAccessReview with no attributes or
 * no user and groups. Who is who and who may get what are test controls.
 */
import type http from 'node:http';
import type { StandinExtension, StandinRequest } from './kube-api-standin.js';

const TOKEN_REVIEWS = '/apis/authentication.k8s.io/v1/tokenreviews';
const ACCESS_REVIEWS = '/apis/authorization.k8s.io/v1/subjectaccessreviews';

export interface StandinUser {
  username: string;
  uid?: string;
  groups?: string[];
}

/** A review the stand-in answered: the token's digest is not kept, only whether one was sent. */
export interface SeenReview {
  kind: 'TokenReview' | 'SubjectAccessReview';
  body: Record<string, unknown>;
}

function status(code: number, reason: string, message: string): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function reply(res: http.ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export class ReviewsStandin {
  private readonly users = new Map<string, StandinUser>();
  private readonly grants = new Set<string>();
  readonly seen: SeenReview[] = [];

  /** `token` authenticates as `user`. */
  addToken(token: string, user: StandinUser): void {
    this.users.set(token, user);
  }

  removeToken(token: string): void {
    this.users.delete(token);
  }

  /** `username` may `verb` the non-resource `path` (as a ClusterRole's nonResourceURLs grants it). */
  allow(username: string, path: string, verb = 'get'): void {
    this.grants.add(JSON.stringify([username, path, verb]));
  }

  revoke(username: string, path: string, verb = 'get'): void {
    this.grants.delete(JSON.stringify([username, path, verb]));
  }

  count(kind: SeenReview['kind']): number {
    return this.seen.filter((r) => r.kind === kind).length;
  }

  readonly extension: StandinExtension = (req, res, request) => {
    if (request.path !== TOKEN_REVIEWS && request.path !== ACCESS_REVIEWS) return false;
    if (request.method !== 'POST') {
      reply(res, 405, status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'));
      return true;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => this.answer(request, Buffer.concat(chunks).toString('utf8'), req.headers['content-type'], res));
    return true;
  };

  private answer(request: StandinRequest, text: string, contentType: string | undefined, res: http.ServerResponse): void {
    if (!contentType?.startsWith('application/json')) {
      reply(res, 415, status(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json`));
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      reply(res, 400, status(400, 'BadRequest', 'the body of the request is not JSON'));
      return;
    }
    const kind = request.path === TOKEN_REVIEWS ? 'TokenReview' : 'SubjectAccessReview';
    if (!isRecord(body) || body.kind !== kind || !isRecord(body.spec)) {
      reply(res, 400, status(400, 'BadRequest', `the object provided is not a ${kind}`));
      return;
    }
    this.seen.push({ kind, body });
    if (kind === 'TokenReview') this.tokenReview(body, body.spec, res);
    else this.accessReview(body, body.spec, res);
  }

  private tokenReview(body: Record<string, unknown>, spec: Record<string, unknown>, res: http.ServerResponse): void {
    const token = typeof spec.token === 'string' ? spec.token : '';
    if (token === '') {
      reply(res, 400, status(400, 'BadRequest', 'token is required for TokenReview in authentication'));
      return;
    }
    const user = this.users.get(token);
    const answer = user
      ? { authenticated: true, user: { username: user.username, uid: user.uid ?? '', groups: user.groups ?? ['system:authenticated'] }, audiences: ['https://kubernetes.default.svc'] }
      : { user: {}, error: '[invalid bearer token, token lookup failed]' };
    reply(res, 201, { ...body, apiVersion: 'authentication.k8s.io/v1', metadata: { creationTimestamp: null }, status: answer });
  }

  private accessReview(body: Record<string, unknown>, spec: Record<string, unknown>, res: http.ServerResponse): void {
    const attributes = spec.nonResourceAttributes;
    const user = typeof spec.user === 'string' ? spec.user : '';
    const groups = Array.isArray(spec.groups) ? spec.groups : [];
    if (!isRecord(attributes) && !isRecord(spec.resourceAttributes)) {
      reply(res, 422, status(422, 'Invalid', 'SubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified'));
      return;
    }
    if (user === '' && groups.length === 0) {
      reply(res, 422, status(422, 'Invalid', 'SubjectAccessReview.authorization.k8s.io "" is invalid: spec.user: Invalid value: "": at least one of user or group must be specified'));
      return;
    }
    const path = isRecord(attributes) && typeof attributes.path === 'string' ? attributes.path : '';
    const verb = isRecord(attributes) && typeof attributes.verb === 'string' ? attributes.verb : '';
    const allowed = this.grants.has(JSON.stringify([user, path, verb]));
    const answer = allowed ? { allowed: true, reason: 'RBAC: allowed by ClusterRoleBinding "ipvs-sentinel-reader"' } : { allowed: false };
    reply(res, 201, { ...body, apiVersion: 'authorization.k8s.io/v1', metadata: { creationTimestamp: null }, status: answer });
  }
}
