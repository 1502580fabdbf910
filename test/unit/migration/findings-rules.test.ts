/**
 * The catalogue items decided from kube-proxy's rules, configuration and the node's addresses:
 * vip-answers-arp, local-firewall-accepts, clusterip-icmp, masquerade-bit-moves, ipvs-config-ignored.
 * Each case changes one input of a clean IPVS node.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { KubeProxyConfig } from '../../../src/cluster/kube-proxy-config.js';
import type { ClusterSnapshot } from '../../../src/cluster/model.js';
import type { NodeNetfilter } from '../../../src/iptables/node.js';
import { decideBackend } from '../../../src/iptables/backend.js';
import { parseSave } from '../../../src/iptables/save-parser.js';
import type { BackendRead, FamilyReads, NftTableRef } from '../../../src/iptables/types.js';
import { buildMigrationReport } from '../../../src/migration/report.js';
import { ReplaySocket, type NetlinkRecording } from '../../../src/netlink/recording.js';
import type { NftChain } from '../../../src/nftables/chains.js';
import { readNftChains } from '../../../src/nftables/reader.js';
import type { MigrationFinding, MigrationInput } from '../../../src/migration/types.js';
import { endpoint, port, service, slice } from '../../support/cluster-builders.js';
import { cleanCluster, ipvsSysctls, migrationInput, NODE } from '../../support/migration-input.js';

function finding(input: MigrationInput, id: string): MigrationFinding | undefined {
  const found = buildMigrationReport(input).findings.filter((f) => f.id === id);
  expect(found.length, `at most one ${id}`).toBeLessThanOrEqual(1);
  return found[0];
}

const saveFixture = (name: string): string => readFileSync(`test/fixtures/iptables/${name}`, 'utf8');
const absent: BackendRead = { state: 'absent', reason: 'no table' };

/** A node's netfilter read: `save` as iptables-legacy-save's IPv4 dump, and the nf_tables tables listed. */
function netfilter(save: string | null, nftTables: readonly NftTableRef[] = []): NodeNetfilter {
  const legacy: FamilyReads = {
    inet: save === null ? absent : { state: 'read', result: { tool: 'iptables-legacy-save', dump: parseSave(save), warnings: [], legacyTablesPresent: false } },
    inet6: absent,
  };
  const nft: FamilyReads = { inet: absent, inet6: absent };
  return { nft: { state: 'read', tables: nftTables }, iptables: { legacyTableNames: { inet: [], inet6: [] }, legacy, nft, decision: decideBackend({ legacy, nft }), problems: [] } };
}

describe('vip-answers-arp', () => {
  /** shop/ext: an externalIP, in eth0's 192.168.1.0/24 or elsewhere. */
  function withExternalIP(ip: string): ClusterSnapshot {
    const c = cleanCluster();
    c.services.push(service('shop/ext', { clusterIPs: ['10.96.0.80'], externalIPs: [ip], ports: [port('http', 80)] }));
    c.endpointSlices.push(slice('shop/ext', [endpoint('10.244.0.30', { nodeName: NODE })]));
    return c;
  }

  it.each([
    { name: 'externalIP in eth0\'s subnet, arp_ignore 0', ip: '192.168.1.50', arpIgnore: 0, expected: 'eth0 192.168.1.10/24' },
    { name: 'externalIP in eth0\'s subnet, strict ARP (arp_ignore 1)', ip: '192.168.1.50', arpIgnore: 1, expected: null },
    { name: 'externalIP routed from elsewhere', ip: '203.0.113.5', arpIgnore: 0, expected: null },
    { name: 'externalIP that is eth0\'s own address', ip: '192.168.1.10', arpIgnore: 0, expected: null },
  ])('$name → $expected', ({ ip, arpIgnore, expected }) => {
    const f = finding(migrationInput({ cluster: withExternalIP(ip) }, { sysctls: ipvsSysctls({ 'net.ipv4.conf.all.arp_ignore': arpIgnore }) }), 'vip-answers-arp');
    expect(f?.evidence.find((e) => e.kind === 'interface-address')?.value ?? null).toBe(expected);
    if (f) {
      expect(f.heuristic).toBe(true);
      expect(f.services).toEqual([{ namespace: 'shop', name: 'ext', port: 'http' }]);
      expect(f.evidence[0]).toEqual({ kind: 'sysctl', ref: 'net.ipv4.conf.all.arp_ignore', value: 0, detail: expect.any(String) as string });
    }
  });

  it('ClusterIPs alone give nothing (they are not in a node subnet)', () => {
    expect(finding(migrationInput(), 'vip-answers-arp')).toBeUndefined();
  });
});

describe('local-firewall-accepts and clusterip-icmp from the iptables rules', () => {
  const ipvs = saveFixture('legacy-ipvs.save');
  const withoutIpvsFilter = ipvs
    .split('\n')
    .filter((line) => !line.includes('KUBE-IPVS-FILTER'))
    .join('\n');

  it.each([
    { name: 'IPVS mode\'s rules, ACCEPT policies', nf: netfilter(ipvs), refs: null },
    { name: 'FORWARD policy DROP', nf: netfilter(ipvs.replace(':FORWARD ACCEPT [0:0]', ':FORWARD DROP [0:0]')), refs: ['iptables-legacy filter/FORWARD'] },
    { name: 'INPUT and FORWARD DROP', nf: netfilter(ipvs.replace(':FORWARD ACCEPT [0:0]', ':FORWARD DROP [0:0]').replace(':INPUT ACCEPT [0:0]', ':INPUT DROP [0:0]')), refs: ['iptables-legacy filter/INPUT', 'iptables-legacy filter/FORWARD'] },
    { name: 'an inet firewalld table', nf: netfilter(ipvs, [{ family: 'inet', name: 'firewalld', use: 40 }, { family: 'ip', name: 'filter', use: 3 }]), refs: ['nf_tables'] },
    { name: 'kube-proxy\'s own inet table only', nf: netfilter(ipvs, [{ family: 'inet', name: 'kube-proxy', use: 20 }]), refs: null },
  ])('local-firewall-accepts: $name → $refs', ({ nf, refs }) => {
    const f = finding(migrationInput({}, { netfilter: nf }), 'local-firewall-accepts');
    expect(f?.evidence.map((e) => e.ref) ?? null).toEqual(refs);
    if (f) expect(f.heuristic).toBe(true);
  });

  it.each([
    { name: 'KUBE-IPVS-FILTER present', nf: netfilter(ipvs), found: false },
    { name: 'IPVS mode chains without KUBE-IPVS-FILTER (kube-proxy before #108460)', nf: netfilter(withoutIpvsFilter), found: true },
    { name: 'no kube-proxy chains at all', nf: netfilter(saveFixture('legacy-unused.save')), found: false },
    { name: 'nothing read', nf: netfilter(null), found: false },
  ])('clusterip-icmp: $name → $found', ({ nf, found }) => {
    const f = finding(migrationInput({}, { netfilter: nf }), 'clusterip-icmp');
    expect(f !== undefined).toBe(found);
    if (f) expect(f.evidence[0]).toMatchObject({ kind: 'iptables-chain', ref: 'iptables-legacy filter' });
  });

  it('iptables rules not read: neither is evaluated, the report says so and the verdict stays as it was', () => {
    const report = buildMigrationReport(migrationInput({}, { netfilter: null, unread: { netfilter: 'iptables-save failed' } }));
    expect(report.verdict).toBe('ready');
    expect(report.notes).toContain('The iptables rules were not read (iptables-save failed): clusterip-icmp and local-firewall-accepts were not evaluated.');
  });
});

describe('local-firewall-accepts from the nf_tables base chains (recorded: test/fixtures/nftables/chains.json)', () => {
  const ipvs = saveFixture('legacy-ipvs.save');
  const recorded = readNftChains({ open: () => new ReplaySocket(JSON.parse(readFileSync('test/fixtures/nftables/chains.json', 'utf8')) as NetlinkRecording), seq: 7000 }).chains;
  const accepting = recorded.filter((c) => c.policy !== 'drop');
  /** The legacy IPVS rules, and nf_tables as read: `chains` the node's chains, or the chain dump's error. */
  function withChains(chains: readonly NftChain[] | Error, nftSave: string | null = null): NodeNetfilter {
    const nf = netfilter(ipvs, [{ family: 'inet', name: 'firewalld', use: 4 }]);
    const nftRead: FamilyReads = { inet: nftSave === null ? absent : { state: 'read', result: { tool: 'iptables-nft-save', dump: parseSave(nftSave), warnings: [], legacyTablesPresent: false } }, inet6: absent };
    return {
      nft: { state: 'read', tables: [{ family: 'inet', name: 'firewalld', use: 4 }], baseChains: chains instanceof Error ? { state: 'error', reason: chains.message } : { state: 'read', chains: chains.filter((c) => c.hook !== null) } },
      iptables: { ...nf.iptables, nft: nftRead },
    };
  }
  const nftInputDrop = '*filter\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n';

  it.each([
    {
      name: 'the recorded drops: iptables-nft INPUT, ip6tables-nft FORWARD, firewalld input and forward',
      nf: withChains(recorded),
      refs: ['ip filter INPUT', 'ip6 filter FORWARD', 'inet firewalld filter_INPUT', 'inet firewalld filter_FORWARD'],
    },
    { name: 'iptables-nft-save read too: its INPUT named once, by the tool', nf: withChains(recorded, nftInputDrop), refs: ['iptables-nft filter/INPUT', 'ip6 filter FORWARD', 'inet firewalld filter_INPUT', 'inet firewalld filter_FORWARD'] },
    { name: 'only accept policies (firewalld output, kube-proxy\'s filter-input): a firewall table without a drop policy', nf: withChains(accepting), refs: null },
    { name: 'the chain dump failed: the inet table, its policy unknown', nf: withChains(new Error('NETLINK_DECODE: x')), refs: ['nf_tables'] },
  ])('$name → $refs', ({ nf, refs }) => {
    const f = finding(migrationInput({}, { netfilter: nf }), 'local-firewall-accepts');
    expect(f?.evidence.map((e) => e.ref) ?? null).toEqual(refs);
  });

  it('the evidence names the table, chain, hook, priority and policy', () => {
    const f = finding(migrationInput({}, { netfilter: withChains(recorded) }), 'local-firewall-accepts');
    expect(f?.evidence.find((e) => e.ref === 'inet firewalld filter_INPUT')).toEqual({ kind: 'nftables-chain', ref: 'inet firewalld filter_INPUT', value: 'drop', detail: 'policy of a base chain on the input hook (type filter, priority 10)' });
    expect(finding(migrationInput({}, { netfilter: withChains(new Error('EPERM')) }), 'local-firewall-accepts')?.evidence[0]?.detail).toContain('the chains could not be read: EPERM');
  });
});

describe('configuration fields', () => {
  it.each([
    { name: 'both bits 14', cfg: {}, source: 'configz', expected: null },
    { name: 'iptables.masqueradeBit 12, nftables 14', cfg: { iptablesMasqueradeBit: 12 }, source: 'configz', expected: [12, 14] },
    { name: 'both 12', cfg: { iptablesMasqueradeBit: 12, nftablesMasqueradeBit: 12 }, source: 'configz', expected: null },
    { name: 'different, but only defaults known', cfg: { iptablesMasqueradeBit: 12 }, source: 'defaults', expected: null },
  ] as const)('masquerade-bit-moves: $name → $expected', ({ cfg, source, expected }) => {
    const f = finding(migrationInput({ config: cfg }, { configSource: source }), 'masquerade-bit-moves');
    expect(f ? f.evidence.map((e) => e.value) : null).toEqual(expected);
  });

  it.each([
    { cfg: {}, refs: null },
    { cfg: { scheduler: 'rr' }, refs: ['ipvs.scheduler'] },
    { cfg: { strictARP: true, udpTimeoutSeconds: 60 }, refs: ['ipvs.strictARP', 'ipvs.udpTimeout'] },
    { cfg: { excludeCIDRs: ['192.168.50.0/24'], tcpTimeoutSeconds: 7200, tcpFinTimeoutSeconds: 30 }, refs: ['ipvs.excludeCIDRs', 'ipvs.tcpTimeout', 'ipvs.tcpFinTimeout'] },
  ] satisfies { cfg: Partial<KubeProxyConfig>; refs: string[] | null }[])('ipvs-config-ignored: $cfg → $refs', ({ cfg, refs }) => {
    const f = finding(migrationInput({ config: cfg }), 'ipvs-config-ignored');
    expect(f?.evidence.map((e) => e.ref) ?? null).toEqual(refs);
  });
});
