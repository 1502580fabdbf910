/**
 * The ipvsadm-like table (`ipvs-sentinel ipvs`, `/ipvs?format=text`, the top of `check`): the
 * lines of `ipvsadm -Ln` with the counters of `--stats --exact` on the right, optionally annotated
 * with the Service each virtual server serves and with drift marks.
 */
import type { IpvsSnapshot, RealServer, VirtualServer } from '../ipvs/types.js';
import { FORWARD_WORD, serviceFlagNames, SVC_FLAG } from '../ipvs/flags.js';
import { hostPort } from '../util/ip.js';
import type { ServiceLookup } from './snapshot.js';

export interface TableOptions {
  lookup?: ServiceLookup;
  /** A short note for a virtual server (realServer null) or one of its real servers, e.g. "<- missing"; a missing real server's row has "<- missing real server" without one. */
  mark?: (virtualServerKey: string, realServerKey: string | null) => string | null;
  /** Extra rows for real servers that should exist but do not (drift), per virtual server key. */
  missingRealServers?: (virtualServerKey: string) => string[];
  /** Keep only virtual servers of this Service ("namespace/name"). */
  service?: string;
}

const STATS_HEADER = ['Conns', 'InPkts', 'OutPkts', 'InBytes', 'OutBytes'];
/** Minimum column widths (those of a typical IPv4 table); columns grow to fit long IPv6 addresses and 20-digit counters. */
const MIN = { left: 44, forward: 16, weight: 7, active: 11, inactive: 10, num: 12 };

type Stats = VirtualServer['stats'];

function statValues(s: Stats): string[] {
  return [s.conns, s.inPkts, s.outPkts, s.inBytes, s.outBytes].map((n) => n.toString());
}

function serviceLine(vs: VirtualServer): string {
  const proto = vs.fwmark !== null ? 'FWM' : (vs.protocol ?? '?');
  const target = vs.fwmark !== null ? `${vs.fwmark}${vs.family === 'inet6' ? ' IPv6' : ''}` : hostPort(vs.address ?? '', vs.port ?? 0);
  let text = `${proto.padEnd(4)} ${target} ${vs.scheduler}`;
  const schedFlags = serviceFlagNames({ ...vs, flagBits: vs.flagBits & (SVC_FLAG.sched1 | SVC_FLAG.sched2 | SVC_FLAG.sched3) });
  if (schedFlags.length > 0) text += ` (${schedFlags.join(',')})`;
  if (vs.persistent) {
    text += ` persistent ${vs.timeout}`;
    if (vs.netmask !== (vs.family === 'inet' ? 32 : 128)) text += ` mask /${vs.netmask}`;
  }
  if (vs.flagBits & SVC_FLAG.onePacket) text += ' ops';
  if (vs.pe) text += ` pe ${vs.pe}`;
  return text;
}

/** One table row: a virtual server line spanning the real-server columns, or the five real-server cells. */
type Row =
  | { kind: 'header' | 'service'; head: string; stats: string[]; note: string | null }
  | { kind: 'real'; cells: [string, string, string, string, string]; stats: string[]; note: string | null }
  | { kind: 'missing'; cells: [string, string, string, string, string]; note: string };

function realCells(rs: RealServer): [string, string, string, string, string] {
  const tunnel = rs.tunnel ? ` ${rs.tunnel.type}${rs.tunnel.port ? `:${rs.tunnel.port}` : ''}` : '';
  return [`  -> ${hostPort(rs.address, rs.port)}`, FORWARD_WORD[rs.forward] + tunnel, String(rs.weight), String(rs.activeConns), String(rs.inactiveConns)];
}

export function renderTable(snapshot: IpvsSnapshot, options: TableOptions = {}): string {
  const info = snapshot.info;
  const title = info ? `IP Virtual Server version ${info.version} (size=${info.connTableSize})` : 'IP Virtual Server';
  const rows: Row[] = [
    { kind: 'header', head: 'Prot LocalAddress:Port Scheduler Flags', stats: STATS_HEADER, note: null },
    { kind: 'missing', cells: ['  -> RemoteAddress:Port', 'Forward', 'Weight', 'ActiveConn', 'InActConn'], note: '' },
  ];
  for (const vs of snapshot.services) {
    const ref = options.lookup?.(vs.key) ?? null;
    if (options.service !== undefined && (ref === null || `${ref.namespace}/${ref.name}` !== options.service)) continue;
    const note = [ref ? `# ${ref.namespace}/${ref.name}${ref.port ? `:${ref.port}` : ''}` : null, options.mark?.(vs.key, null) ?? null]
      .filter((p): p is string => p !== null)
      .join('  ');
    rows.push({ kind: 'service', head: serviceLine(vs), stats: statValues(vs.stats), note: note || null });
    for (const rs of vs.destinations) {
      rows.push({ kind: 'real', cells: realCells(rs), stats: statValues(rs.stats), note: options.mark?.(vs.key, hostPort(rs.address, rs.port)) ?? null });
    }
    for (const missing of options.missingRealServers?.(vs.key) ?? []) {
      rows.push({ kind: 'missing', cells: [`  -> ${missing}`, '(absent)', '', '', ''], note: options.mark?.(vs.key, missing) ?? '<- missing real server' });
    }
  }

  // Column widths: at least the minimums, wide enough for every cell plus one space.
  const mins = [MIN.left, MIN.forward, MIN.weight, MIN.active, MIN.inactive];
  const widths = mins.map((min, i) => Math.max(min, ...rows.map((r) => (r.kind === 'real' || r.kind === 'missing' ? (r.cells[i] ?? '').length + 1 : 0))));
  const span = Math.max(
    widths.reduce((a, b) => a + b, 0),
    ...rows.map((r) => (r.kind === 'service' || r.kind === 'header' ? r.head.length + 1 : 0)),
  );
  widths[4] = (widths[4] ?? 0) + span - widths.reduce((a, b) => a + b, 0); // a long service line widens the last column
  const numWidth = Math.max(MIN.num, ...rows.map((r) => ('stats' in r ? Math.max(...r.stats.map((v) => v.length + 2)) : 0)));
  const statCells = (values: string[]): string => values.map((v) => v.padStart(numWidth)).join('');
  const blankStats = ''.padStart(numWidth * STATS_HEADER.length);

  const lines = [title];
  for (const r of rows) {
    const note = r.note ? `  ${r.note}` : '';
    if (r.kind === 'service' || r.kind === 'header') lines.push(r.head.padEnd(span) + statCells(r.stats) + note);
    else if (r.kind === 'real') lines.push(r.cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('') + statCells(r.stats) + note);
    else if (r.kind === 'missing') lines.push(r.cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('') + (r.note ? blankStats + note : ''));
  }
  return lines.map((l) => l.trimEnd()).join('\n') + '\n';
}
