/**
 * The node's UDP conntrack entries, read without changing the node: only when nf_conntrack_netlink
 * (the module that registers NFNL_SUBSYS_CTNETLINK) is already in the kernel. A dump to an
 * unregistered nfnetlink subsystem makes the kernel load it — the same rule as the ipset and
 * nf_tables reads (src/netlink/nfnetlink.ts nfnlReadGate). kube-proxy loads it itself: it deletes
 * stale UDP entries over ctnetlink (pkg/proxy/conntrack/cleanup.go), older releases with the
 * `conntrack` tool, which does the same.
 */
import type { ModuleFacts } from '../kmod/check.js';
import type { ConntrackDump } from './types.js';

export const CTNETLINK_MODULE = 'nf_conntrack_netlink';

/** The entries, or why they were not read (a state, not an error: the check says nothing then). */
export type NodeConntrack = ({ readable: true } & ConntrackDump) | { readable: false; reason: string };

export interface NodeConntrackReaders {
  /** /proc/modules and modules.builtin (src/kmod/read.ts). */
  modules(): Promise<ModuleFacts>;
  /** The UDP entries of both families (src/conntrack/reader.ts). */
  dump(): ConntrackDump;
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
  return { readable: true, ...readers.dump() };
}
