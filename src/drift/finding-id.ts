/** Stable identity of a finding across polls, for the grace state machine (grace.ts). */
import type { Finding } from './types.js';

/**
 * Built from the finding's kind and its explicit subject, never guessed from its payload: values
 * that change from poll to poll (weights, connection counts, messages) are not part of it, so a
 * finding keeps its firstSeen while its content moves.
 *
 * The text keeps the form it has always had on /drift — kind|virtual server|real server|other
 * subject — so ids stay stable across upgrades: a finding about a virtual or real server is named by
 * those, any other by its subject.
 */
export function findingId(f: Pick<Finding, 'kind' | 'virtualServer' | 'realServer' | 'subject'>): string {
  const other = f.virtualServer === null && f.realServer === null ? f.subject : '';
  return `${f.kind}|${f.virtualServer ?? ''}|${f.realServer ?? ''}|${other}`;
}
