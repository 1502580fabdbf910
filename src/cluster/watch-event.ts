/**
 * The watch stream as the API server writes it (k8s.io/apimachinery/pkg/watch/json, one
 * `{"type": ..., "object": ...}` per line), validated before anything uses it: a line that is not
 * such an event — `{}`, `[1,2,3]`, `"str"`, `null`, garbage, an object without identity — is
 * rejected with a reason instead of reaching client-node's ListWatch, which would throw on it.
 * Pure: bytes in, lines out; parsed JSON in, events or rejections out.
 */
import { asObj } from './convert.js';
import { checkCached, typeName, type CachedObject, type Checked, type ClusterResource, type ConvertedByResource } from './cached.js';

/** The Status an ERROR event carries, reduced to what ListWatch and our log read. */
export interface WatchStatus {
  code: number | null;
  reason: string;
  message: string;
}

export type WatchEvent<R extends ClusterResource> =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: CachedObject<ConvertedByResource[R]> }
  | { type: 'BOOKMARK'; object: { metadata: { resourceVersion: string } } }
  | { type: 'ERROR'; object: WatchStatus };

/** One event line is at most this long: an object is at most 1.5 MiB in etcd by default; this leaves room. */
export const MAX_EVENT_BYTES = 16 * 1024 * 1024;

const text = (value: unknown, max: number): string => (typeof value === 'string' ? value.slice(0, max) : '');

/** A parsed watch line as an event of `resource`, or why it is not one. */
export function checkWatchEvent<R extends ClusterResource>(resource: R, line: unknown): Checked<WatchEvent<R>> {
  const event = asObj(line);
  if (!event) return { ok: false, reason: `the event is ${typeName(line)}, not an object with type and object` };
  const { type } = event;
  const object = asObj(event.object);
  switch (type) {
    case 'ADDED':
    case 'MODIFIED':
    case 'DELETED': {
      const cached = checkCached(resource, event.object);
      if (!cached.ok) return { ok: false, reason: `${type} event: ${cached.reason}` };
      return { ok: true, value: { type, object: cached.value } };
    }
    case 'BOOKMARK': {
      const resourceVersion = asObj(object?.metadata)?.resourceVersion;
      if (typeof resourceVersion !== 'string' || resourceVersion === '') return { ok: false, reason: 'BOOKMARK event without metadata.resourceVersion' };
      return { ok: true, value: { type, object: { metadata: { resourceVersion } } } };
    }
    case 'ERROR': {
      if (!object) return { ok: false, reason: `ERROR event whose object is ${typeName(event.object)}, not a Status` };
      const code = typeof object.code === 'number' && Number.isInteger(object.code) ? object.code : null;
      return { ok: true, value: { type, object: { code, reason: text(object.reason, 100), message: text(object.message, 500) } } };
    }
    default:
      return { ok: false, reason: typeof type === 'string' ? `unknown event type ${JSON.stringify(type.slice(0, 40))}` : `the event type is ${typeName(type)}` };
  }
}

/**
 * Splits a byte stream into lines, holding at most `maxBytes` of one unfinished line: a longer line
 * is an error, not a memory leak. Empty lines are skipped.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;

  constructor(private readonly maxBytes: number = MAX_EVENT_BYTES) {}

  /** The complete lines `chunk` ends; throws when a line outgrows maxBytes. */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      this.take(chunk.subarray(start, nl));
      const line = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.size);
      this.parts = [];
      this.size = 0;
      if (line && line.length > 0) lines.push(line.toString('utf8'));
      start = nl + 1;
    }
    if (start < chunk.length) this.take(chunk.subarray(start));
    return lines.filter((l) => l.trim() !== '');
  }

  /** What is left when the stream ends: a last line without its newline (often one cut off). */
  rest(): string | null {
    const line = Buffer.concat(this.parts, this.size).toString('utf8');
    this.parts = [];
    this.size = 0;
    return line.trim() === '' ? null : line;
  }

  private take(part: Buffer): void {
    if (part.length === 0) return;
    this.size += part.length;
    if (this.size > this.maxBytes) throw new RangeError(`a watch event line is longer than ${this.maxBytes} bytes`);
    this.parts.push(part);
  }
}
