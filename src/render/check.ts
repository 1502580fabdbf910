/**
 * The readable verdict of `ipvs-sentinel check`: the ipvsadm-like table annotated with Service
 * names and drift marks, the findings with what to do, and the node checks.
 */
import type { HealthCheck } from '../agent/view.js';
import type { DriftReport, TrackedFinding } from '../drift/types.js';
import type { IpvsSnapshot } from '../ipvs/types.js';
import { driftTableMarks } from './drift-marks.js';
import type { ServiceLookup } from './snapshot.js';
import { finishTableBytes, renderTable, renderTableBytes, type TableBase, type TableOptions } from './table.js';

export interface CheckRenderInput {
  snapshot: IpvsSnapshot | null;
  lookup: ServiceLookup;
  report: DriftReport;
  checks: HealthCheck[];
  /** Where kube-proxy's configuration came from, e.g. "configz", "configmap", "defaults". */
  configSource: string | null;
  scheduler: string | null;
}

function findingLine(f: TrackedFinding): string[] {
  // A finding about a virtual or real server is placed by them; any other by its subject (the module, the set and entry, the chain).
  const where = f.virtualServer === null && f.realServer === null ? f.subject : [f.virtualServer, f.realServer ? `-> ${f.realServer}` : null].filter((p) => p !== null).join(' ');
  const service = f.service ? `${f.service.namespace}/${f.service.name}${f.service.port ? `:${f.service.port}` : ''}` : null;
  const state = `${f.confirmed ? 'confirmed' : 'pending'}${f.explainedBy === undefined ? '' : `, explained by ${f.explainedBy}`}`;
  return [
    `  ${f.severity.toUpperCase().padEnd(9)}${f.kind}${where ? `  ${where}` : ''}${service ? `  (${service})` : ''}  [${state}]`,
    `           ${f.message}`,
  ];
}

export function renderCheck(input: CheckRenderInput): string {
  const { rest, table } = checkParts(input);
  return table ? renderTable(...table, rest) : rest;
}

/**
 * renderCheck's text as UTF-8 bytes, for stdout: the table's megabytes are never a string. With the
 * snapshot's plain table already written (`base`, by the thread that read it), only the notes and
 * the missing real servers' rows are added to it.
 */
export function renderCheckBytes(input: CheckRenderInput, base: TableBase | null = null): Buffer {
  const { rest, table } = checkParts(input);
  if (!table) return Buffer.from(rest, 'utf8');
  return (base && finishTableBytes(base, ...table, rest)) ?? renderTableBytes(...table, rest);
}

/** The text below the table, and the table's snapshot and annotations (null when IPVS was not readable). */
function checkParts(input: CheckRenderInput): { rest: string; table: [IpvsSnapshot, TableOptions] | null } {
  // The lines below the table: the table (megabytes) is written with them into one text, not copied again to join them.
  const out: string[] = [];
  const marks = driftTableMarks(input.report);
  if (input.snapshot) {
    const footer = marks.footer(new Set(input.snapshot.services.map((s) => s.key)));
    const missingVs = footer.filter((l) => l.includes('missing-virtual-server'));
    if (missingVs.length > 0) out.push('', 'Not in the kernel table:', ...missingVs.map((l) => `  ${l}`));
  } else {
    out.push('IPVS table: not readable');
  }
  out.push('');
  const config = input.configSource ? ` (kube-proxy config from ${input.configSource}${input.scheduler ? `, scheduler ${input.scheduler}` : ''})` : '';
  out.push(`Verdict: ${input.report.status.toUpperCase()}${input.report.reason ? ` — ${input.report.reason}` : ''}${config}`);
  if (input.report.findings.length > 0) {
    out.push('', 'Findings:');
    for (const f of input.report.findings) out.push(...findingLine(f));
  }
  out.push('', 'Checks:');
  for (const c of input.checks) out.push(c.ok ? `  [+]${c.name} ok` : `  [-]${c.name} failed: ${c.reason ?? 'unknown'}`);
  const rest = out.join('\n') + '\n';
  return { rest, table: input.snapshot ? [input.snapshot, { lookup: input.lookup, mark: marks.mark, missingRealServers: marks.missingRealServers, marksRealServers: marks.marksRealServers }] : null };
}
