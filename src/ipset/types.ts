/**
 * kube-proxy's ipsets as the kernel lists them over netlink (include/uapi/linux/netfilter/ipset/ip_set.h),
 * in the words `ipset list` uses. Readonly: a dump is never changed after it is decoded.
 */

/** The set types kube-proxy creates (pkg/proxy/ipvs/ipset/ipset.go). */
export type KubeProxySetType = 'hash:ip' | 'hash:ip,port' | 'hash:ip,port,ip' | 'hash:ip,port,net' | 'bitmap:port';

export const KUBE_PROXY_SET_TYPES: readonly KubeProxySetType[] = ['hash:ip', 'hash:ip,port', 'hash:ip,port,ip', 'hash:ip,port,net', 'bitmap:port'];

/** A kube-proxy type, or any other type name kept as the kernel gave it ("hash:net", "list:set"). */
export type IpsetType = KubeProxySetType | (string & Record<never, never>);

/** Family of a hash set's addresses; bitmap:port has none (the kernel says NFPROTO_UNSPEC). */
export type IpsetFamily = 'inet' | 'inet6';

export type IpsetProtocol = 'tcp' | 'udp' | 'sctp';

export interface IpsetHeader {
  /** Hash buckets; grows with the set (1024 → 4096 at 10,000 entries), so never compare it. Hash types only. */
  readonly hashSize?: number;
  readonly maxElem?: number;
  /** Rules using the set, in both iptables backends together; 0 on a set kube-proxy matches on means its rules are gone. */
  readonly references: number;
  /** Entries in the set (also in a headers-only dump, where `entries` is empty). */
  readonly elements: number;
  /** Bytes of kernel memory the set holds. */
  readonly memSize: number;
  /** bitmap:port only: the range it was created with (kube-proxy: 0-65535). */
  readonly portRange?: { readonly from: number; readonly to: number };
}

/**
 * One member, each dimension parsed. Which fields are set depends on the type: hash:ip `ip`;
 * hash:ip,port `ip, protocol, port`; hash:ip,port,ip `+ ip2`; hash:ip,port,net `+ ip2, cidr2`;
 * bitmap:port `port`. The rest are null.
 */
export interface IpsetEntry {
  /** Canonical text: dotted IPv4 or RFC 5952 IPv6 (what Go's net.IP.String() prints). */
  readonly ip: string | null;
  /** Prefix of the first dimension (hash:net types); null for kube-proxy's types. */
  readonly cidr: number | null;
  /** The IP protocol by name, or its number when it is not one kube-proxy uses. */
  readonly protocol: IpsetProtocol | number | null;
  readonly port: number | null;
  readonly ip2: string | null;
  /** hash:ip,port,net: prefix length of `ip2` (the kernel always lists it, 32/128 for a host). */
  readonly cidr2: number | null;
  /** Stored with `nomatch` (kube-proxy never does): the entry excludes instead of matching. */
  readonly nomatch: boolean;
}

export interface IpSet {
  /** At most 31 characters (IPSET_MAXNAMELEN): KUBE-6- names are cut, e.g. KUBE-6-LOAD-BALANCER-SOURCE-CID. */
  readonly name: string;
  readonly type: IpsetType;
  readonly family: IpsetFamily | null;
  /** The set type's revision; differs between kernels, never compared. */
  readonly revision: number;
  readonly header: IpsetHeader;
  /** false for a headers-only dump: `entries` is then empty and `header.elements` says how many there are. */
  readonly entriesListed: boolean;
  /** In the kernel's hash order, which means nothing: compare as sets. */
  readonly entries: readonly IpsetEntry[];
}

export interface IpsetDump {
  /** In the kernel's set index order. */
  readonly sets: readonly IpSet[];
  /** Attribute types this decoder does not know (a newer kernel), e.g. "element:31"; sorted. */
  readonly unknownAttributes: readonly string[];
}

export interface IpsetReadStats {
  datagrams: number;
  bytes: number;
  /** Whole-dump attempts (more than one when a dump was interrupted or a datagram dropped). */
  attempts: number;
}
