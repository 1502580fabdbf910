/**
 * UDP conntrack entries that still send a flow to a dead endpoint (kubernetes#125467, #119750,
 * #71514): UDP has no connection to break, so a DNS client keeps its source port and its packets
 * follow the entry to a deleted pod until the entry expires. kube-proxy's rule
 * (CleanStaleEntries in pkg/proxy/conntrack/cleanup.go), mirrored: a UDP entry whose original
 * destination is a Service IP:port — ClusterIP, externalIP, load-balancer IP, or a node port on one
 * of the node's node-port addresses — of a Service port with at least one serving endpoint, and
 * whose reply source is none of them. kube-proxy deletes such entries after a sync that saw an
 * endpoint change, so the kind is self-healing and waits the grace.
 *
 * The serving endpoints of a Service port are the real servers the desired state gives its virtual
 * servers (all of them: cluster, external and node-port ones) and the live destinations of those
 * virtual servers: kube-proxy keeps a serving, terminating endpoint in IPVS at weight 0 while it has
 * connections (pkg/proxy/ipvs/graceful_termination.go), which the desired set leaves out when
 * ready endpoints exist.
 */
import type { ExpectedVirtualServer } from '../desired/types.js';
import type { Finding, ServicePortRef } from '../drift/types.js';
import { tupleText } from '../conntrack/codec.js';
import type { UdpConntrackEntry } from '../conntrack/types.js';
import type { IpvsSnapshot, VirtualServer } from '../ipvs/types.js';
import { hostPort } from '../util/ip.js';
import type { ComparisonCheck } from './types.js';

export const STALE_UDP_CONNTRACK_KINDS = ['stale-udp-conntrack'] as const;

/** Findings per Service port; the rest are counted in each finding (`staleEntriesOfService`). */
export const MAX_ENTRIES_PER_SERVICE = 10;
/** Serving endpoints listed in a finding's `expected`; the rest are counted. */
const MAX_SERVING_LISTED = 16;

interface Frontend {
  virtualServer: ExpectedVirtualServer;
  /** Every desired virtual server of the same Service port and family: their real servers are its serving endpoints. */
  siblings: ExpectedVirtualServer[];
}

const frontendKey = (address: string, port: number): string => `${address}#${port}`;
const serviceKey = (ref: ServicePortRef): string => `${ref.namespace}/${ref.name}:${ref.port}`;

/** The UDP virtual servers of the desired state by address and port. */
export function udpFrontends(virtualServers: readonly ExpectedVirtualServer[]): Map<string, Frontend> {
  const bySiblings = new Map<string, ExpectedVirtualServer[]>();
  const frontends = new Map<string, Frontend>();
  for (const vs of virtualServers) {
    if (vs.protocol !== 'UDP') continue;
    const group = `${serviceKey(vs.service)}|${vs.family}`;
    let siblings = bySiblings.get(group);
    if (siblings === undefined) bySiblings.set(group, (siblings = []));
    siblings.push(vs);
    frontends.set(frontendKey(vs.address, vs.port), { virtualServer: vs, siblings });
  }
  return frontends;
}

interface Stale {
  entry: UdpConntrackEntry;
  frontend: Frontend;
  serving: ReadonlySet<string>;
  subject: string;
}

/** The serving endpoints' addresses of a frontend: desired real servers of its Service port, and the live destinations of those virtual servers. */
function servingOf(frontend: Frontend, live: () => ReadonlyMap<string, VirtualServer>, cache: Map<Frontend['siblings'], Set<string>>): Set<string> {
  let serving = cache.get(frontend.siblings);
  if (serving !== undefined) return serving;
  serving = new Set<string>();
  for (const vs of frontend.siblings) {
    for (const rs of vs.realServers) serving.add(rs.address);
  }
  // A Service port without endpoints is left alone, as kube-proxy leaves it (only the desired set decides that).
  if (serving.size > 0) {
    for (const vs of frontend.siblings) {
      for (const d of live().get(vs.key)?.destinations ?? []) serving.add(d.address);
    }
  }
  cache.set(frontend.siblings, serving);
  return serving;
}

/** The stale entries, per Service port, in a stable order. */
export function staleUdpEntries(virtualServers: readonly ExpectedVirtualServer[], snapshot: IpvsSnapshot, entries: readonly UdpConntrackEntry[]): Map<string, Stale[]> {
  const frontends = udpFrontends(virtualServers);
  const byService = new Map<string, Stale[]>();
  if (frontends.size === 0) return byService;
  let liveIndex: Map<string, VirtualServer> | null = null;
  const live = (): ReadonlyMap<string, VirtualServer> => (liveIndex ??= new Map(snapshot.services.map((s) => [s.key, s])));
  const cache = new Map<Frontend['siblings'], Set<string>>();
  for (const entry of entries) {
    const frontend = frontends.get(frontendKey(entry.original.dst, entry.original.dstPort));
    if (frontend === undefined || frontend.virtualServer.family !== entry.family) continue;
    const serving = servingOf(frontend, live, cache);
    if (serving.size === 0 || serving.has(entry.reply.src)) continue;
    const key = serviceKey(frontend.virtualServer.service);
    let list = byService.get(key);
    if (list === undefined) byService.set(key, (list = []));
    list.push({ entry, frontend, serving, subject: `${key} udp ${tupleText(entry.original)} -> ${hostPort(entry.reply.src, entry.reply.srcPort)}` });
  }
  for (const list of byService.values()) list.sort((a, b) => (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : 0));
  return byService;
}

function deleteCommand(entry: UdpConntrackEntry): string {
  const family = entry.family === 'inet6' ? ' -f ipv6' : '';
  return `conntrack -D${family} -p udp --orig-dst ${entry.original.dst} --orig-port-dst ${entry.original.dstPort} --reply-src ${entry.reply.src}`;
}

function finding(stale: Stale, total: number): Finding {
  const { entry, frontend, serving } = stale;
  const vs = frontend.virtualServer;
  const ref = vs.service;
  const endpoint = hostPort(entry.reply.src, entry.reply.srcPort);
  const listed = [...serving].sort().slice(0, MAX_SERVING_LISTED);
  const more = total > MAX_ENTRIES_PER_SERVICE ? ` (${total} such entries for this Service port, ${MAX_ENTRIES_PER_SERVICE} reported)` : '';
  const expires = entry.timeout === null ? 'until it expires' : `for up to ${entry.timeout} s more unless it is refreshed`;
  return {
    kind: 'stale-udp-conntrack',
    severity: 'warning',
    virtualServer: null,
    realServer: null,
    subject: stale.subject,
    service: ref,
    expected: { servingEndpoints: listed, servingEndpointCount: serving.size },
    actual: {
      virtualServer: vs.key,
      role: vs.role,
      endpoint,
      original: entry.original,
      reply: entry.reply,
      timeout: entry.timeout,
      staleEntriesOfService: total,
    },
    message: `UDP conntrack entry ${tupleText(entry.original)} still sends its packets to ${endpoint}, which is no serving endpoint of ${ref.namespace}/${ref.name}${ref.port === '' ? '' : ` (port ${ref.port})`} (a deleted or no longer serving pod): the client's packets keep going there ${expires}${more}; kube-proxy deletes such entries after a sync that saw an endpoint change — if it persists, delete it with \`${deleteCommand(entry)}\` and check kube-proxy's log for conntrack errors.`,
    selfHealing: true,
  };
}

export const staleUdpConntrackCheck: ComparisonCheck<(typeof STALE_UDP_CONNTRACK_KINDS)[number]> = {
  name: 'stale-udp-conntrack',
  ownSource: 'conntrack',
  kinds: STALE_UDP_CONNTRACK_KINDS,
  prerequisite: false,
  health: null,
  evaluate: ({ node, desired, snapshot }) => {
    const observed = node.readings.conntrack.value;
    if (!observed?.readable) return [];
    const findings: Finding[] = [];
    for (const list of staleUdpEntries(desired.virtualServers, snapshot, observed.entries).values()) {
      for (const stale of list.slice(0, MAX_ENTRIES_PER_SERVICE)) findings.push(finding(stale, list.length));
    }
    return findings;
  },
};
