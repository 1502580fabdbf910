/**
 * The IPVS traffic families of `/metrics`, named and labelled like the Prometheus node_exporter
 * ipvs collector (collector/ipvs_linux.go) so dashboards carry over, plus the Service the virtual
 * server belongs to. Rendered by hand into the text exposition format (0.0.4): at 10,000 virtual
 * servers × 10 real servers that is ~350,000 series, far beyond what prom-client's per-label
 * bookkeeping renders within a scrape budget. Pure: snapshot + lookup in, text out, in pieces.
 */
import type { IpvsSnapshot, RealServer, VirtualServer } from '../ipvs/types.js';
import { ascii, PieceWriter, type Ascii, type PieceOptions } from './pieces.js';
import type { ServiceLookup } from './snapshot.js';

export interface IpvsMetricsOptions extends PieceOptions {
  lookup?: ServiceLookup;
  /** Per-real-server families (`--backend-metrics`); off for very large tables. */
  backendMetrics: boolean;
  /** Metric name prefix, `ipvs_sentinel_`. */
  prefix: string;
}

export interface Family {
  suffix: string;
  type: 'counter' | 'gauge';
  help: string;
}

/** Per virtual server: the kernel's absolute counters (STATS64) — counters, monotonic until the service is recreated. */
export const VS_FAMILIES: readonly Family[] = [
  { suffix: 'connections_total', type: 'counter', help: 'Connections scheduled by the IPVS virtual server (kernel counter).' },
  { suffix: 'incoming_packets_total', type: 'counter', help: 'Packets received by the IPVS virtual server (kernel counter).' },
  { suffix: 'outgoing_packets_total', type: 'counter', help: 'Packets sent by the IPVS virtual server (kernel counter; 0 for direct routing and tunnels).' },
  { suffix: 'incoming_bytes_total', type: 'counter', help: 'Bytes received by the IPVS virtual server (kernel counter).' },
  { suffix: 'outgoing_bytes_total', type: 'counter', help: 'Bytes sent by the IPVS virtual server (kernel counter; 0 for direct routing and tunnels).' },
];

export const BACKEND_FAMILIES: readonly Family[] = [
  { suffix: 'backend_connections_active', type: 'gauge', help: 'Active connections of the IPVS real server (ActiveConn).' },
  { suffix: 'backend_connections_inactive', type: 'gauge', help: 'Inactive connections of the IPVS real server (InActConn).' },
  { suffix: 'backend_weight', type: 'gauge', help: 'Weight of the IPVS real server.' },
];

/** Label values of the text format escape backslash, double quote and line feed. */
export function escapeLabelValue(value: string): string {
  return /[\\"\n]/.test(value) ? value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : value;
}

/** /proc/net/ip_vs prints a mark as `%08X`; node_exporter keeps that text. */
export function localMark(fwmark: number): string {
  return (fwmark >>> 0).toString(16).toUpperCase().padStart(8, '0');
}

/** node_exporter's virtual-server labels (fwmark: address "", port "0", proto "FWM") plus the Service. */
function virtualServerLabels(vs: VirtualServer, lookup: ServiceLookup | undefined): { local: string; service: string } {
  const fwmark = vs.fwmark !== null;
  const ref = lookup?.(vs.key) ?? null;
  const local = fwmark
    ? `local_address="",local_port="0",local_mark="${localMark(vs.fwmark ?? 0)}",proto="FWM"`
    : `local_address="${vs.address ?? ''}",local_port="${vs.port ?? 0}",local_mark="",proto="${vs.protocol ?? ''}"`;
  const service = ref
    ? `namespace="${escapeLabelValue(ref.namespace)}",service="${escapeLabelValue(ref.name)}",port_name="${escapeLabelValue(ref.port)}"`
    : 'namespace="",service="",port_name=""';
  return { local, service };
}

/** A pre-encoded label text (fixed for one render), written as raw bytes per series. */
const encode = (text: string): Uint8Array => Buffer.from(text, 'utf8');

/** A series whose label set may coincide with another's: its values are summed, as node_exporter does. */
interface MergedRow {
  labels: Uint8Array;
  values: number[];
}

/**
 * The real servers of one virtual server: written straight from the snapshot, the label text
 * around remote_address/remote_port encoded once per virtual server — or, for fwmark services
 * (whose label sets may coincide), rows merged beforehand.
 */
type BackendBlock = { head: Uint8Array; tail: Uint8Array; destinations: readonly RealServer[] } | { rows: MergedRow[] };

/** Everything a render writes, computed in one pass before the first family: label texts, merges, values. */
function collectRows(snapshot: IpvsSnapshot | null, options: IpvsMetricsOptions): { vsRows: MergedRow[]; blocks: BackendBlock[] } {
  const vsRows: MergedRow[] = [];
  const blocks: BackendBlock[] = [];
  const vsMergeable = new Map<string, MergedRow>();
  const rsMergeable = new Map<string, MergedRow>();
  const add = (rows: MergedRow[], mergeable: Map<string, MergedRow>, labels: string, values: number[], mayCoincide: boolean): void => {
    const earlier = mayCoincide ? mergeable.get(labels) : undefined;
    if (earlier !== undefined) {
      for (let i = 0; i < values.length; i++) earlier.values[i] = (earlier.values[i] ?? 0) + (values[i] ?? 0);
      return;
    }
    const row = { labels: encode(labels), values };
    if (mayCoincide) mergeable.set(labels, row);
    rows.push(row);
  };
  for (const vs of snapshot?.services ?? []) {
    const { local, service } = virtualServerLabels(vs, options.lookup);
    const fwmark = vs.fwmark !== null;
    const s = vs.stats;
    add(vsRows, vsMergeable, `${local},${service}} `, [Number(s.conns), Number(s.inPkts), Number(s.outPkts), Number(s.inBytes), Number(s.outBytes)], fwmark);
    if (!options.backendMetrics) continue;
    if (!fwmark) {
      blocks.push({ head: encode(`${local},remote_address="`), tail: encode(`",${service}} `), destinations: vs.destinations });
      continue;
    }
    const rows: MergedRow[] = [];
    for (const rs of vs.destinations) add(rows, rsMergeable, `${local},remote_address="${rs.address}",remote_port="${rs.port}",${service}} `, BACKEND_FAMILIES.map((_, column) => backendValue(rs, column)), true);
    blocks.push({ rows });
  }
  return { vsRows, blocks };
}

/** The value of BACKEND_FAMILIES[column] for one real server. */
function backendValue(rs: RealServer, column: number): number {
  return column === 0 ? rs.activeConns : column === 1 ? rs.inactiveConns : rs.weight;
}

/** One family's series of rows whose label text is encoded whole. */
function writeRows(w: PieceWriter, start: Ascii, rows: readonly MergedRow[], column: number): void {
  for (const row of rows) {
    w.ascii(start);
    w.raw(row.labels);
    writeValue(w, row.values[column] ?? 0);
    w.ascii(NEWLINE);
  }
}

/** A sample value as the text format writes it: integers digit by digit, the rest like prom-client. */
function writeValue(w: PieceWriter, v: number): void {
  if (v >= 0 && v <= Number.MAX_SAFE_INTEGER && Math.floor(v) === v) w.uint(v);
  else w.text(Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : String(v));
}

const NEWLINE = ascii('\n');
const REMOTE_PORT = ascii('",remote_port="');

/**
 * The traffic families as exposition text in UTF-8 pieces (HELP and TYPE once
 * per family, even with no series), families separated by a blank line like prom-client's own
 * output, ending with one line feed. Lazy: a piece is rendered when asked for. Counters are
 * converted from the kernel's bigint to float here, the one edge that needs numbers.
 */
export function* ipvsMetricsPieces(snapshot: IpvsSnapshot | null, options: IpvsMetricsOptions): Generator<Buffer, void, undefined> {
  const w = new PieceWriter(options);
  const { vsRows, blocks } = collectRows(snapshot, options);
  const header = (f: Family, first: boolean): Ascii => {
    const name = options.prefix + f.suffix;
    return ascii(`${first ? '' : '\n'}# HELP ${name} ${f.help}\n# TYPE ${name} ${f.type}\n`);
  };
  for (const [column, f] of VS_FAMILIES.entries()) {
    w.ascii(header(f, column === 0));
    const start = ascii(`${options.prefix}${f.suffix}{`);
    for (let i = 0; i < vsRows.length; i += 256) {
      writeRows(w, start, vsRows.slice(i, i + 256), column);
      if (w.ready) yield* w.take();
    }
  }
  if (options.backendMetrics) {
    for (const [column, f] of BACKEND_FAMILIES.entries()) {
      w.ascii(header(f, false));
      const start = ascii(`${options.prefix}${f.suffix}{`);
      for (const block of blocks) {
        if ('rows' in block) writeRows(w, start, block.rows, column);
        else {
          for (const rs of block.destinations) {
            w.ascii(start);
            w.raw(block.head);
            w.text(rs.address);
            w.ascii(REMOTE_PORT);
            w.number(rs.port);
            w.raw(block.tail);
            writeValue(w, backendValue(rs, column));
            w.ascii(NEWLINE);
          }
        }
        if (w.ready) yield* w.take();
      }
    }
  }
  yield* w.finish();
}

/** The traffic families as one string (tests, small tables). */
export function renderIpvsMetrics(snapshot: IpvsSnapshot | null, options: IpvsMetricsOptions): string {
  return Buffer.concat([...ipvsMetricsPieces(snapshot, options)]).toString('utf8');
}
