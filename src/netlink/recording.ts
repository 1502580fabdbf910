/**
 * Record and replay netlink exchanges: a wrapper that remembers every request and the datagrams
 * that answered it, and a socket that plays such a recording back. Recordings made in the real-IPVS
 * guest become byte fixtures for fast offline tests of the decoder and the reader.
 */
import type { GenericNetlinkSocket } from './libnl.js';

export interface NetlinkRecording {
  /** Free text: what table was programmed, on which kernel. */
  description: string;
  kernel: string;
  localPort: number;
  /** The IPVS family id resolved at the start, or null when unresolved. */
  family: number | null;
  exchanges: { request: string; replies: string[] }[];
}

const toHex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
const fromHex = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, 'hex'));

export class RecordingSocket implements GenericNetlinkSocket {
  readonly recording: NetlinkRecording;

  constructor(private readonly inner: GenericNetlinkSocket, meta: { description: string; kernel: string }) {
    this.recording = { ...meta, localPort: inner.localPort, family: null, exchanges: [] };
  }

  get localPort(): number {
    return this.inner.localPort;
  }

  resolveFamily(name: string): number | null {
    const id = this.inner.resolveFamily(name);
    this.recording.family = id;
    return id;
  }

  send(bytes: Uint8Array): void {
    this.recording.exchanges.push({ request: toHex(bytes), replies: [] });
    this.inner.send(bytes);
  }

  receive(): Uint8Array {
    const datagram = this.inner.receive();
    this.recording.exchanges.at(-1)?.replies.push(toHex(datagram));
    return datagram;
  }

  close(): void {
    this.inner.close();
  }
}

/** Plays a recording back; a request that differs from the recorded one is a test failure. */
export class ReplaySocket implements GenericNetlinkSocket {
  readonly localPort: number;
  private exchange = -1;
  private reply = 0;
  closed = false;

  constructor(private readonly recording: NetlinkRecording) {
    this.localPort = recording.localPort;
  }

  resolveFamily(): number | null {
    return this.recording.family;
  }

  send(bytes: Uint8Array): void {
    this.exchange++;
    this.reply = 0;
    const expected = this.recording.exchanges[this.exchange];
    if (!expected) throw new Error(`replay: request #${this.exchange} was not recorded`);
    if (toHex(bytes) !== expected.request) {
      throw new Error(`replay: request #${this.exchange} differs from the recording\n  sent     ${toHex(bytes)}\n  recorded ${expected.request}`);
    }
  }

  receive(): Uint8Array {
    const datagram = this.recording.exchanges[this.exchange]?.replies[this.reply++];
    if (datagram === undefined) throw new Error(`replay: no more replies recorded for request #${this.exchange}`);
    return fromHex(datagram);
  }

  close(): void {
    this.closed = true;
  }
}
