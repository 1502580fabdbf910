/**
 * An IPVS snapshot packed for the hand-over from the reading thread (src/cli/ipvs-read-worker.ts) to
 * the command's (src/ipvs/threaded-reader.ts): numbers in one Float64Array, counters in one
 * BigUint64Array, both transferred without a copy, and every string in one text. The structured
 * clone of the snapshot itself writes and reads each property of each of its ~100,000 objects by
 * name; at 5,000 × 10 in the guest that took 1.5 s of `check`'s time, more than its diff (issue 17).
 *
 * unpackSnapshot gives back what the decoder made, object for object: the same fields in the same
 * order (one shape for each kind of object, as decodeServiceMessage and decodeDestMessage build
 * them), and the shared frozen ZERO_STATS wherever every counter is 0, as the decoder does.
 */
import { ZERO_STATS } from './codec.js';
import type { AddressFamily, ForwardMethod, IpvsInfo, IpvsSnapshot, IpvsStats, IpvsTimeouts, Protocol, RealServer, Tunnel, VirtualServer } from './types.js';

export interface PackedSnapshot {
  readonly readAt: number;
  readonly durationMs: number;
  readonly info: IpvsInfo | null;
  readonly timeouts: IpvsTimeouts | null;
  readonly unknownAttributes: readonly string[];
  readonly services: number;
  /** Per service SERVICE_NUMBERS, then per destination DEST_NUMBERS, services in order, each followed by its destinations. */
  readonly numbers: Float64Array<ArrayBuffer>;
  /** STATS_FIELDS counters per service and per destination, in the order of `numbers`. */
  readonly counters: BigUint64Array<ArrayBuffer>;
  /** Every string, one after the other; `numbers` holds each one's length. */
  readonly text: string;
  /** The rare tunnel destinations' settings, by the destination's number in the table (0-based, across services). */
  readonly tunnels: readonly { readonly destination: number; readonly tunnel: Tunnel }[];
}

const FAMILIES: readonly AddressFamily[] = ['inet', 'inet6'];
const PROTOCOLS: readonly (Protocol | null)[] = [null, 'TCP', 'UDP', 'SCTP'];
const FORWARDS: readonly ForwardMethod[] = ['masq', 'local', 'tunnel', 'route', 'bypass'];
const STATS_FIELDS = ['conns', 'inPkts', 'outPkts', 'inBytes', 'outBytes', 'cps', 'inPps', 'outPps', 'inBps', 'outBps'] as const satisfies readonly (keyof IpvsStats)[];
const COUNTERS = STATS_FIELDS.length;
// key, address, scheduler and pe are strings: their lengths, -1 for null.
const SERVICE_NUMBERS = 13; // family protocol keyLength addressLength port fwmark schedulerLength flagBits persistent timeout netmask peLength destinations
const DEST_NUMBERS = 10; // addressLength family port forward weight upperThreshold lowerThreshold activeConns inactiveConns persistentConns
/** The 64-bit counters' largest value; the decoder's are never larger (u64 attributes). */
const U64_MAX = (1n << 64n) - 1n;

function indexIn<T>(values: readonly T[], value: T, what: string): number {
  const i = values.indexOf(value);
  if (i < 0) throw new Error(`snapshot transfer: unknown ${what} ${String(value)}`);
  return i;
}

/** The snapshot as flat arrays; the two arrays' buffers are what the caller transfers. */
export function packSnapshot(snapshot: IpvsSnapshot): PackedSnapshot {
  let destinations = 0;
  for (const vs of snapshot.services) destinations += vs.destinations.length;
  const numbers = new Float64Array(snapshot.services.length * SERVICE_NUMBERS + destinations * DEST_NUMBERS);
  const counters = new BigUint64Array((snapshot.services.length + destinations) * COUNTERS);
  const strings: string[] = [];
  const tunnels: { destination: number; tunnel: Tunnel }[] = [];
  let n = 0;
  let c = 0;
  let destination = 0;
  const string = (text: string | null): number => {
    if (text === null) return -1;
    strings.push(text);
    return text.length;
  };
  const stats = (s: IpvsStats): void => {
    if (s === ZERO_STATS) {
      c += COUNTERS; // the array starts as zeros: most real servers of an idle table cost nothing here
      return;
    }
    for (const field of STATS_FIELDS) {
      const value = s[field];
      if (value < 0n || value > U64_MAX) throw new Error(`snapshot transfer: counter ${field} ${value} is not a u64`);
      counters[c++] = value;
    }
  };
  for (const vs of snapshot.services) {
    numbers[n++] = indexIn(FAMILIES, vs.family, 'family');
    numbers[n++] = indexIn(PROTOCOLS, vs.protocol, 'protocol');
    numbers[n++] = string(vs.key);
    numbers[n++] = string(vs.address);
    numbers[n++] = vs.port ?? -1;
    numbers[n++] = vs.fwmark ?? -1;
    numbers[n++] = string(vs.scheduler);
    numbers[n++] = vs.flagBits;
    numbers[n++] = vs.persistent ? 1 : 0;
    numbers[n++] = vs.timeout;
    numbers[n++] = vs.netmask;
    numbers[n++] = string(vs.pe);
    numbers[n++] = vs.destinations.length;
    stats(vs.stats);
    for (const rs of vs.destinations) {
      numbers[n++] = string(rs.address);
      numbers[n++] = indexIn(FAMILIES, rs.addressFamily, 'family');
      numbers[n++] = rs.port;
      numbers[n++] = indexIn(FORWARDS, rs.forward, 'forwarding method');
      numbers[n++] = rs.weight;
      numbers[n++] = rs.upperThreshold;
      numbers[n++] = rs.lowerThreshold;
      numbers[n++] = rs.activeConns;
      numbers[n++] = rs.inactiveConns;
      numbers[n++] = rs.persistentConns;
      stats(rs.stats);
      if (rs.tunnel !== null) tunnels.push({ destination, tunnel: rs.tunnel });
      destination++;
    }
  }
  return {
    readAt: snapshot.readAt.getTime(),
    durationMs: snapshot.durationMs,
    info: snapshot.info,
    timeouts: snapshot.timeouts,
    unknownAttributes: snapshot.unknownAttributes,
    services: snapshot.services.length,
    numbers,
    counters,
    text: strings.join(''),
    tunnels,
  };
}

function malformed(what: string): Error {
  return new Error(`snapshot transfer: malformed: ${what}`);
}

function valueAt<T>(values: readonly T[], index: number, what: string): T {
  if (!Number.isInteger(index) || index < 0 || index >= values.length) throw malformed(`${what} ${index}`);
  return values[index] as T;
}

/**
 * What packSnapshot was given, rebuilt from what it made (after the structured clone). Checked as
 * it goes, though only the worker sends it: arrays, lengths and indices that do not add up throw
 * rather than make a table with holes in it.
 */
export function unpackSnapshot(packed: PackedSnapshot): IpvsSnapshot {
  const { numbers, counters, text } = packed;
  const tunnelList: unknown = packed.tunnels;
  if (!(numbers instanceof Float64Array) || !(counters instanceof BigUint64Array) || typeof text !== 'string' || !Array.isArray(tunnelList)) {
    throw malformed('not a packed snapshot');
  }
  if (!Number.isSafeInteger(packed.services) || packed.services < 0) throw malformed(`service count ${packed.services}`);
  const tunnels = new Map(packed.tunnels.map((t) => [t.destination, t.tunnel]));
  // The counters as 32-bit halves, to see that a server's are all zero without making a bigint of each.
  const words = new Uint32Array(counters.buffer, counters.byteOffset, counters.length * 2);
  let n = 0;
  let c = 0;
  let at = 0;
  let destination = 0;
  const num = (): number => {
    if (n >= numbers.length) throw malformed(`${numbers.length} numbers, more needed`);
    return numbers[n++] as number;
  };
  const string = (length: number): string | null => {
    if (length === -1) return null;
    if (!Number.isInteger(length) || length < 0 || at + length > text.length) throw malformed(`string of length ${length} at ${at} of ${text.length}`);
    const s = text.slice(at, at + length);
    at += length;
    return s;
  };
  const required = (length: number, what: string): string => {
    const s = string(length);
    if (s === null) throw malformed(`no ${what}`);
    return s;
  };
  const stats = (): IpvsStats => {
    if (c + COUNTERS > counters.length) throw malformed(`${counters.length} counters, more needed`);
    let traffic = false;
    for (let i = c * 2, end = i + COUNTERS * 2; i < end; i++) {
      if (words[i] !== 0) {
        traffic = true;
        break;
      }
    }
    if (!traffic) {
      c += COUNTERS;
      return ZERO_STATS;
    }
    const s: IpvsStats = {
      conns: counters[c] as bigint,
      inPkts: counters[c + 1] as bigint,
      outPkts: counters[c + 2] as bigint,
      inBytes: counters[c + 3] as bigint,
      outBytes: counters[c + 4] as bigint,
      cps: counters[c + 5] as bigint,
      inPps: counters[c + 6] as bigint,
      outPps: counters[c + 7] as bigint,
      inBps: counters[c + 8] as bigint,
      outBps: counters[c + 9] as bigint,
    };
    c += COUNTERS;
    return s;
  };
  const nullable = (value: number): number | null => (value === -1 ? null : value);
  const services: VirtualServer[] = new Array<VirtualServer>(packed.services);
  for (let s = 0; s < packed.services; s++) {
    const family = valueAt(FAMILIES, num(), 'family');
    const protocol = valueAt(PROTOCOLS, num(), 'protocol');
    const key = required(num(), 'service key');
    const address = string(num());
    const port = nullable(num());
    const fwmark = nullable(num());
    const scheduler = required(num(), `scheduler of ${key}`);
    const flagBits = num();
    const persistent = num() === 1;
    const timeout = num();
    const netmask = num();
    const pe = string(num());
    const count = num();
    if (!Number.isSafeInteger(count) || count < 0 || n + count * DEST_NUMBERS > numbers.length) throw malformed(`${count} real servers for ${key}`);
    const vsStats = stats();
    const destinations: RealServer[] = new Array<RealServer>(count);
    for (let d = 0; d < count; d++, destination++) {
      destinations[d] = {
        address: required(num(), `real server address in ${key}`),
        addressFamily: valueAt(FAMILIES, num(), 'family'),
        port: num(),
        forward: valueAt(FORWARDS, num(), 'forwarding method'),
        weight: num(),
        upperThreshold: num(),
        lowerThreshold: num(),
        activeConns: num(),
        inactiveConns: num(),
        persistentConns: num(),
        tunnel: tunnels.get(destination) ?? null,
        stats: stats(),
      };
    }
    services[s] = { key, family, protocol, address, port, fwmark, scheduler, flagBits, persistent, timeout, netmask, pe, stats: vsStats, destinations };
  }
  if (n !== numbers.length || c !== counters.length || at !== text.length) {
    throw malformed(`${numbers.length - n} numbers, ${counters.length - c} counters and ${text.length - at} characters left over`);
  }
  for (const t of packed.tunnels) {
    if (!Number.isInteger(t.destination) || t.destination < 0 || t.destination >= destination) throw malformed(`tunnel of real server ${t.destination} of ${destination}`);
  }
  return {
    readAt: new Date(packed.readAt),
    durationMs: packed.durationMs,
    info: packed.info,
    timeouts: packed.timeouts,
    services,
    unknownAttributes: packed.unknownAttributes,
  };
}
