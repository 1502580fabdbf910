/**
 * Many small byte strings in one growing buffer: for messages that must outlive the datagram they
 * came in (the socket receives into one reused buffer) without an ArrayBuffer — a separate malloc —
 * of their own each. The buffer is kept and refilled: clear() forgets the contents, not the memory.
 */
export class ByteList {
  private bytes = new Uint8Array(16 * 1024);
  private used = 0;
  /** End offset of each entry; entry i starts where entry i - 1 ends. */
  private readonly ends: number[] = [];

  get length(): number {
    return this.ends.length;
  }

  push(data: Uint8Array): void {
    if (this.used + data.byteLength > this.bytes.byteLength) {
      const grown = new Uint8Array(Math.max(this.bytes.byteLength * 2, this.used + data.byteLength));
      grown.set(this.bytes.subarray(0, this.used));
      this.bytes = grown;
    }
    this.bytes.set(data, this.used);
    this.used += data.byteLength;
    this.ends.push(this.used);
  }

  /** Entry i, a view valid until the next push() or clear(). */
  at(i: number): Uint8Array {
    const end = this.ends[i];
    if (end === undefined) throw new RangeError(`ByteList: no entry ${i} of ${this.ends.length}`);
    return this.bytes.subarray(i === 0 ? 0 : (this.ends[i - 1] ?? 0), end);
  }

  clear(): void {
    this.used = 0;
    this.ends.length = 0;
  }
}
