/**
 * The ipvsadm-like table and its drift marks as they were written before issue 17 made them fast:
 * row objects, cells padded with padEnd/padStart, each line trimmed. Kept as the readable
 * definition the fast renderers (src/render/table.ts, src/render/drift-marks.ts) must match byte for
 * byte on any input (test/unit/render/table-equivalence.test.ts).
 */
import type { DriftReport, TrackedFinding } from '../../src/drift/types.js';
import { FORWARD_WORD, serviceFlagNames, SVC_FLAG } from '../../src/ipvs/flags.js';
import type { IpvsSnapshot, RealServer, VirtualServer } from '../../src/ipvs/types.js';
import type { TableOptions } from '../../src/render/table.js';
import { hostPort } from '../../src/util/ip.js';

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

export function referenceTable(snapshot: IpvsSnapshot, options: TableOptions = {}): string {
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

function markText(findings: readonly TrackedFinding[]): string | null {
  if (findings.length === 0) return null;
  return `<- ${findings.map((f) => `${f.kind}${f.confirmed ? '' : ' (pending)'}${f.explainedBy === undefined ? '' : ` (explained by ${f.explainedBy})`}`).join(', ')}`;
}

export function referenceMarks(report: DriftReport): Required<Pick<TableOptions, 'mark' | 'missingRealServers'>> {
  const byRow = new Map<string, TrackedFinding[]>();
  const missing = new Map<string, string[]>();
  /** The rows of missing real servers whose finding another explains: their mark says so. */
  const explainedMissing = new Map<string, string>();
  const rowKey = (vsKey: string, rsKey: string | null): string => `${vsKey}\u0000${rsKey ?? ''}`;
  for (const f of report.findings) {
    if (f.virtualServer === null) continue;
    if (f.kind === 'missing-real-server' && f.realServer !== null) {
      missing.set(f.virtualServer, [...(missing.get(f.virtualServer) ?? []), f.realServer]);
      if (f.explainedBy !== undefined) explainedMissing.set(rowKey(f.virtualServer, f.realServer), `<- missing real server (explained by ${f.explainedBy})`);
      continue;
    }
    const key = rowKey(f.virtualServer, f.realServer);
    byRow.set(key, [...(byRow.get(key) ?? []), f]);
  }
  return {
    mark: (vsKey, rsKey) => markText(byRow.get(rowKey(vsKey, rsKey)) ?? []) ?? explainedMissing.get(rowKey(vsKey, rsKey)) ?? null,
    missingRealServers: (vsKey) => missing.get(vsKey) ?? [],
  };
}
