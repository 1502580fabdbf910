/** Stable identity of a finding across polls, for the grace state machine (grace.ts). */
import type { Finding } from './types.js';

/**
 * kind + virtual server + real server, plus a detail for findings that name neither (modules,
 * sysctls, kube-ipvs0 addresses). Values that change from poll to poll (weights, connection
 * counts, messages) are deliberately not part of it, so a finding keeps its firstSeen while its
 * content moves.
 */
export function findingId(f: Pick<Finding, 'kind' | 'virtualServer' | 'realServer' | 'expected' | 'actual'>): string {
  const detail = f.virtualServer === null && f.realServer === null ? subjectOf(f.expected) ?? subjectOf(f.actual) ?? '' : '';
  return `${f.kind}|${f.virtualServer ?? ''}|${f.realServer ?? ''}|${detail}`;
}

/** Field names under which findings without a virtual server carry what they are about. */
const SUBJECT_FIELDS = ['name', 'module', 'sysctl', 'address', 'device'] as const;

/**
 * What a finding without virtual/real server is about: a string value itself (an address), or the
 * first SUBJECT_FIELDS entry of an object ({ name: "ip_vs" }, { sysctl: "net.ipv4.vs.conntrack" }).
 */
function subjectOf(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null) return null;
  const record = value as Record<string, unknown>;
  for (const field of SUBJECT_FIELDS) {
    const v = record[field];
    if (typeof v === 'string') return v;
  }
  return null;
}
