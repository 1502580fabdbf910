/**
 * A cluster-state file's bytes to text, chunk by chunk: UTF-8 only (as kubectl writes it), its
 * byte-order mark dropped; a UTF-16 or UTF-32 file (a byte-order mark FF FE / FE FF, as PowerShell's
 * `>` writes) and bytes that are not UTF-8 are refused with the offset of the first bad byte.
 */
import type { ClusterSnapshot } from './model.js';
import { ClusterStateParser } from './state-file.js';
import { stateInvalid } from './state-file-pieces.js';
import { firstInvalidUtf8, utf16ByteOrderMark } from '../util/utf8.js';

/** Where the last UTF-8 sequence that `bytes` may not hold whole starts (its length if none). */
function completeUpTo(bytes: Uint8Array): number {
  for (let i = bytes.length - 1; i >= 0 && i >= bytes.length - 4; i--) {
    const b = bytes[i] ?? 0;
    if ((b & 0xc0) === 0x80) continue; // a continuation byte: look further back for its lead
    const length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return i + length > bytes.length ? i : bytes.length;
  }
  return bytes.length;
}

/**
 * Decodes chunk by chunk, cutting each after its last whole UTF-8 sequence, so that an error is
 * found at the same byte whatever the chunks, and the text before it is still handed over: the
 * first problem in the file is the one reported.
 */
export class StateFileDecoder {
  // fatal: a bad sequence throws instead of becoming U+FFFD. Each chunk is decoded whole (never
  // "streaming", whose held-back bytes would move where an error is found); the UTF-8 byte-order
  // mark is left for the parser to drop.
  private readonly decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  private carry: Uint8Array = new Uint8Array(0);
  private offset = 0;

  constructor(private readonly source: string) {}

  /** The text of the chunk's whole sequences, and the error that stops the file there, if any. */
  decode(chunk: Uint8Array): { text: string; error: Error | null } {
    const bytes = this.carry.length === 0 ? chunk : Buffer.concat([this.carry, chunk]);
    const start = this.offset;
    const mark = start === 0 ? utf16ByteOrderMark(bytes) : null;
    if (mark !== null) {
      return { text: '', error: stateInvalid(`${this.source} is UTF-16 or UTF-32 text (it starts with the byte-order mark ${mark}); save it as UTF-8, e.g. iconv -f UTF-16 -t UTF-8`) };
    }
    const end = completeUpTo(bytes);
    this.carry = bytes.slice(end);
    this.offset += end;
    return this.decodeWhole(bytes.subarray(0, end), start);
  }

  /** What is left at the end of the file: a sequence cut short is an error. */
  end(): { text: string; error: Error | null } {
    const rest = this.carry;
    this.carry = new Uint8Array(0);
    return this.decodeWhole(rest, this.offset);
  }

  private decodeWhole(bytes: Uint8Array, start: number): { text: string; error: Error | null } {
    try {
      return { text: this.decoder.decode(bytes), error: null };
    } catch (cause) {
      const at = Math.max(0, firstInvalidUtf8(bytes));
      const byte = (bytes[at] ?? 0).toString(16).toUpperCase().padStart(2, '0');
      return {
        text: at === 0 ? '' : this.decoder.decode(bytes.subarray(0, at)),
        error: stateInvalid(`${this.source} is not UTF-8 text: an invalid byte sequence at byte ${start + at} (0x${byte})`, cause),
      };
    }
  }
}

/** Hands the decoded text over, then stops at the bytes that could not be decoded, if any: the file's first problem is reported. */
export function takeDecoded(parser: ClusterStateParser, decoded: { text: string; error: Error | null }): void {
  parser.push(decoded.text);
  if (decoded.error !== null) throw decoded.error;
}

/** Parse a cluster-state file's bytes, given in chunks (what readClusterStateFile() does as it reads). */
export function parseClusterStateBytes(chunks: Iterable<Uint8Array>, source = 'cluster state'): ClusterSnapshot {
  const decoder = new StateFileDecoder(source);
  const parser = new ClusterStateParser(source);
  for (const chunk of chunks) takeDecoded(parser, decoder.decode(chunk));
  takeDecoded(parser, decoder.end());
  return parser.end();
}
