/**
 * Drift findings as annotations of the ipvsadm-like table (`/ipvs?format=text`, `check`): a mark
 * on the virtual-server or real-server row a finding is about ("<- weight-mismatch (pending)"),
 * extra rows for real servers that should exist, and footer lines for what has no row at all
 * (a missing virtual server, a missing module).
 */
import type { DriftReport, TrackedFinding } from '../drift/types.js';
import type { TableOptions } from './table.js';

function markText(findings: readonly TrackedFinding[]): string | null {
  if (findings.length === 0) return null;
  return `<- ${findings.map((f) => `${f.kind}${f.confirmed ? '' : ' (pending)'}${f.explainedBy === undefined ? '' : ` (explained by ${f.explainedBy})`}`).join(', ')}`;
}

export interface DriftTableMarks extends Required<Pick<TableOptions, 'mark' | 'missingRealServers' | 'marksRealServers'>> {
  /**
   * One line per finding that no row of the table shows: its virtual server is not among
   * `shownKeys`, or it names no virtual server. With `service` ("namespace/name") only that
   * Service's findings. Empty when everything has a row.
   */
  footer(shownKeys: ReadonlySet<string>, service?: string): string[];
}

export function driftTableMarks(report: DriftReport): DriftTableMarks {
  /** Per virtual server, the findings about its own row (real server "") and each of its real servers' rows. */
  const byRow = new Map<string, Map<string, TrackedFinding[]>>();
  const missing = new Map<string, string[]>();
  /** The rows of missing real servers whose finding another explains: their mark says so. */
  const explainedMissing = new Map<string, Map<string, string>>();
  const rowsOf = <T>(map: Map<string, Map<string, T>>, vsKey: string): Map<string, T> => {
    let rows = map.get(vsKey);
    if (rows === undefined) map.set(vsKey, (rows = new Map<string, T>()));
    return rows;
  };
  for (const f of report.findings) {
    if (f.virtualServer === null) continue;
    if (f.kind === 'missing-real-server' && f.realServer !== null) {
      missing.set(f.virtualServer, [...(missing.get(f.virtualServer) ?? []), f.realServer]);
      if (f.explainedBy !== undefined) rowsOf(explainedMissing, f.virtualServer).set(f.realServer, `<- missing real server (explained by ${f.explainedBy})`);
      continue;
    }
    const rows = rowsOf(byRow, f.virtualServer);
    const rsKey = f.realServer ?? '';
    rows.set(rsKey, [...(rows.get(rsKey) ?? []), f]);
  }
  // The table asks for a mark on every row, and almost every row has none: one lookup by virtual server answers most.
  const marks = new Map<string, Map<string, string>>();
  for (const [vsKey, rows] of byRow) for (const [rsKey, findings] of rows) rowsOf(marks, vsKey).set(rsKey, markText(findings) as string);
  for (const [vsKey, rows] of explainedMissing) for (const [rsKey, text] of rows) if (!marks.get(vsKey)?.has(rsKey)) rowsOf(marks, vsKey).set(rsKey, text);
  return {
    mark: (vsKey, rsKey) => marks.get(vsKey)?.get(rsKey ?? '') ?? null,
    missingRealServers: (vsKey) => missing.get(vsKey) ?? [],
    marksRealServers: (vsKey) => {
      const rows = marks.get(vsKey);
      return rows !== undefined && rows.size > (rows.has('') ? 1 : 0);
    },
    footer: (shownKeys, service) =>
      report.findings
        .filter((f) => f.virtualServer === null || !shownKeys.has(f.virtualServer))
        .filter((f) => service === undefined || (f.service !== null && `${f.service.namespace}/${f.service.name}` === service))
        .map((f) => `${f.virtualServer ?? f.realServer ?? '(node)'}  ${markText([f]) ?? ''}  ${f.message}`),
  };
}
