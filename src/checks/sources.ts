/**
 * The node-side sources the agent reads on every poll, by name. A check that needs a new fact adds
 * one reader (an edge of its own) and one line here; the poll reads every source concurrently, times
 * it, counts its failures (ipvs_sentinel_read_errors_total{source}) and hands the checks a Reading of
 * each — a failed source degrades its own checks only.
 */
import type { NodeInterface } from '../desired/types.js';
import type { NodeConntrack } from '../conntrack/node.js';
import type { NodeIpsets } from '../ipset/node.js';
import type { NodeNetfilter } from '../iptables/node.js';
import type { IpvsSnapshot } from '../ipvs/types.js';
import type { ModuleFacts } from '../kmod/check.js';
import type { KubeProxyHealth } from '../node/kube-proxy-health.js';
import type { KubeProxyProbe } from '../node/kube-proxy-probe.js';
import type { SysctlValues } from '../node/sysctl.js';

/** What each node-side source returns. */
export interface NodeReadings {
  /** The IPVS table over generic netlink. */
  netlink: IpvsSnapshot;
  /** /proc/modules, modules.builtin, the kernel release. */
  modules: ModuleFacts;
  sysctl: SysctlValues;
  /** kube-proxy's /proxyMode and /configz. */
  'kube-proxy': KubeProxyProbe;
  /** Every interface's addresses (rtnetlink), kube-ipvs0's among them. */
  interfaces: NodeInterface[];
  /** kube-proxy's KUBE-* ipsets over NETLINK_NETFILTER (src/ipset/node.ts), or why they were not read. */
  ipsets: NodeIpsets;
  /** The iptables backends' rules (their own *-save tools) and the nftables table list (src/iptables/node.ts). */
  netfilter: NodeNetfilter;
  /** The UDP conntrack entries over ctnetlink (src/conntrack/node.ts), or why they were not read. */
  conntrack: NodeConntrack;
  /** kube-proxy's /healthz and its sync timestamps from /metrics (src/node/kube-proxy-health-probe.ts). */
  'kube-proxy-health': KubeProxyHealth;
}

export type NodeSourceName = keyof NodeReadings;

/** A source polled by the agent, for metrics and logs: the node's, and the cluster cache. */
export type SourceName = NodeSourceName | 'cluster';

/** The node-side edges, injected (real readers in production, fakes or the guest in tests). */
export type NodeSources = { readonly [K in NodeSourceName]: () => Promise<NodeReadings[K]> };

/** One source's result in one poll: its value, or null with the error line and code. */
export interface Reading<T> {
  value: T | null;
  /** One line for a person (a SentinelError's toLine()), null when the read succeeded. */
  error: string | null;
  /** The error's stable code ("error" for a foreign throw), null when the read succeeded. */
  code: string | null;
}

export type NodeReadingsOf = { readonly [K in NodeSourceName]: Reading<NodeReadings[K]> };
