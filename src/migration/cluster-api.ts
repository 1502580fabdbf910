/**
 * The findings `migration --cluster` can compute from the API alone, per node: Services,
 * EndpointSlices and Nodes through the same desired-state computation the agent runs
 * (src/desired/compute.ts), and kube-proxy's configuration from its ConfigMap — traffic policies
 * (itp/etp-local-fallback, local-detector-missing), session affinity, the scheduler, IPVS timeouts,
 * masquerade bit, ipvs.* fields and strictARP. The node evaluators decide them, on a node input that
 * holds only what the API says (everything a node must read stays null). A node's own addresses are
 * not in the API: its NodePorts are taken on the Node's InternalIP/ExternalIP addresses, which
 * kube-proxy serves them on whatever nodePortAddresses says (a subset of the agent's view, so the
 * same Service ports come out). Pure.
 */
import { effectiveScheduler, KUBE_PROXY_DEFAULTS, type KubeProxyConfig } from '../cluster/kube-proxy-config.js';
import { namespacedKey, type Node, type Service } from '../cluster/model.js';
import { computeDesiredState, type ClusterObjects } from '../desired/compute.js';
import type { NodeInterface } from '../desired/types.js';
import { addressFamilyOf } from '../util/ip.js';
import type { FindingId } from './catalogue.js';
import { evaluator, type Evaluator, type InputSource, type InputWith } from './evaluator.js';
import { ipvsConfigEvaluator, masqueradeBitEvaluator } from './evaluate-config.js';
import { kubeProxyVersionEvaluator, timeoutsEvaluator } from './evaluate-node.js';
import { schedulerEvaluator } from './evaluate-scheduling.js';
import { affinityEvaluator, localDetectorEvaluator, localFallbackEvaluator } from './evaluate-traffic.js';
import { makeFinding } from './finding.js';
import { effectiveModeName } from './mode.js';
import type { MigrationFinding, MigrationInput } from './types.js';

/** What the operator's kubeconfig let `migration --cluster` read. */
export interface ClusterApiState {
  cluster: ClusterObjects;
  /** config.conf of kube-system/kube-proxy, parsed; null with `configProblem` when absent, forbidden or unparsable. */
  config: KubeProxyConfig | null;
  configProblem: string | null;
  /** --target-version, null when not given. */
  targetVersion: string | null;
}

/** One node as the API alone judges it. */
export interface ApiNodeView {
  node: string;
  findings: MigrationFinding[];
  /** The finding ids the API alone decided for this node (found or not); the others are left to its agent. */
  evaluated: FindingId[];
}

// sysctlsEvaluator decides it on a node with its sysctls; from the API only the setting is known.
const strictArpEvaluator = evaluator({
  ids: ['strict-arp-configured'],
  needs: ['config'],
  phase: 'pre-switch',
  evaluate: (input: InputWith<'config'>): MigrationFinding[] =>
    input.config.strictARP
      ? [makeFinding('strict-arp-configured', { message: 'ipvs.strictARP is true in kube-proxy\'s ConfigMap; nftables mode needs no strict ARP.', evidence: [{ kind: 'config-field', ref: 'ipvs.strictARP', value: true, detail: 'from configmap' }] })]
      : [],
});

/** The node evaluators whose inputs the API holds, in the node report's order. */
export const API_EVALUATORS: readonly Evaluator[] = [
  localFallbackEvaluator,
  localDetectorEvaluator,
  kubeProxyVersionEvaluator,
  schedulerEvaluator,
  timeoutsEvaluator,
  affinityEvaluator,
  masqueradeBitEvaluator,
  ipvsConfigEvaluator,
  strictArpEvaluator,
];

/** The Node's addresses as the one interface the API knows of, for its NodePort virtual servers. */
function apiInterface(node: Node): NodeInterface {
  const addresses = node.addresses.flatMap((a) => {
    const family = addressFamilyOf(a.address);
    return family === null ? [] : [{ address: a.address, prefixLength: family === 'inet' ? 32 : 128, family }];
  });
  return { name: 'Node.status.addresses', addresses, loopback: false };
}

/** Its first InternalIP of each family, as nftables mode's `primary` nodePortAddresses takes them. */
function primaryIPs(node: Node): string[] {
  const out: string[] = [];
  for (const family of ['inet', 'inet6'] as const) {
    const ip = node.addresses.find((a) => a.type === 'InternalIP' && addressFamilyOf(a.address) === family);
    if (ip) out.push(ip.address);
  }
  return out;
}

/**
 * The Services (and their EndpointSlices) the API evaluators can find anything on: a Local traffic
 * policy or ClientIP affinity — every Service only when the scheduler is sh (source-hash-stickiness-lost
 * looks at all of them). The desired state is computed once per judged node: at 10,000 Services
 * this keeps it to the few that matter instead of the whole cluster each time.
 */
function relevantObjects(cluster: ClusterObjects, config: KubeProxyConfig): ClusterObjects {
  if (effectiveScheduler(config) === 'sh') return cluster;
  const services = cluster.services.filter((s) => s.internalTrafficPolicy === 'Local' || s.externalTrafficPolicy === 'Local' || s.sessionAffinity === 'ClientIP');
  const keys = new Set(services.map((s) => namespacedKey(s.namespace, s.name)));
  return { services, endpointSlices: cluster.endpointSlices.filter((e) => keys.has(namespacedKey(e.namespace, e.serviceName))), nodes: cluster.nodes };
}

/** Whether the API's configuration says nodes run IPVS mode: null when no configuration was read. */
export function configuredForIpvs(api: ClusterApiState): boolean | null {
  return api.config === null ? null : effectiveModeName(api.config.mode) === 'ipvs';
}

/**
 * The API's findings for each named node (Nodes the API does not list are skipped). Evaluated only
 * when the ConfigMap says IPVS mode or could not be read: the API cannot see a switched node's leftovers.
 */
export function apiFindings(api: ClusterApiState, nodeNames: readonly string[], generatedAt: Date): ApiNodeView[] {
  if (configuredForIpvs(api) === false) return [];
  const byName = new Map(api.cluster.nodes.map((n) => [n.name, n]));
  const services = new Map<string, Service>(api.cluster.services.map((s) => [namespacedKey(s.namespace, s.name), s]));
  const config = api.config ?? { ...KUBE_PROXY_DEFAULTS, excludeCIDRs: [], nodePortAddresses: [], clusterCIDRs: [] };
  const cluster = relevantObjects(api.cluster, config);
  const evaluated = API_EVALUATORS.filter((e) => api.config !== null || !e.needs.includes('config')).flatMap((e) => e.ids);
  const views: ApiNodeView[] = [];
  for (const name of nodeNames) {
    // kube-proxy's node name is the Node's (lower-cased, as its hostname-override).
    const node = byName.get(name.trim().toLowerCase()) ?? byName.get(name);
    if (!node) continue;
    const desired = computeDesiredState(cluster, config, { name: node.name, zone: node.zone, interfaces: [apiInterface(node)] });
    const input: MigrationInput = {
      node: node.name,
      generatedAt,
      runningMode: null,
      config: api.config,
      configSource: api.config === null ? null : 'configmap',
      kubeProxyVersion: null,
      targetVersion: api.targetVersion,
      snapshot: null,
      desired,
      services,
      primaryNodeIPs: primaryIPs(node),
      interfaces: null,
      sysctls: null,
      modules: null,
      sockets: null,
      ipsets: null,
      netfilter: null,
      unread: {},
    };
    const findings = API_EVALUATORS.filter((e) => e.needs.every((n) => input[n] !== null)).flatMap((e) => e.evaluate(input as InputWith<InputSource>));
    views.push({ node: node.name, findings, evaluated });
  }
  return views;
}
