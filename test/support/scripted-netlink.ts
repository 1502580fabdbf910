/**
 * A NetlinkSocket that answers each request with prepared datagrams, handed out the way libnl's
 * socket hands them out: copied into one receive buffer that the next receive() overwrites, so a
 * reader that keeps a datagram view past its decoding sees garbage (and fails a test).
 */
import type { NetlinkSocket } from '../../src/netlink/libnl.js';

export function seqOf(request: Uint8Array): number {
  return new DataView(request.buffer, request.byteOffset).getUint32(8, true);
}

export class ScriptedSocket implements NetlinkSocket {
  readonly sent: Uint8Array[] = [];
  closed = 0;
  private queue: (Uint8Array | Error)[] = [];
  private readonly buffer = new Uint8Array(256 * 1024);

  constructor(
    /** Datagrams (or an error to throw from receive()) for the `count`-th request (1-based). */
    private readonly answer: (request: Uint8Array, count: number) => (Uint8Array | Error)[],
    readonly localPort = 4242,
  ) {}

  send(bytes: Uint8Array): void {
    this.sent.push(bytes.slice());
    this.queue = this.answer(bytes, this.sent.length);
  }

  receive(): Uint8Array {
    const next = this.queue.shift();
    if (next === undefined) throw new Error('scripted socket: nothing queued (the reader waited for a reply that never comes)');
    if (next instanceof Error) throw next;
    this.buffer.fill(0xee);
    this.buffer.set(next);
    return this.buffer.subarray(0, next.byteLength);
  }

  close(): void {
    this.closed++;
  }
}
