/**
 * UDP conntrack entries that still send a flow to a dead endpoint (kubernetes#125467, #119750,
 * #71514): UDP has no connection to break, so a DNS client keeps its source port and its packets
 * follow the entry to a deleted pod until the entry expires. kube-proxy's rule
 * (CleanStaleEntries in pkg/proxy/conntrack/cleanup.go), mirrored: a UDP entry whose original
 * destination is a Service IP:port — ClusterIP, load-balancer IP or externalIP — or whose original
 * destination port is a UDP Service's node port (on any address, as kube-proxy matches it), of a
 * Service port with at least one serving endpoint, and whose reply source is none of them. The
 * serving endpoints are all of the Service port's, ready or terminating, before traffic policies
 * and topology (DesiredState.udpServicePorts), as cleanup.go takes them. kube-proxy deletes such
 * entries after a sync that saw an endpoint change, so the kind is self-healing and waits the grace.
 */
import type { UdpServicePort, VirtualServerRole } from '../desired/types.js';
import type { Finding } from '../drift/types.js';
import { tupleText } from '../conntrack/codec.js';
import type { UdpConntrackEntry } from '../conntrack/types.js';
import { virtualServerKey } from '../ipvs/identity.js';
import { hostPort } from '../util/ip.js';
import type { ComparisonCheck } from './types.js';

export const STALE_UDP_CONNTRACK_KINDS = ['stale-udp-conntrack'] as const;

/** Findings per Service port; the rest are counted in each finding (`staleEntriesOfService`). */
export const MAX_ENTRIES_PER_SERVICE = 10;
/** Serving endpoints listed in a finding's `expected`; the rest are counted. */
const MAX_SERVING_LISTED = 16;

interface Frontend {
  servicePort: UdpServicePort;
  serving: ReadonlySet<string>;
}

interface Frontends {
  /** By "address#port" of a ClusterIP, load-balancer IP or externalIP, with its role. */
  byAddress: Map<string, Frontend & { role: VirtualServerRole }>;
  /** By "family#nodePort". */
  byNodePort: Map<string, Frontend>;
}

const addressKey = (address: string, port: number): string => `${address}#${port}`;
const nodePortKey = (family: string, port: number): string => `${family}#${port}`;

/** Built once per desired list: the desired state hands the same array from poll to poll while no UDP Service port changes. */
const frontendsOf = new WeakMap<readonly UdpServicePort[], Frontends>();

/** Where kube-proxy's cleanup looks a UDP entry up: its Service IP:port frontends and its node ports. */
export function udpFrontends(servicePorts: readonly UdpServicePort[]): Frontends {
  let frontends = frontendsOf.get(servicePorts);
  if (frontends !== undefined) return frontends;
  frontends = { byAddress: new Map(), byNodePort: new Map() };
  for (const servicePort of servicePorts) {
    const serving = new Set(servicePort.servingEndpoints);
    for (const { address, role } of servicePort.frontends) frontends.byAddress.set(addressKey(address, servicePort.port), { servicePort, serving, role });
    if (servicePort.nodePort !== 0) frontends.byNodePort.set(nodePortKey(servicePort.family, servicePort.nodePort), { servicePort, serving });
  }
  frontendsOf.set(servicePorts, frontends);
  return frontends;
}

interface Stale {
  entry: UdpConntrackEntry;
  frontend: Frontend;
  role: VirtualServerRole;
  subject: string;
}

const serviceKey = ({ service }: UdpServicePort): string => `${service.namespace}/${service.name}:${service.port}`;

/** The stale entries, per Service port, in a stable order. */
export function staleUdpEntries(servicePorts: readonly UdpServicePort[], entries: readonly UdpConntrackEntry[]): Map<string, Stale[]> {
  const byService = new Map<string, Stale[]>();
  if (servicePorts.length === 0) return byService;
  const frontends = udpFrontends(servicePorts);
  for (const entry of entries) {
    const { dst, dstPort } = entry.original;
    // cleanup.go tries the Service IP:port first, then the node port; one finding an entry.
    let stale: { frontend: Frontend; role: VirtualServerRole } | null = null;
    const atAddress = frontends.byAddress.get(addressKey(dst, dstPort));
    if (atAddress !== undefined && atAddress.servicePort.family === entry.family && !atAddress.serving.has(entry.reply.src)) stale = { frontend: atAddress, role: atAddress.role };
    if (stale === null) {
      const atNodePort = frontends.byNodePort.get(nodePortKey(entry.family, dstPort));
      if (atNodePort !== undefined && !atNodePort.serving.has(entry.reply.src)) stale = { frontend: atNodePort, role: 'node-port' };
    }
    if (stale === null) continue;
    const key = serviceKey(stale.frontend.servicePort);
    let list = byService.get(key);
    if (list === undefined) byService.set(key, (list = []));
    list.push({ entry, ...stale, subject: `${key} udp ${tupleText(entry.original)} -> ${hostPort(entry.reply.src, entry.reply.srcPort)}` });
  }
  for (const list of byService.values()) list.sort((a, b) => (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : 0));
  return byService;
}

function deleteCommand(entry: UdpConntrackEntry): string {
  const family = entry.family === 'inet6' ? ' -f ipv6' : '';
  return `conntrack -D${family} -p udp --orig-dst ${entry.original.dst} --orig-port-dst ${entry.original.dstPort} --reply-src ${entry.reply.src}`;
}

function finding(stale: Stale, total: number): Finding {
  const { entry, frontend, role } = stale;
  const ref = frontend.servicePort.service;
  const endpoint = hostPort(entry.reply.src, entry.reply.srcPort);
  const listed = frontend.servicePort.servingEndpoints.slice(0, MAX_SERVING_LISTED);
  const more = total > MAX_ENTRIES_PER_SERVICE ? ` (${total} such entries for this Service port, ${MAX_ENTRIES_PER_SERVICE} reported)` : '';
  const expires = entry.timeout === null ? 'until it expires' : `for up to ${entry.timeout} s more unless it is refreshed`;
  return {
    kind: 'stale-udp-conntrack',
    severity: 'warning',
    virtualServer: null,
    realServer: null,
    subject: stale.subject,
    service: ref,
    expected: { servingEndpoints: listed, servingEndpointCount: frontend.serving.size },
    actual: {
      virtualServer: virtualServerKey({ family: entry.family, protocol: 'UDP', address: entry.original.dst, port: entry.original.dstPort, fwmark: null }),
      role,
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
  evaluate: ({ node, desired }) => {
    const observed = node.readings.conntrack.value;
    if (!observed?.readable || desired.udpServicePorts === undefined) return [];
    const findings: Finding[] = [];
    for (const list of staleUdpEntries(desired.udpServicePorts, observed.entries).values()) {
      for (const stale of list.slice(0, MAX_ENTRIES_PER_SERVICE)) findings.push(finding(stale, list.length));
    }
    return findings;
  },
};
