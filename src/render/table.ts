/**
 * The ipvsadm-like table (`ipvs-sentinel ipvs`, `/ipvs?format=text`, the top of `check`): the
 * lines of `ipvsadm -Ln` with the counters of `--stats --exact` on the right, optionally annotated
 * with the Service each virtual server serves and with drift marks.
 */
import type { IpvsSnapshot, RealServer, VirtualServer } from '../ipvs/types.js';
import { FORWARD_WORD, serviceFlagNames, SVC_FLAG } from '../ipvs/flags.js';
import { hostPort } from '../util/ip.js';
import { ascii, numberLength, PieceWriter } from './pieces.js';
import type { ServiceLookup } from './snapshot.js';

export interface TableOptions {
  lookup?: ServiceLookup;
  /** A short note for a virtual server (realServer null) or one of its real servers, e.g. "<- missing"; a missing real server's row has "<- missing real server" without one. */
  mark?: (virtualServerKey: string, realServerKey: string | null) => string | null;
  /** Extra rows for real servers that should exist but do not (drift), per virtual server key. */
  missingRealServers?: (virtualServerKey: string) => string[];
  /** Whether any real server of this virtual server has a mark; without it, mark() is asked for each. */
  marksRealServers?: (virtualServerKey: string) => boolean;
  /** Keep only virtual servers of this Service ("namespace/name"). */
  service?: string;
}

const STATS_HEADER = ['Conns', 'InPkts', 'OutPkts', 'InBytes', 'OutBytes'];
const SERVICE_HEADER = 'Prot LocalAddress:Port Scheduler Flags';
const REAL_HEADER = ['  -> RemoteAddress:Port', 'Forward', 'Weight', 'ActiveConn', 'InActConn'];
/** Minimum column widths (those of a typical IPv4 table); columns grow to fit long IPv6 addresses and 20-digit counters. */
const MIN = [44, 16, 7, 11, 10];
const MIN_NUM = 12;
const SCHED_FLAGS = SVC_FLAG.sched1 | SVC_FLAG.sched2 | SVC_FLAG.sched3;
const ARROW = ascii('  -> ');
const NEWLINE = ascii('\n');

type Stats = VirtualServer['stats'];

function serviceLine(vs: VirtualServer): string {
  const proto = vs.fwmark !== null ? 'FWM' : (vs.protocol ?? '?');
  const target = vs.fwmark !== null ? `${vs.fwmark}${vs.family === 'inet6' ? ' IPv6' : ''}` : hostPort(vs.address ?? '', vs.port ?? 0);
  let text = `${proto.padEnd(4)} ${target} ${vs.scheduler}`;
  if (vs.flagBits & SCHED_FLAGS) text += ` (${serviceFlagNames({ scheduler: vs.scheduler, flagBits: vs.flagBits & SCHED_FLAGS }).join(',')})`;
  if (vs.persistent) {
    text += ` persistent ${vs.timeout}`;
    if (vs.netmask !== (vs.family === 'inet' ? 32 : 128)) text += ` mask /${vs.netmask}`;
  }
  if (vs.flagBits & SVC_FLAG.onePacket) text += ' ops';
  if (vs.pe) text += ` pe ${vs.pe}`;
  return text;
}

function forwardCell(rs: RealServer): string {
  const word = FORWARD_WORD[rs.forward];
  return rs.tunnel ? `${word} ${rs.tunnel.type}${rs.tunnel.port ? `:${rs.tunnel.port}` : ''}` : word;
}

/** A virtual server the table shows, with what its row says. */
interface ShownService {
  vs: VirtualServer;
  head: string;
  /** "# namespace/name:port", or null when the Service is not known. */
  ref: string | null;
  missing: readonly string[];
}

/**
 * The table's layout: which virtual servers it shows and how wide its columns are (each real-server
 * column at least its minimum and wide enough for every cell plus one space), measured without
 * building the cells.
 */
interface Layout {
  shown: ShownService[];
  widths: number[];
  /** The virtual server lines' width: the real-server columns together, or the longest line plus one space. */
  span: number;
  /** The counter columns' width: the longest counter plus two spaces. */
  numWidth: number;
}

function measure(snapshot: IpvsSnapshot, options: TableOptions): Layout {
  const shown: ShownService[] = [];
  const widths = MIN.map((min, i) => Math.max(min, (REAL_HEADER[i] ?? '').length + 1));
  let headWidth = SERVICE_HEADER.length + 1;
  let maxCounter = 0n;
  let minCounter = 0n;
  const counter = (v: bigint): void => {
    if (v > maxCounter) maxCounter = v;
    else if (v < minCounter) minCounter = v;
  };
  const counters = (s: Stats): void => {
    counter(s.conns);
    counter(s.inPkts);
    counter(s.outPkts);
    counter(s.inBytes);
    counter(s.outBytes);
  };
  const widen = (i: number, length: number): void => {
    if (length >= (widths[i] as number)) widths[i] = length + 1;
  };
  for (const vs of snapshot.services) {
    const ref = options.lookup?.(vs.key) ?? null;
    if (options.service !== undefined && (ref === null || `${ref.namespace}/${ref.name}` !== options.service)) continue;
    const head = serviceLine(vs);
    headWidth = Math.max(headWidth, head.length + 1);
    counters(vs.stats);
    for (const rs of vs.destinations) {
      // "  -> " address (in brackets when IPv6) ":" port — the length of hostPort() without building it.
      widen(0, 6 + rs.address.length + (rs.address.includes(':') ? 2 : 0) + numberLength(rs.port));
      widen(1, rs.tunnel ? forwardCell(rs).length : FORWARD_WORD[rs.forward].length);
      widen(2, numberLength(rs.weight));
      widen(3, numberLength(rs.activeConns));
      widen(4, numberLength(rs.inactiveConns));
      counters(rs.stats);
    }
    const missing = options.missingRealServers?.(vs.key) ?? [];
    for (const m of missing) widen(0, 5 + m.length);
    shown.push({ vs, head, ref: refText(ref), missing });
  }
  const cellsWidth = widths.reduce((a, b) => a + b, 0);
  const span = Math.max(cellsWidth, headWidth);
  widths[4] = (widths[4] as number) + span - cellsWidth; // a long service line widens the last column
  const numWidth = Math.max(MIN_NUM, maxCounter.toString().length + 2, minCounter.toString().length + 2);
  return { shown, widths, span, numWidth };
}

/**
 * The table, then `after` (what `check` prints below it) in the same text, so a document of tens of
 * megabytes is copied once.
 */
export function renderTable(snapshot: IpvsSnapshot, options: TableOptions = {}, after = ''): string {
  const { bytes, nonAscii } = writeTable(snapshot, options, after);
  return bytes.toString(nonAscii ? 'utf8' : 'latin1');
}

/**
 * renderTable's text as UTF-8 bytes, for output that takes bytes (`check` on stdout): the megabytes
 * are then not decoded into a string only to be encoded again on the way out.
 */
export function renderTableBytes(snapshot: IpvsSnapshot, options: TableOptions = {}, after = ''): Buffer {
  return writeTable(snapshot, options, after).bytes;
}

/**
 * The plain table of a snapshot (renderTableBytes(snapshot)) with what it takes to finish it as an
 * annotated one later, elsewhere: `check` has it written in the thread that read the snapshot while
 * its own thread computes the desired state and the diff, and then only adds the notes and the
 * missing real servers' rows (finishTableBytes; src/ipvs/threaded-reader.ts, issue 17). Plain data:
 * it crosses threads with its two arrays' buffers transferred.
 */
export interface TableBase {
  readonly bytes: Uint8Array;
  /** Where the first virtual server's line starts, after the heading lines. */
  readonly headerEnd: number;
  /** Per virtual server, then each of its real servers, in the snapshot's order: where the line's text ends, at its newline. */
  readonly lineEnds: Int32Array;
  /** The column widths and the counter columns' width the table was laid out with. */
  readonly widths: readonly number[];
  readonly numWidth: number;
}

/**
 * A TableBase as it is posted to another thread, with the buffers to transfer. Bytes that lie in
 * Node's shared pool of small Buffers (a table of a few KiB; the pool is 64 KiB on Node 24) are not
 * ours to transfer, and postMessage refuses them: those are copied first. A pool's buffer is
 * exactly Buffer.poolSize bytes; a buffer of that size or less is copied whether pooled or not.
 */
export function tableBaseMessage(base: TableBase): { base: TableBase; transfer: ArrayBuffer[] } {
  const bytes = base.bytes.buffer.byteLength > Buffer.poolSize ? base.bytes : new Uint8Array(base.bytes);
  return { base: { ...base, bytes }, transfer: [bytes.buffer as ArrayBuffer, base.lineEnds.buffer as ArrayBuffer] };
}

/** The plain table of `snapshot` as a TableBase. */
export function renderTableBase(snapshot: IpvsSnapshot): TableBase {
  let lines = snapshot.services.length;
  for (const vs of snapshot.services) lines += vs.destinations.length;
  const lineEnds = new Int32Array(lines);
  const { bytes, headerEnd, layout } = writeTable(snapshot, {}, '', lineEnds);
  return { bytes, headerEnd, lineEnds, widths: layout.widths, numWidth: layout.numWidth };
}

/**
 * renderTableBytes(snapshot, options, after), from the snapshot's TableBase: byte for byte the same,
 * its lines copied and the notes and missing rows written between them. Null when the base cannot
 * give that table, which then has to be written whole: a missing real server's row wider than the
 * first column (the annotated table's columns are then wider), a Service filter, or a base of
 * another table.
 */
export function finishTableBytes(base: TableBase, snapshot: IpvsSnapshot, options: TableOptions = {}, after = ''): Buffer | null {
  if (options.service !== undefined) return null;
  const { bytes, lineEnds: ends, widths, numWidth } = base;
  const [w0, w1, w2, w3, w4] = widths as [number, number, number, number, number];
  let lines = snapshot.services.length;
  let missingRows = 0;
  for (const vs of snapshot.services) {
    lines += vs.destinations.length;
    for (const m of options.missingRealServers?.(vs.key) ?? []) {
      if (5 + m.length >= w0) return null; // measure() would have widened the first column
      missingRows++;
    }
  }
  if (lines !== ends.length || widths.length !== 5 || bytes.length < base.headerEnd || (lines > 0 && (ends[lines - 1] as number) >= bytes.length)) return null;
  const { lookup, mark } = options;
  const w = new PieceWriter({ pieceBytes: bytes.length + missingRows * (w0 + w1 + w2 + w3 + w4 + 64) + snapshot.services.length * 64 + after.length * 3 + 4096 });
  let from = 0;
  /** The base's bytes from where copying stopped up to `to`. */
  const copyTo = (to: number): void => {
    if (to > from) w.raw(bytes.subarray(from, to));
    from = to;
  };
  // As writeTable's note(): at the end of its line, before the newline copied next.
  const note = (to: number, text: string | null): void => {
    if (!text) return;
    copyTo(to);
    w.text(`  ${text}`.trimEnd());
  };
  // A virtual server's line starts with its protocol, a real server's with "  -> ": each line where
  // this snapshot puts it, or the base is another table's.
  const startsRow = (end: number): boolean => bytes[end + 1] === 0x20;
  if (lines > 0 && bytes[base.headerEnd] === 0x20) return null;
  let k = 0;
  let last = base.headerEnd - 1;
  /** Line k's end, after the line before's: null past the end of a base that is not this snapshot's. */
  const lineEnd = (): number | null => {
    const end = ends[k++] as number;
    if (end <= last) return null;
    last = end;
    return end;
  };
  for (const vs of snapshot.services) {
    let end = lineEnd();
    if (end === null || (k < lines && startsRow(end) !== vs.destinations.length > 0)) return null;
    note(end, serviceNote(refText(lookup?.(vs.key) ?? null), mark?.(vs.key, null) ?? null));
    const rowMarks = mark !== undefined && (options.marksRealServers?.(vs.key) ?? true);
    for (let i = 0; i < vs.destinations.length; i++) {
      const rs = vs.destinations[i] as RealServer;
      end = lineEnd();
      if (end === null || (k < lines && startsRow(end) !== i < vs.destinations.length - 1)) return null;
      if (rowMarks) note(end, mark(vs.key, hostPort(rs.address, rs.port)));
    }
    const missing = options.missingRealServers?.(vs.key) ?? [];
    if (missing.length === 0) continue;
    copyTo(end + 1); // the virtual server's last line, with its newline
    for (const m of missing) w.text(missingRow(m, mark?.(vs.key, m) ?? '<- missing real server', widths, numWidth));
  }
  copyTo(bytes.length);
  w.text(after);
  const pieces = w.finish();
  return pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces);
}

/** "# namespace/name:port", the note naming a virtual server's Service, or null when it is not known. */
function refText(ref: ReturnType<ServiceLookup> | null): string | null {
  return ref ? `# ${ref.namespace}/${ref.name}${ref.port ? `:${ref.port}` : ''}` : null;
}

/** A virtual server's note: its Service, its mark, or both. */
function serviceNote(ref: string | null, vsMark: string | null): string | null {
  return ref === null ? vsMark : vsMark === null ? ref : `${ref}  ${vsMark}`;
}

/** The row of a real server that should exist and does not, with its newline. */
function missingRow(m: string, text: string, widths: readonly number[], numWidth: number): string {
  const [w0, w1, w2, w3, w4] = widths as [number, number, number, number, number];
  return `${`${`  -> ${m}`.padEnd(w0)}${'(absent)'.padEnd(w1)}${''.padEnd(w2 + w3 + w4)}${text ? `${''.padStart(numWidth * STATS_HEADER.length)}  ${text}` : ''}`.trimEnd()}\n`;
}

/**
 * Written as bytes into pieces rather than built from strings: at 100,000 real servers the
 * millions of small strings (and the rope of their concatenation) cost several times the text.
 */
function writeTable(snapshot: IpvsSnapshot, options: TableOptions, after: string, lineEnds: Int32Array | null = null): { bytes: Buffer; nonAscii: boolean; headerEnd: number; layout: Layout } {
  const info = snapshot.info;
  const layout = measure(snapshot, options);
  const { shown, widths, span, numWidth } = layout;
  const [w0, w1, w2, w3, w4] = widths as [number, number, number, number, number];
  const mark = options.mark;
  // Room for every line without its note, and some: most tables fit one buffer, which then needs no concatenation.
  let lines = 3 + shown.length;
  for (const { vs, missing } of shown) lines += vs.destinations.length + missing.length;
  const w = new PieceWriter({ pieceBytes: Math.ceil(lines * (span + numWidth * STATS_HEADER.length + 1) * 1.05) + after.length * 3 + 4096 });
  const stats = (s: Stats): void => {
    w.bigintPadStart(s.conns, numWidth);
    w.bigintPadStart(s.inPkts, numWidth);
    w.bigintPadStart(s.outPkts, numWidth);
    w.bigintPadStart(s.inBytes, numWidth);
    w.bigintPadStart(s.outBytes, numWidth);
  };
  /** A number cell, padded as String(n).padEnd(width). */
  const numberCell = (n: number, width: number): void => {
    w.number(n);
    w.spaces(width - numberLength(n));
  };
  // A note is the only text that can end a counters line in white space: only it is trimmed (as the whole line was).
  const note = (text: string | null): void => {
    if (text) w.text(`  ${text}`.trimEnd());
    w.ascii(NEWLINE);
  };

  w.text(info ? `IP Virtual Server version ${info.version} (size=${info.connTableSize})\n` : 'IP Virtual Server\n');
  w.text(`${SERVICE_HEADER.padEnd(span)}${STATS_HEADER.map((h) => h.padStart(numWidth)).join('')}\n`);
  w.text(`${REAL_HEADER.map((h, i) => h.padEnd(widths[i] ?? 0)).join('').trimEnd()}\n`);
  const headerEnd = w.offset;
  let k = 0;
  for (const { vs, head, ref, missing } of shown) {
    w.text(head);
    w.spaces(span - head.length);
    stats(vs.stats);
    if (lineEnds) lineEnds[k++] = w.offset;
    note(serviceNote(ref, mark?.(vs.key, null) ?? null));
    for (const rs of vs.destinations) {
      const key = hostPort(rs.address, rs.port);
      w.ascii(ARROW);
      w.text(key);
      w.spaces(w0 - 5 - key.length);
      const forward = forwardCell(rs);
      w.text(forward);
      w.spaces(w1 - forward.length);
      numberCell(rs.weight, w2);
      numberCell(rs.activeConns, w3);
      numberCell(rs.inactiveConns, w4);
      stats(rs.stats);
      if (lineEnds) lineEnds[k++] = w.offset;
      note(mark?.(vs.key, key) ?? null);
    }
    for (const m of missing) w.text(missingRow(m, mark?.(vs.key, m) ?? '<- missing real server', widths, numWidth));
  }
  w.text(after);
  const pieces = w.finish();
  return { bytes: pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces), nonAscii: w.nonAscii, headerEnd, layout };
}
