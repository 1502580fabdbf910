/**
 * The drift report (docs/contract.md §5): status rule, deterministic order, and the JSON
 * shape served at /drift and printed by `check --output json`.
 */
import { kindRank, PREREQUISITE_KINDS } from '../checks/registry.js';
import type { DriftReport, FindingKind, ServicePortRef, Severity, TrackedFinding } from './types.js';

export interface DriftReportInput {
  node: string | null;
  checkedAt: Date;
  findings: readonly TrackedFinding[];
  /** Set when there is no trustworthy comparison (cache not synced, IPVS unreadable): status unknown. */
  unknownReason: string | null;
}

export function buildDriftReport(input: DriftReportInput): DriftReport {
  // Findings of prerequisite checks stay in an `unknown` report (a missing ip_vs module is often *why*
  // IPVS is unreadable); the others are left out, as a comparison against an unsynced cache or an
  // unread table proves nothing.
  const kept = input.unknownReason === null ? [...input.findings] : input.findings.filter((f) => PREREQUISITE_KINDS.has(f.kind));
  const findings = explain(kept).sort(compareFindings);
  const drifting = findings.filter((f) => f.confirmed && f.severity !== 'info');
  if (input.unknownReason !== null) {
    // A confirmed prerequisite finding (module, sysctl, proxy mode) is drift even when the IPVS
    // table could not be compared: the contract's rule (docs/contract.md §5) is "drift when one confirmed warning or
    // critical finding exists".
    if (drifting.length > 0) {
      const reason = `${summarise(drifting)}; IPVS not compared: ${input.unknownReason}`;
      return { node: input.node, checkedAt: input.checkedAt, status: 'drift', reason, findings };
    }
    return { node: input.node, checkedAt: input.checkedAt, status: 'unknown', reason: input.unknownReason, findings };
  }
  return {
    node: input.node,
    checkedAt: input.checkedAt,
    status: drifting.length > 0 ? 'drift' : 'ok',
    reason: drifting.length > 0 ? summarise(drifting) : null,
    findings,
  };
}

/** While kube-proxy does not sync, nothing its sync repairs is repaired: those findings follow from it. */
const STALE_KUBE_PROXY: FindingKind = 'kube-proxy-stale';

/** The findings, those a confirmed kube-proxy-stale explains marked (confirmed and self-healing: what kube-proxy's sync repairs). */
function explain(findings: TrackedFinding[]): TrackedFinding[] {
  if (!findings.some((f) => f.kind === STALE_KUBE_PROXY && f.confirmed)) return findings;
  return findings.map((f) => (f.kind !== STALE_KUBE_PROXY && f.confirmed && f.selfHealing ? { ...f, explainedBy: STALE_KUBE_PROXY } : f));
}

/**
 * "2 confirmed findings: 1 critical (missing-virtual-server), 1 warning (scheduler-mismatch)"; led by
 * kube-proxy-stale and how many of the others it explains while it is confirmed.
 */
function summarise(drifting: readonly TrackedFinding[]): string {
  const explained = drifting.filter((f) => f.explainedBy === STALE_KUBE_PROXY).length;
  const lead = drifting.some((f) => f.kind === STALE_KUBE_PROXY)
    ? `kube-proxy is not syncing (${STALE_KUBE_PROXY})${explained > 0 ? `, which explains ${explained} other confirmed finding${explained === 1 ? '' : 's'}` : ''}; `
    : '';
  return lead + counted(drifting);
}

function counted(drifting: readonly TrackedFinding[]): string {
  const parts: string[] = [];
  for (const severity of ['critical', 'warning'] as const) {
    const of = drifting.filter((f) => f.severity === severity);
    if (of.length === 0) continue;
    const kinds = [...new Set(of.map((f) => f.kind))].join(', ');
    parts.push(`${of.length} ${severity} (${kinds})`);
  }
  return `${drifting.length} confirmed finding${drifting.length === 1 ? '' : 's'}: ${parts.join(', ')}`;
}

const SEVERITY_ORDER: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };

/** Severity (critical first), kind (the registry's order), virtual server, real server, id. */
export function compareFindings(a: TrackedFinding, b: TrackedFinding): number {
  return (
    SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
    kindRank(a.kind) - kindRank(b.kind) ||
    compareText(a.virtualServer, b.virtualServer) ||
    compareText(a.realServer, b.realServer) ||
    compareText(a.id, b.id)
  );
}

/** null first, then code-unit order (locale-independent, so every node prints the same bytes). */
function compareText(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : 1;
}

export interface DriftFindingJson {
  kind: FindingKind;
  severity: Severity;
  virtualServer: string | null;
  realServer: string | null;
  service: ServicePortRef | null;
  expected: JsonValue;
  actual: JsonValue;
  firstSeen: string;
  confirmed: boolean;
  message: string;
  /** Extra fields (allowed by the contract): whether kube-proxy repairs it, and the stable id. */
  selfHealing: boolean;
  id: string;
  /** The confirmed finding this one follows from (kube-proxy-stale); only present when there is one. */
  explainedBy?: FindingKind;
}

export interface DriftReportJson {
  node: string | null;
  checkedAt: string;
  status: DriftReport['status'];
  reason: string | null;
  findings: DriftFindingJson[];
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** The drift schema object, keys in the schema's order and RFC 3339 timestamps. */
export function driftReportToJson(report: DriftReport): DriftReportJson {
  return {
    node: report.node,
    checkedAt: report.checkedAt.toISOString(),
    status: report.status,
    reason: report.reason,
    findings: report.findings.map((f) => ({
      kind: f.kind,
      severity: f.severity,
      virtualServer: f.virtualServer,
      realServer: f.realServer,
      service: f.service === null ? null : { namespace: f.service.namespace, name: f.service.name, port: f.service.port },
      expected: toJsonValue(f.expected),
      actual: toJsonValue(f.actual),
      firstSeen: f.firstSeen.toISOString(),
      confirmed: f.confirmed,
      message: f.message,
      selfHealing: f.selfHealing,
      id: f.id,
      ...(f.explainedBy === undefined ? {} : { explainedBy: f.explainedBy }),
    })),
  };
}

/** Pretty JSON text with a final newline, as `check --output json` prints it and golden files hold it. */
export function formatDriftReportJson(report: DriftReport): string {
  return `${JSON.stringify(driftReportToJson(report), null, 2)}\n`;
}

/** Make `expected`/`actual` safe for JSON.stringify: bigint → number (or string when too large), Date → RFC 3339. */
function toJsonValue(value: unknown): JsonValue {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'bigint':
      return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(value) : value.toString();
    case 'object':
      if (value === null) return null;
      if (value instanceof Date) return value.toISOString();
      if (Array.isArray(value)) return value.map(toJsonValue);
      return Object.fromEntries(Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).map(([k, v]) => [k, toJsonValue(v)]));
    case 'undefined':
    case 'function':
    case 'symbol':
      return null;
  }
}
