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

export interface DriftTableMarks extends Required<Pick<TableOptions, 'mark' | 'missingRealServers'>> {
  /**
   * One line per finding that no row of the table shows: its virtual server is not among
   * `shownKeys`, or it names no virtual server. With `service` ("namespace/name") only that
   * Service's findings. Empty when everything has a row.
   */
  footer(shownKeys: ReadonlySet<string>, service?: string): string[];
}

export function driftTableMarks(report: DriftReport): DriftTableMarks {
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
    footer: (shownKeys, service) =>
      report.findings
        .filter((f) => f.virtualServer === null || !shownKeys.has(f.virtualServer))
        .filter((f) => service === undefined || (f.service !== null && `${f.service.namespace}/${f.service.name}` === service))
        .map((f) => `${f.virtualServer ?? f.realServer ?? '(node)'}  ${markText([f]) ?? ''}  ${f.message}`),
  };
}
