/**
 * Text written straight into Buffers of about 64 KiB each, for the documents that reach tens of
 * megabytes (`/ipvs`, `/metrics` at 100,000 real servers): built from millions of small strings
 * they cost more in allocation, garbage collection and re-encoding than the bytes themselves. No
 * I/O: the caller takes the finished pieces, writes them wherever it likes, and may give their
 * buffers back to a pool.
 */

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const MAX_SAFE_BIG = BigInt(MAX_SAFE);
// A bigint's two 32-bit halves through a typed array: several times cheaper than Number(bigint).
const U64 = new BigUint64Array(1);
const U32 = new Uint32Array(U64.buffer);
const LOW = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 0 : 1;
/** "00" to "99" as ASCII codes. */
const DIGIT_PAIRS = Uint8Array.from({ length: 200 }, (_, i) => 0x30 + (i % 2 === 0 ? Math.floor(i / 20) : (i >> 1) % 10));

/** How many characters String(n) has, for a number `number()` writes: a fraction of building the text to measure it. */
export function numberLength(n: number): number {
  return n >= 0 && n <= MAX_SAFE && Math.floor(n) === n ? decimalDigits(n) : String(n).length;
}

/** Decimal digits of a non-negative integer up to 2^53 − 1. */
function decimalDigits(n: number): number {
  let digits = n < 10 ? 1 : n < 100 ? 2 : n < 1e3 ? 3 : n < 1e4 ? 4 : n < 1e5 ? 5 : n < 1e6 ? 6 : n < 1e7 ? 7 : n < 1e8 ? 8 : n < 1e9 ? 9 : 10;
  for (let p = 1e10; n >= p && digits < 16; p *= 10) digits++;
  return digits;
}

/** Fixed ASCII text between values, encoded once: whole 32-bit words, then the tail bytes. */
export class Ascii {
  readonly bytes: Uint8Array;
  readonly words: Uint32Array;

  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) throw new Error(`not ASCII: ${JSON.stringify(text)}`);
    this.bytes = Buffer.from(text, 'latin1');
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.length);
    this.words = Uint32Array.from({ length: this.bytes.length >> 2 }, (_, i) => view.getUint32(i * 4, true));
  }
}

export function ascii(text: string): Ascii {
  return new Ascii(text);
}

export const PIECE_BYTES = 1 << 16;
const SPACE = 0x20;

/**
 * Piece buffers given back once their bytes are written out, for the next render: a document of
 * tens of megabytes then needs no fresh memory per request (fresh buffers cost page faults and,
 * being memory outside the V8 heap, extra garbage collections). Keeps at most `capacity` buffers,
 * and takes back only buffers it handed out and not yet got back.
 */
export class PiecePool {
  private readonly free: ArrayBuffer[] = [];
  private readonly out = new WeakSet<ArrayBufferLike>();

  constructor(
    readonly pieceBytes = PIECE_BYTES,
    private readonly capacity = 32,
  ) {}

  take(): Buffer {
    const buf = Buffer.from(this.free.pop() ?? new ArrayBuffer(this.pieceBytes));
    this.out.add(buf.buffer);
    return buf;
  }

  /** A piece (or a part of one) whose bytes are no longer needed: its buffer may be reused. */
  give(piece: Uint8Array): void {
    if (!this.out.delete(piece.buffer) || this.free.length >= this.capacity) return;
    this.free.push(piece.buffer as ArrayBuffer);
  }
}

export interface PieceOptions {
  /** Bytes per piece, about; the pool's size when there is a pool. */
  pieceBytes?: number;
  /** Where piece buffers come from (and may be given back to once written). */
  pool?: PiecePool;
}

export class PieceWriter {
  private readonly pieceBytes: number;
  private readonly pool: PiecePool | undefined;
  private buf: Buffer;
  private view: DataView;
  private pos = 0;
  /** Whether every byte of `buf` from `pos` on is a space (spaces() fills it so once per piece). */
  private padded = false;
  /** Whether anything but ASCII may have been written: when not, the bytes decode as latin1, a plain copy. */
  nonAscii = false;
  private done: Buffer[] = [];
  /** Bytes in the pieces closed so far. */
  private sealed = 0;

  constructor(options: PieceOptions = {}) {
    this.pool = options.pool;
    this.pieceBytes = options.pool?.pieceBytes ?? options.pieceBytes ?? PIECE_BYTES;
    this.buf = this.newBuffer(0);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  }

  /** A piece to write into: not filled, as the JSON documents never pad (see spaces()). */
  private newBuffer(n: number): Buffer {
    this.padded = false;
    return n > this.pieceBytes ? Buffer.allocUnsafe(n) : (this.pool?.take() ?? Buffer.allocUnsafe(this.pieceBytes));
  }

  /** Whether filled pieces wait to be taken. */
  get ready(): boolean {
    return this.done.length > 0;
  }

  /** The filled pieces; the writer goes on in the current one. */
  take(): Buffer[] {
    const done = this.done;
    this.done = [];
    return done;
  }

  /** How many bytes have been written, in all pieces. */
  get offset(): number {
    return this.sealed + this.pos;
  }

  /** Every piece not yet taken, the partly filled last one included. */
  finish(): Buffer[] {
    this.sealed += this.pos;
    if (this.pos > 0) this.done.push(this.buf.subarray(0, this.pos));
    else this.pool?.give(this.buf); // never written to
    this.buf = Buffer.alloc(0);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, 0);
    this.pos = 0;
    return this.take();
  }

  /** Closes the current piece and starts one with room for at least `n` bytes. */
  private seal(n: number): void {
    this.sealed += this.pos;
    if (this.pos > 0) this.done.push(this.buf.subarray(0, this.pos));
    this.buf = this.newBuffer(n);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
    this.pos = 0;
  }

  /** Fixed text. Most writes are one of these: copied a word at a time, no call into C++. */
  ascii(a: Ascii): void {
    const bytes = a.bytes;
    const n = bytes.length;
    if (this.pos + n > this.buf.length) this.seal(n);
    let pos = this.pos;
    if (n > 64) {
      this.buf.set(bytes, pos);
      this.pos = pos + n;
      return;
    }
    const words = a.words;
    const view = this.view;
    for (let i = 0; i < words.length; i++, pos += 4) view.setUint32(pos, words[i] as number, true);
    const buf = this.buf;
    for (let i = words.length << 2; i < n; i++) buf[pos++] = bytes[i] as number;
    this.pos = pos;
  }

  /** Pre-encoded bytes of any length. */
  raw(bytes: Uint8Array): void {
    this.nonAscii = true;
    const n = bytes.length;
    if (this.pos + n > this.buf.length) this.seal(n);
    this.buf.set(bytes, this.pos);
    this.pos += n;
  }

  /** Any string, as UTF-8. */
  text(s: string): void {
    const n = s.length;
    if (this.pos + n * 3 > this.buf.length) this.seal(n * 3);
    const buf = this.buf;
    const start = this.pos;
    let pos = start;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) {
        this.nonAscii = true;
        this.pos = start + buf.write(s, start, 'utf8');
        return;
      }
      buf[pos++] = c;
    }
    this.pos = pos;
  }

  /** A JSON string literal, exactly as JSON.stringify(s) writes it. */
  jsonString(s: string): void {
    const n = s.length;
    if (this.pos + n + 2 > this.buf.length) this.seal(n + 2);
    const buf = this.buf;
    const start = this.pos;
    let pos = start;
    buf[pos++] = 0x22;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) {
        // Something to escape, or non-ASCII: rare, so JSON.stringify decides how.
        this.pos = start;
        this.text(JSON.stringify(s));
        return;
      }
      buf[pos++] = c;
    }
    buf[pos++] = 0x22;
    this.pos = pos;
  }

  /** A non-negative integer up to 2^53 − 1, in decimal. */
  uint(n: number): void {
    if (this.pos + 16 > this.buf.length) this.seal(16);
    if (n < 10) {
      this.buf[this.pos++] = 0x30 + n;
      return;
    }
    this.digits(n, decimalDigits(n));
  }

  /** A non-negative integer up to 2^53 − 1 right-aligned in `width` characters: String(n).padStart(width). */
  uintPadStart(n: number, width: number): void {
    const digits = decimalDigits(n);
    this.spaces(width - digits);
    if (this.pos + 16 > this.buf.length) this.seal(16);
    this.digits(n, digits);
  }

  /** The `digits` decimal digits of n, written from the last; the caller has made room. */
  private digits(n: number, digits: number): void {
    const buf = this.buf;
    let pos = this.pos + digits;
    this.pos = pos;
    // Two digits per step; float division until the rest fits an int32, then integer steps.
    let x = n;
    for (; x > 0x7fffffff; x = Math.floor(x / 100)) {
      const r = (x % 100) * 2;
      buf[--pos] = DIGIT_PAIRS[r + 1] as number;
      buf[--pos] = DIGIT_PAIRS[r] as number;
    }
    while (x >= 100) {
      const q = (x / 100) | 0;
      const r = (x - q * 100) * 2;
      buf[--pos] = DIGIT_PAIRS[r + 1] as number;
      buf[--pos] = DIGIT_PAIRS[r] as number;
      x = q;
    }
    if (x >= 10) {
      buf[--pos] = DIGIT_PAIRS[x * 2 + 1] as number;
      buf[--pos] = DIGIT_PAIRS[x * 2] as number;
    } else buf[--pos] = 0x30 + x;
  }

  /**
   * `n` spaces, none when n ≤ 0: the fill of String.prototype.padStart and padEnd. The first in a
   * piece fills the rest of it with spaces, in C++; every write after it lands past the position,
   * where nothing was written yet, so from then on padding costs no write at all, only a step of the
   * position: most of a table's bytes are padding. A piece never padded is never filled (the JSON
   * documents: a fill per piece was 0.24 s of `ipvs --output json`'s CPU profile in the guest, issue 17).
   */
  spaces(n: number): void {
    if (n <= 0) return;
    if (this.pos + n > this.buf.length) this.seal(n);
    if (!this.padded) {
      this.buf.fill(SPACE, this.pos);
      this.padded = true;
    }
    this.pos += n;
  }

  /** A bigint's exact decimal text right-aligned in `width` characters: v.toString().padStart(width). */
  bigintPadStart(v: bigint, width: number): void {
    if (v >= 0n && v <= MAX_SAFE_BIG) {
      U64[0] = v;
      this.uintPadStart((U32[1 - LOW] as number) * 0x100000000 + (U32[LOW] as number), width);
    } else this.text(v.toString().padStart(width));
  }

  /** A number as String(n) writes it: integers digit by digit, anything else through String. */
  number(n: number): void {
    if (n >= 0 && n <= MAX_SAFE && Math.floor(n) === n) this.uint(n);
    else this.text(String(n));
  }

  /** A bigint's exact decimal text. */
  bigint(v: bigint): void {
    if (v >= 0n && v <= MAX_SAFE_BIG) {
      U64[0] = v;
      this.uint((U32[1 - LOW] as number) * 0x100000000 + (U32[LOW] as number));
    } else this.text(v.toString());
  }
}
