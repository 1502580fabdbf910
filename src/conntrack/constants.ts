/**
 * ctnetlink's numbers: include/uapi/linux/netfilter/nfnetlink.h (subsystem),
 * include/uapi/linux/netfilter/nfnetlink_conntrack.h (messages and CTA_* attributes) and
 * include/uapi/linux/netfilter/nf_conntrack_common.h (status bits).
 */

/** NFNL_SUBSYS_CTNETLINK: conntrack entries (nf_conntrack_netlink registers it). */
export const NFNL_SUBSYS_CTNETLINK = 1;

/** enum cntl_msg_types. */
export const IPCTNL_MSG_CT_NEW = 0;
export const IPCTNL_MSG_CT_GET = 1;

/** enum ctattr_type: the top-level attributes of one entry. */
export const CTA = {
  TUPLE_ORIG: 1,
  TUPLE_REPLY: 2,
  STATUS: 3,
  TIMEOUT: 7,
  MARK: 8,
  ID: 12,
  ZONE: 18,
  /** Since 5.6 (kernel-side dump filtering); older kernels ignore it. */
  FILTER: 25,
} as const;

/** enum ctattr_tuple. */
export const CTA_TUPLE = { IP: 1, PROTO: 2, ZONE: 3 } as const;

/** enum ctattr_ip. */
export const CTA_IP = { V4_SRC: 1, V4_DST: 2, V6_SRC: 3, V6_DST: 4 } as const;

/** enum ctattr_l4proto. */
export const CTA_PROTO = { NUM: 1, SRC_PORT: 2, DST_PORT: 3 } as const;

/** enum ctattr_filter. */
export const CTA_FILTER = { ORIG_FLAGS: 1, REPLY_FLAGS: 2 } as const;

/** CTA_FILTER_FLAG(CTA_PROTO_NUM): match the tuple's protocol number (nfnetlink_conntrack.h). */
export const CTA_FILTER_FLAG_PROTO_NUM = 1 << 3;

/** IPPROTO_UDP (include/uapi/linux/in.h). */
export const IPPROTO_UDP = 17;

/** AF_INET / AF_INET6: the nfgen_family of a ctnetlink dump, which the kernel filters entries by. */
export const AF_INET = 2;
export const AF_INET6 = 10;

/** enum ip_conntrack_status: IPS_SEEN_REPLY and IPS_ASSURED. */
export const IPS_SEEN_REPLY = 1 << 1;
export const IPS_ASSURED = 1 << 2;
