/**
 * How the Kubernetes edge names what went wrong: an answer with an error status (its Status message),
 * an answer that is not what the API promises (KUBE_API_MALFORMED), one line for a person.
 */
import type { Readable } from 'node:stream';
import { SentinelError } from '../errors/index.js';
import { STATUS_CODES } from '../util/node-http.js';

/** An error status is read for its message only: a proxy's error page is not held whole. */
const ERROR_BODY_LIMIT = 64 * 1024;

/**
 * A request the API server answered with an error status; `detail` is its Status message or body text.
 * `statusCode` is where client-node's ListWatch looks for 410 Gone (dist/cache.js doneHandler).
 */
export class ApiStatusError extends SentinelError {
  constructor(
    readonly statusCode: number,
    readonly detail: string,
    op = 'call the Kubernetes API',
  ) {
    super('KUBE_API_ERROR', op, `HTTP ${statusCode}${detail ? `: ${detail}` : ''}`);
    this.name = 'ApiStatusError';
  }
}

/** An answer that is not what the API promises: not JSON, cut off, not a list, an object without identity. */
export function malformed(op: string, message: string, cause?: unknown): SentinelError {
  return new SentinelError('KUBE_API_MALFORMED', op, message, cause === undefined ? undefined : { cause });
}

/** The message of a Kubernetes Status body, else the body text (first line, bounded), else the reason phrase. */
export function statusDetail(status: number, body: string): string {
  try {
    const parsed = JSON.parse(body) as { message?: unknown } | null;
    if (typeof parsed?.message === 'string' && parsed.message !== '') return parsed.message.slice(0, 500);
  } catch {
    // not JSON: fall through to the text
  }
  const line = body.split('\n', 1)[0]?.trim().slice(0, 200) ?? '';
  return line !== '' ? line : (STATUS_CODES[status] ?? '');
}

/** The first ERROR_BODY_LIMIT bytes of an error answer's body as text; a body that fails reads as what arrived. */
export async function readErrorBody(body: Readable): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
      parts.push(buf.subarray(0, ERROR_BODY_LIMIT - size));
      size += buf.length;
      if (size >= ERROR_BODY_LIMIT) break;
    }
  } catch {
    // cut off: what arrived is all there is
  }
  body.destroy();
  return Buffer.concat(parts).toString('utf8');
}

/** One line for a person. */
export function describeError(err: unknown): string {
  if (err instanceof ApiStatusError) return err.message;
  if (err instanceof SentinelError) return err.toLine();
  if (err instanceof Error) {
    const status = (err as { statusCode?: unknown }).statusCode;
    return typeof status === 'number' ? `HTTP ${status} ${err.message}` : err.message;
  }
  return String(err);
}
