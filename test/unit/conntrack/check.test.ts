import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_ENTRIES_PER_SERVICE, staleUdpConntrackCheck } from '../../../src/checks/stale-udp-conntrack.js';
import type { ComparisonContext, NodeObservation } from '../../../src/checks/types.js';
import { readUdpConntrack } from '../../../src/conntrack/reader.js';
import type { NodeConntrack } from '../../../src/conntrack/node.js';
import type { UdpConntrackEntry } from '../../../src/conntrack/types.js';
import type { DesiredState, UdpServicePort } from '../../../src/desired/types.js';
import type { ServicePortRef } from '../../../src/drift/types.js';
import type { AddressFamily } from '../../../src/ipvs/types.js';
import { advance } from '../../../src/drift/grace.js';
import { findingId } from '../../../src/drift/finding-id.js';
import { buildDriftReport, formatDriftReportJson } from '../../../src/drift/report.js';
import type { IpvsSnapshot } from '../../../src/ipvs/types.js';
import { ReplaySocket, type NetlinkRecording } from '../../../src/netlink/recording.js';
import { desired, serviceRef, snapshot } from '../../support/builders.js';
import { expectGolden } from '../../support/golden.js';

const unread = { value: null, error: null, code: null };

function ctx(conntrack: NodeConntrack | null, state: DesiredState, live: IpvsSnapshot = snapshot([])): ComparisonContext {
  const node = {
    readings: {
      netlink: unread,
      modules: unread,
      sysctl: unread,
      'kube-proxy': unread,
      interfaces: unread,
      ipsets: unread,
      netfilter: unread,
      conntrack: conntrack === null ? { value: null, error: 'NETLINK_IO (dump conntrack list ipv4 udp): boom', code: 'NETLINK_IO' } : { value: conntrack, error: null, code: null },
    },
    snapshot: live,
    schedulersInUse: null,
    modules: null,
    runningMode: 'ipvs',
  } as unknown as NodeObservation;
  return { node, cluster: { desired: state, unknownReason: null, configuredMode: 'ipvs', strictARP: false }, desired: state, snapshot: live };
}

const stats = { datagrams: 1, bytes: 1, attempts: 1, scanned: 0, skipped: 0, kernelFiltered: true, durationMs: 0 };
const readable = (entries: UdpConntrackEntry[]): NodeConntrack => ({ readable: true, entries, stats });

function flow(client: string, sport: number, service: string, dport: number, endpoint: string, eport = dport): UdpConntrackEntry {
  return {
    family: service.includes(':') ? 'inet6' : 'inet',
    original: { src: client, dst: service, srcPort: sport, dstPort: dport },
    reply: { src: endpoint, dst: client, srcPort: eport, dstPort: sport },
    timeout: 30,
    zone: 0,
  };
}

const DNS = serviceRef('kube-system/kube-dns:dns');
const SYSLOG = serviceRef('logging/syslog:syslog');

/** A UDP Service port as the desired state gives it (DesiredState.udpServicePorts). */
function udp(service: ServicePortRef, family: AddressFamily, clusterIP: string, port: number, servingEndpoints: string[], more: Partial<UdpServicePort> = {}): UdpServicePort {
  return { service, family, frontends: [{ address: clusterIP, role: 'cluster-ip' }], port, nodePort: 0, servingEndpoints, ...more };
}

function stateOf(...udpServicePorts: UdpServicePort[]): DesiredState {
  return { ...desired([]), udpServicePorts };
}

/**
 * kube-dns with one serving endpoint left (10.244.1.7), and a terminating one still serving
 * (10.244.1.8); syslog with node port 30514, an externalIP and an endpoint the Local policy keeps
 * out of this node's node-port virtual server (10.244.1.20 is on another node: still serving); IPv6
 * kube-dns.
 */
const STATE = stateOf(
  udp(DNS, 'inet', '10.96.0.10', 53, ['10.244.1.7', '10.244.1.8']),
  udp(DNS, 'inet6', 'fd00:96::a', 53, ['fd00:244::2:9']),
  udp(SYSLOG, 'inet', '10.96.5.14', 514, ['10.244.1.20'], { nodePort: 30514, frontends: [{ address: '10.96.5.14', role: 'cluster-ip' }, { address: '203.0.113.14', role: 'external-ip' }] }),
);

const kinds = (entries: UdpConntrackEntry[], state: DesiredState = STATE): string[] => staleUdpConntrackCheck.evaluate(ctx(readable(entries), state)).map((f) => f.subject);

describe('stale-udp-conntrack', () => {
  it.each<[string, UdpConntrackEntry[], string[]]>([
    ['an entry to a serving endpoint', [flow('10.0.2.15', 40000, '10.96.0.10', 53, '10.244.1.7')], []],
    ['an entry to a serving, terminating endpoint (kube-proxy leaves it: cleanup.go ignores terminating status)', [flow('10.0.2.15', 40000, '10.96.0.10', 53, '10.244.1.8')], []],
    ['an entry to a gone endpoint', [flow('10.0.2.15', 40001, '10.96.0.10', 53, '10.244.2.9')], ['kube-system/kube-dns:dns udp src=10.0.2.15 dst=10.96.0.10 sport=40001 dport=53 -> 10.244.2.9:53']],
    [
      'a node port entry to a gone endpoint',
      [flow('192.0.2.50', 33333, '10.0.2.15', 30514, '10.244.9.9', 5514)],
      ['logging/syslog:syslog udp src=192.0.2.50 dst=10.0.2.15 sport=33333 dport=30514 -> 10.244.9.9:5514'],
    ],
    [
      'a node port entry on any destination address (kube-proxy matches *:NodePort)',
      [flow('192.0.2.50', 33334, '172.17.0.1', 30514, '10.244.9.9', 5514)],
      ['logging/syslog:syslog udp src=192.0.2.50 dst=172.17.0.1 sport=33334 dport=30514 -> 10.244.9.9:5514'],
    ],
    ['a node port entry to a serving endpoint the Local policy keeps out of this node\'s virtual servers', [flow('192.0.2.50', 33333, '10.0.2.15', 30514, '10.244.1.20', 5514)], []],
    ['an externalIP entry to a gone endpoint', [flow('192.0.2.50', 33335, '203.0.113.14', 514, '10.244.9.9', 5514)], ['logging/syslog:syslog udp src=192.0.2.50 dst=203.0.113.14 sport=33335 dport=514 -> 10.244.9.9:5514']],
    ['an entry to an address no Service has (a flow to the outside world)', [flow('10.0.2.15', 45000, '198.51.100.53', 53, '198.51.100.53')], []],
    ['an entry to a Service address on another port', [flow('10.0.2.15', 45000, '10.96.0.10', 54, '10.244.2.9')], []],
    ['an IPv6 entry to a serving endpoint', [flow('fd00::1', 41000, 'fd00:96::a', 53, 'fd00:244::2:9')], []],
    ['an IPv6 entry to a gone endpoint', [flow('fd00::1', 41000, 'fd00:96::a', 53, 'fd00:244::6:6')], ['kube-system/kube-dns:dns udp src=fd00::1 dst=fd00:96::a sport=41000 dport=53 -> [fd00:244::6:6]:53']],
  ])('%s', (_, entries, expected) => {
    expect(kinds(entries)).toEqual(expected);
  });

  it('says nothing of a desired state without its UDP Service ports (a hand-built one)', () => {
    expect(kinds([flow('10.0.2.15', 40001, '10.96.0.10', 53, '10.244.2.9')], desired([]))).toEqual([]);
  });

  it('names the frontend the entry came in by, its role and the serving endpoints', () => {
    const [f] = staleUdpConntrackCheck.evaluate(ctx(readable([flow('192.0.2.50', 33334, '172.17.0.1', 30514, '10.244.9.9', 5514)]), STATE));
    expect(f?.actual).toMatchObject({ virtualServer: 'UDP/172.17.0.1:30514', role: 'node-port', endpoint: '10.244.9.9:5514' });
    expect(f?.expected).toEqual({ servingEndpoints: ['10.244.1.20'], servingEndpointCount: 1 });
  });

  it(`reports at most ${MAX_ENTRIES_PER_SERVICE} entries per Service port, the same ones every poll, each with the count`, () => {
    const entries = Array.from({ length: 25 }, (_, i) => flow('10.0.2.15', 50000 + ((i * 7) % 25), '10.96.0.10', 53, '10.244.2.9'));
    const first = staleUdpConntrackCheck.evaluate(ctx(readable(entries), STATE));
    const again = staleUdpConntrackCheck.evaluate(ctx(readable([...entries].reverse()), STATE));
    expect(first).toHaveLength(MAX_ENTRIES_PER_SERVICE);
    expect(first.map(findingId)).toEqual(again.map(findingId));
    expect(new Set(first.map(findingId)).size).toBe(MAX_ENTRIES_PER_SERVICE);
    expect(first.every((f) => (f.actual as { staleEntriesOfService: number }).staleEntriesOfService === 25)).toBe(true);
    expect(first[0]?.message).toContain('25 such entries for this Service port, 10 reported');
  });

  it.each<[string, NodeConntrack | null]>([
    ['the read failed', null],
    ['nf_conntrack_netlink is not in the kernel', { readable: false, reason: 'nf_conntrack_netlink is neither loaded nor built in' }],
  ])('says nothing when %s', (_, conntrack) => {
    expect(staleUdpConntrackCheck.evaluate(ctx(conntrack, STATE))).toEqual([]);
  });

  it('finds the flow IPVS DNATed to a CoreDNS endpoint the API no longer has, in a dump recorded in the real-IPVS guest', () => {
    const rec = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'fixtures', 'conntrack', 'guest-ipvs.json'), 'utf8')) as NetlinkRecording;
    const socket = new ReplaySocket(rec);
    const dump = readUdpConntrack({ open: () => socket, seq: 4242 });
    expect(dump.entries.map((e) => `${e.original.dst}:${e.original.dstPort} -> ${e.reply.src}`).sort()).toEqual(['10.96.0.10:53 -> 10.244.0.3', '10.96.0.10:53 -> 10.244.1.4']);
    const state = stateOf(udp(DNS, 'inet', '10.96.0.10', 53, ['10.244.0.3']));
    const found = staleUdpConntrackCheck.evaluate(ctx({ readable: true, ...dump }, state));
    expect(found.map((f) => (f.actual as { endpoint: string }).endpoint)).toEqual(['10.244.1.4:53']);
    expect(staleUdpConntrackCheck.evaluate(ctx({ readable: true, ...dump }, stateOf(udp(DNS, 'inet', '10.96.0.10', 53, ['10.244.0.3', '10.244.1.4']))))).toEqual([]);
  });

  it('reports the entries of a dump recorded from the kernel (golden)', async () => {
    const rec = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'fixtures', 'conntrack', 'udp-filtered.json'), 'utf8')) as NetlinkRecording;
    const socket = new ReplaySocket(rec);
    const dump = readUdpConntrack({ open: () => socket, seq: 4242 });
    const state = stateOf(
      udp(DNS, 'inet', '10.96.0.10', 53, ['10.244.1.7']),
      udp(DNS, 'inet6', 'fd00:96::a', 53, ['fd00:244::2:9']),
      udp(serviceRef('kube-system/dns-external:dns'), 'inet', '10.96.0.53', 53, ['10.244.1.7'], { nodePort: 30053 }),
    );
    const findings = staleUdpConntrackCheck.evaluate(ctx({ readable: true, ...dump }, state));
    expect(findings.map((f) => [f.severity, f.selfHealing])).toEqual([
      ['warning', true],
      ['warning', true],
      ['warning', true],
    ]);
    const at = new Date('2026-12-06T20:00:00.000Z');
    const drift = buildDriftReport({ node: 'worker-1', checkedAt: at, findings: advance([], findings, at, { grace: 0 }), unknownReason: null });
    await expectGolden('test/fixtures/conntrack/drift.golden.json', formatDriftReportJson(drift));
  });
});
