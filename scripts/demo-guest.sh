#!/usr/bin/env bash
# Inside the real-IPVS guest: a node of a sample kubeadm cluster (worker-1), its IPVS table, ipsets
# and iptables chains as kube-proxy programs them, and ipvs-sentinel serving with every check on —
# then one injected drift, the verdict, the repair, and the verdict clearing.
set -euo pipefail
CLUSTER=test/fixtures/cluster/kubeadm-ipv4.yaml   # `kubectl get services,endpointslices,nodes,cm -A -o yaml` of a kubeadm cluster
say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
run() { printf '\033[2m$ %s\033[0m\n' "$*"; eval "$@"; }
wait_for() { for _ in $(seq 1 120); do if eval "$1"; then return 0; fi; sleep 0.5; done; echo "timed out waiting for: $1" >&2; return 1; }

# The node: its interfaces, the modules and sysctls kube-proxy needs, kube-proxy's metrics port.
. test/guest/worker-1-interfaces.sh
modprobe -a ip_vs ip_vs_rr nf_conntrack
sysctl -qw net.ipv4.vs.conntrack=1 net.ipv4.vs.expire_nodest_conn=1 net.ipv4.vs.expire_quiescent_template=1 \
  net.ipv4.ip_forward=1 net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
echo ipvs > /run/kube-proxy-mode
"$NODE" test/guest/fake-kube-proxy.mjs /run/kube-proxy-mode &
# The table kube-proxy programs on worker-1 for that cluster, and its ipsets and iptables chains.
"$NODE" test/guest/program-desired.mjs test/fixtures/golden/desired/kubeadm-ipv4.json /dev/null
. test/guest/netfilter/node.sh
netfilter_modules
netfilter_load

say "1. The agent, as the DaemonSet runs it (cluster from a file here; the API in a cluster)"
run "NODE_OPTIONS='${AGENT_NODE_OPTIONS:-}' \"$NODE\" bin/ipvs-sentinel.js serve --cluster-state $CLUSTER --node-name worker-1 --listen 127.0.0.1:9742 --poll-interval 2s --grace 6s > /tmp/agent.log &"
AGENT=$!
wait_for 'curl -sf -o /dev/null localhost:9742/readyz'
run "curl -s 'localhost:9742/healthz?verbose'"
echo
run "curl -s 'localhost:9742/ipvs?format=text&service=kube-system/kube-dns'"

say "2. Drift: a kube-proxy restart left the API server backend at weight 0 (kubernetes#108319)"
run "ipvsadm -e -t 10.96.0.1:443 -r 192.168.56.10:6443 -m -w 0"
wait_for '[ "$(curl -s -o /dev/null -w %{http_code} localhost:9742/healthz)" = 503 ]'
run "curl -s 'localhost:9742/healthz?verbose'; echo"
run "curl -s localhost:9742/drift"
run "curl -s localhost:9742/metrics | grep -E '^ipvs_sentinel_(drift_findings|drift_detected_total|virtual_servers|real_servers|cluster_synced|kernel_module_loaded\\{module=\"ip_vs\"\\})'"

say "3. Repair (kube-proxy would only fix this at its next restart) — the verdict clears"
run "ipvsadm -e -t 10.96.0.1:443 -r 192.168.56.10:6443 -m -w 1"
wait_for '[ "$(curl -s -o /dev/null -w %{http_code} localhost:9742/healthz)" = 200 ]'
run "curl -s 'localhost:9742/healthz?verbose'; echo"
say "The agent's log: one line per state change, not per poll"
grep -E 'drift confirmed|drift cleared|verdict is now' /tmp/agent.log | "$NODE" -e "
  let t = ''; process.stdin.on('data', (d) => (t += d)).on('end', () => {
    for (const l of t.trim().split('\n')) { const j = JSON.parse(l); console.log(j.time, j.component, j.msg); }
  });"

say "4. SIGTERM: the agent stops cleanly"
kill -TERM $AGENT; wait $AGENT && echo "agent exited 0"
