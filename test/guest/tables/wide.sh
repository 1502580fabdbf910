# A wide IPVS table: every protocol, both families, fwmark v4/v6, persistence with timeout and
# netmask, sh/mh scheduler flags, one-packet, weights 0..n, thresholds, masq/route/tunnel (ipip,
# gue with checksum flags), SCTP, and a VIP with real traffic so the counters move.
modprobe -a ip_vs ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_sh ip_vs_mh ip_vs_sed
ip link add kube-ipvs0 type dummy
ip addr add 10.96.0.50/32 dev kube-ipvs0
ipvsadm --set 901 121 301

ipvsadm -A -t 10.96.0.1:443 -s rr -p 10800
ipvsadm -a -t 10.96.0.1:443 -r 10.244.1.2:6443 -m -w 1
ipvsadm -a -t 10.96.0.1:443 -r 10.244.1.3:6443 -m -w 0
ipvsadm -a -t 10.96.0.1:443 -r 10.244.2.4:6443 -m -w 5 -x 100 -y 10

ipvsadm -A -u 10.96.0.10:53 -s rr -o
ipvsadm -a -u 10.96.0.10:53 -r 10.244.1.5:53 -m
ipvsadm -a -u 10.96.0.10:53 -r 10.244.10.5:53 -m -w 65535

ipvsadm -A --sctp-service 10.96.0.20:3868 -s wrr
ipvsadm -a --sctp-service 10.96.0.20:3868 -r 10.244.1.6:3868 -m -w 2

ipvsadm -A -t 10.0.0.10:30080 -s lc -p 600 -M 255.255.255.0
ipvsadm -a -t 10.0.0.10:30080 -r 10.244.1.7:8080 -g
ipvsadm -a -t 10.0.0.10:30080 -r 10.244.1.8:8080 -i
ipvsadm -a -t 10.0.0.10:30080 -r 10.244.1.9:8080 -i --tun-type gue --tun-port 5555 --tun-remcsum
ipvsadm -a -t 10.0.0.10:30080 -r 10.244.1.10:8080 -i --tun-type gue --tun-port 6080 --tun-csum
ipvsadm -a -t 10.0.0.10:30080 -r 10.244.1.11:8080 -i --tun-type gre

ipvsadm -A -t 10.96.0.30:80 -s sh -b sh-fallback,sh-port
ipvsadm -a -t 10.96.0.30:80 -r 10.244.3.1:80 -m
ipvsadm -A -t 10.96.0.31:80 -s mh -b mh-port
ipvsadm -a -t 10.96.0.31:80 -r 10.244.3.2:80 -m
ipvsadm -A -u 10.96.0.32:5000 -s sed -b flag-1
ipvsadm -A -t 10.96.0.33:8443 -s wlc -p 30 --pe sip 2>/dev/null || ipvsadm -A -t 10.96.0.33:8443 -s wlc -p 30

ipvsadm -A -t [fd00::1]:443 -s rr -p 3600 -M 64
ipvsadm -a -t [fd00::1]:443 -r [fd00:244::2]:6443 -m
ipvsadm -a -t [fd00::1]:443 -r [fd00:244::3]:6443 -m -w 0
ipvsadm -A -u [fd00::10]:53 -s wlc
ipvsadm -a -u [fd00::10]:53 -r [fd00:244::5]:53 -m -w 3
ipvsadm -A --sctp-service [fd00::20]:3868 -s rr
ipvsadm -A -t [fd00::30]:80 -s rr

ipvsadm -A -f 4097 -s rr
ipvsadm -a -f 4097 -r 10.244.1.12:80 -m
ipvsadm -A -f 4097 -6 -s rr
ipvsadm -a -f 4097 -6 -r [fd00:244::9]:80 -m
ipvsadm -A -f 268439552 -s wrr -p 60

# Real traffic through a VIP: local client -> 10.96.0.50:80 -> local server 10.244.0.1:8080.
ipvsadm -A -t 10.96.0.50:80 -s rr
ipvsadm -a -t 10.96.0.50:80 -r 10.244.0.1:8080 -m
"$NODE" -e "require('net').createServer((s) => s.end('hello from a real server\n')).listen(8080, '10.244.0.1')" &
for i in $(seq 1 30); do (echo > /dev/tcp/10.244.0.1/8080) 2>/dev/null && break; sleep 0.2; done
for i in 1 2 3 4 5 6 7; do curl -s --max-time 3 http://10.96.0.50/ > /dev/null || echo "traffic: request $i failed" >&2; done
# The estimator publishes counters every ~2 s: wait until they have settled.
sleep 5
