/**
 * The snapshot schema of docs/contract.md §4 (`/ipvs`, `ipvs-sentinel ipvs --output json`) as a JSON-ready
 * object. The text the agent and the CLI send is written by snapshot-json.ts, byte for byte what
 * stringifyJson makes of this object.
 */
import type { ServicePortRef } from '../drift/types.js';
import { serviceFlagNames } from '../ipvs/flags.js';
import type { IpvsSnapshot, IpvsStats, RealServer, VirtualServer } from '../ipvs/types.js';

/** Names a virtual server's Service, when known (from the desired state). */
export type ServiceLookup = (virtualServerKey: string) => ServicePortRef | null;

function statsJson(s: IpvsStats): Record<keyof IpvsStats, bigint> {
  return {
    conns: s.conns,
    inPkts: s.inPkts,
    outPkts: s.outPkts,
    inBytes: s.inBytes,
    outBytes: s.outBytes,
    cps: s.cps,
    inPps: s.inPps,
    outPps: s.outPps,
    inBps: s.inBps,
    outBps: s.outBps,
  };
}

function destinationJson(rs: RealServer): Record<string, unknown> {
  return {
    address: rs.address,
    port: rs.port,
    forward: rs.forward,
    weight: rs.weight,
    upperThreshold: rs.upperThreshold,
    lowerThreshold: rs.lowerThreshold,
    activeConns: rs.activeConns,
    inactiveConns: rs.inactiveConns,
    persistentConns: rs.persistentConns,
    stats: statsJson(rs.stats),
    addressFamily: rs.addressFamily,
    tunnel: rs.tunnel,
  };
}

export function virtualServerJson(vs: VirtualServer, lookup?: ServiceLookup): Record<string, unknown> {
  return {
    key: vs.key,
    family: vs.family,
    protocol: vs.protocol,
    address: vs.address,
    port: vs.port,
    fwmark: vs.fwmark,
    scheduler: vs.scheduler,
    persistent: vs.persistent,
    timeout: vs.timeout,
    netmask: vs.netmask,
    flags: serviceFlagNames(vs),
    pe: vs.pe,
    stats: statsJson(vs.stats),
    service: lookup?.(vs.key) ?? null,
    destinations: vs.destinations.map(destinationJson),
  };
}

export interface SnapshotJsonOptions {
  node: string | null;
  lookup?: ServiceLookup;
  /** Keep only virtual servers of this Service ("namespace/name"). */
  service?: string;
}

/** The virtual servers the document lists, each with its Service (looked up once, so one answer is consistent). */
export function selectServices(snapshot: IpvsSnapshot, options: SnapshotJsonOptions): { vs: VirtualServer; ref: ServicePortRef | null }[] {
  const selected: { vs: VirtualServer; ref: ServicePortRef | null }[] = [];
  for (const vs of snapshot.services) {
    const ref = options.lookup?.(vs.key) ?? null;
    if (options.service === undefined || (ref !== null && `${ref.namespace}/${ref.name}` === options.service)) selected.push({ vs, ref });
  }
  return selected;
}

/** The snapshot as a JSON-ready object (bigint counters; write it with stringifyJson). */
export function snapshotJson(snapshot: IpvsSnapshot, options: SnapshotJsonOptions): Record<string, unknown> {
  const services = selectServices(snapshot, options).map(({ vs }) => vs);
  const out: Record<string, unknown> = {
    node: options.node,
    readAt: snapshot.readAt.toISOString(),
    durationMs: snapshot.durationMs,
    ipvs: { info: snapshot.info, timeouts: snapshot.timeouts },
    services: services.map((vs) => virtualServerJson(vs, options.lookup)),
  };
  if (snapshot.unknownAttributes.length > 0) out.unknownAttributes = snapshot.unknownAttributes;
  return out;
}
