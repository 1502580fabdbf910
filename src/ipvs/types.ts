/**
 * The typed IPVS table as the kernel reports it over generic netlink (include/uapi/linux/ip_vs.h).
 * Counters are bigint because the kernel's STATS64 values are u64; they become numbers only at
 * the edges that need floats (metrics) or are printed exactly (JSON, tables).
 */

export type AddressFamily = 'inet' | 'inet6';
export type Protocol = 'TCP' | 'UDP' | 'SCTP';
/** IP_VS_CONN_F_* forwarding methods, in ipvsadm's vocabulary (masq = NAT, route = DR). */
export type ForwardMethod = 'masq' | 'local' | 'tunnel' | 'route' | 'bypass';
export type TunnelType = 'ipip' | 'gue' | 'gre';

export interface IpvsStats {
  conns: bigint;
  inPkts: bigint;
  outPkts: bigint;
  inBytes: bigint;
  outBytes: bigint;
  cps: bigint;
  inPps: bigint;
  outPps: bigint;
  inBps: bigint;
  outBps: bigint;
}

export interface Tunnel {
  type: TunnelType | `type-${number}`;
  /** GUE destination port; 0 when not set. */
  port: number;
  /** 'csum', 'remcsum'; empty = nocsum. */
  flags: string[];
}

/** An IPVS destination ("real server" in ipvsadm's words). */
export interface RealServer {
  /** Canonical text form: dotted IPv4 or RFC 5952 IPv6. */
  address: string;
  /** The destination's own family; may differ from its virtual server's (tunnels). */
  addressFamily: AddressFamily;
  port: number;
  forward: ForwardMethod;
  weight: number;
  upperThreshold: number;
  lowerThreshold: number;
  activeConns: number;
  inactiveConns: number;
  persistentConns: number;
  tunnel: Tunnel | null;
  stats: IpvsStats;
}

/** An IPVS service ("virtual server"). Identity: family + protocol + address + port, or family + fwmark. */
export interface VirtualServer {
  /** "TCP/10.96.0.1:443", "UDP/[fd00::10]:53", "FWM/4097/inet" — see virtualServerKey(). */
  key: string;
  family: AddressFamily;
  protocol: Protocol | null;
  address: string | null;
  port: number | null;
  fwmark: number | null;
  scheduler: string;
  /** Effective IP_VS_SVC_F_* bits (flags & mask) as the kernel sent them, hashed bit included. */
  flagBits: number;
  persistent: boolean;
  /** Persistence timeout in seconds. */
  timeout: number;
  /** Persistence netmask as a prefix length (/32 = 32, IPv6 /128 = 128). */
  netmask: number;
  /** Persistence engine name (only "sip" exists), or null. */
  pe: string | null;
  stats: IpvsStats;
  /** Sorted by address, then port. */
  destinations: RealServer[];
}

export interface IpvsInfo {
  /** "1.2.1" */
  version: string;
  connTableSize: number;
}

/** Global IPVS timeouts in seconds (ipvsadm --set). */
export interface IpvsTimeouts {
  tcp: number | null;
  tcpFin: number | null;
  udp: number | null;
}

export interface IpvsSnapshot {
  readAt: Date;
  durationMs: number;
  info: IpvsInfo | null;
  timeouts: IpvsTimeouts | null;
  /** Sorted by key. */
  services: VirtualServer[];
  /** Attribute types the decoder did not know (a newer kernel), e.g. "service:13"; kept, not dropped. */
  unknownAttributes: string[];
}

export const SVC_FLAG = {
  persistent: 0x0001,
  hashed: 0x0002,
  onePacket: 0x0004,
  sched1: 0x0008,
  sched2: 0x0010,
  sched3: 0x0020,
} as const;
