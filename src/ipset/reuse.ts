/**
 * What consecutive reads of one set share. kube-proxy's sets change only when Services or endpoints
 * do, so most polls list a set byte for byte as the last one did; then the last decode is the answer,
 * and the check's compare, keyed by the entry list it already judged (src/checks/ipsets.ts), is too.
 * A read records its reply messages (type, flags and payload: the sequence number and port id
 * differ from read to read and are left out), compares them with the last recording of the same set,
 * and decodes only when they differ. The decoder is a pure function of those bytes, so the answer
 * is the one a fresh decode would give.
 *
 * Bounded: at most MAX_SETS sets and MAX_BYTES recorded bytes are kept (kube-proxy makes about 20
 * sets per family, ~1.4 MB at 10,000 Services); a set past the bound is decoded every time.
 */
import type { NlMessage } from '../netlink/message.js';

const MAX_SETS = 64;
const MAX_BYTES = 32 * 1024 * 1024;
/** Per recorded message: nlmsg_len of the payload (u32), nlmsg_type (u16), nlmsg_flags (u16). */
const RECORD_HEADER = 8;

/** One read's reply messages, copied as they arrive (the socket lends its receive buffer). */
export class MessageRecording {
  private bytes = new Uint8Array(64 * 1024);
  private length = 0;

  add(message: NlMessage): void {
    const need = this.length + RECORD_HEADER + message.payload.byteLength;
    if (need > this.bytes.byteLength) {
      const grown = new Uint8Array(Math.max(need, this.bytes.byteLength * 2));
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
    }
    const view = new DataView(this.bytes.buffer, this.length, RECORD_HEADER);
    view.setUint32(0, message.payload.byteLength, true);
    view.setUint16(4, message.type, true);
    view.setUint16(6, message.flags, true);
    this.bytes.set(message.payload, this.length + RECORD_HEADER);
    this.length = need;
  }

  get byteLength(): number {
    return this.length;
  }

  /** The recorded messages, in order, as the decoder takes them (payloads are views into the recording). */
  *messages(): Generator<NlMessage> {
    const view = new DataView(this.bytes.buffer, 0, this.length);
    for (let offset = 0; offset < this.length; ) {
      const size = view.getUint32(offset, true);
      const payload = this.bytes.subarray(offset + RECORD_HEADER, offset + RECORD_HEADER + size);
      yield { type: view.getUint16(offset + 4, true), flags: view.getUint16(offset + 6, true), seq: 0, pid: 0, payload };
      offset += RECORD_HEADER + size;
    }
  }

  equals(other: Uint8Array): boolean {
    return other.byteLength === this.length && Buffer.compare(Buffer.from(other.buffer, other.byteOffset, other.byteLength), Buffer.from(this.bytes.buffer, 0, this.length)) === 0;
  }

  /** The recorded bytes, trimmed to their length (a copy, kept beyond this read). */
  snapshot(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}

interface Kept<T> {
  bytes: Uint8Array;
  value: T;
}

/** The last decode of each set by name, with the bytes it came from. */
export class IpsetReuse<T> {
  private readonly kept = new Map<string, Kept<T>>();
  private keptBytes = 0;
  /** Reads answered by the last decode, and reads decoded (for tests and the bench). */
  reused = 0;
  decoded = 0;

  /** The value for this recording: the last one when the bytes are the same, else `decode`'s, kept. */
  resolve(name: string, recording: MessageRecording, decode: (messages: Iterable<NlMessage>) => T): T {
    const last = this.kept.get(name);
    if (last !== undefined && recording.equals(last.bytes)) {
      // Most recently used last, so the bound below drops the set not read for longest.
      this.kept.delete(name);
      this.kept.set(name, last);
      this.reused++;
      return last.value;
    }
    const value = decode(recording.messages());
    this.decoded++;
    this.forget(name);
    if (recording.byteLength <= MAX_BYTES) {
      while (this.kept.size >= MAX_SETS || this.keptBytes + recording.byteLength > MAX_BYTES) {
        const oldest = this.kept.keys().next();
        if (oldest.done === true) break;
        this.forget(oldest.value);
      }
      const bytes = recording.snapshot();
      this.kept.set(name, { bytes, value });
      this.keptBytes += bytes.byteLength;
    }
    return value;
  }

  /** A set that does not exist any more (or could not be read): nothing of it is kept. */
  forget(name: string): void {
    const last = this.kept.get(name);
    if (last === undefined) return;
    this.kept.delete(name);
    this.keptBytes -= last.bytes.byteLength;
  }

  get size(): number {
    return this.kept.size;
  }
}
