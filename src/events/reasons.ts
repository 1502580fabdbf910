/**
 * The Event reasons: one pair per finding kind, derived from the registry (src/checks/registry.ts),
 * so a new kind gets its reasons without an edit here. A reason is a CamelCase word as Kubernetes
 * components write them (kubelet's FailedMount, node-problem-detector's KernelOops), at most 128
 * characters (the events.k8s.io/v1 validation limit).
 */
import { FINDING_KINDS, type FindingKind } from '../checks/registry.js';

/** The node verdict entering confirmed drift, and leaving it for ok. */
export const DRIFT_CONFIRMED_REASON = 'IPVSDriftConfirmed';
export const DRIFT_CLEARED_REASON = 'IPVSDriftCleared';

/** Words an operator writes in capitals (ipvsadm, iptables, kube-ipvs0). */
const ACRONYMS: Readonly<Record<string, string>> = { ipvs: 'IPVS', ipvs0: 'IPVS0', ipset: 'IPSet', iptables: 'IPTables', nftables: 'NFTables', vip: 'VIP', ip: 'IP' };

/** Kinds whose name alone reads ambiguous in `kubectl get events`: which module? */
const QUALIFIED: Readonly<Partial<Record<string, string>>> = { 'module-missing': 'KernelModuleMissing' };

function camel(kind: string): string {
  return kind
    .split('-')
    .map((word) => ACRONYMS[word] ?? word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
}

export interface KindReasons {
  /** The finding confirmed: e.g. MissingRealServer, KernelModuleMissing. */
  confirmed: string;
  /** The confirmed finding gone: e.g. MissingRealServerCleared. */
  cleared: string;
}

export function reasonsOf(kind: string): KindReasons {
  const confirmed = QUALIFIED[kind] ?? camel(kind);
  return { confirmed, cleared: `${confirmed}Cleared` };
}

/** Every kind's reasons, in registry order. */
export const KIND_REASONS: ReadonlyMap<FindingKind, KindReasons> = new Map(FINDING_KINDS.map((kind) => [kind, reasonsOf(kind)]));
