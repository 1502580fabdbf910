/**
 * One poll's verdict, pure: what the node sources observed plus what the cluster wants → the raw
 * findings of this poll, and why no trustworthy IPVS comparison was possible (if so). The grace
 * state machine (drift/grace.ts) then decides which findings are confirmed.
 */
import { diffIpvs } from '../drift/differ.js';
import { diffKubeIpvs0 } from '../drift/kube-ipvs0.js';
import type { Finding } from '../drift/types.js';
import type { NodeAddressOwner } from '../desired/node-addresses.js';
import type { DesiredState } from '../desired/types.js';
import type { IpvsSnapshot } from '../ipvs/types.js';
import { moduleFindings } from '../kmod/findings.js';
import type { ModuleReport } from '../kmod/types.js';
import { checkProxyMode, effectiveMode } from '../node/kube-proxy.js';
import { kubeIpvs0Addresses } from '../node/kube-ipvs0.js';
import { checkSysctls, type SysctlValues } from '../node/sysctl.js';
import type { NodeInterface } from '../desired/types.js';
import type { HealthCheck } from './view.js';
import type { DriftReport } from '../drift/types.js';

/** What the node-side sources returned in one poll; a failed source is null with its error text. */
export interface NodeObservation {
  snapshot: IpvsSnapshot | null;
  /** schedulersInUse(snapshot), computed once per poll. */
  schedulersInUse: string[] | null;
  ipvsError: string | null;
  modules: ModuleReport | null;
  modulesError: string | null;
  sysctls: SysctlValues | null;
  kernelRelease: string | null;
  /** The mode kube-proxy reports at /proxyMode; null when unreachable. */
  runningMode: string | null;
  interfaces: NodeInterface[] | null;
  interfacesError: string | null;
}

/** What the cluster side contributes: the desired state, or why there is none we can trust. */
export interface ClusterView {
  desired: DesiredState | null;
  /** The other Nodes' addresses, which kube-ipvs0 must not hold; absent when not known. */
  nodeAddresses?: ReadonlyMap<string, NodeAddressOwner> | null;
  /** Non-null when the cache is not synced or stale: IPVS drift is then not computed. */
  unknownReason: string | null;
  /** kube-proxy's configured mode (ConfigMap / configz), null when only defaults are known. */
  configuredMode: string | null;
  strictARP: boolean;
}

export interface PollVerdict {
  findings: Finding[];
  unknownReason: string | null;
}

/** Schedulers of the live virtual servers: a live one proves its module. null when IPVS was not read. */
export function schedulersInUse(snapshot: IpvsSnapshot | null): string[] | null {
  return snapshot ? [...new Set(snapshot.services.map((s) => s.scheduler))] : null;
}

export function evaluatePoll(node: NodeObservation, cluster: ClusterView): PollVerdict {
  const findings: Finding[] = [];
  if (node.modules) {
    findings.push(...moduleFindings(node.modules, { schedulersInUse: node.schedulersInUse }));
  }
  if (node.sysctls) findings.push(...checkSysctls(node.sysctls, { kernelRelease: node.kernelRelease, strictARP: cluster.strictARP }));
  findings.push(...checkProxyMode({ runningMode: node.runningMode, configuredMode: cluster.configuredMode }));

  // IPVS drift needs both sides, and is noise when kube-proxy is not running in IPVS mode.
  const mode = node.runningMode ?? cluster.configuredMode;
  let unknownReason: string | null = null;
  if (!node.snapshot) unknownReason = `the IPVS table could not be read: ${node.ipvsError ?? 'not read yet'}`;
  else if (cluster.unknownReason) unknownReason = cluster.unknownReason;
  else if (!cluster.desired) unknownReason = 'the desired state is not known yet';
  else if (mode !== null && effectiveMode(mode) !== 'ipvs') unknownReason = `kube-proxy runs in ${effectiveMode(mode)} mode, not ipvs: no IPVS table to compare`;

  if (unknownReason === null && node.snapshot && cluster.desired) {
    findings.push(...diffIpvs(cluster.desired, node.snapshot));
    if (node.interfaces) {
      const addresses = kubeIpvs0Addresses(node.interfaces);
      const desired = cluster.desired;
      findings.push(
        ...diffKubeIpvs0(desired.kubeIpvs0Addresses, { present: addresses !== null, addresses: addresses ?? [] }, desired.families, {
          nodeAddresses: cluster.nodeAddresses ?? undefined,
          serviceOf: (address) => desired.virtualServers.find((vs) => vs.address === address)?.service ?? null,
        }),
      );
    }
  }
  return { findings, unknownReason };
}

/** The node verdict for /healthz, from the latest observation and the drift report after grace. */
export function healthChecks(node: NodeObservation | null, clusterUnknown: string | null, report: DriftReport): HealthCheck[] {
  const confirmed = (kind: string): boolean => report.findings.some((f) => f.kind === kind && f.confirmed && f.severity !== 'info');
  const modulesOk = node?.modules?.ok ?? false;
  const modulesReason = !node?.modules
    ? (node?.modulesError ?? 'not read yet')
    : node.modules.problems.join('; ') || 'a required kernel module is missing';
  const driftFindings = report.findings.filter((f) => f.confirmed && f.severity !== 'info');
  return [
    { name: 'kernel-modules', ok: modulesOk, reason: modulesOk ? null : modulesReason },
    { name: 'ipvs', ok: node?.snapshot != null, reason: node?.snapshot != null ? null : (node?.ipvsError ?? 'not read yet') },
    {
      name: 'kube-proxy-mode',
      ok: !confirmed('proxy-mode-mismatch'),
      reason: confirmed('proxy-mode-mismatch') ? (report.findings.find((f) => f.kind === 'proxy-mode-mismatch')?.message ?? 'mode mismatch') : null,
    },
    { name: 'cluster', ok: clusterUnknown === null, reason: clusterUnknown },
    {
      name: 'drift',
      ok: report.status !== 'drift',
      reason: report.status === 'drift' ? `${driftFindings.length} confirmed finding(s): ${[...new Set(driftFindings.map((f) => f.kind))].join(', ')}` : null,
    },
  ];
}
