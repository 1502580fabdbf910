/** The cluster report as JSON, a table, or Markdown for the change ticket. Pure. */
import type { ClusterFinding, ClusterMigrationReport } from './cluster.js';
import type { MigrationOutput } from './render.js';

function services(f: ClusterFinding): string {
  const list = f.services.map((s) => `${s.namespace}/${s.name}${s.port === '' ? '' : `:${s.port}`}`).join(', ');
  return f.serviceCount > f.services.length ? `${list} (+${f.serviceCount - f.services.length})` : list;
}

function nodes(f: ClusterFinding): string {
  const list = f.nodeCount > f.nodes.length ? `${f.nodes.join(', ')} (+${f.nodeCount - f.nodes.length})` : f.nodes.join(', ');
  return f.apiOnlyNodes.length > 0 ? `${list}; from the API alone on ${f.apiOnlyNodes.join(', ')}` : list;
}

function table(r: ClusterMigrationReport): string {
  const lines = [r.headline, '', `nodes       ${r.nodes.reporting} of ${r.nodes.total} reporting; modes ${Object.entries(r.nodes.byMode).map(([m, n]) => `${m} ${n}`).join(', ')}`, `findings    ${r.summary.blocker} blocker, ${r.summary.change} change, ${r.summary.info} info`];
  for (const f of r.findings) {
    lines.push('', `[${f.severity}] ${f.id}: ${f.title}`, `  nodes: ${nodes(f)}`);
    if (f.serviceCount > 0) lines.push(`  services: ${services(f)}`);
    for (const e of f.evidenceSample) lines.push(`  - ${e.node}: ${e.kind} ${e.ref} = ${typeof e.value === 'object' ? JSON.stringify(e.value) : String(e.value)}${e.detail ? ` (${e.detail})` : ''}`);
    lines.push(`  advice: ${f.advice}`);
  }
  if (r.nodes.missing.length > 0) {
    lines.push('', 'Unreachable (judged on the API alone):');
    for (const m of r.nodes.missing) lines.push(`  - ${m.node}: ${m.reason}`);
  }
  lines.push('', 'NODE                           VERDICT             AGENT        PHASE        FROM THE API ALONE');
  for (const p of r.perNode) lines.push(`${p.node.padEnd(30)} ${p.verdict.padEnd(19)} ${p.agent.padEnd(12)} ${(p.phase ?? '-').padEnd(12)} ${p.fromApi.join(', ') || '-'}`.trimEnd());
  if (r.notes.length > 0) lines.push('', ...r.notes.map((n) => `note: ${n}`));
  return `${lines.join('\n')}\n`;
}

function markdown(r: ClusterMigrationReport): string {
  const cell = (t: string): string => t.replaceAll('|', '\\|').replaceAll('\n', ' ');
  const lines = ['## IPVS → nftables readiness: cluster', '', `**${r.headline}**`, '', '| Severity | Finding | Nodes | Services |', '| --- | --- | --- | --- |'];
  for (const f of r.findings) lines.push(`| ${f.severity} | \`${f.id}\` | ${cell(nodes(f))} | ${cell(services(f) || '-')} |`);
  for (const f of r.findings) lines.push('', `### ${f.severity}: \`${f.id}\``, '', `${f.title}.`, '', `**Advice:** ${f.advice}`);
  if (r.nodes.missing.length > 0) {
    lines.push('', '### Unreachable nodes (judged on the API alone)', '');
    for (const m of r.nodes.missing) lines.push(`- \`${m.node}\`: ${m.reason}`);
  }
  if (r.notes.length > 0) lines.push('', '### Notes', '', ...r.notes.map((n) => `- ${n}`));
  return `${lines.join('\n')}\n`;
}

export function renderClusterMigration(r: ClusterMigrationReport, output: MigrationOutput): string {
  if (output === 'json') return `${JSON.stringify(r, null, 2)}\n`;
  return output === 'markdown' ? markdown(r) : table(r);
}
