/**
 * Where a Service's traffic goes differs between the modes (pkg/proxy/ipvs/proxier.go syncEndpoint;
 * pkg/proxy/nftables/proxier.go syncProxyRules): the Local traffic policies' fallback, no-endpoint
 * Services, and ClientIP affinity's scope. All read from the desired state, which already holds what
 * IPVS mode programs for this node.
 */
import { namespacedKey } from '../cluster/model.js';
import type { ExpectedVirtualServer } from '../desired/types.js';
import { SVC_FLAG } from '../ipvs/flags.js';
import { evaluator, proxyNode, type InputWith } from './evaluator.js';
import { agree, makeFinding, plural, serviceRefKey } from './finding.js';
import type { ServicePortRef } from '../drift/types.js';

function portCount(services: readonly ServicePortRef[]): string {
  return plural(new Set(services.map(serviceRefKey)).size, 'Service port');
}
import type { Evidence, MigrationFinding } from './types.js';

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
      findings.push(
        makeFinding('etp-local-fallback', {
          message: `${portCount(services)} with externalTrafficPolicy: Local ${agree(new Set(services.map(serviceRefKey)).size, 'has', 'have')} no endpoint on ${input.node}; external clients fail here in both modes, pods and the host keep reaching them in nftables mode only through its short-circuit for local traffic.`,
          services,
          evidence: external.map(fallbackEvidence),
          versionNote: 'kube-proxy before v1.34 (or 1.33 without #133969) drops this node-local traffic too (kubernetes#131765).',
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
