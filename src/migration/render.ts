/**
 * The node report in three formats: JSON (the contract of /migration and --output json), a table for
 * a terminal, and Markdown an operator pastes into a change ticket. Pure, stable output.
 */
import type { Evidence, MigrationFinding, MigrationReport } from './types.js';

export function renderMigrationJson(report: MigrationReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

function valueText(value: Evidence['value']): string {
  if (value === null) return '-';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function evidenceLine(e: Evidence): string {
  return `${e.kind} ${e.ref} = ${valueText(e.value)}${e.detail ? ` (${e.detail})` : ''}`;
}

function more(shown: number, total: number, what: string): string[] {
  return total > shown ? [`… and ${total - shown} more ${what}`] : [];
}

function servicesText(f: MigrationFinding): string {
  return f.services.map((s) => `${s.namespace}/${s.name}${s.port === '' ? '' : `:${s.port}`}`).join(', ');
}

export function renderMigrationTable(report: MigrationReport): string {
  const lines: string[] = [report.headline, ''];
  const kp = report.kubeProxy;
  lines.push(`node        ${report.node}`);
  lines.push(`phase       ${report.phase}`);
  lines.push(`kube-proxy  mode ${kp.mode ?? 'unknown'}${kp.modeSource ? ` (${kp.modeSource})` : ''}, version ${kp.version ?? 'unknown'}, scheduler ${kp.scheduler ?? 'unknown'}`);
  lines.push(`kernel      ${report.kernel.release ?? 'unknown'} (nftables mode needs ${report.kernel.nftablesMinimum}+)`);
  lines.push(`findings    ${report.summary.blocker} blocker, ${report.summary.change} change, ${report.summary.info} info`);
  if (report.findings.length > 0) {
    lines.push('', 'SEVERITY  ID                             SERVICES  EVIDENCE');
    for (const f of report.findings) lines.push(`${f.severity.padEnd(9)} ${f.id.padEnd(30)} ${String(f.serviceCount).padStart(8)}  ${f.evidenceCount}`);
  }
  for (const f of report.findings) {
    lines.push('', `[${f.severity}] ${f.id}: ${f.title}`, `  ${f.message}`);
    if (f.serviceCount > 0) lines.push(`  services: ${servicesText(f)}${f.serviceCount > f.services.length ? ` (+${f.serviceCount - f.services.length})` : ''}`);
    for (const e of f.evidence) lines.push(`  - ${evidenceLine(e)}`);
    lines.push(...more(f.evidence.length, f.evidenceCount, 'evidence').map((l) => `  ${l}`));
    lines.push(`  advice: ${f.advice}`);
    if (f.versionNote) lines.push(`  version: ${f.versionNote}`);
  }
  if (report.unknowns.length > 0) {
    lines.push('', 'Not read (their findings are unknown):');
    for (const u of report.unknowns) lines.push(`  - ${u.source}: ${u.reason} (hides ${u.hides.join(', ')})`);
  }
  if (report.notes.length > 0) {
    lines.push('', 'Notes:');
    for (const n of report.notes) lines.push(`  - ${n}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Markdown text: pipes and line breaks in a table cell would break the table. */
function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

export function renderMigrationMarkdown(report: MigrationReport): string {
  const kp = report.kubeProxy;
  const lines: string[] = [
    `## IPVS → nftables readiness: node \`${report.node}\``,
    '',
    `**${report.headline}**`,
    '',
    `| | |`,
    `| --- | --- |`,
    `| Verdict | ${report.verdict} |`,
    `| Phase | ${report.phase} |`,
    `| kube-proxy | mode ${cell(kp.mode ?? 'unknown')}, version ${cell(kp.version ?? 'unknown')}, scheduler ${cell(kp.scheduler ?? 'unknown')} |`,
    `| Kernel | ${cell(report.kernel.release ?? 'unknown')} (nftables mode needs ${report.kernel.nftablesMinimum}+) |`,
    `| Findings | ${report.summary.blocker} blocker, ${report.summary.change} change, ${report.summary.info} info |`,
    `| Generated | ${report.generatedAt} |`,
  ];
  if (report.findings.length > 0) {
    lines.push('', '| Severity | Finding | Services | Summary |', '| --- | --- | --- | --- |');
    for (const f of report.findings) lines.push(`| ${f.severity} | \`${f.id}\` | ${f.serviceCount} | ${cell(f.message)} |`);
  }
  for (const f of report.findings) {
    lines.push('', `### ${f.severity}: \`${f.id}\``, '', f.title + '.', '', f.message);
    if (f.serviceCount > 0) lines.push('', `Services: ${f.services.map((s) => `\`${s.namespace}/${s.name}${s.port === '' ? '' : `:${s.port}`}\``).join(', ')}${f.serviceCount > f.services.length ? ` and ${f.serviceCount - f.services.length} more` : ''}`);
    lines.push('', 'Evidence:', '');
    for (const e of f.evidence) lines.push(`- ${e.kind} \`${e.ref}\` = \`${valueText(e.value)}\`${e.detail ? ` — ${e.detail}` : ''}`);
    lines.push(...more(f.evidence.length, f.evidenceCount, 'evidence items').map((l) => `- ${l}`));
    lines.push('', `**Advice:** ${f.advice}`);
    if (f.versionNote) lines.push('', `**Version:** ${f.versionNote}`);
    lines.push('', `References: ${f.references.join('; ')}`);
  }
  if (report.unknowns.length > 0) {
    lines.push('', '### Not read', '');
    for (const u of report.unknowns) lines.push(`- **${u.source}**: ${u.reason} — hides ${u.hides.map((h) => `\`${h}\``).join(', ')}`);
  }
  if (report.notes.length > 0) {
    lines.push('', '### Notes', '');
    for (const n of report.notes) lines.push(`- ${n}`);
  }
  return `${lines.join('\n')}\n`;
}

export type MigrationOutput = 'table' | 'json' | 'markdown';

export function renderMigration(report: MigrationReport, output: MigrationOutput): string {
  switch (output) {
    case 'json':
      return renderMigrationJson(report);
    case 'markdown':
      return renderMigrationMarkdown(report);
    case 'table':
      return renderMigrationTable(report);
  }
}
