/** Builds a finding from its catalogue entry and what an evaluator found: services deduplicated and sorted, lists bounded. */
import type { ServicePortRef } from '../drift/types.js';
import { catalogueEntry, type FindingId } from './catalogue.js';
import { MAX_LISTED, type Evidence, type MigrationFinding, type MigrationSeverity } from './types.js';

export interface Found {
  message: string;
  services?: readonly ServicePortRef[];
  evidence: readonly Evidence[];
  /** Overrides the catalogue's severity (a case the catalogue grades differently). */
  severity?: MigrationSeverity;
  versionNote?: string | null;
  heuristic?: boolean;
}

export function serviceRefKey(ref: ServicePortRef): string {
  return `${ref.namespace}/${ref.name}${ref.port === '' ? '' : `:${ref.port}`}`;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function uniqueServices(refs: readonly ServicePortRef[]): ServicePortRef[] {
  const byKey = new Map<string, ServicePortRef>();
  for (const ref of refs) byKey.set(serviceRefKey(ref), { namespace: ref.namespace, name: ref.name, port: ref.port });
  return [...byKey.entries()].sort(([a], [b]) => compareText(a, b)).map(([, ref]) => ref);
}

export function makeFinding(id: FindingId, found: Found): MigrationFinding {
  const entry = catalogueEntry(id);
  const services = uniqueServices(found.services ?? []);
  return {
    id,
    severity: found.severity ?? entry.severity,
    impact: entry.impact,
    title: entry.title,
    message: found.message,
    services: services.slice(0, MAX_LISTED),
    serviceCount: services.length,
    evidence: found.evidence.slice(0, MAX_LISTED),
    evidenceCount: found.evidence.length,
    advice: entry.advice,
    references: entry.references,
    versionNote: found.versionNote ?? null,
    heuristic: found.heuristic ?? false,
  };
}

/** "3 Service ports" / "1 Service port". */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The verb agreeing with a count: agree(1, 'has', 'have'). */
export function agree(n: number, one: string, many: string): string {
  return n === 1 ? one : many;
}
