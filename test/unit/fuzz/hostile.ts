/**
 * What the fuzz properties share: the one assertion every parser of outside input must pass (a value,
 * or a SentinelError with one of the parser's documented codes — never a TypeError, a RangeError or
 * an uncoded Error), netlink bytes that lie (attribute trees whose lengths are zero, short, past the
 * end or 0xffff; message headers whose nlmsg_len is 0, short or 4 GiB), byte mutations of well-formed
 * messages, and a netlink socket that answers every request with whatever a property hands it.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { SentinelError, type ErrorCode } from '../../../src/errors/index.js';
import { ERRNO, NetlinkError } from '../../../src/netlink/errors.js';
import type { GenericNetlinkSocket } from '../../../src/netlink/libnl.js';
import { NLA_F_NESTED, NLA_F_NET_BYTEORDER, NLA_HDRLEN } from '../../../src/netlink/attributes.js';
import { NLMSG_HDRLEN } from '../../../src/netlink/message.js';

/** `fn()`'s value, or undefined when it threw a SentinelError with one of `codes`; anything else fails the property. */
export function valueOrCoded<T>(codes: readonly ErrorCode[], fn: () => T): T | undefined {
  try {
    return fn();
  } catch (err) {
    expectCoded(codes, err);
    return undefined;
  }
}

/** The async form of valueOrCoded. */
export async function resolvesOrCoded<T>(codes: readonly ErrorCode[], promise: Promise<T>): Promise<T | undefined> {
  try {
    return await promise;
  } catch (err) {
    expectCoded(codes, err);
    return undefined;
  }
}

export function expectCoded(codes: readonly ErrorCode[], err: unknown): void {
  if (!(err instanceof SentinelError)) throw err; // the property's counterexample shows the TypeError / RangeError itself
  expect(codes, `${err.code}: ${err.message}`).toContain(err.code);
}

// ---- netlink attributes that lie ----------------------------------------------------------------

/**
 * One attribute of a hostile tree: a type (known ones of the codec under test, or any), flag bits,
 * and either a payload or children. `lie` replaces the honest nla_len: 0–3 (shorter than the header),
 * a few bytes past the end, or 0xffff.
 */
export interface SoupAttr {
  type: number;
  flags: number;
  lie: number | null;
  body: Uint8Array | SoupAttr[];
}

function u16le(n: number): Uint8Array {
  return Uint8Array.of(n & 0xff, (n >> 8) & 0xff);
}
function u32le(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n >>> 0, true);
  return out;
}
function u32be(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n >>> 0, false);
  return out;
}
function cstring(text: string): Uint8Array {
  const bytes = new TextEncoder().encode(text);
  const out = new Uint8Array(bytes.byteLength + 1);
  out.set(bytes);
  return out;
}

/** Numbers a decoder branches on: address families, protocols, forwarding methods, flags, limits. */
const INTERESTING = [0, 1, 2, 3, 4, 5, 6, 7, 10, 17, 132, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff];
/** Words a decoder looks names up by, including the names of Object.prototype's members. */
export const AWKWARD_NAMES = ['rr', 'sh', 'mh', 'sip', 'hash:ip', 'hash:ip,port', 'hash:ip,port,ip', 'hash:ip,port,net', 'bitmap:port', 'hash:net', 'KUBE-CLUSTER-IP', 'kube-proxy', 'nat', 'constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', '', 'é', '\u{1f600}'];

/** A payload: random bytes of an awkward width, or a well-formed value of a width some decoder reads. */
export const leafPayload: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 24 }) },
  { weight: 2, arbitrary: fc.constantFrom(...INTERESTING).map((n) => u16le(n)) },
  { weight: 2, arbitrary: fc.constantFrom(...INTERESTING).map((n) => u32le(n)) },
  { weight: 1, arbitrary: fc.constantFrom(...INTERESTING).map((n) => u32be(n)) },
  { weight: 1, arbitrary: fc.constantFrom(...INTERESTING).map((n) => Uint8Array.of(n & 0xff)) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 16, maxLength: 16 }) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 8, maxLength: 8 }) },
  { weight: 1, arbitrary: fc.constantFrom(...AWKWARD_NAMES).map(cstring) },
  { weight: 1, arbitrary: fc.constantFrom(0, 255, 1024).map((n) => new Uint8Array(n)) },
);

const lie = fc.oneof(
  { weight: 12, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: NLA_HDRLEN - 1 }) },
  { weight: 1, arbitrary: fc.constantFrom(0xffff, 0x8000, 0x1000) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 12 }).map((n) => -n) }, // negative: n bytes past the honest length
);

/** A hostile attribute tree, `depth` nests deep at most, with types drawn from `types` half the time. */
export function soup(types: readonly number[], depth: number, maxWidth = 6): fc.Arbitrary<SoupAttr[]> {
  const type = types.length === 0 ? fc.integer({ min: 0, max: 0x3fff }) : fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...types) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 0x3fff }) });
  const flags = fc.constantFrom(0, 0, 0, NLA_F_NESTED, NLA_F_NET_BYTEORDER, NLA_F_NESTED | NLA_F_NET_BYTEORDER);
  const body: fc.Arbitrary<Uint8Array | SoupAttr[]> =
    depth <= 0 ? leafPayload : fc.oneof({ weight: 2, arbitrary: leafPayload }, { weight: 1, arbitrary: soup(types, depth - 1, maxWidth) });
  const node: fc.Arbitrary<SoupAttr> = fc.record({ type, flags, lie, body });
  return fc.array(node, { maxLength: maxWidth });
}

/** The bytes of a tree: nla_len honest unless the node lies, each attribute padded to 4 bytes with zeros. */
export function soupBytes(attrs: readonly SoupAttr[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const a of attrs) {
    const payload = a.body instanceof Uint8Array ? a.body : soupBytes(a.body);
    const honest = NLA_HDRLEN + payload.byteLength;
    const len = a.lie === null ? honest : a.lie < 0 ? honest - a.lie : a.lie;
    const out = new Uint8Array((honest + 3) & ~3);
    const view = new DataView(out.buffer);
    view.setUint16(0, len & 0xffff, true);
    view.setUint16(2, (a.type & 0x3fff) | a.flags, true);
    out.set(payload, NLA_HDRLEN);
    parts.push(out);
  }
  return concat(parts);
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
}

// ---- mutations of well-formed bytes -----------------------------------------------------------

export type Mutation =
  | { kind: 'flip'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'u16'; at: number; value: number }
  | { kind: 'u32'; at: number; value: number };

/** Byte flips, cuts, insertions, and u16/u32 overwrites with lying lengths (nla_len, nlmsg_len). */
export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('u16' as const), at: fc.nat(), value: fc.constantFrom(0, 1, 3, 4, 5, 8, 0x7fff, 0xffff) }),
  fc.record({ kind: fc.constant('u32' as const), at: fc.nat(), value: fc.constantFrom(0, 15, 16, 17, 0x10000, 0x7fffffff, 0xffffffff) }),
);

export function mutate(bytes: Uint8Array, m: Mutation): Uint8Array {
  const at = m.at % Math.max(1, bytes.byteLength);
  const out = bytes.slice();
  switch (m.kind) {
    case 'flip':
      if (out.byteLength > 0) out[at] = m.value;
      return out;
    case 'truncate':
      return out.subarray(0, at);
    case 'insert':
      return concat([out.subarray(0, at), m.bytes, out.subarray(at)]);
    case 'u16':
      if (at + 2 <= out.byteLength) new DataView(out.buffer).setUint16(at & ~1, m.value, true);
      return out;
    case 'u32':
      if ((at & ~3) + 4 <= out.byteLength) new DataView(out.buffer).setUint32(at & ~3, m.value, true);
      return out;
  }
}

export function mutateAll(bytes: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  return mutations.reduce(mutate, bytes);
}

// ---- netlink framing ----------------------------------------------------------------------------

/** One netlink message around `payload`; `len` overrides nlmsg_len (a lie), padding is honest. */
export function nlMessage(header: { type: number; flags?: number; seq: number; pid: number; len?: number }, payload: Uint8Array): Uint8Array {
  const honest = NLMSG_HDRLEN + payload.byteLength;
  const out = new Uint8Array((honest + 3) & ~3);
  const view = new DataView(out.buffer);
  view.setUint32(0, header.len ?? honest, true);
  view.setUint16(4, header.type, true);
  view.setUint16(6, header.flags ?? 0, true);
  view.setUint32(8, header.seq, true);
  view.setUint32(12, header.pid, true);
  out.set(payload, NLMSG_HDRLEN);
  return out;
}

/** nlmsg_len values that lie: shorter than the header, a little or a lot past the datagram. */
export const lyingLength = fc.constantFrom(0, 1, 15, 17, 0x10000, 0x7fffffff, 0xffffffff);

/** libnl's receive on an empty non-blocking socket: what a reader sees when the peer stops answering. */
export function noReply(): NetlinkError {
  return new NetlinkError('NETLINK_IO', 'receive netlink reply', 'recv failed: EAGAIN (no reply)', { errno: ERRNO.EAGAIN });
}

/**
 * A netlink socket answering each request with what `answer` returns, lent the way libnl lends it
 * (copied into one receive buffer the next receive() overwrites), then EAGAIN once the answer is
 * used up — so a reader that waits for more than the peer says fails with a coded error, never hangs.
 */
export class HostileSocket implements GenericNetlinkSocket {
  readonly sent: Uint8Array[] = [];
  receives = 0;
  closed = 0;
  private queue: (Uint8Array | Error)[] = [];
  private readonly buffer = new Uint8Array(256 * 1024);

  constructor(
    private readonly answer: (request: Uint8Array, count: number, socket: HostileSocket) => (Uint8Array | Error)[],
    readonly localPort = 4242,
    private readonly familyId: number | null = 0x1c,
  ) {}

  resolveFamily(): number | null {
    return this.familyId;
  }

  send(bytes: Uint8Array): void {
    this.sent.push(bytes.slice());
    this.queue = this.answer(bytes, this.sent.length, this);
  }

  receive(): Uint8Array {
    this.receives++;
    const next = this.queue.shift() ?? noReply();
    if (next instanceof Error) throw next;
    this.buffer.fill(0xee);
    this.buffer.set(next.subarray(0, this.buffer.byteLength));
    return this.buffer.subarray(0, Math.min(next.byteLength, this.buffer.byteLength));
  }

  close(): void {
    this.closed++;
  }
}

export function seqOf(request: Uint8Array): number {
  return new DataView(request.buffer, request.byteOffset).getUint32(8, true);
}
