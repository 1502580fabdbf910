#!/usr/bin/env bash
# Inside the guest: program the table kube-proxy would program for a small sample cluster, then
# show what ipvs-sentinel reads from the real kernel.
set -euo pipefail
sentinel() { "$NODE" bin/ipvs-sentinel.js "$@"; }
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

guest_node_network 10.0.0.10/24
modprobe -a ip_vs ip_vs_rr nf_conntrack
ip link add kube-ipvs0 type dummy
for vip in 10.96.0.1 10.96.0.10 10.96.120.7; do ip addr add $vip/32 dev kube-ipvs0; done
# kube-proxy's table for: default/kubernetes, kube-system/kube-dns (dns, dns-tcp, metrics), shop/web (NodePort 30080).
ipvsadm -R <<'TABLE'
-A -t 10.96.0.1:443 -s rr
-a -t 10.96.0.1:443 -r 10.0.0.10:6443 -m -w 1
-A -u 10.96.0.10:53 -s rr
-a -u 10.96.0.10:53 -r 10.244.0.2:53 -m -w 1
-a -u 10.96.0.10:53 -r 10.244.0.3:53 -m -w 1
-A -t 10.96.0.10:53 -s rr
-a -t 10.96.0.10:53 -r 10.244.0.2:53 -m -w 1
-a -t 10.96.0.10:53 -r 10.244.0.3:53 -m -w 1
-A -t 10.96.0.10:9153 -s rr
-a -t 10.96.0.10:9153 -r 10.244.0.2:9153 -m -w 1
-a -t 10.96.0.10:9153 -r 10.244.0.3:9153 -m -w 1
-A -t 10.96.120.7:80 -s rr
-a -t 10.96.120.7:80 -r 10.244.0.1:8080 -m -w 1
-a -t 10.96.120.7:80 -r 10.244.1.9:8080 -m -w 1
-A -t 10.0.0.10:30080 -s rr
-a -t 10.0.0.10:30080 -r 10.244.0.1:8080 -m -w 1
-a -t 10.0.0.10:30080 -r 10.244.1.9:8080 -m -w 1
TABLE
"$NODE" -e "require('net').createServer((s) => s.end('hello\n')).listen(8080, '10.244.0.1')" &
sleep 1
for i in 1 2 3 4; do curl -s --max-time 3 http://10.96.120.7/ > /dev/null || true; done
sleep 3

say ipvs-sentinel ipvs
sentinel ipvs
say 'ipvs-sentinel ipvs --output json   (first virtual server)'
sentinel ipvs --output json | "$NODE" -e "let t='';process.stdin.on('data',d=>t+=d).on('end',()=>{const s=JSON.parse(t);console.log(JSON.stringify({...s,services:s.services.slice(0,1)},null,2))})"
