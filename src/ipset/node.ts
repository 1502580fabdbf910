/**
 * The node's kube-proxy ipsets, read without changing the node: only when ip_set is already in the
 * kernel (a dump to an unregistered nfnetlink subsystem loads it — src/netlink/nfnetlink.ts
 * nfnlReadGate), and only kube-proxy's sets (KUBE-*): a headers-only list first, then each of those
 * sets by name, so a CNI's large sets (Calico's cali*, for instance) are never decoded nor counted
 * against the read's bounds.
 */
import type { ModuleFacts } from '../kmod/check.js';
import { NFNL_SUBSYS_IPSET, nfnlReadGate } from '../netlink/nfnetlink.js';
import type { IpSet } from './types.js';

/** The sets, or why they were not read (a state, not an error: the check says it is unknown). */
export type NodeIpsets = { readable: true; sets: ReadonlyMap<string, IpSet> } | { readable: false; reason: string };

export interface NodeIpsetReaders {
  /** /proc/modules and modules.builtin (src/kmod/read.ts). */
  modules(): Promise<ModuleFacts>;
  /** Every set's name, type and header (IPSET_FLAG_LIST_HEADER). */
  headers(): readonly IpSet[];
  /** One set with its members, or null when it vanished between the two reads. */
  set(name: string): IpSet | null;
}

/** kube-proxy's sets: KUBE-… (IPv4) and KUBE-6-… (IPv6), pkg/proxy/ipvs/ipset.go. */
export function isKubeProxySetName(name: string): boolean {
  return name.startsWith('KUBE-');
}

export async function readNodeIpsets(readers: NodeIpsetReaders): Promise<NodeIpsets> {
  const facts = await readers.modules();
  // loaded=null is safe to read past only for a kernel without modules (see nfnlReadGate).
  if (facts.loadedUnreadable === true) {
    return { readable: false, reason: `/proc/modules could not be read, so whether ip_set is loaded is unknown: ${facts.problems.join('; ')}` };
  }
  const gate = nfnlReadGate(NFNL_SUBSYS_IPSET, { loaded: facts.loaded, builtin: facts.builtin });
  if (!gate.readable) return { readable: false, reason: gate.reason };
  const sets = new Map<string, IpSet>();
  for (const header of readers.headers()) {
    if (!isKubeProxySetName(header.name)) continue;
    const set = readers.set(header.name);
    if (set !== null) sets.set(set.name, set);
  }
  return { readable: true, sets };
}
