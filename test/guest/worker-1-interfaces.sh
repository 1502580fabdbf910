# Sourced by the guest scripts: the interfaces and addresses of worker-1 of the fixture cluster
# (test/fixtures/cluster/kubeadm-ipv4.yaml) as the desired-state golden sees them — its node address
# on enp0s8, docker0, the pod bridge cni0 with the pod network's route, and an empty kube-ipvs0.
# test/guest/worker-1.sh sources it and adds kube-proxy's modules, sysctls and table.
modprobe dummy
ip link set lo up
for dev in enp0s8 docker0 cni0 kube-ipvs0; do ip link add $dev type dummy; done
ip addr add 192.168.56.11/24 dev enp0s8; ip addr add 172.17.0.1/16 dev docker0; ip addr add 10.244.1.1/24 dev cni0
for dev in enp0s8 docker0 cni0; do ip link set $dev up; done
ip route add 10.244.0.0/16 dev cni0 2>/dev/null || true
