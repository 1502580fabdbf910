/**
 * An evaluator: the finding ids it may emit, the inputs it needs, the phase it applies to and its
 * evaluation. The report (report.ts) runs the ones whose inputs were read and states the others as
 * unknowns, naming the findings they could hide — a missing source never reads as "ready".
 */
import type { FindingId } from './catalogue.js';
import type { MigrationFinding, MigrationInput, MigrationPhase } from './types.js';

export type InputSource = 'snapshot' | 'desired' | 'services' | 'config' | 'primaryNodeIPs' | 'interfaces' | 'sysctls' | 'modules' | 'sockets' | 'ipsets' | 'netfilter';

/** The input with the sources an evaluator declared as needed known to be non-null. */
export type InputWith<S extends InputSource> = MigrationInput & { [K in S]: NonNullable<MigrationInput[K]> };

export interface Evaluator<S extends InputSource = InputSource> {
  ids: readonly FindingId[];
  needs: readonly S[];
  phase: MigrationPhase;
  evaluate(input: InputWith<S>): MigrationFinding[];
}

/** Declares an evaluator with its needs typed, so `evaluate` sees those inputs as non-null. */
export function evaluator<S extends InputSource>(e: Evaluator<S>): Evaluator {
  return e;
}

/** The lower-cased node name kube-proxy compares endpoint nodeName with. */
export function proxyNode(input: MigrationInput): string {
  return input.node.trim().toLowerCase();
}
