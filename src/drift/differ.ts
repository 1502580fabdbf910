/**
 * The differ: expected IPVS table (desired state) vs the kernel's (snapshot) → findings.
 * Virtual servers are matched by identity (their key: protocol, address and port — see
 * src/ipvs/identity.ts), destinations by address and port; then configuration is compared. Counters never decide equality.
 * Kinds, severities and "self-heals?" follow docs/kube-proxy-rules.md §8.
 */
import type { DesiredState, ExpectedVirtualServer } from '../desired/types.js';
import type { AddressFamily, IpvsSnapshot, RealServer, VirtualServer } from '../ipvs/types.js';
import { serviceFlagNames, SVC_FLAG } from '../ipvs/flags.js';
import { type Cidr, cidrContains, hostPort, parseCidr } from '../util/ip.js';
import { realServerSubject, type Finding, type ServicePortRef } from './types.js';

export { diffKubeIpvs0 } from './kube-ipvs0.js';

export interface DiffOptions {
  /**
   * Report undesired virtual servers inside ipvs.excludeCIDRs as `info` findings (default true).
   * They are never drift: kube-proxy leaves them to whoever created them (docs/kube-proxy-rules.md §2.7).
   */
  reportExcluded?: boolean;
}

/** The scheduler probe kube-proxy may create for a moment at startup (docs/kube-proxy-rules.md §4.1): never drift. */
const PROBE = { family: 'inet', protocol: 'TCP', address: '198.51.100.0', port: 20000 } as const;

const RESYNC_HINT = 'kube-proxy repairs this on its next sync (ipvs.syncPeriod); if it persists, check kube-proxy logs or restart kube-proxy on this node';

export function diffIpvs(desired: DesiredState, observed: Pick<IpvsSnapshot, 'services'>, options: DiffOptions = {}): Finding[] {
  const findings: Finding[] = [];
  const wanted = desired.virtualServers;
  const have = observed.services;
  const matched = new Uint8Array(have.length);

  // Both lists are sorted by key, so without VS drift they pair up in lockstep; the first
  // difference hands the rest to the identity index.
  let lockstep = 0;
  while (lockstep < wanted.length && lockstep < have.length && sameIdentity(wanted[lockstep] as ExpectedVirtualServer, have[lockstep] as VirtualServer)) {
    matched[lockstep] = 1;
    compareVirtualServer(wanted[lockstep] as ExpectedVirtualServer, have[lockstep] as VirtualServer, findings);
    lockstep++;
  }
  if (lockstep < wanted.length) {
    const find = identityIndex(have, lockstep);
    for (let i = lockstep; i < wanted.length; i++) {
      const expected = wanted[i] as ExpectedVirtualServer;
      const index = find(expected);
      const actual = have[index];
      if (actual === undefined) {
        findings.push(missingVirtualServer(expected));
        continue;
      }
      matched[index] = 1;
      compareVirtualServer(expected, actual, findings);
    }
  }

  const families = new Set<AddressFamily>(desired.families);
  const exclude = desired.excludeCIDRs.map(parseCidr).filter((c): c is Cidr => c !== null);
  const reportExcluded = options.reportExcluded ?? true;
  have.forEach((service, i) => {
    if (matched[i] === 1 || !families.has(service.family) || isProbe(service)) return;
    // fwmark services are read back with the zero address, so that is what excludeCIDRs sees (docs/kube-proxy-rules.md §2.7).
    const address = service.address ?? (service.family === 'inet' ? '0.0.0.0' : '::');
    if (exclude.some((cidr) => cidrContains(cidr, address))) {
      if (reportExcluded) findings.push(excludedVirtualServer(service));
      return;
    }
    findings.push(unexpectedVirtualServer(service));
  });
  return findings;
}

/** The identity both sides carry as their key (src/ipvs/identity.ts). */
function sameIdentity(e: ExpectedVirtualServer, s: VirtualServer): boolean {
  return e.key === s.key;
}

/** Index of the observed VS with the expected one's identity, or -1. */
function identityIndex(have: readonly VirtualServer[], from: number): (e: ExpectedVirtualServer) => number {
  const byKey = new Map<string, number>();
  for (let i = from; i < have.length; i++) byKey.set((have[i] as VirtualServer).key, i);
  return (e) => byKey.get(e.key) ?? -1;
}

function isProbe(s: VirtualServer): boolean {
  return s.family === PROBE.family && s.protocol === PROBE.protocol && s.address === PROBE.address && s.port === PROBE.port;
}

/** "default/kubernetes:https", or "default/web" for an unnamed port. */
export function describeService(ref: ServicePortRef): string {
  return ref.port === '' ? `${ref.namespace}/${ref.name}` : `${ref.namespace}/${ref.name}:${ref.port}`;
}

function missingVirtualServer(e: ExpectedVirtualServer): Finding {
  return {
    kind: 'missing-virtual-server',
    subject: e.key,
    severity: 'critical',
    virtualServer: e.key,
    realServer: null,
    service: e.service,
    expected: { role: e.role, scheduler: e.scheduler, flags: serviceFlagNames(e), timeout: e.timeout, realServers: e.realServers.length },
    actual: null,
    message: `Virtual server ${e.key} (${e.role}) of Service ${describeService(e.service)} is not in the IPVS table, so the Service is unreachable on it from this node; ${RESYNC_HINT}.`,
    selfHealing: true,
  };
}

function unexpectedVirtualServer(s: VirtualServer): Finding {
  if (s.fwmark !== null) {
    return {
      kind: 'unexpected-virtual-server',
      subject: s.key,
      severity: 'warning',
      virtualServer: s.key,
      realServer: null,
      service: null,
      expected: null,
      actual: { fwmark: s.fwmark, scheduler: s.scheduler, destinations: s.destinations.length },
      message: `Firewall-mark virtual server ${s.key} is foreign (kube-proxy never creates fwmark services) and kube-proxy reads it back as an unwanted ${s.family === 'inet' ? '0.0.0.0' : '::'} virtual server it tries to delete on every sync; move the software that owns it off this node or exclude that address with ipvs.excludeCIDRs.`,
      selfHealing: true,
    };
  }
  return {
    kind: 'unexpected-virtual-server',
    subject: s.key,
    severity: 'warning',
    virtualServer: s.key,
    realServer: null,
    service: null,
    expected: null,
    actual: { scheduler: s.scheduler, destinations: s.destinations.length },
    message: `Virtual server ${s.key} belongs to no Service port kube-proxy should serve (a deleted Service, or another tool's), so kube-proxy deletes it on its next sync (ipvs.syncPeriod); if it persists, check kube-proxy logs or restart kube-proxy, and add it to ipvs.excludeCIDRs if another tool owns it.`,
    selfHealing: true,
  };
}

function excludedVirtualServer(s: VirtualServer): Finding {
  return {
    kind: 'unexpected-virtual-server',
    subject: s.key,
    severity: 'info',
    virtualServer: s.key,
    realServer: null,
    service: null,
    expected: null,
    actual: { scheduler: s.scheduler, destinations: s.destinations.length, excluded: true },
    message: `Virtual server ${s.key} is not a Service's but lies in ipvs.excludeCIDRs, so kube-proxy leaves it to the software that created it; nothing to do.`,
    selfHealing: false,
  };
}

function compareVirtualServer(e: ExpectedVirtualServer, a: VirtualServer, out: Finding[]): void {
  compareServiceSettings(e, a, out);
  compareRealServers(e, a, out);
}

function compareServiceSettings(e: ExpectedVirtualServer, a: VirtualServer, out: Finding[]): void {
  const base = { virtualServer: e.key, realServer: null, subject: e.key, service: e.service } as const;
  const where = `Virtual server ${e.key} of Service ${describeService(e.service)}`;
  if (a.scheduler !== e.scheduler) {
    out.push({
      ...base,
      kind: 'scheduler-mismatch',
      severity: 'warning',
      expected: e.scheduler,
      actual: a.scheduler,
      message: `${where} uses scheduler ${a.scheduler} instead of ${e.scheduler}; kube-proxy updates it on its next sync, and if it persists kube-proxy runs with another ipvs.scheduler than expected (compare its /configz with --scheduler).`,
      selfHealing: true,
    });
  }
  const actualFlags = a.flagBits & ~SVC_FLAG.hashed;
  if (actualFlags !== e.flagBits || a.timeout !== e.timeout) {
    out.push({
      ...base,
      kind: 'persistence-mismatch',
      severity: 'warning',
      expected: { flags: serviceFlagNames(e), timeout: e.timeout },
      actual: { flags: serviceFlagNames({ flagBits: actualFlags, scheduler: a.scheduler }), timeout: a.timeout },
      message: `${where} has persistence flags/timeout that do not match the Service's sessionAffinity (ClientIP timeoutSeconds) and scheduler; ${RESYNC_HINT}.`,
      selfHealing: true,
    });
  }
  if (a.netmask !== e.netmask) {
    out.push({
      ...base,
      kind: 'netmask-mismatch',
      severity: 'info',
      expected: e.netmask,
      actual: a.netmask,
      message: `${where} has persistence netmask /${a.netmask} instead of /${e.netmask}, which kube-proxy never sets nor repairs; delete the virtual server (ipvsadm -D) so kube-proxy re-creates it, and find the tool that changed it.`,
      selfHealing: false,
    });
  }
}

function compareRealServers(e: ExpectedVirtualServer, a: VirtualServer, out: Finding[]): void {
  if (sameDestinations(e, a)) {
    // The common case: the same destinations in the same order; only their settings can differ.
    for (const d of a.destinations) {
      compareDestination(e, d, out);
    }
    return;
  }
  const have = a.destinations;
  const lookup = destinationLookup(have);
  const matched = new Uint8Array(have.length);
  const missing: string[] = [];
  let usable = 0;
  for (const r of e.realServers) {
    const i = lookup(r.address, r.port);
    const d = have[i];
    if (d === undefined) {
      missing.push(hostPort(r.address, r.port));
      continue;
    }
    matched[i] = 1;
    if (d.weight > 0) usable++;
    compareDestination(e, d, out);
  }
  // "Usable" counts desired destinations that carry traffic: undesired ones lead to gone backends.
  for (const key of missing) out.push(missingRealServer(e, key, usable === 0));
  have.forEach((d, i) => {
    if (matched[i] === 0) out.push(undesiredRealServer(e, d, hostPort(d.address, d.port)));
  });
}

/** Small sets are scanned (no allocation); large ones indexed by address, whose flat strings hash once. */
function destinationLookup(have: readonly RealServer[]): (address: string, port: number) => number {
  if (have.length <= 32) return (address, port) => have.findIndex((d) => d.port === port && d.address === address);
  const byAddress = new Map<string, number[]>();
  have.forEach((d, i) => {
    const list = byAddress.get(d.address);
    if (list === undefined) byAddress.set(d.address, [i]);
    else list.push(i);
  });
  return (address, port) => byAddress.get(address)?.find((i) => have[i]?.port === port) ?? -1;
}

/** Both lists hold the same address:port pairs in the same order (both are sorted by address, then port). */
function sameDestinations(e: ExpectedVirtualServer, a: VirtualServer): boolean {
  const want = e.realServers;
  const have = a.destinations;
  if (want.length !== have.length) return false;
  for (let i = 0; i < want.length; i++) {
    const w = want[i] as ExpectedVirtualServer['realServers'][number];
    const h = have[i] as RealServer;
    if (w.port !== h.port || w.address !== h.address) return false;
  }
  return true;
}

/** A desired destination is present: kube-proxy programs weight 1 and masq, and repairs neither (docs/kube-proxy-rules.md §2.4). */
function compareDestination(e: ExpectedVirtualServer, d: RealServer, out: Finding[]): void {
  if (d.weight === 1 && d.forward === 'masq') return;
  const key = hostPort(d.address, d.port);
  const base = { virtualServer: e.key, realServer: key, subject: realServerSubject(e.key, key), service: e.service, selfHealing: false } as const;
  const svc = describeService(e.service);
  if (d.weight !== 1) {
    out.push({
      ...base,
      kind: 'weight-mismatch',
      severity: d.weight === 0 ? 'critical' : 'warning',
      expected: 1,
      actual: d.weight,
      message:
        d.weight === 0
          ? `Endpoint ${key} of Service ${svc} is a destination of ${e.key} with weight 0, so it silently gets no traffic (kubernetes#108319) and kube-proxy will not repair it; restart kube-proxy on this node (its first sync resets weights to 1).`
          : `Endpoint ${key} of Service ${svc} has weight ${d.weight} instead of 1 on ${e.key}, which kube-proxy never sets nor repairs; restart kube-proxy on this node (its first sync resets weights to 1) and find the tool that changed it.`,
    });
  }
  if (d.forward !== 'masq') {
    out.push({
      ...base,
      kind: 'forward-method-mismatch',
      severity: 'warning',
      expected: 'masq',
      actual: d.forward,
      message: `Endpoint ${key} of Service ${svc} is forwarded by ${d.forward} instead of masq on ${e.key}, which kube-proxy never repairs; delete the destination (ipvsadm -d) so kube-proxy re-adds it, and find the tool that changed it.`,
    });
  }
}

function missingRealServer(e: ExpectedVirtualServer, key: string, critical: boolean): Finding {
  const svc = describeService(e.service);
  return {
    kind: 'missing-real-server',
    subject: realServerSubject(e.key, key),
    severity: critical ? 'critical' : 'warning',
    virtualServer: e.key,
    realServer: key,
    service: e.service,
    expected: key,
    actual: null,
    message: critical
      ? `Endpoint ${key} of Service ${svc} is not a destination of ${e.key}, which has no usable destination left and drops traffic ("no destination available"); ${RESYNC_HINT}.`
      : `Endpoint ${key} of Service ${svc} is not a destination of ${e.key}, so it gets no traffic from this node; ${RESYNC_HINT}.`,
    selfHealing: true,
  };
}

function undesiredRealServer(e: ExpectedVirtualServer, d: RealServer, key: string): Finding {
  const base = { virtualServer: e.key, realServer: key, subject: realServerSubject(e.key, key), service: e.service, expected: null } as const;
  const svc = describeService(e.service);
  const conns = d.activeConns + d.inactiveConns;
  const actual = { weight: d.weight, activeConns: d.activeConns, inactiveConns: d.inactiveConns };
  if (d.weight > 0) {
    return {
      ...base,
      kind: 'unexpected-real-server',
      severity: 'warning',
      actual,
      message: `Destination ${key} of ${e.key} still gets traffic (weight ${d.weight}) although it is no endpoint Service ${svc} should use from this node (removed, not ready or filtered by traffic policy/topology); ${RESYNC_HINT}.`,
      selfHealing: true,
    };
  }
  const udpLike = e.protocol !== 'TCP';
  return {
    ...base,
    kind: 'terminating-real-server',
    severity: 'info',
    actual,
    message: udpLike
      ? `Destination ${key} of ${e.key} (Service ${svc}) is at weight 0 and no longer desired; kube-proxy deletes ${e.protocol} destinations without draining, so it should be gone after its next sync.`
      : conns > 0
        ? `Destination ${key} of ${e.key} (Service ${svc}) is draining: kube-proxy set it to weight 0 and deletes it on its 60 s graceful-termination loop once its ${conns} connection(s) close; nothing to do.`
        : `Destination ${key} of ${e.key} (Service ${svc}) is at weight 0 with no connections left; kube-proxy deletes it on its 60 s graceful-termination loop (if it stays for minutes, restart kube-proxy).`,
    selfHealing: true,
  };
}
