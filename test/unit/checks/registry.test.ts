import { describe, expect, it } from 'vitest';
import { CHECKS, evaluateChecks, FINDING_KINDS, HEALTH_CHECK_NAMES, HEALTH_LINES, PREREQUISITE_KINDS } from '../../../src/checks/registry.js';
import type { CheckDefinition, NodeObservation, PollContext } from '../../../src/checks/types.js';
import type { Finding } from '../../../src/drift/types.js';
import { isSentinelError } from '../../../src/errors/index.js';

const unread = { value: null, error: 'not read', code: 'error' };
const node: NodeObservation = {
  readings: { netlink: unread, modules: unread, sysctl: unread, 'kube-proxy': unread, interfaces: unread, ipsets: unread, netfilter: unread, 'kube-proxy-health': unread, conntrack: unread },
  snapshot: null,
  schedulersInUse: null,
  modules: null,
  runningMode: null,
};
const ctx: PollContext = { node, cluster: { desired: null, unknownReason: 'not synced', configuredMode: null, strictARP: false } };

const finding = (kind: string): Finding => ({
  kind: kind as Finding['kind'],
  severity: 'warning',
  virtualServer: null,
  realServer: null,
  subject: 'x',
  service: null,
  expected: null,
  actual: null,
  message: 'm.',
  selfHealing: true,
});

describe('the registry of checks', () => {
  it('gives every kind to exactly one check', () => {
    expect(new Set(FINDING_KINDS).size).toBe(FINDING_KINDS.length);
    expect(FINDING_KINDS).toEqual(CHECKS.flatMap((c) => c.kinds));
  });

  it('lists the kinds in the order findings of equal severity are listed', () => {
    expect(FINDING_KINDS).toEqual([
      'kube-proxy-stale',
      'module-missing',
      'proxy-mode-mismatch',
      'missing-virtual-server',
      'unexpected-virtual-server',
      'scheduler-mismatch',
      'persistence-mismatch',
      'netmask-mismatch',
      'missing-real-server',
      'unexpected-real-server',
      'weight-mismatch',
      'forward-method-mismatch',
      'terminating-real-server',
      'sysctl-mismatch',
      'kube-ipvs0-missing',
      'kube-ipvs0-address-missing',
      'kube-ipvs0-address-unexpected',
      'vip-shadows-node-ip',
      'ipset-missing',
      'ipset-entry-missing',
      'ipset-entry-unexpected',
      'iptables-chain-missing',
      'iptables-jump-missing',
      'iptables-rule-missing',
      'iptables-backends-both',
      'stale-iptables-mode-rules',
      'stale-nftables-rules',
      'stale-udp-conntrack',
    ]);
  });

  it('derives the prerequisite kinds from the prerequisite checks', () => {
    expect([...PREREQUISITE_KINDS].sort()).toEqual(['kube-proxy-stale', 'module-missing', 'proxy-mode-mismatch', 'sysctl-mismatch']);
  });

  it('orders the /healthz lines as operators script against them, each name once', () => {
    expect(HEALTH_CHECK_NAMES).toEqual(['kube-proxy-sync', 'kernel-modules', 'ipvs', 'kube-proxy-mode', 'ipsets', 'iptables', 'cluster', 'drift']);
    expect(new Set(HEALTH_LINES.map((l) => l.order)).size).toBe(HEALTH_LINES.length);
  });

  it('runs only the prerequisite checks when nothing can be compared', () => {
    const calls: string[] = [];
    const probe = (name: string, prerequisite: boolean): CheckDefinition =>
      prerequisite
        ? { name, kinds: ['module-missing'], prerequisite, health: null, evaluate: () => (calls.push(name), []) }
        : { name, kinds: ['missing-virtual-server'], prerequisite, health: null, evaluate: () => (calls.push(name), []) };
    evaluateChecks(ctx, null, [probe('pre', true), probe('cmp', false)]);
    expect(calls).toEqual(['pre']);
  });

  it('refuses a finding of a kind its check did not declare', () => {
    const rogue: CheckDefinition = { name: 'rogue', kinds: ['module-missing'], prerequisite: true, health: null, evaluate: () => [finding('sysctl-mismatch')] };
    let thrown: unknown;
    try {
      evaluateChecks(ctx, null, [rogue]);
    } catch (err) {
      thrown = err;
    }
    expect(isSentinelError(thrown, 'INTERNAL')).toBe(true);
    expect(String((thrown as Error).message)).toContain('sysctl-mismatch');
  });
});
