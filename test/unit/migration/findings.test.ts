/**
 * Each finding from its inputs: a clean IPVS node gets none but the deprecation notice; one change
 * to the node or cluster brings exactly the finding it should, with its evidence.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ClusterSnapshot } from '../../../src/cluster/model.js';
import { decideBackend } from '../../../src/iptables/backend.js';
import { parseSave } from '../../../src/iptables/save-parser.js';
import type { BackendRead, FamilyReads } from '../../../src/iptables/types.js';
import type { IpSet } from '../../../src/ipset/types.js';
import { buildMigrationReport } from '../../../src/migration/report.js';
import type { MigrationFinding, MigrationInput } from '../../../src/migration/types.js';
import { rs, snapshot, vs } from '../../support/builders.js';
import { endpoint, iface, nodeFacts, port, service, slice } from '../../support/cluster-builders.js';
import { cleanCluster, ipvsSysctls, migrationInput, NODE, tableOf } from '../../support/migration-input.js';

function withCluster(edit: (c: ClusterSnapshot) => void): ClusterSnapshot {
  const c = cleanCluster();
  edit(c);
  return c;
}

function findings(input: MigrationInput): MigrationFinding[] {
  return buildMigrationReport(input).findings;
}

function only(input: MigrationInput, id: string): MigrationFinding {
  const found = findings(input).filter((f) => f.id === id);
  expect(found, `exactly one ${id}`).toHaveLength(1);
  return found[0] as MigrationFinding;
}

const defaultIds = ['ip-forward-from-kube-proxy', 'ipvs-deprecation', 'ipvs-monitoring-dark', 'ipvs-sysctls-orphaned'];

describe('a clean IPVS node', () => {
  it('has only the info findings every IPVS node has', () => {
    expect(findings(migrationInput()).map((f) => f.id).sort()).toEqual(defaultIds);
  });
});

describe('traffic policies', () => {
  it('itp-local-fallback: ITP=Local, externally reachable, no local endpoint → blocker with the ClusterIP virtual server', () => {
    const cluster = withCluster((c) => {
      c.services.push(service('shop/cart', { type: 'NodePort', clusterIPs: ['10.96.0.60'], internalTrafficPolicy: 'Local', externalTrafficPolicy: 'Cluster', ports: [port('http', 80, { nodePort: 30080 })] }));
      c.endpointSlices.push(slice('shop/cart', [endpoint('10.244.1.7', { nodeName: 'node-b' })]));
    });
    const f = only(migrationInput({ cluster }), 'itp-local-fallback');
    expect(f.severity).toBe('blocker');
    expect(f.services).toEqual([{ namespace: 'shop', name: 'cart', port: 'http' }]);
    expect(f.evidence).toEqual([{ kind: 'virtual-server', ref: 'TCP/10.96.0.60:80', value: { role: 'cluster-ip', localEndpoints: 0, clusterEndpoints: 1 }, detail: expect.stringContaining('shop/cart:http') as string }]);
  });

  it('no itp-local-fallback when a local endpoint exists, or the Service is not externally reachable (IPVS drops too)', () => {
    const cluster = withCluster((c) => {
      c.services.push(service('shop/local', { type: 'NodePort', clusterIPs: ['10.96.0.61'], internalTrafficPolicy: 'Local', ports: [port('http', 80, { nodePort: 30081 })] }));
      c.endpointSlices.push(slice('shop/local', [endpoint('10.244.0.7', { nodeName: NODE })]));
      c.services.push(service('shop/internal', { clusterIPs: ['10.96.0.62'], internalTrafficPolicy: 'Local' }));
      c.endpointSlices.push(slice('shop/internal', [endpoint('10.244.1.8', { nodeName: 'node-b' })]));
    });
    expect(findings(migrationInput({ cluster })).map((f) => f.id)).not.toContain('itp-local-fallback');
  });

  it('etp-local-fallback: ETP=Local without local endpoint → on the NodePort virtual servers, graded (etp-grading.test.ts), with the version note', () => {
    const cluster = withCluster((c) => {
      c.services.push(service('shop/lb', { type: 'NodePort', clusterIPs: ['10.96.0.63'], externalTrafficPolicy: 'Local', ports: [port('http', 80, { nodePort: 30082 })] }));
      c.endpointSlices.push(slice('shop/lb', [endpoint('10.244.1.9', { nodeName: 'node-b' })]));
    });
    const f = only(migrationInput({ cluster, config: { clusterCIDRs: ['10.244.0.0/16'] } }), 'etp-local-fallback');
    expect(f.severity).toBe('info');
    expect(f.evidence.map((e) => e.ref)).toContain('TCP/192.168.1.10:30082');
    expect(f.versionNote).toContain('#133969');
  });

  it('no-endpoint-reject: a Service without endpoints', () => {
    const cluster = withCluster((c) => c.services.push(service('shop/empty', { clusterIPs: ['10.96.0.64'] })));
    const f = only(migrationInput({ cluster }), 'no-endpoint-reject');
    expect(f.evidence.map((e) => e.ref)).toEqual(['TCP/10.96.0.64:80']);
  });

  it('session-affinity-semantics: ClientIP affinity reached through a ClusterIP and NodePorts', () => {
    const cluster = withCluster((c) => {
      c.services.push(service('shop/sticky', { type: 'NodePort', clusterIPs: ['10.96.0.65'], sessionAffinity: 'ClientIP', sessionAffinityTimeoutSeconds: 600, ports: [port('http', 80, { nodePort: 30083 })] }));
      c.endpointSlices.push(slice('shop/sticky', [endpoint('10.244.0.9', { nodeName: NODE })]));
    });
    const f = only(migrationInput({ cluster }), 'session-affinity-semantics');
    expect(f.evidence[0]).toMatchObject({ kind: 'service', ref: 'shop/sticky:http', value: { timeoutSeconds: 600 } });
  });
});

describe('addresses', () => {
  it('vip-bound-socket: a host process listening on a ClusterIP, not on the wildcard', () => {
    const input = migrationInput({}, {
      sockets: [
        { protocol: 'UDP', family: 'inet', address: '10.96.0.10', port: 53, inode: 33103, uid: 101 },
        { protocol: 'TCP', family: 'inet', address: '0.0.0.0', port: 22, inode: 1, uid: 0 },
      ],
    });
    const f = only(input, 'vip-bound-socket');
    expect(f.services).toEqual([{ namespace: 'kube-system', name: 'kube-dns', port: 'dns' }]);
    expect(f.evidence).toEqual([{ kind: 'socket', ref: 'UDP 10.96.0.10:53', value: { inode: 33103, uid: 101 }, detail: 'Service IP of kube-system/kube-dns:dns' }]);
  });

  it('foreign-ipvs-virtual-server: a keepalived virtual server inside excludeCIDRs, the probe left alone', () => {
    const input = migrationInput({
      config: { excludeCIDRs: ['192.168.50.0/24'] },
      table: (d) => {
        const t = tableOf(d);
        return snapshot([...t.services, vs('TCP/192.168.50.5:443', [rs('192.168.50.11:443')], { scheduler: 'wlc' }), vs('TCP/198.51.100.0:20000')]);
      },
    });
    const f = only(input, 'foreign-ipvs-virtual-server');
    expect(f.evidence).toEqual([{ kind: 'virtual-server', ref: 'TCP/192.168.50.5:443', value: { scheduler: 'wlc', realServers: 1 }, detail: 'inside ipvs.excludeCIDRs 192.168.50.0/24' }]);
    expect(only(input, 'exclude-cidrs-configured').evidence[0]).toMatchObject({ ref: 'ipvs.excludeCIDRs', value: '192.168.50.0/24', detail: '1 virtual server inside' });
  });

  it('nodeport-addresses-narrowed: NodePorts on a secondary interface that the primary-IP default drops', () => {
    const cluster = withCluster((c) => {
      c.services.push(service('shop/np', { type: 'NodePort', clusterIPs: ['10.96.0.66'], ports: [port('http', 80, { nodePort: 30084 })] }));
      c.endpointSlices.push(slice('shop/np', [endpoint('10.244.0.10', { nodeName: NODE })]));
    });
    const facts = nodeFacts({ name: NODE });
    const interfaces = [...facts.interfaces, iface('eth1', ['172.16.0.10/24'])];
    const f = only(migrationInput({ cluster, facts: { interfaces } }), 'nodeport-addresses-narrowed');
    // An IPv4 Service: cni0 and eth1 carry its NodePort besides eth0's primary 192.168.1.10, which stays.
    expect(f.evidence.map((e) => e.ref)).toEqual(['nodePortAddresses', 'cni0 10.244.0.1', 'eth1 172.16.0.10']);
    expect(findings(migrationInput({ cluster, facts: { interfaces }, config: { nodePortAddresses: ['0.0.0.0/0'] } })).map((x) => x.id)).not.toContain('nodeport-addresses-narrowed');
  });
});

describe('scheduling and the node', () => {
  it.each([
    { scheduler: 'lc', expected: ['ipvs-scheduler-not-rr'] },
    { scheduler: 'sh', expected: ['ipvs-scheduler-not-rr', 'source-hash-stickiness-lost'] },
    { scheduler: 'wrr', expected: [] },
    { scheduler: '', expected: [] },
  ])('scheduler "$scheduler" → $expected', ({ scheduler, expected }) => {
    const ids = findings(migrationInput({ config: { scheduler } })).map((f) => f.id).filter((id) => id.includes('scheduler') || id.includes('stickiness'));
    expect(ids).toEqual(expected);
  });

  it('ipvs-scheduler-not-rr carries the live histogram', () => {
    const f = only(migrationInput({ config: { scheduler: 'lc' } }), 'ipvs-scheduler-not-rr');
    expect(f.evidence[1]).toMatchObject({ ref: 'schedulers in use', value: { lc: 2 } });
  });

  it.each([
    { name: 'configured udpTimeout', input: migrationInput({ config: { udpTimeoutSeconds: 60 } }), refs: ['ipvs.udpTimeout'] },
    { name: 'kernel tcp timeout tuned by hand', input: migrationInput({ table: (d) => ({ ...tableOf(d), timeouts: { tcp: 7200, tcpFin: 120, udp: 300 } }) }), refs: ['IPVS tcp timeout'] },
  ])('ipvs-timeouts-tuned: $name', ({ input, refs }) => {
    expect(only(input, 'ipvs-timeouts-tuned').evidence.map((e) => e.ref)).toEqual(refs);
  });

  it('strict-arp-configured: strictARP with its sysctls', () => {
    const f = only(migrationInput({ config: { strictARP: true } }, { sysctls: ipvsSysctls({ 'net.ipv4.conf.all.arp_ignore': 1, 'net.ipv4.conf.all.arp_announce': 2 }) }), 'strict-arp-configured');
    expect(f.evidence.map((e) => [e.ref, e.value])).toEqual([['ipvs.strictARP', true], ['net.ipv4.conf.all.arp_ignore', 1], ['net.ipv4.conf.all.arp_announce', 2]]);
  });

  it.each([
    { release: '4.18.0-553.el8_10.x86_64', blocked: true },
    { release: '5.10.0-32-amd64', blocked: true },
    { release: '5.13.0', blocked: false },
    { release: '6.1.0-56-amd64', blocked: false },
  ])('kernel-too-old-for-nftables: $release → $blocked', ({ release, blocked }) => {
    const input = migrationInput({}, { modules: { release, loaded: null, builtin: null, procNetIpvs: true, conntrackSysctls: true, problems: [] } });
    expect(findings(input).some((f) => f.id === 'kernel-too-old-for-nftables')).toBe(blocked);
  });

  it('draining-real-servers: weight 0 with connections', () => {
    const input = migrationInput({ table: (d) => snapshot([...tableOf(d).services.filter((v) => v.key !== 'TCP/10.96.0.50:80'), vs('TCP/10.96.0.50:80', [rs('10.244.0.5:8080'), rs('10.244.1.5:8080'), rs('10.244.2.5:8080', { weight: 0, activeConns: 3 })])]) });
    expect(only(input, 'draining-real-servers').evidence).toEqual([{ kind: 'real-server', ref: 'TCP/10.96.0.50:80 → 10.244.2.5:8080', value: { activeConns: 3, inactiveConns: 0 }, detail: null }]);
  });

  it.each([
    { names: ['cali1a2b3c', 'tunl0'], id: 'cni-ipvs-integration', ref: 'Calico' },
    { names: ['kube-bridge'], id: 'cni-ipvs-integration', ref: 'kube-router' },
    { names: ['nodelocaldns'], id: 'nodelocal-dns-ipvs-layout', ref: 'nodelocaldns' },
  ])('$id from interfaces $names', ({ names, id, ref }) => {
    const facts = nodeFacts({ name: NODE });
    const input = migrationInput({ facts: { interfaces: [...facts.interfaces, ...names.map((n) => iface(n, n === 'nodelocaldns' ? ['169.254.20.10/32'] : []))] } });
    expect(only(input, id).evidence[0]?.ref).toBe(ref);
  });

  it('no nodelocal-dns-ipvs-layout when nodelocaldns also holds the kube-dns ClusterIP (its iptables layout)', () => {
    const facts = nodeFacts({ name: NODE });
    const input = migrationInput({ facts: { interfaces: [...facts.interfaces, iface('nodelocaldns', ['169.254.20.10/32', '10.96.0.10/32'])] } });
    expect(findings(input).map((f) => f.id)).not.toContain('nodelocal-dns-ipvs-layout');
  });
});

describe('after the switch', () => {
  const fixture = (name: string): string => readFileSync(`test/fixtures/iptables/${name}`, 'utf8');
  const absent: BackendRead = { state: 'absent', reason: 'no table' };
  const legacy: FamilyReads = { inet: { state: 'read', result: { tool: 'iptables-legacy-save', dump: parseSave(fixture('legacy-ipvs.save')), warnings: [], legacyTablesPresent: false } }, inet6: absent };
  const none: FamilyReads = { inet: absent, inet6: absent };
  const set = { name: 'KUBE-CLUSTER-IP', type: 'hash:ip,port', family: 'inet', revision: 6, header: { references: 0, elements: 12, memSize: 1 }, entriesListed: false, entries: [] } as unknown as IpSet;

  it('ipvs-leftovers-after-switch: virtual servers, kube-ipvs0, ipsets and IPVS-only chains, each as evidence', () => {
    const input = migrationInput({}, {
      runningMode: 'nftables',
      ipsets: { readable: true, sets: new Map([['KUBE-CLUSTER-IP', set]]) },
      netfilter: { nft: { state: 'read', tables: [] }, iptables: { legacyTableNames: { inet: [], inet6: [] }, legacy, nft: none, decision: decideBackend({ legacy, nft: none }), problems: [] } },
    });
    const report = buildMigrationReport(input);
    expect(report.phase).toBe('post-switch');
    expect(report.findings.map((f) => f.id)).toEqual(['ipvs-leftovers-after-switch']);
    const kinds = new Set(report.findings[0]?.evidence.map((e) => e.kind));
    expect([...kinds].sort()).toEqual(['interface', 'ipset', 'iptables-chain', 'virtual-server']);
  });

  it('a clean switch: nothing left → done', () => {
    const facts = nodeFacts({ name: NODE });
    const input = migrationInput({}, {
      runningMode: 'nftables',
      snapshot: snapshot([]),
      interfaces: facts.interfaces.filter((i) => i.name !== 'kube-ipvs0'),
      netfilter: { nft: { state: 'read', tables: [] }, iptables: { legacyTableNames: { inet: [], inet6: [] }, legacy: none, nft: none, decision: decideBackend({ legacy: none, nft: none }), problems: [] } },
    });
    const report = buildMigrationReport(input);
    expect(report.verdict).toBe('ready');
    expect(report.headline).toMatch(/^DONE: /);
  });
});
