# Sourced by the guest scripts (test/guest/*.test.ts): this guest becomes worker-1 of the fixture
# cluster (test/fixtures/cluster/kubeadm-ipv4.yaml) as the desired-state golden sees it — its
# interfaces and addresses, kube-proxy's modules and sysctls, a kube-proxy that reports IPVS mode
# (test/guest/fake-kube-proxy.mjs) — with the IPVS table and kube-ipvs0 kube-proxy would program
# (test/guest/program-desired.mjs). Needs $NODE; set before sourcing, all optional:
#   WORKER1_TABLE         where the programmed table is written as ipvsadm -S text (default /dev/null)
#   WORKER1_HEALTH_FILE   a file making the fake kube-proxy serve its healthz on 10256 too ("fresh" / "stale")
. test/guest/worker-1-interfaces.sh
modprobe -a nf_conntrack ip_vs ip_vs_rr
sysctl -qw net.ipv4.vs.conntrack=1 net.ipv4.vs.expire_nodest_conn=1 net.ipv4.vs.expire_quiescent_template=1 net.ipv4.ip_forward=1 net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
echo ipvs > /run/kube-proxy-mode
if [ -n "${WORKER1_HEALTH_FILE:-}" ]; then
  echo fresh > "$WORKER1_HEALTH_FILE"
  "$NODE" test/guest/fake-kube-proxy.mjs /run/kube-proxy-mode 10249 "$WORKER1_HEALTH_FILE" 10256 &
else
  "$NODE" test/guest/fake-kube-proxy.mjs /run/kube-proxy-mode &
fi
"$NODE" test/guest/program-desired.mjs test/fixtures/golden/desired/kubeadm-ipv4.json "${WORKER1_TABLE:-/dev/null}"
