# Sourced inside the real-IPVS guest: kube-proxy's netfilter state on node worker-1 of
# test/fixtures/cluster/kubeadm-ipv4.yaml, as an IPVS-mode kube-proxy on the nf_tables backend leaves
# it — its ipsets, kubelet's hint and canary chains, kube-proxy's IPv4 and IPv6 chains — each written
# by hand from kube-proxy's and kubelet's source (see each file's header).
#
# The guest's kernel cannot load a module on demand inside the chroot (docs/real-ipvs-guest.md §2),
# so the modules the restores need are loaded by hand first.
NETFILTER_DIR=test/guest/netfilter

# ipset types (else "Kernel error received: set type not supported"), nf_tables with the xtables
# compatibility layer and every match and target the rules use (-m set, comment, addrtype, conntrack,
# mark, physdev; MASQUERADE, REJECT), and what the iptables-mode leftovers use (DNAT, -m tcp/udp,
# -m statistic).
NETFILTER_NFT_MODULES="ip_set ip_set_hash_ip ip_set_hash_ipport ip_set_hash_ipportip ip_set_hash_ipportnet
  ip_set_bitmap_port nf_tables nft_compat nft_chain_nat xt_set xt_comment xt_addrtype xt_conntrack xt_mark
  xt_MASQUERADE xt_physdev xt_nat xt_tcpudp xt_statistic ipt_REJECT ip6t_REJECT"
# The legacy (x_tables) backend's tables, IPv4 and IPv6.
NETFILTER_LEGACY_MODULES="ip_tables iptable_nat iptable_filter iptable_mangle ip6_tables ip6table_nat
  ip6table_filter ip6table_mangle"

netfilter_modules() {
  # shellcheck disable=SC2086 # one module name per word
  modprobe -a $NETFILTER_NFT_MODULES
}

netfilter_legacy_modules() {
  # shellcheck disable=SC2086 # one module name per word
  modprobe -a $NETFILTER_LEGACY_MODULES
}

# kubelet's chains then kube-proxy's, both families, into one backend: $1 is nft (what kube-proxy's
# image picks when kubelet's hint is there) or legacy. $2, optional: an IPv4 ruleset restored between
# the two, as iptables mode left it on a node switched to IPVS mode.
netfilter_restore_chains() {
  "iptables-$1-restore" --noflush < test/fixtures/iptables/kubelet.rules
  if [ -n "${2:-}" ]; then "iptables-$1-restore" --noflush < "$2"; fi
  "iptables-$1-restore" --noflush < "$NETFILTER_DIR/kubeadm-ipv4-worker-1.rules"
  "ip6tables-$1-restore" --noflush < test/fixtures/iptables/kubelet6.rules
  "ip6tables-$1-restore" --noflush < "$NETFILTER_DIR/kubeadm-ipv4-worker-1.rules6"
}

# kube-proxy's IPVS-mode chains alone, both families, into one backend ($1).
netfilter_restore_kube_proxy() {
  "iptables-$1-restore" --noflush < "$NETFILTER_DIR/kubeadm-ipv4-worker-1.rules"
  "ip6tables-$1-restore" --noflush < "$NETFILTER_DIR/kubeadm-ipv4-worker-1.rules6"
}

# Every rule and chain of the nf_tables backend gone (its tables too), the sets kept.
netfilter_reset_nft() {
  nft flush ruleset
}

# Every rule and chain of the legacy backend gone; its tables stay instantiated, empty.
netfilter_reset_legacy() {
  local t
  for t in nat filter mangle; do
    iptables-legacy -t "$t" -F && iptables-legacy -t "$t" -X
    ip6tables-legacy -t "$t" -F && ip6tables-legacy -t "$t" -X
  done
}

# The whole state on a clean node (no set, no nf_tables table yet).
netfilter_load() {
  ipset restore < "$NETFILTER_DIR/kubeadm-ipv4-worker-1.ipset"
  netfilter_restore_chains nft
}
