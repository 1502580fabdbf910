/**
 * The node's UDP conntrack entries, read without changing the node: only when nf_conntrack_netlink
 * (the module that registers NFNL_SUBSYS_CTNETLINK) is already in the kernel. A dump to an
 * unregistered nfnetlink subsystem makes the kernel load it — the same rule as the ipset and
 * nf_tables reads (src/netlink/nfnetlink.ts nfnlReadGate). kube-proxy loads it itself: it deletes
 * stale UDP entries over ctnetlink (pkg/proxy/conntrack/cleanup.go), older releases with the
 * `conntrack` tool, which does the same.
 */
import type { DesiredState, NodeInterface } from '../desired/types.js';
import type { AddressFamily } from '../ipvs/types.js';
import type { ModuleFacts } from '../kmod/check.js';
import type { ConntrackDump } from './types.js';

export const CTNETLINK_MODULE = 'nf_conntrack_netlink';

/** The entries, or why they were not read (a state, not an error: the check says nothing then). */
export type NodeConntrack = ({ readable: true } & ConntrackDump) | { readable: false; reason: string };

export interface NodeConntrackReaders {
  /** /proc/modules and modules.builtin (src/kmod/read.ts). */
  modules(): Promise<ModuleFacts>;
  /** Every interface's addresses (rtnetlink), kube-ipvs0's among them. */
  interfaces(): readonly NodeInterface[];
  /** The UDP entries of these families (src/conntrack/reader.ts). */
  dump(families: readonly AddressFamily[]): ConntrackDump;
  /**
   * The families of the cluster's UDP Service ports with serving endpoints, from the last poll's
   * desired state (udpServiceFamilies); null or absent when not known yet: every family the node
   * has an address of.
   */
  serviceFamilies?: () => readonly AddressFamily[] | null;
}

function isLinkLocal(address: string): boolean {
  return address.startsWith('169.254.') || /^fe[89ab][0-9a-f]:/i.test(address);
}

/**
 * The families worth a dump: those of which the node holds an address that is neither loopback nor
 * link-local. A UDP entry to a Service of a family needs the Service address bound here (kube-ipvs0
 * holds every ClusterIP, externalIP and load-balancer IP kube-proxy serves) or a node address (node
 * ports); without one, no entry of that family can be stale, and the kernel need not walk its whole
 * table once more for it.
 */
export function conntrackFamilies(interfaces: readonly NodeInterface[]): AddressFamily[] {
  const families = new Set<AddressFamily>();
  for (const iface of interfaces) {
    if (iface.loopback) continue;
    for (const a of iface.addresses) if (!isLinkLocal(a.address)) families.add(a.family);
  }
  return (['inet', 'inet6'] as const).filter((f) => families.has(f));
}

/**
 * The families of the UDP Service ports kube-proxy's cleanup would look at (DesiredState.udpServicePorts:
 * those with at least one serving endpoint); null without a desired state. An entry can only be
 * stale if its original destination is such a Service port, so a family without one needs no dump:
 * on a dual-stack node whose UDP Services are single-stack IPv4 (the default ipFamilyPolicy), the
 * kernel is spared a walk of its whole conntrack table for IPv6 every poll.
 */
export function udpServiceFamilies(desired: Pick<DesiredState, 'udpServicePorts'> | null): AddressFamily[] | null {
  if (desired?.udpServicePorts === undefined) return null;
  const families = new Set(desired.udpServicePorts.map((p) => p.family));
  return (['inet', 'inet6'] as const).filter((f) => families.has(f));
}

/** Whether asking ctnetlink is free of side effects, and why. */
export function conntrackReadGate(facts: Pick<ModuleFacts, 'loaded' | 'builtin' | 'loadedUnreadable' | 'problems'>): { readable: boolean; reason: string } {
  if (facts.loadedUnreadable === true) {
    return { readable: false, reason: `/proc/modules could not be read, so whether ${CTNETLINK_MODULE} is loaded is unknown: ${facts.problems.join('; ')}` };
  }
  if (facts.loaded === null) return { readable: true, reason: `the kernel has no loadable-module support: reading cannot load ${CTNETLINK_MODULE}` };
  if (facts.loaded.some((m) => m.name === CTNETLINK_MODULE)) return { readable: true, reason: `${CTNETLINK_MODULE} is loaded` };
  if (facts.builtin?.has(CTNETLINK_MODULE) === true) return { readable: true, reason: `${CTNETLINK_MODULE} is built into the kernel` };
  const builtinUnknown = facts.builtin === null ? ' (modules.builtin unreadable: mount /lib/modules to see built-in modules)' : '';
  return {
    readable: false,
    reason: `${CTNETLINK_MODULE} is neither loaded nor built in${builtinUnknown}: conntrack not read, because asking the kernel would make it load ${CTNETLINK_MODULE} (request_module "nfnetlink-subsys-1"); kube-proxy loads it at its first UDP conntrack cleanup`,
  };
}

export async function readNodeConntrack(readers: NodeConntrackReaders): Promise<NodeConntrack> {
  const gate = conntrackReadGate(await readers.modules());
  if (!gate.readable) return { readable: false, reason: gate.reason };
  const wanted = readers.serviceFamilies?.() ?? null;
  const families = conntrackFamilies(readers.interfaces()).filter((f) => wanted === null || wanted.includes(f));
  return { readable: true, ...readers.dump(families) };
}
