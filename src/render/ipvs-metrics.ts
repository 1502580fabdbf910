/**
 * The IPVS traffic families of `/metrics`, named and labelled like the Prometheus node_exporter
 * ipvs collector (collector/ipvs_linux.go) so dashboards carry over, plus the Service the virtual
 * server belongs to. Rendered by hand into the text exposition format (0.0.4): at 10,000 virtual
 * servers × 10 real servers that is ~350,000 series, far beyond what prom-client's per-label
 * bookkeeping renders within a scrape budget. Pure: snapshot + lookup in, text out.
 */
import type { IpvsSnapshot, RealServer, VirtualServer } from '../ipvs/types.js';
import type { ServiceLookup } from './snapshot.js';

export interface IpvsMetricsOptions {
  lookup?: ServiceLookup;
  /** Per-real-server families (`--backend-metrics`); off for very large tables. */
  backendMetrics: boolean;
  /** Metric name prefix, `ipvs_sentinel_`. */
  prefix: string;
}

interface Family {
  suffix: string;
  type: 'counter' | 'gauge';
  help: string;
}

/** Per virtual server: the kernel's absolute counters (STATS64) — counters, monotonic until the service is recreated. */
const VS_FAMILIES: readonly Family[] = [
  { suffix: 'connections_total', type: 'counter', help: 'Connections scheduled by the IPVS virtual server (kernel counter).' },
  { suffix: 'incoming_packets_total', type: 'counter', help: 'Packets received by the IPVS virtual server (kernel counter).' },
  { suffix: 'outgoing_packets_total', type: 'counter', help: 'Packets sent by the IPVS virtual server (kernel counter; 0 for direct routing and tunnels).' },
  { suffix: 'incoming_bytes_total', type: 'counter', help: 'Bytes received by the IPVS virtual server (kernel counter).' },
  { suffix: 'outgoing_bytes_total', type: 'counter', help: 'Bytes sent by the IPVS virtual server (kernel counter; 0 for direct routing and tunnels).' },
];

const BACKEND_FAMILIES: readonly Family[] = [
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

function backendLabels(vsLabels: { local: string; service: string }, rs: RealServer): string {
  return `${vsLabels.local},remote_address="${rs.address}",remote_port="${rs.port}",${vsLabels.service}} `;
}

/**
 * The rows of one group of families sharing a label set: labels end with "} " so a series line is
 * name + labels + value; values are flat, `width` per row. Label sets that may coincide (fwmark
 * services of two families with one mark) are summed, as node_exporter does.
 */
class Rows {
  readonly labels: string[] = [];
  readonly values: number[] = [];
  private readonly mergeable = new Map<string, number>();

  constructor(readonly width: number) {}

  add(labels: string, values: readonly number[], mayCoincide: boolean): void {
    const at = mayCoincide ? this.mergeable.get(labels) : undefined;
    if (at !== undefined) {
      for (let i = 0; i < this.width; i++) this.values[at * this.width + i] = (this.values[at * this.width + i] ?? 0) + (values[i] ?? 0);
      return;
    }
    if (mayCoincide) this.mergeable.set(labels, this.labels.length);
    this.labels.push(labels);
    for (let i = 0; i < this.width; i++) this.values.push(values[i] ?? 0);
  }
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** Appends the families to `out` as pieces (joined once at the end: far cheaper than concatenating). */
function pushFamilies(out: string[], prefix: string, families: readonly Family[], rows: Rows): void {
  families.forEach((f, column) => {
    const name = prefix + f.suffix;
    if (out.length > 0) out.push('\n');
    out.push(`# HELP ${name} ${f.help}\n# TYPE ${name} ${f.type}\n`);
    const start = `${name}{`;
    for (let i = 0; i < rows.labels.length; i++) {
      out.push(start, rows.labels[i] ?? '', formatValue(rows.values[i * rows.width + column] ?? 0), '\n');
    }
  });
}

/**
 * The traffic families as exposition text (HELP and TYPE once per family, even with no series),
 * families separated by a blank line like prom-client's own output, ending with one line feed.
 * Counters are converted from the kernel's bigint to float here, the one edge that needs numbers.
 */
export function renderIpvsMetrics(snapshot: IpvsSnapshot | null, options: IpvsMetricsOptions): string {
  const vsRows = new Rows(VS_FAMILIES.length);
  const rsRows = new Rows(BACKEND_FAMILIES.length);
  for (const vs of snapshot?.services ?? []) {
    const labels = virtualServerLabels(vs, options.lookup);
    const s = vs.stats;
    const fwmark = vs.fwmark !== null;
    vsRows.add(`${labels.local},${labels.service}} `, [Number(s.conns), Number(s.inPkts), Number(s.outPkts), Number(s.inBytes), Number(s.outBytes)], fwmark);
    if (!options.backendMetrics) continue;
    for (const rs of vs.destinations) rsRows.add(backendLabels(labels, rs), [rs.activeConns, rs.inactiveConns, rs.weight], fwmark);
  }
  const out: string[] = [];
  pushFamilies(out, options.prefix, VS_FAMILIES, vsRows);
  if (options.backendMetrics) pushFamilies(out, options.prefix, BACKEND_FAMILIES, rsRows);
  return out.join('');
}
