/**
 * The snapshot document as text (`/ipvs`, `ipvs-sentinel ipvs --output json`), written straight into
 * UTF-8 pieces: at 100,000 real servers it is 35 MB on one line and 68 MB indented, which
 * JSON.stringify (with a replacer for the bigint counters) builds whole and slowly. The text is
 * byte for byte stringifyJson(snapshotJson(…)): the unit tests hold the two together.
 */
import type { ServicePortRef } from '../drift/types.js';
import type { IpvsSnapshot, IpvsStats, RealServer, VirtualServer } from '../ipvs/types.js';
import { ascii, PieceWriter, type Ascii, type PieceOptions } from './pieces.js';
import { serviceFlagNames } from '../ipvs/flags.js';
import { selectServices, type SnapshotJsonOptions } from './snapshot.js';

export interface SnapshotTextOptions extends SnapshotJsonOptions, PieceOptions {
  /** 2-space indented, byte for byte what JSON.stringify(value, null, 2) writes; else one line. */
  pretty: boolean;
}

/**
 * The snapshot document as UTF-8 pieces, ending with a line feed; together they are
 * stringifyJson(snapshotJson(…), pretty ? 2 : 0) + '\n'. Lazy: each piece is rendered when asked
 * for, so a caller writing them to a socket never holds the whole document.
 */
export function* snapshotJsonPieces(snapshot: IpvsSnapshot, options: SnapshotTextOptions): Generator<Buffer, void, undefined> {
  const L = options.pretty ? PRETTY : COMPACT;
  const w = new PieceWriter(options);
  const services = selectServices(snapshot, options);
  const { info, timeouts } = snapshot;
  w.ascii(L.root.key.node);
  nullableString(w, options.node);
  w.ascii(L.root.key.readAt);
  w.jsonString(snapshot.readAt.toISOString());
  w.ascii(L.root.key.durationMs);
  num(w, snapshot.durationMs);
  w.ascii(L.root.key.ipvs);
  w.ascii(L.ipvs.key.info);
  if (info === null) w.ascii(NULL);
  else {
    w.ascii(L.info.key.version);
    w.jsonString(info.version);
    w.ascii(L.info.key.connTableSize);
    num(w, info.connTableSize);
    w.ascii(L.info.end);
  }
  w.ascii(L.ipvs.key.timeouts);
  if (timeouts === null) w.ascii(NULL);
  else {
    w.ascii(L.timeouts.key.tcp);
    nullableNum(w, timeouts.tcp);
    w.ascii(L.timeouts.key.tcpFin);
    nullableNum(w, timeouts.tcpFin);
    w.ascii(L.timeouts.key.udp);
    nullableNum(w, timeouts.udp);
    w.ascii(L.timeouts.end);
  }
  w.ascii(L.ipvs.end);
  w.ascii(L.root.key.services);
  if (services.length === 0) w.ascii(EMPTY_ARRAY);
  for (let i = 0; i < services.length; i++) {
    const { vs, ref } = services[i] as { vs: VirtualServer; ref: ServicePortRef | null };
    w.ascii(i === 0 ? L.services.first : L.services.next);
    writeService(w, vs, ref, L);
    if (w.ready) yield* w.take();
  }
  if (services.length > 0) w.ascii(L.services.end);
  if (snapshot.unknownAttributes.length > 0) {
    w.ascii(L.root.key.unknownAttributes);
    stringArray(w, snapshot.unknownAttributes, L.unknownAttributes);
  }
  w.ascii(L.documentEnd);
  yield* w.finish();
}

/** The whole snapshot document (the CLI's `--output json`), ending with a line feed. */
export function renderSnapshotJson(snapshot: IpvsSnapshot, options: SnapshotTextOptions): string {
  return Buffer.concat([...snapshotJsonPieces(snapshot, options)]).toString('utf8');
}

type StatsKey = keyof IpvsStats;
const STATS_KEYS: readonly StatsKey[] = ['conns', 'inPkts', 'outPkts', 'inBytes', 'outBytes', 'cps', 'inPps', 'outPps', 'inBps', 'outBps'];
/** The kernel's rate estimates, zero whenever a server is idle for a few seconds. */
const RATE_KEYS: readonly StatsKey[] = ['cps', 'inPps', 'outPps', 'inBps', 'outBps'];
const SERVICE_KEYS = ['key', 'family', 'protocol', 'address', 'port', 'fwmark', 'scheduler', 'persistent', 'timeout', 'netmask', 'flags', 'pe', 'stats', 'service', 'destinations'] as const;
const DESTINATION_KEYS = ['address', 'port', 'forward', 'weight', 'upperThreshold', 'lowerThreshold', 'activeConns', 'inactiveConns', 'persistentConns', 'stats', 'addressFamily', 'tunnel'] as const;
const NULL = ascii('null');
const TRUE = ascii('true');
const FALSE = ascii('false');
const EMPTY_ARRAY = ascii('[]');

/** The fixed text of one object at one depth: what precedes each key's value (the brace or comma included), and what closes it. */
interface ObjectLayout<K extends string> {
  key: Record<K, Ascii>;
  end: Ascii;
}

/** The same for an array of strings: before the first item, before each next one, and the close. */
interface ArrayLayout {
  first: Ascii;
  next: Ascii;
  end: Ascii;
}

function newline(depth: number, pretty: boolean): string {
  return pretty ? `\n${'  '.repeat(depth)}` : '';
}

function objectLayout<K extends string>(keys: readonly K[], depth: number, pretty: boolean): ObjectLayout<K> {
  const key = {} as Record<K, Ascii>;
  keys.forEach((k, i) => (key[k] = ascii(`${i === 0 ? '{' : ','}${newline(depth + 1, pretty)}"${k}":${pretty ? ' ' : ''}`)));
  return { key, end: ascii(`${newline(depth, pretty)}}`) };
}

function arrayLayout(depth: number, pretty: boolean): ArrayLayout {
  return { first: ascii(`[${newline(depth + 1, pretty)}`), next: ascii(`,${newline(depth + 1, pretty)}`), end: ascii(`${newline(depth, pretty)}]`) };
}

/** A stats object, plus the whole text of one with every counter zero, and of its rates all zero. */
interface StatsLayout extends ObjectLayout<StatsKey> {
  zero: Ascii;
  zeroRates: Ascii;
}

function statsLayout(depth: number, pretty: boolean): StatsLayout {
  const L = objectLayout(STATS_KEYS, depth, pretty);
  const text = (keys: readonly StatsKey[]): string => keys.map((k) => `${L.key[k].text}0`).join('') + L.end.text;
  return { ...L, zero: ascii(text(STATS_KEYS)), zeroRates: ascii(text(RATE_KEYS)) };
}

/** Depths as JSON.stringify indents them: root 0, a service 2, a destination 4, its stats 5. */
function layout(pretty: boolean) {
  return {
    root: objectLayout(['node', 'readAt', 'durationMs', 'ipvs', 'services', 'unknownAttributes'], 0, pretty),
    unknownAttributes: arrayLayout(1, pretty),
    documentEnd: ascii(`${newline(0, pretty)}}\n`),
    ipvs: objectLayout(['info', 'timeouts'], 1, pretty),
    info: objectLayout(['version', 'connTableSize'], 2, pretty),
    timeouts: objectLayout(['tcp', 'tcpFin', 'udp'], 2, pretty),
    services: arrayLayout(1, pretty),
    service: objectLayout(SERVICE_KEYS, 2, pretty),
    flags: arrayLayout(3, pretty),
    serviceStats: statsLayout(3, pretty),
    serviceRef: objectLayout(['namespace', 'name', 'port'], 3, pretty),
    destinations: arrayLayout(3, pretty),
    destination: objectLayout(DESTINATION_KEYS, 4, pretty),
    destinationStats: statsLayout(5, pretty),
    tunnel: objectLayout(['type', 'port', 'flags'], 5, pretty),
    tunnelFlags: arrayLayout(6, pretty),
  };
}
type Layout = ReturnType<typeof layout>;
const PRETTY = layout(true);
const COMPACT = layout(false);

function writeService(w: PieceWriter, vs: VirtualServer, ref: ServicePortRef | null, L: Layout): void {
  const k = L.service.key;
  w.ascii(k.key);
  w.jsonString(vs.key);
  w.ascii(k.family);
  enumString(w, vs.family);
  w.ascii(k.protocol);
  if (vs.protocol === null) w.ascii(NULL);
  else enumString(w, vs.protocol);
  w.ascii(k.address);
  nullableString(w, vs.address);
  w.ascii(k.port);
  nullableNum(w, vs.port);
  w.ascii(k.fwmark);
  nullableNum(w, vs.fwmark);
  w.ascii(k.scheduler);
  enumString(w, vs.scheduler);
  w.ascii(k.persistent);
  w.ascii(vs.persistent ? TRUE : FALSE);
  w.ascii(k.timeout);
  num(w, vs.timeout);
  w.ascii(k.netmask);
  num(w, vs.netmask);
  w.ascii(k.flags);
  stringArray(w, serviceFlagNames(vs), L.flags);
  w.ascii(k.pe);
  nullableString(w, vs.pe);
  w.ascii(k.stats);
  writeStats(w, vs.stats, L.serviceStats);
  w.ascii(k.service);
  if (ref === null) w.ascii(NULL);
  else {
    w.ascii(L.serviceRef.key.namespace);
    w.jsonString(ref.namespace);
    w.ascii(L.serviceRef.key.name);
    w.jsonString(ref.name);
    w.ascii(L.serviceRef.key.port);
    w.jsonString(ref.port);
    w.ascii(L.serviceRef.end);
  }
  w.ascii(k.destinations);
  const destinations = vs.destinations;
  if (destinations.length === 0) w.ascii(EMPTY_ARRAY);
  else {
    for (let i = 0; i < destinations.length; i++) {
      w.ascii(i === 0 ? L.destinations.first : L.destinations.next);
      writeDestination(w, destinations[i] as RealServer, L);
    }
    w.ascii(L.destinations.end);
  }
  w.ascii(L.service.end);
}

function writeDestination(w: PieceWriter, rs: RealServer, L: Layout): void {
  const k = L.destination.key;
  w.ascii(k.address);
  w.jsonString(rs.address);
  w.ascii(k.port);
  num(w, rs.port);
  w.ascii(k.forward);
  enumString(w, rs.forward);
  w.ascii(k.weight);
  num(w, rs.weight);
  w.ascii(k.upperThreshold);
  num(w, rs.upperThreshold);
  w.ascii(k.lowerThreshold);
  num(w, rs.lowerThreshold);
  w.ascii(k.activeConns);
  num(w, rs.activeConns);
  w.ascii(k.inactiveConns);
  num(w, rs.inactiveConns);
  w.ascii(k.persistentConns);
  num(w, rs.persistentConns);
  w.ascii(k.stats);
  writeStats(w, rs.stats, L.destinationStats);
  w.ascii(k.addressFamily);
  enumString(w, rs.addressFamily);
  w.ascii(k.tunnel);
  const tunnel = rs.tunnel;
  if (tunnel === null) w.ascii(NULL);
  else {
    w.ascii(L.tunnel.key.type);
    w.jsonString(tunnel.type);
    w.ascii(L.tunnel.key.port);
    num(w, tunnel.port);
    w.ascii(L.tunnel.key.flags);
    stringArray(w, tunnel.flags, L.tunnelFlags);
    w.ascii(L.tunnel.end);
  }
  w.ascii(L.destination.end);
}

/** Counters as JSON integers with every digit. */
function writeStats(w: PieceWriter, s: IpvsStats, L: StatsLayout): void {
  // Idle real servers (all zero) and idle moments (rates zero) are common: one constant each.
  const idle = s.cps === 0n && s.inPps === 0n && s.outPps === 0n && s.inBps === 0n && s.outBps === 0n;
  if (idle && s.conns === 0n && s.inPkts === 0n && s.outPkts === 0n && s.inBytes === 0n && s.outBytes === 0n) {
    w.ascii(L.zero);
    return;
  }
  const k = L.key;
  w.ascii(k.conns);
  w.bigint(s.conns);
  w.ascii(k.inPkts);
  w.bigint(s.inPkts);
  w.ascii(k.outPkts);
  w.bigint(s.outPkts);
  w.ascii(k.inBytes);
  w.bigint(s.inBytes);
  w.ascii(k.outBytes);
  w.bigint(s.outBytes);
  if (idle) {
    w.ascii(L.zeroRates);
    return;
  }
  w.ascii(k.cps);
  w.bigint(s.cps);
  w.ascii(k.inPps);
  w.bigint(s.inPps);
  w.ascii(k.outPps);
  w.bigint(s.outPps);
  w.ascii(k.inBps);
  w.bigint(s.inBps);
  w.ascii(k.outBps);
  w.bigint(s.outBps);
  w.ascii(L.end);
}

function stringArray(w: PieceWriter, items: readonly string[], L: ArrayLayout): void {
  if (items.length === 0) {
    w.ascii(EMPTY_ARRAY);
    return;
  }
  for (let i = 0; i < items.length; i++) {
    w.ascii(i === 0 ? L.first : L.next);
    w.jsonString(items[i] as string);
  }
  w.ascii(L.end);
}

/** The values of the schema's enumerations, quoted once. */
const QUOTED = new Map<string, Ascii>(['inet', 'inet6', 'TCP', 'UDP', 'SCTP', 'masq', 'local', 'tunnel', 'route', 'bypass', 'rr', 'wrr', 'lc', 'wlc', 'sh', 'mh'].map((v) => [v, ascii(JSON.stringify(v))]));

function enumString(w: PieceWriter, s: string): void {
  const quoted = QUOTED.get(s);
  if (quoted === undefined) w.jsonString(s);
  else w.ascii(quoted);
}

function nullableString(w: PieceWriter, s: string | null): void {
  if (s === null) w.ascii(NULL);
  else w.jsonString(s);
}

/** A JSON number as JSON.stringify writes it (NaN and ±Infinity become null). */
function num(w: PieceWriter, n: number): void {
  if (Number.isFinite(n)) w.number(n);
  else w.ascii(NULL);
}

function nullableNum(w: PieceWriter, n: number | null): void {
  if (n === null) w.ascii(NULL);
  else num(w, n);
}
