/**
 * Conntrack entries as ctnetlink lists them (include/uapi/linux/netfilter/nfnetlink_conntrack.h), in
 * the words `conntrack -L` uses: only UDP entries are kept, since only those are kube-proxy's to
 * clean (pkg/proxy/conntrack/cleanup.go). Readonly: a dump is never changed after it is decoded.
 */
import type { AddressFamily } from '../ipvs/types.js';

/** One direction of an entry: `src=… dst=… sport=… dport=…`. Addresses are canonical text. */
export interface ConntrackTuple {
  readonly src: string;
  readonly dst: string;
  readonly srcPort: number;
  readonly dstPort: number;
}

export interface UdpConntrackEntry {
  readonly family: AddressFamily;
  /** What the client sent: its destination is the Service address it asked for. */
  readonly original: ConntrackTuple;
  /** What the answer comes from: after IPVS's DNAT, its source is the endpoint the flow goes to. */
  readonly reply: ConntrackTuple;
  /** Seconds left, or null when the kernel did not say. */
  readonly timeout: number | null;
  /** Conntrack zone (CTA_ZONE), 0 when none. */
  readonly zone: number;
}

export interface ConntrackReadStats {
  datagrams: number;
  bytes: number;
  /** Whole-dump attempts, over both families. */
  attempts: number;
  /** Entries of every protocol the kernel sent. */
  scanned: number;
  /** Entries of another protocol, skipped without being decoded (a kernel that ignored the filter). */
  skipped: number;
  /** Whether every family's dump was filtered to UDP by the kernel (CTA_FILTER, 5.6+). */
  kernelFiltered: boolean;
  /** Wall time of the read, in ms. */
  durationMs: number;
}

export interface ConntrackDump {
  readonly entries: readonly UdpConntrackEntry[];
  readonly stats: ConntrackReadStats;
}
