/**
 * A node's report as another agent sent it (through the API server's pod proxy): hostile until
 * checked. Only a document of the shape /migration writes is accepted; anything else is one line
 * saying what is wrong, and the node counts as unreachable. Pure.
 */
import { SEVERITY_ORDER, type MigrationReport } from './types.js';

const VERDICTS = new Set(['ready', 'ready-with-changes', 'blocked', 'unknown']);
const PHASES = new Set(['pre-switch', 'post-switch']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function findingProblem(f: unknown, i: number): string | null {
  if (!isObject(f)) return `findings[${i}] is not an object`;
  for (const key of ['id', 'title', 'message', 'advice'] as const) if (typeof f[key] !== 'string') return `findings[${i}].${key} is not a string`;
  if (!(SEVERITY_ORDER as readonly unknown[]).includes(f.severity)) return `findings[${i}].severity is not blocker, change or info`;
  if (!Array.isArray(f.services) || !f.services.every((s) => isObject(s) && typeof s.namespace === 'string' && typeof s.name === 'string' && typeof s.port === 'string')) return `findings[${i}].services is not a list of Service ports`;
  if (!Array.isArray(f.evidence) || !f.evidence.every((e) => isObject(e) && typeof e.kind === 'string' && typeof e.ref === 'string')) return `findings[${i}].evidence is not a list of evidence`;
  if (typeof f.serviceCount !== 'number' || typeof f.evidenceCount !== 'number') return `findings[${i}] lacks its counts`;
  return null;
}

/** The report, or why the document is not one. */
export function parseNodeReport(json: unknown): { report: MigrationReport } | { problem: string } {
  if (!isObject(json)) return { problem: 'not a JSON object' };
  if (json.schemaVersion !== 1 || json.scope !== 'node') return { problem: 'not a node migration report of schema 1' };
  if (typeof json.node !== 'string' || typeof json.headline !== 'string') return { problem: 'node or headline missing' };
  if (!VERDICTS.has(json.verdict as string) || !PHASES.has(json.phase as string)) return { problem: 'verdict or phase unknown' };
  if (!isObject(json.kubeProxy) || !(json.kubeProxy.mode === null || typeof json.kubeProxy.mode === 'string')) return { problem: 'kubeProxy.mode missing' };
  if (!isObject(json.summary) || !SEVERITY_ORDER.every((s) => typeof (json.summary as Record<string, unknown>)[s] === 'number')) return { problem: 'summary missing' };
  if (!Array.isArray(json.findings) || json.findings.length > 1000) return { problem: 'findings is not a list (of at most 1000)' };
  for (const [i, f] of json.findings.entries()) {
    const problem = findingProblem(f, i);
    if (problem) return { problem };
  }
  return { report: json as unknown as MigrationReport };
}
