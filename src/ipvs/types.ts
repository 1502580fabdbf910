/**
 * The typed IPVS table as the kernel reports it over generic netlink (include/uapi/linux/ip_vs.h).
 * Counters are bigint because the kernel's STATS64 values are u64; they become numbers only at
 * the edges that need floats (metrics) or are printed exactly (JSON, tables).
 *
 * Consecutive snapshots share every object that did not change between the two reads (reuse.ts):
 * a snapshot is never modified after the read, hence readonly throughout.
 */

export type AddressFamily = 'inet' | 'inet6';
export type Protocol = 'TCP' | 'UDP' | 'SCTP';
/** IP_VS_CONN_F_* forwarding methods, in ipvsadm's vocabulary (masq = NAT, route = DR). */
export type ForwardMethod = 'masq' | 'local' | 'tunnel' | 'route' | 'bypass';
export type TunnelType = 'ipip' | 'gue' | 'gre';

export interface IpvsStats {
  readonly conns: bigint;
  readonly inPkts: bigint;
  readonly outPkts: bigint;
  readonly inBytes: bigint;
  readonly outBytes: bigint;
  readonly cps: bigint;
  readonly inPps: bigint;
  readonly outPps: bigint;
  readonly inBps: bigint;
  readonly outBps: bigint;
}

export interface Tunnel {
  readonly type: TunnelType | `type-${number}`;
  /** GUE destination port; 0 when not set. */
  readonly port: number;
  /** 'csum', 'remcsum'; empty = nocsum. */
  readonly flags: readonly string[];
}

/** An IPVS destination ("real server" in ipvsadm's words). */
export interface RealServer {
  /** Canonical text form: dotted IPv4 or RFC 5952 IPv6. */
  readonly address: string;
  /** The destination's own family; may differ from its virtual server's (tunnels). */
  readonly addressFamily: AddressFamily;
  readonly port: number;
  readonly forward: ForwardMethod;
  readonly weight: number;
  readonly upperThreshold: number;
  readonly lowerThreshold: number;
  readonly activeConns: number;
  readonly inactiveConns: number;
  readonly persistentConns: number;
  readonly tunnel: Tunnel | null;
  readonly stats: IpvsStats;
}

/** An IPVS service ("virtual server"). Identity: family + protocol + address + port, or family + fwmark. */
export interface VirtualServer {
  /** "TCP/10.96.0.1:443", "UDP/[fd00::10]:53", "FWM/4097/inet" — see virtualServerKey(). */
  readonly key: string;
  readonly family: AddressFamily;
  readonly protocol: Protocol | null;
  readonly address: string | null;
  readonly port: number | null;
  readonly fwmark: number | null;
  readonly scheduler: string;
  /** Effective IP_VS_SVC_F_* bits (flags & mask) as the kernel sent them, hashed bit included. */
  readonly flagBits: number;
  readonly persistent: boolean;
  /** Persistence timeout in seconds. */
  readonly timeout: number;
  /** Persistence netmask as a prefix length (/32 = 32, IPv6 /128 = 128). */
  readonly netmask: number;
  /** Persistence engine name (only "sip" exists), or null. */
  readonly pe: string | null;
  readonly stats: IpvsStats;
  /** Sorted by address, then port. */
  readonly destinations: readonly RealServer[];
}

export interface IpvsInfo {
  /** "1.2.1" */
  readonly version: string;
  readonly connTableSize: number;
}

/** Global IPVS timeouts in seconds (ipvsadm --set). */
export interface IpvsTimeouts {
  readonly tcp: number | null;
  readonly tcpFin: number | null;
  readonly udp: number | null;
}

export interface IpvsSnapshot {
  readonly readAt: Date;
  readonly durationMs: number;
  readonly info: IpvsInfo | null;
  readonly timeouts: IpvsTimeouts | null;
  /** Sorted by key. */
  readonly services: readonly VirtualServer[];
  /** Attribute types the decoder did not know (a newer kernel), e.g. "service:13"; kept, not dropped. */
  readonly unknownAttributes: readonly string[];
}
