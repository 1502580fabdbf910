/**
 * Small builders for hand-made IPVS snapshots and desired states, written the way ipvsadm prints
 * them: `vs('TCP/10.96.0.1:443', [rs('10.244.1.7:8080')])`, `expectedVs('TCP/10.96.0.1:443', ['10.244.1.7:8080'])`.
 * Defaults are what kube-proxy programs (rr, masq, weight 1, host netmask, hashed flag set by the kernel).
 */
import type { DesiredState, ExpectedRealServer, ExpectedVirtualServer } from '../../src/desired/types.js';
import type { ServicePortRef } from '../../src/drift/types.js';
import type { AddressFamily, IpvsSnapshot, IpvsStats, Protocol, RealServer, VirtualServer } from '../../src/ipvs/types.js';
import { SVC_FLAG } from '../../src/ipvs/flags.js';
import { compareAddresses } from '../../src/util/ip.js';

export function zeroStats(): IpvsStats {
  return { conns: 0n, inPkts: 0n, outPkts: 0n, inBytes: 0n, outBytes: 0n, cps: 0n, inPps: 0n, outPps: 0n, inBps: 0n, outBps: 0n };
}

/** "10.244.1.7:8080" / "[fd00::7]:8080" → address, port, family. */
export function parseHostPort(text: string): { address: string; port: number; family: AddressFamily } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (!m?.[1] || !m[2]) throw new Error(`not host:port: ${text}`);
  return { address: m[1], port: Number(m[2]), family: m[1].includes(':') ? 'inet6' : 'inet' };
}

type VsIdentity = Pick<VirtualServer, 'key' | 'family' | 'protocol' | 'address' | 'port' | 'fwmark'>;

/** "TCP/10.96.0.1:443", "UDP/[fd00::10]:53", "FWM/4097/inet" → identity fields. */
export function parseVsKey(key: string): VsIdentity {
  const fwm = /^FWM\/(\d+)\/(inet6?)$/.exec(key);
  if (fwm?.[1] && fwm[2]) {
    return { key, family: fwm[2] as AddressFamily, protocol: null, address: null, port: null, fwmark: Number(fwm[1]) };
  }
  const m = /^(TCP|UDP|SCTP)\/(.+)$/.exec(key);
  if (!m?.[1] || !m[2]) throw new Error(`not a virtual server key: ${key}`);
  const hp = parseHostPort(m[2]);
  return { key, family: hp.family, protocol: m[1] as Protocol, address: hp.address, port: hp.port, fwmark: null };
}

export function rs(hostPort: string, overrides: Partial<RealServer> = {}): RealServer {
  const hp = parseHostPort(hostPort);
  return {
    address: hp.address,
    addressFamily: hp.family,
    port: hp.port,
    forward: 'masq',
    weight: 1,
    upperThreshold: 0,
    lowerThreshold: 0,
    activeConns: 0,
    inactiveConns: 0,
    persistentConns: 0,
    tunnel: null,
    stats: zeroStats(),
    ...overrides,
  };
}

function byAddressThenPort(a: { address: string; port: number }, b: { address: string; port: number }): number {
  return compareAddresses(a.address, b.address) || a.port - b.port;
}

/** A live virtual server as the kernel reports it (hashed flag set, host netmask, rr). */
export function vs(key: string, destinations: RealServer[] = [], overrides: Partial<VirtualServer> = {}): VirtualServer {
  const id = parseVsKey(key);
  return {
    ...id,
    scheduler: 'rr',
    flagBits: SVC_FLAG.hashed,
    persistent: false,
    timeout: 0,
    netmask: id.family === 'inet' ? 32 : 128,
    pe: null,
    stats: zeroStats(),
    destinations: [...destinations].sort(byAddressThenPort),
    ...overrides,
  };
}

export function snapshot(services: VirtualServer[], overrides: Partial<IpvsSnapshot> = {}): IpvsSnapshot {
  return {
    readAt: new Date('2025-01-01T00:00:00.000Z'),
    durationMs: 1,
    info: { version: '1.2.1', connTableSize: 4096 },
    timeouts: null,
    services: [...services].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
    unknownAttributes: [],
    ...overrides,
  };
}

/** "ns/name:port" or "ns/name" (unnamed port) → ServicePortRef. */
export function serviceRef(text: string): ServicePortRef {
  const m = /^([^/]+)\/([^:]+)(?::(.*))?$/.exec(text);
  if (!m?.[1] || !m[2]) throw new Error(`not ns/name[:port]: ${text}`);
  return { namespace: m[1], name: m[2], port: m[3] ?? '' };
}

export function expectedRs(hostPort: string, overrides: Partial<ExpectedRealServer> = {}): ExpectedRealServer {
  const hp = parseHostPort(hostPort);
  return { address: hp.address, port: hp.port, weight: 1, terminatingFallback: false, nodeName: null, ...overrides };
}

/** What kube-proxy should program: a ClusterIP VS of Service default/web by default. */
export function expectedVs(key: string, realServers: (string | ExpectedRealServer)[] = [], overrides: Partial<ExpectedVirtualServer> = {}): ExpectedVirtualServer {
  const id = parseVsKey(key);
  if (id.protocol === null || id.address === null || id.port === null) throw new Error(`kube-proxy never creates fwmark services: ${key}`);
  return {
    key,
    family: id.family,
    protocol: id.protocol,
    address: id.address,
    port: id.port,
    role: 'cluster-ip',
    scheduler: 'rr',
    flagBits: 0,
    timeout: 0,
    netmask: id.family === 'inet' ? 32 : 128,
    service: serviceRef('default/web'),
    localOnly: false,
    realServers: realServers.map((r) => (typeof r === 'string' ? expectedRs(r) : r)).sort(byAddressThenPort),
    ...overrides,
  };
}

export function desired(virtualServers: ExpectedVirtualServer[], overrides: Partial<DesiredState> = {}): DesiredState {
  return {
    virtualServers: [...virtualServers].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
    kubeIpvs0Addresses: [...new Set(virtualServers.filter((v) => v.role !== 'node-port').map((v) => v.address))].sort(compareAddresses),
    excludeCIDRs: [],
    families: ['inet', 'inet6'],
    ...overrides,
  };
}
