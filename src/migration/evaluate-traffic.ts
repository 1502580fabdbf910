/**
 * Where a Service's traffic goes differs between the modes (pkg/proxy/ipvs/proxier.go syncEndpoint;
 * pkg/proxy/nftables/proxier.go syncProxyRules): the Local traffic policies' fallback, no-endpoint
 * Services, and ClientIP affinity's scope. All read from the desired state, which already holds what
 * IPVS mode programs for this node.
 */
import { effectiveDetectLocalMode, type KubeProxyConfig } from '../cluster/kube-proxy-config.js';
import { namespacedKey } from '../cluster/model.js';
import type { ExpectedVirtualServer } from '../desired/types.js';
import { SVC_FLAG } from '../ipvs/flags.js';
import type { AddressFamily } from '../ipvs/types.js';
import { addressFamilyOf } from '../util/ip.js';
import { evaluator, proxyNode, type InputWith } from './evaluator.js';
import { agree, makeFinding, plural, serviceRefKey } from './finding.js';
import type { ServicePortRef } from '../drift/types.js';
import { gradeEtpFallback, type DetectorState } from './local-traffic-fix.js';
import type { Evidence, MigrationFinding, MigrationInput } from './types.js';

function portCount(services: readonly ServicePortRef[]): string {
  return plural(new Set(services.map(serviceRefKey)).size, 'Service port');
}

/** The syncEndpoint fallback: Local decided the set, no endpoint is on this node, cluster endpoints stand in. */
function fallsBackToCluster(vs: ExpectedVirtualServer, node: string): boolean {
  return vs.realServers.length > 0 && vs.realServers.every((rs) => rs.nodeName !== node);
}

function fallbackEvidence(vs: ExpectedVirtualServer): Evidence {
  return {
    kind: 'virtual-server',
    ref: vs.key,
    value: { role: vs.role, localEndpoints: 0, clusterEndpoints: vs.realServers.length },
    detail: `${serviceRefKey(vs.service)}: IPVS falls back to ${plural(vs.realServers.length, 'endpoint')} on other nodes`,
  };
}

/** The version nftables mode will run with: the planned one when given, else the running one. */
function fixVersion(input: MigrationInput): { value: string | null; source: string } {
  return input.targetVersion !== null ? { value: input.targetVersion, source: 'target version' } : { value: input.kubeProxyVersion, source: 'kube-proxy version' };
}

function detectorState(input: MigrationInput, external: readonly ExpectedVirtualServer[]): DetectorState {
  // Defaults are a guess, not kube-proxy's configuration: an empty clusterCIDR there says nothing.
  if (input.config === null || input.configSource === null || input.configSource === 'defaults') return { state: 'unknown' };
  const missing = undetectedFamilies(input.config, [...new Set(external.map((vs) => vs.family))]);
  return missing.length > 0 ? { state: 'missing', families: missing } : { state: 'present' };
}

export const localFallbackEvaluator = evaluator({
  ids: ['itp-local-fallback', 'etp-local-fallback'],
  needs: ['desired', 'services'],
  phase: 'pre-switch',
  evaluate: (input: InputWith<'desired' | 'services'>): MigrationFinding[] => {
    const node = proxyNode(input);
    const internal: ExpectedVirtualServer[] = [];
    const external: ExpectedVirtualServer[] = [];
    for (const vs of input.desired.virtualServers) {
      const svc = input.services.get(namespacedKey(vs.service.namespace, vs.service.name));
      if (!svc || !fallsBackToCluster(vs, node)) continue;
      if (vs.role === 'cluster-ip') {
        if (svc.internalTrafficPolicy === 'Local') internal.push(vs);
      } else if (svc.externalTrafficPolicy === 'Local') external.push(vs);
    }
    const findings: MigrationFinding[] = [];
    if (internal.length > 0) {
      const services = internal.map((vs) => vs.service);
      findings.push(
        makeFinding('itp-local-fallback', {
          message: `${portCount(services)} with internalTrafficPolicy: Local ${agree(new Set(services.map(serviceRefKey)).size, 'has', 'have')} no endpoint on ${input.node}; pods here reach them today through IPVS's cluster fallback and will have their traffic dropped in nftables mode.`,
          services,
          evidence: internal.map(fallbackEvidence),
        }),
      );
    }
    if (external.length > 0) {
      const services = external.map((vs) => vs.service);
      const grading = gradeEtpFallback(fixVersion(input), detectorState(input, external));
      findings.push(
        makeFinding('etp-local-fallback', {
          severity: grading.severity,
          message: `${portCount(services)} with externalTrafficPolicy: Local ${agree(new Set(services.map(serviceRefKey)).size, 'has', 'have')} no endpoint on ${input.node}; external clients fail here in both modes, pods and the host keep reaching them in nftables mode only through its short-circuit for local traffic: ${grading.why}.`,
          services,
          evidence: [...grading.evidence, ...external.map(fallbackEvidence)],
          versionNote: 'kube-proxy before v1.34.0 (in 1.33, before v1.33.6, which carries #133969) drops this node-local traffic too (kubernetes#131765).',
        }),
      );
    }
    return findings;
  },
});

export const noEndpointEvaluator = evaluator({
  ids: ['no-endpoint-reject'],
  needs: ['desired', 'services'],
  phase: 'pre-switch',
  evaluate: (input: InputWith<'desired' | 'services'>): MigrationFinding[] => {
    const empty = input.desired.virtualServers.filter((vs) => {
      if (vs.role !== 'cluster-ip' || vs.realServers.length > 0) return false;
      // An ITP=Local Service without local endpoints is dropped, not rejected, in nftables mode.
      return input.services.get(namespacedKey(vs.service.namespace, vs.service.name))?.internalTrafficPolicy !== 'Local';
    });
    if (empty.length === 0) return [];
    return [
      makeFinding('no-endpoint-reject', {
        message: `${plural(empty.length, 'Service port')} ${agree(empty.length, 'has', 'have')} no endpoint: IPVS drops their packets silently, nftables mode rejects them.`,
        services: empty.map((vs) => vs.service),
        evidence: empty.map((vs) => ({ kind: 'virtual-server', ref: vs.key, value: { realServers: 0 }, detail: serviceRefKey(vs.service) })),
      }),
    ];
  },
});

export const affinityEvaluator = evaluator({
  ids: ['session-affinity-semantics'],
  needs: ['desired'],
  phase: 'pre-switch',
  evaluate: (input: InputWith<'desired'>): MigrationFinding[] => {
    const byPort = new Map<string, ExpectedVirtualServer[]>();
    for (const vs of input.desired.virtualServers) {
      if ((vs.flagBits & SVC_FLAG.persistent) === 0) continue;
      const key = serviceRefKey(vs.service);
      const list = byPort.get(key);
      if (list) list.push(vs);
      else byPort.set(key, [vs]);
    }
    const several = [...byPort.entries()].filter(([, list]) => list.length > 1).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (several.length === 0) return [];
    return [
      makeFinding('session-affinity-semantics', {
        message: `${plural(several.length, 'Service port')} with ClientIP affinity ${agree(several.length, 'is', 'are')} reached through several addresses; IPVS pins a client per address, nftables mode per Service port.`,
        services: several.map(([, list]) => (list[0] as ExpectedVirtualServer).service),
        evidence: several.map(([key, list]) => ({
          kind: 'service',
          ref: key,
          value: { timeoutSeconds: (list[0] as ExpectedVirtualServer).timeout, entryPoints: list.length },
          detail: list.slice(0, 5).map((vs) => vs.key).join(', '),
        })),
      }),
    ];
  },
});

/**
 * The families whose local-traffic detector is a no-op (cmd/kube-proxy/app/server_linux.go
 * getLocalDetectors): ClusterCIDR without a cluster CIDR of that family, or a mode kube-proxy does
 * not know. NodeCIDR works on a running kube-proxy (it waited for the Node's podCIDRs before it
 * started, waitForPodCIDR); BridgeInterface and InterfaceNamePrefix always detect (validation
 * requires their value).
 */
export function undetectedFamilies(config: KubeProxyConfig, families: readonly AddressFamily[]): AddressFamily[] {
  switch (effectiveDetectLocalMode(config)) {
    case 'NodeCIDR':
    case 'BridgeInterface':
    case 'InterfaceNamePrefix':
      return [];
    case 'ClusterCIDR': {
      const covered = new Set(config.clusterCIDRs.map((cidr) => addressFamilyOf(cidr.split('/')[0] ?? '')));
      return families.filter((f) => !covered.has(f));
    }
    default:
      return [...families];
  }
}

export const localDetectorEvaluator = evaluator({
  ids: ['local-detector-missing'],
  needs: ['config', 'desired', 'services'],
  phase: 'pre-switch',
  evaluate: (input: InputWith<'config' | 'desired' | 'services'>): MigrationFinding[] => {
    // Defaults are a guess, not kube-proxy's configuration: an empty clusterCIDR there says nothing.
    if (input.configSource === null || input.configSource === 'defaults') return [];
    const missing = new Set(undetectedFamilies(input.config, input.desired.families));
    if (missing.size === 0) return [];
    const node = proxyNode(input);
    const external = input.desired.virtualServers.filter(
      (vs) => vs.role !== 'cluster-ip' && missing.has(vs.family) && input.services.get(namespacedKey(vs.service.namespace, vs.service.name))?.externalTrafficPolicy === 'Local',
    );
    if (external.length === 0) return [];
    const fallingBack = external.filter((vs) => fallsBackToCluster(vs, node));
    const mode = effectiveDetectLocalMode(input.config);
    const families = [...new Set(external.map((vs) => vs.family))].sort();
    const evidence: Evidence[] = [
      { kind: 'config-field', ref: 'detectLocalMode', value: input.config.detectLocalMode, detail: `effective ${mode} (from ${input.configSource})` },
    ];
    if (mode === 'ClusterCIDR') evidence.push({ kind: 'config-field', ref: 'clusterCIDR', value: input.config.clusterCIDRs, detail: `no cluster CIDR for ${families.join(', ')}` });
    for (const vs of external) {
      const local = vs.realServers.filter((rs) => rs.nodeName === node).length;
      evidence.push({
        kind: 'virtual-server',
        ref: vs.key,
        value: { role: vs.role, localEndpoints: local, clusterEndpoints: local === 0 ? vs.realServers.length : null },
        detail: `${serviceRefKey(vs.service)}: externalTrafficPolicy: Local${local === 0 && vs.realServers.length > 0 ? ', IPVS falls back to the cluster endpoints today' : ''}`,
      });
    }
    const services = external.map((vs) => vs.service);
    const why = `kube-proxy has no local-traffic detector for ${families.join(' and ')} (detectLocalMode ${mode}${mode === 'ClusterCIDR' ? ' without a cluster CIDR of that family' : ''})`;
    return [
      // The catalogue's change even when pods lose a Service today: etp-local-fallback lists those Services too.
      makeFinding('local-detector-missing', {
        message:
          fallingBack.length > 0
            ? `${why}: pods on ${input.node} reach ${portCount(fallingBack.map((vs) => vs.service))} with externalTrafficPolicy: Local through IPVS's cluster fallback today, and nftables mode will drop that traffic.`
            : `${why}: pods on ${input.node} will lose the external addresses of ${portCount(services)} with externalTrafficPolicy: Local in nftables mode whenever the node has no local endpoint for them.`,
        services,
        evidence,
        // Flags (--cluster-cidr, --detect-local-mode) override the ConfigMap and cannot be seen there.
        heuristic: input.configSource === 'configmap',
      }),
    ];
  },
});
