/**
 * The ipset netlink protocol, from include/uapi/linux/netfilter/ipset/ip_set.h. Attribute numbers
 * depend on the nest they appear in: the same number means ELEMENTS in a set's header and BYTES in
 * an element, hence one table per level.
 */

/** IPSET_PROTOCOL_MIN: every kernel answers it; protocol 7 only adds IPSET_ATTR_INDEX. */
export const IPSET_PROTOCOL = 6;
/** IPSET_MAXNAMELEN 32 with the NUL: kube-proxy's KUBE-6- names are cut to 31 characters. */
export const IPSET_MAXNAMELEN = 32;

export const IPSET_CMD = {
  PROTOCOL: 1,
  LIST: 7,
  SAVE: 8,
} as const;

/** Attributes at command level (enum in ip_set.h: IPSET_ATTR_PROTOCOL …). */
export const IPSET_ATTR = {
  PROTOCOL: 1,
  SETNAME: 2,
  TYPENAME: 3,
  REVISION: 4,
  FAMILY: 5,
  FLAGS: 6,
  DATA: 7,
  ADT: 8,
  LINENO: 9,
  PROTOCOL_MIN: 10,
  INDEX: 11,
} as const;

/** Attributes of a set's header DATA nest (CADT and create-only attributes). */
export const IPSET_HEADER_ATTR = {
  IP: 1,
  IP_TO: 2,
  CIDR: 3,
  PORT: 4,
  PORT_TO: 5,
  TIMEOUT: 6,
  CADT_FLAGS: 8,
  MARKMASK: 11,
  BITMASK: 12,
  INITVAL: 17,
  HASHSIZE: 18,
  MAXELEM: 19,
  NETMASK: 20,
  BUCKETSIZE: 21,
  RESIZE: 22,
  SIZE: 23,
  ELEMENTS: 24,
  REFERENCES: 25,
  MEMSIZE: 26,
} as const;

/** Attributes of an element DATA nest inside ADT (CADT and ADT attributes). */
export const IPSET_ELEMENT_ATTR = {
  IP: 1,
  CIDR: 3,
  PORT: 4,
  TIMEOUT: 6,
  PROTO: 7,
  CADT_FLAGS: 8,
  MARK: 10,
  ETHER: 17,
  NAME: 18,
  IP2: 20,
  CIDR2: 21,
  IFACE: 23,
  BYTES: 24,
  PACKETS: 25,
  COMMENT: 26,
  SKBMARK: 27,
  SKBPRIO: 28,
  SKBQUEUE: 29,
  PAD: 30,
} as const;

/** Inside an IP / IP2 nest. */
export const IPSET_ATTR_IPADDR_IPV4 = 1;
export const IPSET_ATTR_IPADDR_IPV6 = 2;

/** enum ipset_cmd_flags, sent big-endian in IPSET_ATTR_FLAGS. */
export const IPSET_FLAG_LIST_SETNAME = 1 << 1;
export const IPSET_FLAG_LIST_HEADER = 1 << 2;
/** enum ipset_cadt_flags: an element stored with `nomatch`. */
export const IPSET_FLAG_NOMATCH = 1 << 2;

/** enum ipset_errno: the kernel answers a protocol it does not speak with -IPSET_ERR_PROTOCOL. */
export const IPSET_ERR_PROTOCOL = 4097;

/** IPPROTO_* numbers of the protocols kube-proxy puts in its sets. */
export const IPPROTO_NAME = new Map<number, 'tcp' | 'udp' | 'sctp'>([
  [6, 'tcp'],
  [17, 'udp'],
  [132, 'sctp'],
]);
