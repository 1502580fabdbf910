/** kube-ipvs0: the dummy device that holds every Service VIP kube-proxy binds (docs/kube-proxy-rules.md §1.3). */
import type { NodeAddressOwner } from '../desired/node-addresses.js';
import type { AddressFamily } from '../ipvs/types.js';
import { type Cidr, canonicalAddress, cidrContains, parseCidr } from '../util/ip.js';
import type { Finding, ServicePortRef } from './types.js';

/** The device as read from the node, or null when it could not be read (no finding then). */
export interface KubeIpvs0Observed {
  present: boolean;
  /** Addresses on the device, with or without "/prefix". */
  addresses: string[];
}

const LINK_LOCAL = parseCidr('fe80::/10') as Cidr;

export interface KubeIpvs0Options {
  /** The other Nodes' addresses (otherNodeAddresses()): none of them may be bound here. */
  nodeAddresses?: ReadonlyMap<string, NodeAddressOwner>;
  /** The Service port that wants an address bound, for the finding's `service`. */
  serviceOf?: (address: string) => ServicePortRef | null;
}

/**
 * Compare the addresses kube-proxy wants on kube-ipvs0 with the device. Only the given families are
 * judged (each proxier manages its own), and IPv6 link-local addresses are ignored as kube-proxy does.
 */
export function diffKubeIpvs0(
  expectedAddresses: readonly string[],
  actual: KubeIpvs0Observed | null,
  families: readonly AddressFamily[],
  options: KubeIpvs0Options = {},
): Finding[] {
  if (actual === null) return [];
  const base = { virtualServer: null, realServer: null, service: null, selfHealing: true } as const;
  if (!actual.present) {
    return [
      {
        ...base,
        kind: 'kube-ipvs0-missing',
        subject: 'kube-ipvs0',
        severity: 'critical',
        expected: { device: 'kube-ipvs0', present: true },
        actual: { device: 'kube-ipvs0', present: false },
        message: 'The kube-ipvs0 dummy device is missing, so no Service VIP is local and ClusterIP traffic is not accepted on this node; kube-proxy re-creates it on its next sync (ipvs.syncPeriod) — if it persists, check kube-proxy logs or restart kube-proxy on this node.',
      },
    ];
  }
  const own = new Set(families);
  const inScope = (address: string): boolean => {
    const family: AddressFamily = address.includes(':') ? 'inet6' : 'inet';
    return own.has(family) && !(family === 'inet6' && cidrContains(LINK_LOCAL, address));
  };
  const normalise = (text: string): string => {
    const bare = text.split('/')[0] ?? text;
    return canonicalAddress(bare) ?? bare;
  };
  const expectedList = expectedAddresses.map(normalise).filter(inScope);
  const presentList = actual.addresses.map(normalise).filter(inScope);
  // The usual poll: the device holds exactly the wanted addresses, and both lists come sorted the
  // same way (kubeIpvs0Addresses, the desired state): nothing is missing or unexpected, only another
  // Node's address can be wrong — no need to hash 10,000 VIPs into two sets.
  if (sameList(expectedList, presentList)) {
    const shadows: Finding[] = [];
    const nodes = options.nodeAddresses;
    if (nodes !== undefined && nodes.size > 0) {
      for (const address of presentList) {
        const owner = nodes.get(address);
        if (owner !== undefined) shadows.push(shadowedNode(address, owner, true, options.serviceOf?.(address) ?? null));
      }
    }
    return shadows;
  }
  const expected = new Set(expectedList);
  const present = new Set(presentList);

  const findings: Finding[] = [];
  for (const address of expected) {
    if (present.has(address)) continue;
    findings.push({
      ...base,
      kind: 'kube-ipvs0-address-missing',
      subject: address,
      severity: 'critical',
      expected: address,
      actual: null,
      message: `Service address ${address} is not bound to kube-ipvs0, so traffic to it is not accepted locally on this node; kube-proxy binds it on its next sync (ipvs.syncPeriod) — if it persists, check kube-proxy logs or restart kube-proxy on this node.`,
    });
  }
  for (const address of present) {
    const wanted = expected.has(address);
    const owner = options.nodeAddresses?.get(address);
    if (owner !== undefined) findings.push(shadowedNode(address, owner, wanted, wanted ? (options.serviceOf?.(address) ?? null) : null));
    if (wanted) continue;
    findings.push({
      ...base,
      kind: 'kube-ipvs0-address-unexpected',
      subject: address,
      severity: 'warning',
      expected: null,
      actual: address,
      message: `Address ${address} on kube-ipvs0 belongs to no Service VIP kube-proxy should bind, and a bound address makes this node answer for it locally; kube-proxy removes it on its next sync (ipvs.syncPeriod) — if it persists, check kube-proxy logs or restart kube-proxy on this node.`,
    });
  }
  return findings;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * A bound address that is another Node's: binding adds a route of type local for it, so this node
 * answers traffic for that Node itself, and the Node is unreachable from here (kubelet, probes,
 * SSH, the API server if it runs there) — kubernetes#127410, #93175. When a Service wants the
 * address, kube-proxy binds it again on every sync: only changing the Service ends it. When none
 * does, kube-proxy removes it on its next sync.
 */
function shadowedNode(address: string, owner: NodeAddressOwner, wanted: boolean, service: ServicePortRef | null): Finding {
  const what = `Address ${address} on kube-ipvs0 is also the ${owner.type} of node ${owner.node}, so this node takes traffic for ${owner.node} as its own and cannot reach it (kubernetes#127410)`;
  const fix = wanted
    ? `remove ${address} from the externalIPs or load-balancer status of ${service ? `Service ${service.namespace}/${service.name}` : 'the Service that has it'}, as kube-proxy binds it again on every sync`
    : 'no Service wants it, so kube-proxy removes it on its next sync — if it comes back, find what binds it';
  return {
    kind: 'vip-shadows-node-ip',
    subject: address,
    severity: 'critical',
    virtualServer: null,
    realServer: null,
    service,
    expected: null,
    actual: { address, node: owner.node, addressType: owner.type },
    message: `${what}; ${fix}.`,
    selfHealing: !wanted,
  };
}
