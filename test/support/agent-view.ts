/**
 * A hand-built AgentView for the HTTP and metrics tests: plain mutable state, every accessor reads
 * it at call time, so a test changes `state.snapshot` and the next request sees it.
 */
import type { AgentView, HealthCheck } from '../../src/agent/view.js';
import { HEALTH_CHECK_NAMES } from '../../src/agent/view.js';
import type { DriftReport, FindingKind, ServicePortRef, Severity, TrackedFinding } from '../../src/drift/types.js';
import type { IpvsSnapshot } from '../../src/ipvs/types.js';
import type { ModuleReport } from '../../src/kmod/types.js';

export interface FakeAgentState {
  node: string | null;
  live: boolean;
  ready: { ready: boolean; reason: string | null };
  health: HealthCheck[];
  snapshot: IpvsSnapshot | null;
  services: Map<string, ServicePortRef>;
  drift: DriftReport;
  modules: ModuleReport | null;
  proxyMode: string | null;
  clusterSynced: boolean;
  lastCheck: Date | null;
}

export const CHECKED_AT = new Date('2025-03-01T12:00:40.000Z');

export function allHealthy(): HealthCheck[] {
  return HEALTH_CHECK_NAMES.map((name) => ({ name, ok: true, reason: null }));
}

export function okDrift(findings: TrackedFinding[] = []): DriftReport {
  return { node: 'node-a', checkedAt: CHECKED_AT, status: 'ok', reason: null, findings };
}

export function fakeAgentView(overrides: Partial<FakeAgentState> = {}): { view: AgentView; state: FakeAgentState } {
  const state: FakeAgentState = {
    node: 'node-a',
    live: true,
    ready: { ready: true, reason: null },
    health: allHealthy(),
    snapshot: null,
    services: new Map(),
    drift: okDrift(),
    modules: null,
    proxyMode: 'ipvs',
    clusterSynced: true,
    lastCheck: CHECKED_AT,
    ...overrides,
  };
  const view: AgentView = {
    get node() {
      return state.node;
    },
    live: () => state.live,
    ready: () => state.ready,
    health: () => state.health,
    snapshot: () => state.snapshot,
    lookup: (key) => state.services.get(key) ?? null,
    drift: () => state.drift,
    modules: () => state.modules,
    proxyMode: () => state.proxyMode,
    clusterSynced: () => state.clusterSynced,
    lastCheck: () => state.lastCheck,
  };
  return { view, state };
}

export function trackedFinding(kind: FindingKind, severity: Severity, confirmed: boolean, overrides: Partial<TrackedFinding> = {}): TrackedFinding {
  return {
    kind,
    severity,
    virtualServer: null,
    realServer: null,
    subject: overrides.virtualServer ?? kind,
    service: null,
    expected: null,
    actual: null,
    message: `${kind}.`,
    selfHealing: true,
    id: `${kind}|${overrides.virtualServer ?? ''}|${overrides.realServer ?? ''}|`,
    firstSeen: new Date('2025-03-01T12:00:00.000Z'),
    confirmed,
    ...overrides,
  };
}

export function sampleModules(): ModuleReport {
  return {
    release: '6.1.0-18-amd64',
    modules: [
      { name: 'ip_vs', loaded: true, builtin: false, required: true, reason: 'the IPVS core' },
      { name: 'ip_vs_rr', loaded: false, builtin: true, required: true, reason: 'the rr scheduler kube-proxy uses by default' },
      { name: 'nf_conntrack', loaded: false, builtin: false, required: true, reason: 'missing: connection tracking for masquerading' },
      { name: 'ip_vs_sh', loaded: false, builtin: null, required: false, reason: 'only for --scheduler sh; modules.builtin unreadable' },
    ],
    ipvsFamilyResolves: true,
    ok: false,
    problems: ['nf_conntrack is neither loaded nor built in'],
  };
}
