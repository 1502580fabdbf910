/**
 * The differences between kube-proxy's IPVS and nftables modes that a node's state can reveal, as
 * data: one entry per finding id with its default severity, title, advice and the upstream code or
 * issue that decides it. The evaluators (evaluate-*.ts) only say where a finding applies and with
 * what evidence; what it means and what to do is written once, here. README › Migration readiness explains each.
 */
import type { Impact, MigrationSeverity } from './types.js';

export interface CatalogueEntry {
  id: string;
  severity: MigrationSeverity;
  impact: Impact;
  title: string;
  advice: string;
  references: readonly string[];
}

const K = 'kubernetes/kubernetes';

export const CATALOGUE = [
  {
    id: 'itp-local-fallback',
    severity: 'blocker',
    impact: 'breaks',
    title: 'internalTrafficPolicy: Local without a local endpoint: pods on this node lose the Service',
    advice:
      'IPVS mode falls back to the cluster endpoints when a Local Service has none on the node; nftables mode drops the traffic for every client, pods included. Run a backend on every node whose pods need the Service, or use internalTrafficPolicy: Cluster (or trafficDistribution: PreferClose) before switching.',
    references: [`${K} pkg/proxy/ipvs/proxier.go syncEndpoint (#97081)`, `${K} pkg/proxy/nftables/proxier.go syncProxyRules (no-endpoint-services)`],
  },
  {
    id: 'etp-local-fallback',
    severity: 'change',
    impact: 'behaves-differently',
    title: 'externalTrafficPolicy: Local without a local endpoint: node-local clients depend on the nftables short-circuit',
    advice:
      'External clients already fail on this node; pods and the host reach the Service today through the cluster fallback. nftables mode keeps that only when kube-proxy can tell pod traffic apart (detectLocalMode / clusterCIDR set) and runs v1.34+ or a 1.33 patch with #133969 (#131765, #132456). Check both, or run a backend on the node.',
    references: [`${K} pkg/proxy/nftables/proxier.go syncProxyRules (external chains)`, `${K}#131765`, `${K}#132456`],
  },
  {
    id: 'local-detector-missing',
    severity: 'change',
    impact: 'behaves-differently',
    title: 'kube-proxy cannot tell pod traffic apart: pods lose externalTrafficPolicy: Local Services without a local endpoint',
    advice:
      'nftables mode sends pods\' traffic to the external IPs, load-balancer IPs and NodePorts of an externalTrafficPolicy: Local Service through the cluster endpoints only when its local-traffic detector works; without one, that traffic is dropped on a node without a local endpoint (IPVS mode falls back to the cluster endpoints). Set clusterCIDR (detectLocal.clusterCIDRs) for every family, or detectLocalMode NodeCIDR, BridgeInterface or InterfaceNamePrefix, before switching.',
    references: [`${K} cmd/kube-proxy/app/server_linux.go getLocalDetectors`, `${K} pkg/proxy/nftables/proxier.go syncProxyRules (short-circuit pod traffic)`],
  },
  {
    id: 'vip-bound-socket',
    severity: 'blocker',
    impact: 'breaks',
    title: 'A host process listens on a Service IP bound to kube-ipvs0',
    advice:
      'nftables mode binds no Service IP to the node, so the process can no longer bind that address (it fails at its next start) and nobody answers there. Rebind it to a node or link-local address before switching (NodeLocal DNSCache in its IPVS layout is the usual case).',
    references: [`${K} pkg/proxy/ipvs/proxier.go (kube-ipvs0 addresses)`, 'https://kubernetes.io/docs/tasks/administer-cluster/nodelocaldns/'],
  },
  {
    id: 'foreign-ipvs-virtual-server',
    severity: 'blocker',
    impact: 'breaks',
    title: 'IPVS holds virtual servers kube-proxy does not own',
    advice:
      'kube-proxy in nftables mode flushes the whole IPVS table every time it starts (platformCleanup → ipvs.CleanupLeftovers), excludeCIDRs and the other family included. The owner (keepalived, kube-router, a load balancer) must re-create its virtual servers after every kube-proxy restart, or move off this node.',
    references: [`${K} cmd/kube-proxy/app/server_linux.go platformCleanup`, `${K} pkg/proxy/ipvs/cleanup.go`, `${K} pkg/proxy/ipvs/proxier.go cleanLegacyService`],
  },
  {
    id: 'kernel-too-old-for-nftables',
    severity: 'blocker',
    impact: 'breaks',
    title: 'The kernel is older than nftables mode requires (5.13)',
    advice:
      'kube-proxy refuses nftables mode on kernels before 5.13 (a proxy for host nft ≥ 1.0.1) unless KUBE_PROXY_NFTABLES_SKIP_KERNEL_VERSION_CHECK is set, which this agent cannot see. Upgrade the kernel or distribution first.',
    references: [`${K} pkg/proxy/nftables/supported.go`, `${K}#124152`],
  },
  {
    id: 'kube-proxy-too-old-for-nftables',
    severity: 'blocker',
    impact: 'breaks',
    title: 'kube-proxy is too old for nftables mode',
    advice:
      'nftables mode does not exist before v1.29; on v1.29–v1.30 it is alpha behind the NFTablesProxyMode feature gate; it is beta from v1.31 and GA from v1.33. Upgrade kube-proxy first (v1.33 or later: nftables bug fixes are backported there for IPVS users, KEP-5495).',
    references: ['kubernetes/enhancements keps/sig-network/3866-nftables-proxy/kep.yaml', 'kubernetes/enhancements keps/sig-network/5495-deprecate-ipvs-mode-in-kube-proxy'],
  },
  {
    id: 'ipvs-leftovers-after-switch',
    severity: 'blocker',
    impact: 'breaks',
    title: 'IPVS mode left state behind after the switch',
    advice:
      'kube-proxy cleans IPVS mode up at start only when `modprobe -va ip_vs` works in its image (#131243); otherwise the IPVS table, kube-ipvs0, the KUBE-* ipsets and the IPVS iptables chains stay and keep answering or filtering Service IPs. Run `kube-proxy --cleanup` with the same image on the node, or reboot it.',
    references: [`${K} pkg/proxy/ipvs/cleanup.go`, `${K}#131243`],
  },
  {
    id: 'nodeport-addresses-narrowed',
    severity: 'change',
    impact: 'behaves-differently',
    title: 'NodePorts are served on fewer addresses in nftables mode',
    advice:
      'With nodePortAddresses empty, IPVS mode serves NodePorts (and health-check node ports) on every local address; nftables mode defaults to the node\'s primary IPs only. If clients or load balancers use the other addresses, set nodePortAddresses explicitly before switching (0.0.0.0/0 approximates the IPVS default).',
    references: [`${K} cmd/kube-proxy/app/server_linux.go platformApplyDefaults`, `${K}#122724`, `${K}#123105`],
  },
  {
    id: 'ipvs-scheduler-not-rr',
    severity: 'change',
    impact: 'behaves-differently',
    title: 'The IPVS scheduler is not rr: nftables mode picks backends at random',
    advice:
      'nftables mode chooses a backend uniformly at random per new connection (numgen random) and ignores ipvs.scheduler. lc/wlc/sed/nq: load no longer follows this node\'s connection counts; dh/lblc/lblcr: traffic spreads over all backends; mh: consistent hashing is lost; sh: see source-hash-stickiness-lost.',
    references: [`${K} pkg/proxy/nftables/proxier.go writeServiceToEndpointRules`],
  },
  {
    id: 'source-hash-stickiness-lost',
    severity: 'change',
    impact: 'behaves-differently',
    title: 'Source hashing kept clients on one backend; these Services have no ClientIP affinity',
    advice: 'Set sessionAffinity: ClientIP on the Services whose clients must stay on one backend; nftables mode implements it with per-endpoint affinity sets.',
    references: [`${K} pkg/proxy/nftables/proxier.go syncProxyRules (affinity sets)`],
  },
  {
    id: 'ipvs-timeouts-tuned',
    severity: 'change',
    impact: 'behaves-differently',
    title: 'IPVS connection timeouts are tuned; nftables mode uses conntrack\'s',
    advice:
      'Flows will live as netfilter conntrack entries: TCP established from conntrack.tcpEstablishedTimeout (24 h by default), UDP from conntrack.udpTimeout/udpStreamTimeout (kernel 30/120 s). Carry the intent to the conntrack.* settings.',
    references: [`${K} pkg/proxy/ipvs/proxier.go NewProxier`, `${K} cmd/kube-proxy/app/server_linux.go platformSetup`],
  },
  {
    id: 'ip-forward-from-kube-proxy',
    // A change by the catalogue's grading, but every IPVS node shows it (kube-proxy sets it), so a
    // change would mark every node; an info keeps the reminder without hiding a clean node.
    severity: 'info',
    impact: 'behaves-differently',
    title: 'net.ipv4.ip_forward is 1, which IPVS mode sets and nftables mode does not',
    advice: 'Make sure node configuration persists net.ipv4.ip_forward=1 (/etc/sysctl.d): after a reboot nothing in kube-proxy sets it any more.',
    references: [`${K} pkg/proxy/ipvs/proxier.go NewProxier`],
  },
  {
    id: 'cni-ipvs-integration',
    severity: 'change',
    impact: 'behaves-differently',
    title: 'A network plugin on this node integrates with IPVS mode',
    advice:
      'Calico\'s Felix turns on its IPVS support when kube-ipvs0 exists at its start; kube-router runs its own IPVS proxy. Follow the plugin\'s nftables guidance before switching and restart it afterwards.',
    references: ['projectcalico/calico felix/dataplane/driver.go', 'kubernetes-sigs/kubespray#12198'],
  },
  {
    id: 'nodelocal-dns-ipvs-layout',
    severity: 'change',
    impact: 'behaves-differently',
    title: 'NodeLocal DNSCache runs in its IPVS layout',
    advice: 'In IPVS mode node-cache listens only on its link-local IP and kubelet --cluster-dns points there; nftables mode with node-cache is undocumented (kubernetes/dns#682). Test the layout before switching.',
    references: ['https://kubernetes.io/docs/tasks/administer-cluster/nodelocaldns/', 'kubernetes/dns#682'],
  },
  {
    id: 'vip-answers-arp',
    severity: 'change',
    impact: 'behaves-differently',
    title: 'External or load-balancer IPs in a node subnet are reachable because nodes answer ARP for them',
    advice:
      'IPVS mode binds these IPs to kube-ipvs0 and, with arp_ignore 0 (strictARP off), every node answers ARP for them on its subnet; nftables mode binds nothing, so nobody answers unless MetalLB, kube-vip, BGP or a static route announces the IP. Make sure an announcer covers each IP before switching. Heuristic: an announcer that already answers cannot be told apart from here.',
    references: [`${K} pkg/proxy/ipvs/proxier.go (kube-ipvs0 addresses)`, `${K}#127410`, 'metallb.universe.tf/installation'],
  },
  {
    id: 'local-firewall-accepts',
    severity: 'change',
    impact: 'behaves-differently',
    title: 'A firewall drops by default; IPVS mode\'s own ACCEPT rules let Service traffic through it',
    advice:
      'IPVS mode accepts forwarded Service traffic (filter KUBE-FORWARD: masquerade-marked, related and established) and health-check node ports (filter KUBE-NODE-PORT); nftables mode installs no accept rules and cannot override another table\'s drop. Open forwarding to pods, the NodePort range and the health-check node ports in the node firewall before switching. Heuristic: a network plugin may already accept this traffic.',
    references: [`${K} pkg/proxy/ipvs/proxier.go writeIptablesRules`, 'kubernetes/enhancements keps/sig-network/3866-nftables-proxy (HealthCheckNodePorts)', `${K}#68194`],
  },
  {
    id: 'session-affinity-semantics',
    severity: 'info',
    impact: 'behaves-differently',
    title: 'ClientIP affinity becomes per Service port instead of per virtual server',
    advice: 'Usually nothing: clients that reach one Service through several addresses (ClusterIP, NodePort, external IP) become pinned to the same backend on all of them.',
    references: [`${K} pkg/proxy/nftables/proxier.go syncProxyRules (affinity sets)`],
  },
  {
    id: 'no-endpoint-reject',
    severity: 'info',
    impact: 'behaves-differently',
    title: 'Services without endpoints are rejected instead of silently dropped',
    advice: 'Clients of these Services fail fast (ICMP unreachable) instead of timing out.',
    references: [`${K} pkg/proxy/nftables/proxier.go syncProxyRules (no-endpoint-services)`],
  },
  {
    id: 'clusterip-icmp',
    severity: 'info',
    impact: 'behaves-differently',
    title: 'Service IPs answer ping and host ports today; nftables mode rejects them',
    advice:
      'This kube-proxy installs no KUBE-IPVS-FILTER (added by #108460), so the Service IPs on kube-ipvs0 answer ICMP echo and reach any host process listening on a wildcard address. nftables mode rejects traffic to Service IPs that is not for a Service port. Monitoring that pings Service IPs must probe a Service port instead.',
    references: [`${K}#108460`, `${K}#72236`, `${K} pkg/proxy/nftables/proxier.go setupNFTables (cluster-ips reject)`],
  },
  {
    id: 'masquerade-bit-moves',
    severity: 'info',
    impact: 'cosmetic',
    title: 'The masquerade bit is read from another field in nftables mode',
    advice: 'IPVS mode marks packets for masquerading with iptables.masqueradeBit, nftables mode with nftables.masqueradeBit (createProxier). Copy the value when it was chosen to avoid another program\'s marks.',
    references: [`${K} cmd/kube-proxy/app/server_linux.go createProxier`],
  },
  {
    id: 'ipvs-config-ignored',
    severity: 'info',
    impact: 'cosmetic',
    title: 'ipvs.* settings are set that nftables mode ignores',
    advice: 'nftables mode reads nothing from the ipvs section (KEP-5495 keeps the fields as no-ops). Drop them from the configuration after the switch; the other findings say what each one changes.',
    references: ['kubernetes/enhancements keps/sig-network/5495-deprecate-ipvs-mode-in-kube-proxy', `${K} cmd/kube-proxy/app/server_linux.go createProxier`],
  },
  {
    id: 'exclude-cidrs-configured',
    severity: 'info',
    impact: 'cosmetic',
    title: 'ipvs.excludeCIDRs is configured and is ignored by nftables mode',
    advice: 'Nothing protects virtual servers inside these ranges any more (see foreign-ipvs-virtual-server); drop the setting after the switch.',
    references: [`${K} pkg/proxy/ipvs/proxier.go cleanLegacyService`],
  },
  {
    id: 'strict-arp-configured',
    severity: 'info',
    impact: 'cosmetic',
    title: 'strictARP is set for IPVS mode only',
    advice: 'nftables mode binds no Service IP to the node, so nothing needs strict ARP (MetalLB requires it only with IPVS mode). Drop ipvs.strictARP; the sysctls stay until reboot.',
    references: [`${K} pkg/proxy/ipvs/proxier.go NewProxier`, 'metallb.universe.tf/installation'],
  },
  {
    id: 'ipvs-sysctls-orphaned',
    severity: 'info',
    impact: 'cosmetic',
    title: 'net.ipv4.vs.* sysctls stay set after the switch',
    advice: 'Nothing reverts them or unloads ip_vs; they are harmless and go at the next reboot.',
    references: [`${K} pkg/proxy/ipvs/proxier.go NewProxier`],
  },
  {
    id: 'draining-real-servers',
    severity: 'info',
    impact: 'behaves-differently',
    title: 'Removed backends are draining at weight 0',
    advice: 'nftables mode removes a backend from the map at the next sync and lets existing flows keep their DNAT; no action needed.',
    references: [`${K} pkg/proxy/ipvs/graceful_termination.go`],
  },
  {
    id: 'ipvs-monitoring-dark',
    severity: 'info',
    impact: 'cosmetic',
    title: 'Dashboards and alerts on IPVS metrics go flat after the switch',
    advice:
      'After the switch there is no IPVS table: this agent\'s per-Service IPVS series and node_exporter\'s ipvs collector (node_ipvs_*) stop moving, and an alert on them either fires on absence or never fires again. Move dashboards and alerts to kube-proxy\'s own metrics (kubeproxy_sync_proxy_rules_*) or the Services\' metrics before switching; `migration --cluster` lists PrometheusRules on these metrics where it may read them.',
    references: ['prometheus/node_exporter collector/ipvs_linux.go', 'kubernetes/enhancements keps/sig-network/5495-deprecate-ipvs-mode-in-kube-proxy'],
  },
  {
    id: 'ipvs-deprecation',
    severity: 'info',
    impact: 'cosmetic',
    title: 'IPVS mode is deprecated (v1.35) and planned to be disabled by default (v1.40) and removed (v1.43)',
    advice:
      'Procedure: set mode: nftables (per node group when canarying), restart kube-proxy, verify with this report that no leftovers remain; roll back by setting ipvs again (kube-proxy deletes its nft tables). Dashboards and alerts on IPVS metrics go flat after the switch.',
    references: ['kubernetes/enhancements keps/sig-network/5495-deprecate-ipvs-mode-in-kube-proxy', `${K}#134539`],
  },
] as const satisfies readonly CatalogueEntry[];

export type FindingId = (typeof CATALOGUE)[number]['id'];

export const FINDING_IDS: readonly FindingId[] = CATALOGUE.map((e) => e.id);

const BY_ID: ReadonlyMap<string, CatalogueEntry> = new Map(CATALOGUE.map((e) => [e.id, e]));

export function catalogueEntry(id: FindingId): CatalogueEntry {
  const entry = BY_ID.get(id);
  if (!entry) throw new Error(`no catalogue entry ${id}`);
  return entry;
}
