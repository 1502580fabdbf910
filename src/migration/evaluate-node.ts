/**
 * The node itself: whether its kernel can run nftables mode (pkg/proxy/nftables/supported.go), and
 * what IPVS mode set on it that nftables mode neither needs nor keeps (pkg/proxy/ipvs/proxier.go
 * NewProxier: sysctls, IPVS timeouts, strict ARP; pkg/proxy/ipvs/graceful_termination.go).
 */
import { kernelAtLeast, parseKernelRelease } from '../kmod/kernel-release.js';
import type { ModuleFacts } from '../kmod/check.js';
import { evaluator, type InputWith } from './evaluator.js';
import { makeFinding, plural } from './finding.js';
import type { Evidence, MigrationFinding } from './types.js';

/** utilkernel.NFTablesKubeProxyKernelVersion. */
export const NFTABLES_MINIMUM_KERNEL = { major: 5, minor: 13 } as const;

/** The kernel's IPVS timeouts when nothing set them (net/netfilter/ipvs/ip_vs_proto_{tcp,udp}.c). */
export const IPVS_DEFAULT_TIMEOUTS = { tcp: 900, tcpFin: 120, udp: 300 } as const;

function moduleState(facts: ModuleFacts, name: string): string {
  if (facts.loaded?.some((m) => m.name === name) === true) return 'loaded';
  if (facts.builtin?.has(name) === true) return 'built in';
  if (facts.loaded === null || facts.builtin === null) return 'unknown';
  return 'not loaded (loadable modules cannot be seen from here)';
}

export const kernelEvaluator = evaluator({
  ids: ['kernel-too-old-for-nftables'],
  needs: ['modules'],
  phase: 'pre-switch',
  evaluate: (input: InputWith<'modules'>): MigrationFinding[] => {
    const kernel = input.modules.release === null ? null : parseKernelRelease(input.modules.release);
    if (kernel === null || kernelAtLeast(kernel, NFTABLES_MINIMUM_KERNEL.major, NFTABLES_MINIMUM_KERNEL.minor)) return [];
    const evidence: Evidence[] = [
      { kind: 'kernel', ref: 'kernel release', value: kernel.release, detail: `nftables mode needs ${NFTABLES_MINIMUM_KERNEL.major}.${NFTABLES_MINIMUM_KERNEL.minor} or later` },
      ...['nf_tables', 'nft_fib_ipv4', 'nft_fib_ipv6', 'nft_numgen'].map((name): Evidence => ({ kind: 'module', ref: name, value: moduleState(input.modules, name), detail: null })),
    ];
    return [makeFinding('kernel-too-old-for-nftables', { message: `Kernel ${kernel.release} is older than 5.13: kube-proxy will not start in nftables mode on it.`, evidence })];
  },
});

export const timeoutsEvaluator = evaluator({
  ids: ['ipvs-timeouts-tuned'],
  needs: ['config'],
  phase: 'pre-switch',
  evaluate: (input: InputWith<'config'>): MigrationFinding[] => {
    const evidence: Evidence[] = [];
    const said: string[] = [];
    const configured = [
      ['ipvs.tcpTimeout', input.config.tcpTimeoutSeconds],
      ['ipvs.tcpFinTimeout', input.config.tcpFinTimeoutSeconds],
      ['ipvs.udpTimeout', input.config.udpTimeoutSeconds],
    ] as const;
    for (const [field, seconds] of configured) if (seconds > 0) {
      evidence.push({ kind: 'config-field', ref: field, value: seconds, detail: null });
      said.push(`${field} ${seconds} s`);
    }
    const live = input.snapshot?.timeouts ?? null;
    if (live) {
      for (const key of ['tcp', 'tcpFin', 'udp'] as const) {
        const value = live[key];
        if (value !== null && value !== IPVS_DEFAULT_TIMEOUTS[key]) {
          evidence.push({ kind: 'kernel', ref: `IPVS ${key} timeout`, value, detail: `kernel default ${IPVS_DEFAULT_TIMEOUTS[key]} s` });
          said.push(`IPVS ${key} timeout ${value} s`);
        }
      }
    }
    if (evidence.length === 0) return [];
    return [makeFinding('ipvs-timeouts-tuned', { message: `IPVS timeouts differ from the kernel's defaults (${said.join(', ')}); nftables mode leaves connections to conntrack's timeouts.`, evidence })];
  },
});

export const sysctlsEvaluator = evaluator({
  ids: ['ip-forward-from-kube-proxy', 'strict-arp-configured', 'ipvs-sysctls-orphaned'],
  needs: ['sysctls'],
  phase: 'pre-switch',
  evaluate: (input: InputWith<'sysctls'>): MigrationFinding[] => {
    const v = input.sysctls.values;
    const findings: MigrationFinding[] = [];
    if (v['net.ipv4.ip_forward'] === 1) {
      findings.push(
        makeFinding('ip-forward-from-kube-proxy', {
          message: 'net.ipv4.ip_forward is 1; IPVS mode sets it at every kube-proxy start, nftables mode never does.',
          evidence: [{ kind: 'sysctl', ref: 'net.ipv4.ip_forward', value: 1, detail: null }],
          heuristic: true,
        }),
      );
    }
    const arpIgnore = v['net.ipv4.conf.all.arp_ignore'];
    const arpAnnounce = v['net.ipv4.conf.all.arp_announce'];
    const strict = input.config?.strictARP === true;
    if (strict || (arpIgnore === 1 && arpAnnounce === 2)) {
      findings.push(
        makeFinding('strict-arp-configured', {
          message: `${strict ? 'ipvs.strictARP is true' : 'arp_ignore=1 and arp_announce=2 are set as strictARP sets them'}; nftables mode needs neither.`,
          evidence: [
            { kind: 'config-field', ref: 'ipvs.strictARP', value: input.config?.strictARP ?? null, detail: null },
            { kind: 'sysctl', ref: 'net.ipv4.conf.all.arp_ignore', value: arpIgnore, detail: null },
            { kind: 'sysctl', ref: 'net.ipv4.conf.all.arp_announce', value: arpAnnounce, detail: null },
          ],
        }),
      );
    }
    if (input.sysctls.ipvsPresent) {
      const names = ['net.ipv4.vs.conntrack', 'net.ipv4.vs.expire_nodest_conn', 'net.ipv4.vs.expire_quiescent_template', 'net.ipv4.vs.conn_reuse_mode'] as const;
      findings.push(
        makeFinding('ipvs-sysctls-orphaned', {
          message: 'ip_vs is loaded and its net.ipv4.vs.* sysctls stay as kube-proxy set them after the switch.',
          evidence: names.map((name) => ({ kind: 'sysctl', ref: name, value: v[name], detail: null })),
        }),
      );
    }
    return findings;
  },
});

export const drainingEvaluator = evaluator({
  ids: ['draining-real-servers'],
  needs: ['snapshot'],
  phase: 'pre-switch',
  evaluate: (input: InputWith<'snapshot'>): MigrationFinding[] => {
    const evidence: Evidence[] = [];
    for (const vs of input.snapshot.services) {
      for (const rs of vs.destinations) {
        if (rs.weight === 0 && rs.activeConns + rs.inactiveConns > 0) {
          evidence.push({ kind: 'real-server', ref: `${vs.key} → ${rs.address}:${rs.port}`, value: { activeConns: rs.activeConns, inactiveConns: rs.inactiveConns }, detail: null });
        }
      }
    }
    if (evidence.length === 0) return [];
    return [makeFinding('draining-real-servers', { message: `${plural(evidence.length, 'real server')} drain at weight 0 with open connections.`, evidence })];
  },
});

export const deprecationEvaluator = evaluator({
  ids: ['ipvs-deprecation'],
  needs: [],
  phase: 'pre-switch',
  evaluate: (input): MigrationFinding[] => [
    makeFinding('ipvs-deprecation', {
      message: `kube-proxy on ${input.node} runs IPVS mode${input.kubeProxyVersion ? ` (${input.kubeProxyVersion})` : ''}, deprecated since v1.35.`,
      evidence: [{ kind: 'config-field', ref: 'mode', value: input.runningMode ?? input.config?.mode ?? null, detail: input.runningMode ? 'from /proxyMode' : 'from the configuration' }],
      versionNote: 'nftables mode is GA since v1.33; on v1.29–v1.30 it needs the NFTablesProxyMode feature gate, before v1.29 it does not exist.',
    }),
  ],
});

/**
 * What monitors IPVS on this node, as far as the node can tell: this agent's own IPVS series (it
 * exports them from the table it reads) certainly; node_exporter's ipvs collector
 * (collector/ipvs_linux.go, node_ipvs_*) reads /proc/net/ip_vs* too, but whether one runs and who
 * scrapes either cannot be seen from here — the evidence says so rather than guessing.
 */
export const monitoringEvaluator = evaluator({
  ids: ['ipvs-monitoring-dark'],
  needs: ['snapshot'],
  phase: 'pre-switch',
  evaluate: (input: InputWith<'snapshot'>): MigrationFinding[] => {
    const virtualServers = input.snapshot.services.length;
    const realServers = input.snapshot.services.reduce((n, vs) => n + vs.destinations.length, 0);
    return [
      makeFinding('ipvs-monitoring-dark', {
        message: `This agent exports IPVS series for ${plural(virtualServers, 'virtual server')} on ${input.node}; after the switch they, and any node_exporter ipvs series, go flat.`,
        evidence: [
          { kind: 'metric', ref: 'ipvs_sentinel_virtual_servers, ipvs_sentinel_connections_total, ipvs_sentinel_backend_*', value: { virtualServers, realServers }, detail: 'this agent\'s series from the IPVS table; whether they are scraped cannot be seen from the node' },
          { kind: 'metric', ref: 'node_ipvs_* (node_exporter ipvs collector)', value: null, detail: 'unknown from the node: whether node_exporter runs its ipvs collector here cannot be seen; `migration --cluster` lists PrometheusRules on these metrics' },
        ],
        heuristic: true,
      }),
    ];
  },
});

/** "v1.30.4" → [1, 30]; null for anything else. */
function minorVersion(version: string): [number, number] | null {
  const m = /^v?(\d+)\.(\d+)/.exec(version);
  return m ? [Number(m[1]), Number(m[2])] : null;
}

export const kubeProxyVersionEvaluator = evaluator({
  ids: ['kube-proxy-too-old-for-nftables'],
  needs: [],
  phase: 'pre-switch',
  evaluate: (input): MigrationFinding[] => {
    // The version nftables mode will run with: the planned one when given, else the running one.
    const version = input.targetVersion ?? input.kubeProxyVersion;
    const parsed = version === null ? null : minorVersion(version);
    if (version === null || parsed === null) return [];
    const [major, minor] = parsed;
    if (major > 1 || minor >= 31) return [];
    const gated = minor >= 29;
    return [
      makeFinding('kube-proxy-too-old-for-nftables', {
        severity: gated ? 'change' : 'blocker',
        message: gated
          ? `kube-proxy ${version} has nftables mode only as an alpha behind the NFTablesProxyMode feature gate.`
          : `kube-proxy ${version} has no nftables mode (it arrived in v1.29).`,
        evidence: [{ kind: 'config-field', ref: input.targetVersion ? 'target version' : 'kube-proxy version', value: version, detail: input.targetVersion ? '--target-version' : 'kubernetes_build_info or --kube-proxy-version' }],
      }),
    ];
  },
});
