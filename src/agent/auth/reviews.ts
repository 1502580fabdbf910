/**
 * TokenReview (authentication.k8s.io/v1) and SubjectAccessReview (authorization.k8s.io/v1): the two
 * questions the kubelet and kube-rbac-proxy ask the API about a request
 * (pkg/kubelet/server/auth.go; k8s.io/apiserver/pkg/authentication/token/webhook and
 * plugin/pkg/authorizer/webhook).
 *
 * A POST with the kubeconfig's credentials, TLS and proxy (KubeConfig.applyToFetchOptions, as
 * src/cluster/api-request.ts does for GETs), not client-node's AuthenticationV1Api and
 * AuthorizationV1Api: those load the whole generated API (src/cluster/client-node.ts says what that
 * costs). The answers are hostile: bounded in size and time, and checked field by field before
 * anything of them is used.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { apiRequestOptions, apiUrl, type ApiRequestOptions } from '../../cluster/api-request.js';
import { SentinelError } from '../../errors/index.js';
import { requestFor } from '../../util/node-http.js';

/** Who a token belongs to, as TokenReview's status.user gives it. */
export interface ReviewedUser {
  username: string;
  uid: string;
  groups: string[];
  extra: Record<string, string[]>;
}

export type TokenReviewAnswer = { authenticated: true; user: ReviewedUser } | { authenticated: false; reason: string };
export interface AccessReviewAnswer {
  allowed: boolean;
  reason: string;
}

/** The API side of the request gate; tests pass the real one against the API stand-in. */
export interface ReviewClient {
  reviewToken(token: string): Promise<TokenReviewAnswer>;
  /** A non-resource request (path and verb) by `user`, as the kubelet authorises /metrics. */
  reviewAccess(user: ReviewedUser, path: string, verb: string): Promise<AccessReviewAnswer>;
}

const MAX_ANSWER_BYTES = 64 * 1024;
const MAX_GROUPS = 256;
const MAX_STRING = 1024;
export const REVIEW_TIMEOUT_MS = 5_000;

function failed(operation: string, message: string, cause?: unknown): SentinelError {
  return new SentinelError('AUTH_REVIEW_FAILED', operation, message, cause === undefined ? undefined : { cause });
}

/** POST `body` to `path` of the API; the answer's status and its JSON, or a throw when none usable came. */
async function post(kubeConfig: KubeConfig, path: string, body: unknown, operation: string, timeoutMs: number): Promise<{ status: number; json: unknown }> {
  const url = apiUrl(kubeConfig, path);
  if (!url) throw failed(operation, 'the kubeconfig names no current cluster');
  const signal = AbortSignal.timeout(timeoutMs);
  // Credentials may come from an exec plugin that never returns: the timeout bounds that wait too.
  let init: ApiRequestOptions;
  try {
    init = await apiRequestOptions(kubeConfig, signal);
  } catch (err) {
    throw signal.aborted ? failed(operation, `no credentials for the API within ${timeoutMs} ms`) : err;
  }
  const payload = Buffer.from(JSON.stringify(body), 'utf8');
  const headers = { ...init.headers, accept: 'application/json', 'content-type': 'application/json', 'content-length': String(payload.length) };
  return new Promise((resolve, reject) => {
    const request = requestFor(url)(url, { method: 'POST', headers, agent: init.agent, signal }, (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_ANSWER_BYTES) {
          response.destroy();
          reject(failed(operation, `the API's answer is over ${MAX_ANSWER_BYTES} bytes`));
        } else chunks.push(chunk);
      });
      response.on('error', (err) => reject(failed(operation, `the API's answer was cut: ${err.message}`, err)));
      response.on('end', () => {
        let json: unknown = null;
        try {
          json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          // a status without a JSON body is judged by its code below
        }
        resolve({ status: response.statusCode ?? 0, json });
      });
    });
    request.on('error', (err) => reject(failed(operation, signal.aborted ? `no answer from the API within ${timeoutMs} ms` : `the API could not be reached: ${err.message}`, err)));
    request.end(payload);
  });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function boundedString(v: unknown): string | null {
  return typeof v === 'string' && v.length <= MAX_STRING ? v : null;
}

function stringList(v: unknown): string[] | null {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.length > MAX_GROUPS) return null;
  const out: string[] = [];
  for (const item of v) {
    const s = boundedString(item);
    if (s === null) return null;
    out.push(s);
  }
  return out;
}

/** The API refused or failed: its Status message (bounded, one line) or the HTTP code. */
function refusal(status: number, json: unknown): string {
  const message = isRecord(json) ? boundedString(json.message) : null;
  const hint = status === 403 ? ' (does the agent\'s ServiceAccount hold tokenreviews and subjectaccessreviews create? manifests/components/auth)' : '';
  return `the API answered ${status}${message ? `: ${message.replace(/\s*[\r\n]+\s*/g, ' ')}` : ''}${hint}`;
}

/** TokenReview status → who, or why not; null when the answer is not a TokenReview status. */
export function parseTokenReview(json: unknown): TokenReviewAnswer | null {
  if (!isRecord(json) || !isRecord(json.status)) return null;
  const { status } = json;
  if (status.authenticated !== true) {
    const error = boundedString(status.error);
    return { authenticated: false, reason: error ? `the token was not accepted: ${error}` : 'the token was not accepted' };
  }
  if (!isRecord(status.user)) return null;
  const username = boundedString(status.user.username);
  const uid = status.user.uid === undefined ? '' : boundedString(status.user.uid);
  const groups = stringList(status.user.groups);
  if (username === null || username === '' || uid === null || groups === null) return null;
  const extra: Record<string, string[]> = {};
  if (status.user.extra !== undefined && status.user.extra !== null) {
    if (!isRecord(status.user.extra) || Object.keys(status.user.extra).length > MAX_GROUPS) return null;
    for (const [key, values] of Object.entries(status.user.extra)) {
      const list = stringList(values);
      if (list === null || key.length > MAX_STRING) return null;
      extra[key] = list;
    }
  }
  return { authenticated: true, user: { username, uid, groups, extra } };
}

/** SubjectAccessReview status → allowed or not; null when the answer is not one. */
export function parseAccessReview(json: unknown): AccessReviewAnswer | null {
  if (!isRecord(json) || !isRecord(json.status) || typeof json.status.allowed !== 'boolean') return null;
  const reason = boundedString(json.status.reason) ?? '';
  return { allowed: json.status.allowed && json.status.denied !== true, reason };
}

export function apiReviewClient(kubeConfig: KubeConfig, timeoutMs = REVIEW_TIMEOUT_MS): ReviewClient {
  const ask = async <T>(operation: string, path: string, body: unknown, parse: (json: unknown) => T | null): Promise<T> => {
    const { status, json } = await post(kubeConfig, path, body, operation, timeoutMs);
    if (status !== 200 && status !== 201) throw failed(operation, refusal(status, json));
    const answer = parse(json);
    if (answer === null) throw failed(operation, `the API's answer is not a ${operation.split(' ')[1]} status`);
    return answer;
  };
  return {
    reviewToken: (token) =>
      ask('create TokenReview', '/apis/authentication.k8s.io/v1/tokenreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } }, parseTokenReview),
    reviewAccess: (user, path, verb) =>
      ask(
        'create SubjectAccessReview',
        '/apis/authorization.k8s.io/v1/subjectaccessreviews',
        {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: { user: user.username, uid: user.uid || undefined, groups: user.groups, extra: user.extra, nonResourceAttributes: { path, verb } },
        },
        parseAccessReview,
      ),
  };
}
