/**
 * One error base class with a stable code, the operation that failed and its cause.
 * Every code is listed in ERROR_CODES with the operator's remedy; the README's error table
 * is checked against this list by a test.
 */

export const ERROR_CODES = {
  IPVS_UNAVAILABLE: 'The IPVS generic-netlink family is not registered: ip_vs is not loaded. Load it with `modprobe ip_vs` and make it persistent in /etc/modules-load.d/ipvs.conf.',
  IPVS_PERMISSION_DENIED: 'The kernel refused an IPVS netlink command: the process needs CAP_NET_ADMIN in the initial user namespace (and hostNetwork to see the node\'s table).',
  LIBNL_UNAVAILABLE: 'libnl-3 / libnl-genl-3 (libnl-3.so.200, libnl-genl-3.so.200) or the koffi FFI module could not be loaded. Install libnl-3-200 and libnl-genl-3-200.',
  NETLINK_IO: 'A netlink socket operation failed (socket, connect, send or receive).',
  NETLINK_DECODE: 'A netlink reply could not be decoded (truncated or malformed message or attribute).',
  NETLINK_PROTOCOL: 'The kernel answered a netlink request with an unexpected error or sequence.',
  IPVS_DUMP_RETRIES_EXHAUSTED: 'The IPVS table kept changing or overflowing the socket while being read; retries were exhausted.',
  BAD_FLAG: 'A command-line flag or environment variable is unknown or has an invalid value.',
  FILE_UNREADABLE: 'A file given on the command line could not be read.',
  CLUSTER_STATE_INVALID: 'The cluster state file is not a Kubernetes List / YAML stream of Services, EndpointSlices, Nodes and ConfigMaps.',
  NODE_NOT_FOUND: 'The node name given with --node-name (or NODE_NAME) is not among the cluster\'s Nodes.',
  KUBE_API_ERROR: 'The Kubernetes API could not be reached or answered with an error.',
  PROC_UNREADABLE: 'A /proc or /sys file could not be read.',
  KUBE_PROXY_PROBE_FAILED: 'kube-proxy\'s metrics endpoint (/proxyMode, /configz) could not be queried.',
  KUBE_PROXY_CONFIG_INVALID: 'kube-proxy\'s configuration (/configz, or config.conf of the kube-system/kube-proxy ConfigMap) is not a KubeProxyConfiguration ipvs-sentinel can read; it fell back to the next source (ConfigMap, then defaults). Check the ConfigMap with `kubectl -n kube-system get cm kube-proxy -o yaml`.',
  LISTEN_FAILED: 'serve could not listen on the --listen address: the port is in use (EADDRINUSE), the address is not one of this host\'s (EADDRNOTAVAIL), the port is below 1024 without the right to bind it (EACCES), or the host name does not resolve (ENOTFOUND). The message says which and what to do.',
  IPSET_PERMISSION_DENIED: 'The kernel refused to list the ipsets (EPERM): every NETLINK_NETFILTER request, reads included, needs CAP_NET_ADMIN in the node\'s network namespace — run with hostNetwork and add NET_ADMIN to the container\'s capabilities.',
  NFTABLES_PERMISSION_DENIED: 'The kernel refused to list the nftables tables (EPERM): every NETLINK_NETFILTER request, reads included, needs CAP_NET_ADMIN in the node\'s network namespace — run with hostNetwork and add NET_ADMIN to the container\'s capabilities.',
  NETLINK_DUMP_TOO_LARGE: 'A netlink dump (the ipsets or the nftables tables) went past the reader\'s bound on entries, bytes or datagrams and was abandoned, so a huge or runaway dump cannot exhaust memory. Look at the sets with `ipset list -t`; the check stays unknown until the dump fits.',
  IPTABLES_UNAVAILABLE: 'An iptables `*-save` tool (/usr/sbin/iptables-legacy-save, ip6tables-legacy-save, iptables-nft-save, ip6tables-nft-save) is missing or not executable. Install the Debian `iptables` package, which ships both backends (xtables-legacy-multi and xtables-nft-multi); the iptables checks stay unknown until then.',
  IPTABLES_PERMISSION_DENIED: 'An iptables `*-save` tool was refused by the kernel ("Permission denied (you must be root)"): iptables-legacy-save needs CAP_NET_ADMIN and CAP_NET_RAW; iptables-nft-save needs CAP_NET_ADMIN, and CAP_NET_RAW too as soon as a rule matches an ipset, as kube-proxy\'s do ("Can\'t open socket to ipset."); all in the node\'s network namespace — run as uid 0 with hostNetwork and add NET_ADMIN and NET_RAW to the container\'s capabilities.',
  IPTABLES_SAVE_FAILED: 'An iptables `*-save` tool failed: it exited non-zero (the message gives the tool, the exit code and its first stderr line), could not be started, or did not finish within its time bound and was killed. Run the same tool by hand on the node to see why.',
  IPTABLES_SAVE_TOO_LARGE: 'An iptables `*-save` tool printed more than the reader\'s output bound and was killed, so a runaway ruleset cannot exhaust memory. See how large the ruleset is with `iptables-save > /tmp/rules && wc -l /tmp/rules`; the iptables checks stay unknown until the output fits.',
  IPTABLES_DUMP_INVALID: 'The output of an iptables `*-save` tool is not an iptables-save dump (garbage, too many malformed lines) or was cut off inside a table (no COMMIT); the iptables checks for that backend stay unknown.',
  KUBE_API_MALFORMED: 'The Kubernetes API (or a proxy in front of it) answered with something that is not a valid list or watch event: not JSON, cut off, without items, or an object without metadata. A bad watch event is skipped and counted in ipvs_sentinel_watch_events_rejected_total; a bad list is retried with backoff. Check what sits between the node and the API server.',
  AUTH_REVIEW_FAILED: 'With --auth=kube, the Kubernetes API could not review a request: a TokenReview or SubjectAccessReview was refused (403: the agent\'s ServiceAccount lacks `create` on tokenreviews and subjectaccessreviews, see manifests/components/auth), failed, timed out or answered something else. Every protected route answers 503 until the API reviews again; the probes stay open.',
  TLS_CERT_INVALID: 'The --tls-cert-file / --tls-private-key-file pair could not be read or used: a file is missing or unreadable, is not PEM, or the key does not match the certificate. At start the agent exits; on a reload the old pair stays in use with one log line.',
  CONNTRACK_PERMISSION_DENIED: 'The kernel refused to list the conntrack entries (EPERM): every NETLINK_NETFILTER request, reads included, needs CAP_NET_ADMIN in the node\'s network namespace — run with hostNetwork and add NET_ADMIN to the container\'s capabilities. The stale-udp-conntrack check stays unknown until then.',
  INTERNAL: 'An unexpected internal error; please report it with the log line.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class SentinelError extends Error {
  readonly code: ErrorCode;
  /** What was being done, e.g. "resolve IPVS family" or "read /proc/modules". */
  readonly op: string;

  constructor(code: ErrorCode, op: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SentinelError';
    this.code = code;
    this.op = op;
  }

  /** One line for a person: "IPVS_UNAVAILABLE (resolve IPVS family): …". */
  toLine(): string {
    return `${this.code} (${this.op}): ${this.message}`;
  }
}

export function isSentinelError(value: unknown, code?: ErrorCode): value is SentinelError {
  return value instanceof SentinelError && (code === undefined || value.code === code);
}

/** Wrap anything thrown into a SentinelError, keeping SentinelErrors as they are. */
export function toSentinelError(value: unknown, code: ErrorCode, op: string): SentinelError {
  if (value instanceof SentinelError) return value;
  const message = value instanceof Error ? value.message : String(value);
  return new SentinelError(code, op, message, { cause: value });
}
