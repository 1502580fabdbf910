/**
 * Which node addresses get NodePort virtual servers, and which externalIP/LB VIPs are already on a
 * real interface (docs/kube-proxy-rules.md §1.2, §1.3; pkg/proxy/ipvs/netlink_linux.go,
 * pkg/proxy/util/nodeport_addresses.go, cmd/kube-proxy/app/server.go for `primary`).
 */
import type { Node, NodeAddressType } from '../cluster/model.js';
import type { AddressFamily } from '../ipvs/types.js';
import { cidrContains, parseAddress, parseCidr } from '../util/ip.js';
import type { Cidr } from '../util/ip.js';
import { compareStrings, sortAddresses } from '../util/sort-key.js';
import type { NodeFacts } from './types.js';

export const KUBE_IPVS0 = 'kube-ipvs0';

export function isLoopbackAddress(address: string): boolean {
  const parsed = parseAddress(address);
  if (!parsed) return false;
  if (parsed.family === 'inet') return parsed.bytes[0] === 127;
  return parsed.bytes.every((b, i) => (i === 15 ? b === 1 : b === 0));
}

function isIPv6LinkLocal(address: string): boolean {
  const parsed = parseAddress(address);
  return parsed?.family === 'inet6' && parsed.bytes[0] === 0xfe && ((parsed.bytes[1] ?? 0) & 0xc0) === 0x80;
}

/**
 * GetAllLocalAddressesExcept("kube-ipvs0") filtered by isValidForSet: every address of family F on
 * every other interface, without loopback addresses and IPv6 link-local. Note it filters by
 * address, not by interface: a VIP configured on `lo` counts.
 */
export function localAddressesExceptKubeIpvs0(node: NodeFacts, family: AddressFamily): Set<string> {
  const out = new Set<string>();
  for (const iface of node.interfaces) {
    if (iface.name === KUBE_IPVS0) continue;
    for (const a of iface.addresses) {
      if (a.family !== family || isLoopbackAddress(a.address)) continue;
      if (family === 'inet6' && isIPv6LinkLocal(a.address)) continue;
      out.add(a.address);
    }
  }
  return out;
}

/**
 * The node's primary IP of a family as kube-proxy detects it (GetNodeHostIPs): the first
 * InternalIP, then ExternalIP, of that family on the Node object; null without one.
 */
export function primaryNodeIP(node: Node | null, family: AddressFamily): string | null {
  if (!node) return null;
  for (const type of ['InternalIP', 'ExternalIP'] as const) {
    for (const a of node.addresses) {
      if (a.type === type && parseAddress(a.address)?.family === family) return a.address;
    }
  }
  return null;
}

/**
 * nodePortAddresses after kube-proxy's startup rewriting of keywords: `primary` (alone) becomes
 * the node's primary IPv4 /32 and IPv6 /128 from the Node object — a family without a
 * (non-loopback) primary IP gets no CIDR and so falls back to "all addresses"; `all` is the zero
 * CIDR of both families; `localhost` the loopback ranges (never served in IPVS mode).
 */
export function resolveNodePortAddresses(configured: readonly string[], ownNode: Node | null): string[] {
  const entries = configured.map((c) => c.trim()).filter((c) => c !== '');
  if (entries.length === 1 && entries[0] === 'primary') {
    const out: string[] = [];
    const v4 = primaryNodeIP(ownNode, 'inet');
    const v6 = primaryNodeIP(ownNode, 'inet6');
    if (v4 !== null && !isLoopbackAddress(v4)) out.push(`${v4}/32`);
    if (v6 !== null && !isLoopbackAddress(v6)) out.push(`${v6}/128`);
    return out;
  }
  return entries.flatMap((e) => (e === 'all' ? ['0.0.0.0/0', '::/0'] : e === 'localhost' ? ['127.0.0.0/8', '::1/128'] : [e]));
}

/**
 * The node IPs of family F that get a NodePort virtual server (docs/kube-proxy-rules.md §1.2). `cidrs` are the resolved
 * nodePortAddresses; entries that are not CIDRs are ignored (kube-proxy's validation rejects them).
 */
export function nodePortIPs(cidrs: readonly string[], node: NodeFacts, family: AddressFamily): string[] {
  const ofFamily: Cidr[] = [];
  for (const text of cidrs) {
    const cidr = parseCidr(text);
    if (cidr?.family === family) ofFamily.push(cidr);
  }
  // No CIDR of this family, or a zero CIDR: every address except kube-ipvs0's (GetAllLocalAddressesExcept).
  if (ofFamily.length === 0 || ofFamily.some((c) => c.prefixLength === 0)) {
    return sortAddresses(localAddressesExceptKubeIpvs0(node, family));
  }
  // Explicit CIDRs: any interface's address (kube-ipvs0 included), loopback removed.
  const out: string[] = [];
  for (const iface of node.interfaces) {
    for (const a of iface.addresses) {
      if (a.family !== family || isLoopbackAddress(a.address)) continue;
      if (ofFamily.some((c) => cidrContains(c, a.address))) out.push(a.address);
    }
  }
  return sortAddresses(out);
}

/** A Node that owns an address (status.addresses), for findings about that address. */
export interface NodeAddressOwner {
  node: string;
  type: NodeAddressType;
}

/**
 * The InternalIP and ExternalIP addresses of every Node but this one (`ownName`, kube-proxy's node
 * name): a Service VIP equal to one of them, bound to kube-ipvs0 here, makes that Node unreachable
 * from this node (kubernetes#127410). An address two Nodes claim goes to the first by name.
 */
export function otherNodeAddresses(nodes: Iterable<Node>, ownName: string): Map<string, NodeAddressOwner> {
  const owners = new Map<string, NodeAddressOwner>();
  const others = [...nodes].filter((n) => n.name !== ownName).sort((a, b) => compareStrings(a.name, b.name));
  for (const n of others) {
    for (const { type, address } of n.addresses) if (!owners.has(address)) owners.set(address, { node: n.name, type });
  }
  return owners;
}
