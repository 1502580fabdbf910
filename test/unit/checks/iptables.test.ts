import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { iptablesCheck } from '../../../src/checks/iptables.js';
import { iptablesLeftoversCheck } from '../../../src/checks/iptables-leftovers.js';
import type { ComparisonContext, NodeObservation } from '../../../src/checks/types.js';
import { ipsetsOfFamily } from '../../../src/desired/ipsets.js';
import type { DesiredIpset, DesiredState } from '../../../src/desired/types.js';
import { findingId } from '../../../src/drift/finding-id.js';
import { advance } from '../../../src/drift/grace.js';
import { buildDriftReport, formatDriftReportJson } from '../../../src/drift/report.js';
import { SentinelError } from '../../../src/errors/index.js';
import { decideBackend } from '../../../src/iptables/backend.js';
import type { NftTablesState } from '../../../src/iptables/node.js';
import { parseSave } from '../../../src/iptables/save-parser.js';
import type { BackendRead, FamilyReads, IptablesObservation, SaveTool } from '../../../src/iptables/types.js';
import type { AddressFamily } from '../../../src/ipvs/types.js';
import { expectGolden } from '../../support/golden.js';

const fixture = (name: string): string => readFileSync(`test/fixtures/iptables/${name}`, 'utf8');
/** A save tool's output as the reader gives it; `edit` changes the captured text first. */
const read = (tool: SaveTool, file: string, edit: (text: string) => string = (t) => t): BackendRead => ({
  state: 'read',
  result: { tool, dump: parseSave(edit(fixture(file))), warnings: [], legacyTablesPresent: false },
});
const absent: BackendRead = { state: 'absent', reason: 'no table of this backend' };

function observation(legacy: FamilyReads, nft: FamilyReads): IptablesObservation {
  return { legacyTableNames: { inet: [], inet6: [] }, legacy, nft, decision: decideBackend({ legacy, nft }), problems: [] };
}

/** The sets whose conditional rules the hand-written fixture rulesets hold have entries; the others are empty. */
const NON_EMPTY: Record<AddressFamily, readonly string[]> = {
  inet: ['loopBack', 'clusterIP', 'loadBalancer', 'loadBalancerLocal', 'nodePortTCP', 'nodePortLocalTCP', 'nodePortUDP', 'nodePortSCTP', 'loadBalancerFW', 'loadBalancerSourceCIDR', 'loadBalancerSourceIP'],
  inet6: ['loopBack', 'clusterIP', 'nodePortTCP'],
};
function desiredSets(): Map<string, DesiredIpset> {
  const sets = new Map<string, DesiredIpset>();
  for (const family of ['inet', 'inet6'] as const) {
    for (const s of ipsetsOfFamily(family)) sets.set(s.name, { name: s.name, family, type: s.type, entries: NON_EMPTY[family].includes(s.key) ? ['x'] : [] });
  }
  return sets;
}
const desired: DesiredState = { virtualServers: [], kubeIpvs0Addresses: [], excludeCIDRs: [], families: ['inet', 'inet6'], ipsets: desiredSets() };

const unread = { value: null, error: null, code: null };
function ctx(iptables: IptablesObservation, nft: NftTablesState = { state: 'read', tables: [] }): ComparisonContext {
  const node: NodeObservation = {
    readings: { netlink: unread, modules: unread, sysctl: unread, 'kube-proxy': unread, interfaces: unread, ipsets: unread, netfilter: { value: { nft, iptables }, error: null, code: null }, 'kube-proxy-health': unread, conntrack: unread },
    snapshot: null,
    schedulersInUse: null,
    modules: null,
    runningMode: 'ipvs',
  };
  return {
    node,
    cluster: { desired, unknownReason: null, configuredMode: 'ipvs', strictARP: false },
    desired,
    snapshot: { services: [] } as unknown as ComparisonContext['snapshot'],
  };
}
const summary = (c: ComparisonContext): string[] =>
  [...iptablesCheck.evaluate(c), ...iptablesLeftoversCheck.evaluate(c)].map((f) => `${f.severity} ${f.kind} ${f.subject}`);

const nftClean = (edit4?: (t: string) => string): IptablesObservation =>
  observation({ inet: absent, inet6: absent }, { inet: read('iptables-nft-save', 'nft-ipvs.save', edit4), inet6: read('ip6tables-nft-save', 'nft-ipvs6.save') });
const drop = (line: string) => (text: string): string => {
  expect(text).toContain(line);
  return text.replace(`${line}\n`, '');
};

describe('iptables check on real iptables-nft-save captures of kube-proxy\'s IPVS-mode rules', () => {
  it('finds nothing on the clean ruleset, both families', () => {
    expect(summary(ctx(nftClean()))).toEqual([]);
  });

  it.each<[string, (t: string) => string, string[]]>([
    [
      'the PREROUTING jump to KUBE-SERVICES deleted',
      drop('-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES'),
      ['critical iptables-jump-missing iptables-nft nat PREROUTING -> KUBE-SERVICES'],
    ],
    [
      "KUBE-IPVS-FILTER's RETURN for KUBE-CLUSTER-IP deleted (its REJECT then refuses ClusterIP connections)",
      drop('-A KUBE-IPVS-FILTER -m set --match-set KUBE-CLUSTER-IP dst,dst -j RETURN'),
      ['critical iptables-rule-missing iptables-nft filter KUBE-IPVS-FILTER --match-set KUBE-CLUSTER-IP -j RETURN'],
    ],
    [
      'a chain gone with its rules',
      (t) => t.split('\n').filter((l) => !l.includes('KUBE-SOURCE-RANGES-FIREWALL')).join('\n'),
      ['warning iptables-chain-missing iptables-nft filter KUBE-SOURCE-RANGES-FIREWALL'],
    ],
  ])('%s → exactly its finding', (_name, edit, expected) => {
    expect(summary(ctx(nftClean(edit)))).toEqual(expected);
  });

  it('expects a conditional rule only while its set has entries', () => {
    const noLoopBack = ctx(nftClean(drop('-A KUBE-POSTROUTING -m comment --comment "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose" -m set --match-set KUBE-LOOP-BACK dst,dst,src -j MASQUERADE')));
    expect(summary(noLoopBack)).toEqual(['critical iptables-rule-missing iptables-nft nat KUBE-POSTROUTING --match-set KUBE-LOOP-BACK -j MASQUERADE']);
    const empty = { ...desired, ipsets: new Map([...desiredSets()].map(([k, v]) => [k, k === 'KUBE-LOOP-BACK' ? { ...v, entries: [] } : v])) };
    const c = noLoopBack;
    expect(iptablesCheck.evaluate({ ...c, desired: empty })).toEqual([]);
  });

  it('judges the backend that holds the chains when only one does, and reports two live copies', () => {
    const legacyOnly = observation({ inet: read('iptables-legacy-save', 'legacy-ipvs.save'), inet6: read('ip6tables-legacy-save', 'legacy-ipvs6.save') }, { inet: absent, inet6: absent });
    expect(summary(ctx(legacyOnly))).toEqual([]);
    const both = observation(
      { inet: read('iptables-legacy-save', 'legacy-ipvs.save'), inet6: absent },
      { inet: read('iptables-nft-save', 'nft-ipvs.save'), inet6: read('ip6tables-nft-save', 'nft-ipvs6.save') },
    );
    const findings = iptablesCheck.evaluate(ctx(both));
    expect(findings.map((f) => `${f.severity} ${f.kind} ${f.subject}`)).toEqual(['warning iptables-backends-both iptables-legacy iptables-nft']);
    expect(findings[0]?.selfHealing).toBe(false);
    expect(findings[0]?.message).toContain('iptables-nft here (kubelet-hint-nft)');
  });

  it('reports a drifted node\'s chains, jumps, rules and backends (golden)', async () => {
    const drifted = observation(
      { inet: read('iptables-legacy-save', 'legacy-ipvs.save'), inet6: absent },
      {
        inet: read('iptables-nft-save', 'nft-ipvs.save', (t) =>
          drop('-A KUBE-IPVS-FILTER -m set --match-set KUBE-CLUSTER-IP dst,dst -j RETURN')(
            drop('-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES')(t.split('\n').filter((l) => !l.includes('KUBE-SOURCE-RANGES-FIREWALL')).join('\n')),
          ),
        ),
        inet6: read('ip6tables-nft-save', 'nft-ipvs6.save'),
      },
    );
    const findings = iptablesCheck.evaluate(ctx(drifted));
    expect(findings.map((f) => f.kind).sort()).toEqual(['iptables-backends-both', 'iptables-chain-missing', 'iptables-jump-missing', 'iptables-rule-missing']);
    const tracked = advance([], findings, new Date('2026-12-06T20:00:00.000Z'), { grace: 0 });
    const report = buildDriftReport({ node: 'worker-1', checkedAt: new Date('2026-12-06T20:00:00.000Z'), findings: tracked, unknownReason: null });
    await expectGolden('test/fixtures/golden/drift/iptables.json', formatDriftReportJson(report));
  });

  it('names each finding by command, table, chain (and rule), so ids never collide', () => {
    const c = ctx(observation({ inet: absent, inet6: absent }, { inet: absent, inet6: absent }));
    const findings = iptablesCheck.evaluate(c);
    expect(findings.length).toBeGreaterThan(10);
    expect(new Set(findings.map(findingId)).size).toBe(findings.length);
    expect(findings.every((f) => f.kind === 'iptables-chain-missing' && f.message.includes(f.subject.split(' ').at(-1) ?? '?'))).toBe(true);
  });

  it('fails its /healthz line with the tool\'s error when a backend could not be read, and says nothing of it', () => {
    const error = new SentinelError('IPTABLES_PERMISSION_DENIED', 'run iptables-nft-save', "Can't open socket to ipset.");
    const failed = observation({ inet: absent, inet6: absent }, { inet: { state: 'failed', error }, inet6: read('ip6tables-nft-save', 'nft-ipvs6.save') });
    const c = ctx(failed);
    expect(iptablesCheck.evaluate(c)).toEqual([]);
    const report = buildDriftReport({ node: 'n', checkedAt: new Date(0), findings: [], unknownReason: null });
    expect(iptablesCheck.health?.evaluate({ node: c.node, clusterUnknown: null, report })).toEqual({ ok: false, reason: error.toLine() });
  });
});

describe('leftovers of other proxy modes', () => {
  const withLeftovers = observation({ inet: absent, inet6: absent }, { inet: read('iptables-nft-save', 'nft-leftovers.save'), inet6: read('ip6tables-nft-save', 'nft-ipvs6.save') });

  it("iptables mode's KUBE-EXTERNAL-SERVICES still jumped to with REJECTs is critical, with the commands that remove it (golden)", async () => {
    const c = ctx(withLeftovers, { state: 'read', tables: [{ family: 'ip', name: 'kube-proxy', use: 12 }, { family: 'ip', name: 'filter', use: 3 }] });
    const findings = [...iptablesLeftoversCheck.evaluate(c)];
    const external = findings.find((f) => f.subject === 'iptables-nft filter KUBE-EXTERNAL-SERVICES');
    expect(external?.severity).toBe('critical');
    expect(external?.message).toContain('`iptables-nft -t filter -D INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES`');
    expect(findings.find((f) => f.kind === 'stale-nftables-rules')?.message).toContain('`nft delete table ip kube-proxy`');
    expect(findings.every((f) => !f.selfHealing)).toBe(true);
    const tracked = advance([], findings, new Date('2026-12-06T20:00:00.000Z'), { grace: 0 });
    const report = buildDriftReport({ node: 'worker-1', checkedAt: new Date('2026-12-06T20:00:00.000Z'), findings: tracked, unknownReason: null });
    await expectGolden('test/fixtures/golden/drift/leftovers.json', formatDriftReportJson(report));
  });

  it('says nothing on a node that never ran another mode', () => {
    expect(iptablesLeftoversCheck.evaluate(ctx(nftClean(), { state: 'read', tables: [{ family: 'ip', name: 'nat', use: 9 }, { family: 'inet', name: 'kube-proxy', use: 1 }] }))).toEqual([]);
  });

  it('an unhooked leftover chain is a warning', () => {
    const unhooked = observation(
      { inet: absent, inet6: absent },
      {
        inet: read('iptables-nft-save', 'nft-leftovers.save', (t) => t.split('\n').filter((l) => !/^-A (INPUT|FORWARD|OUTPUT) .*-j KUBE-EXTERNAL-SERVICES/.test(l)).join('\n')),
        inet6: absent,
      },
    );
    const external = iptablesLeftoversCheck.evaluate(ctx(unhooked)).find((f) => f.subject === 'iptables-nft filter KUBE-EXTERNAL-SERVICES');
    expect(external?.severity).toBe('warning');
  });
});
