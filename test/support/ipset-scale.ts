/**
 * kube-proxy's sets for a cluster of `services` Services, as `ipset restore` input: one ClusterIP port
 * each (KUBE-CLUSTER-IP, KUBE-IPVS-IPS), two local endpoints each (KUBE-LOOP-BACK), a NodePort for
 * one in five (KUBE-NODE-PORT-TCP), an IPv6 ClusterIP for one in five (KUBE-6-CLUSTER-IP) and a
 * source-restricted LoadBalancer for one in fifty (KUBE-LOAD-BALANCER-SOURCE-CIDR). Shared by the
 * native tests and bench/ipset-bench.ts.
 */
const HASH = 'hashsize 1024 maxelem 65536';
const PROTOCOLS = ['tcp', 'udp', 'sctp'] as const;

const v4 = (a: number, b: number, i: number): string => `${a}.${b + (i >> 16)}.${(i >> 8) & 0xff}.${i & 0xff}`;

export function kubeProxySetsRestore(services: number): { restore: string; entries: number } {
  const lines: string[] = [];
  let entries = 0;
  const add = (set: string, member: string): void => {
    lines.push(`add ${set} ${member}`);
    entries++;
  };
  lines.push(`create KUBE-CLUSTER-IP hash:ip,port family inet ${HASH}`, `create KUBE-IPVS-IPS hash:ip family inet ${HASH}`);
  for (let i = 0; i < services; i++) {
    add('KUBE-CLUSTER-IP', `${v4(10, 96, i)},${PROTOCOLS[i % 3]}:${[80, 443, 53][i % 3]}`);
    add('KUBE-IPVS-IPS', v4(10, 96, i));
  }
  lines.push(`create KUBE-LOOP-BACK hash:ip,port,ip family inet ${HASH}`);
  for (let i = 0; i < services * 2; i++) add('KUBE-LOOP-BACK', `${v4(10, 244, i)},tcp:8080,${v4(10, 244, i)}`);
  lines.push('create KUBE-NODE-PORT-TCP bitmap:port range 0-65535');
  for (let i = 0; i < Math.min(Math.floor(services / 5), 2768); i++) add('KUBE-NODE-PORT-TCP', String(30000 + i));
  lines.push(`create KUBE-6-CLUSTER-IP hash:ip,port family inet6 ${HASH}`);
  for (let i = 0; i < Math.floor(services / 5); i++) add('KUBE-6-CLUSTER-IP', `fd00:10:96::${i.toString(16)},tcp:443`);
  lines.push(`create KUBE-LOAD-BALANCER-SOURCE-CIDR hash:ip,port,net family inet ${HASH}`);
  for (let i = 0; i < Math.floor(services / 50); i++) add('KUBE-LOAD-BALANCER-SOURCE-CIDR', `${v4(192, 0, i)},tcp:80,203.0.${i & 0xff}.0/24`);
  return { restore: lines.join('\n') + '\n', entries };
}
