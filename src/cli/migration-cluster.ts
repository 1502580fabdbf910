/**
 * `ipvs-sentinel migration --cluster`, from an operator's machine: the Nodes (and their kernels)
 * from the API, each node's report from its agent through the API server's pod proxy
 * (GET /api/v1/namespaces/<ns>/pods/<pod>:9742/proxy/migration), the findings the API alone decides
 * (Services, EndpointSlices and kube-proxy's ConfigMap: migration-cluster-api.ts,
 * src/migration/cluster-api.ts), merged into the cluster report (src/migration/cluster.ts). A node
 * without a running agent pod, or whose agent does not answer with a report, is listed as
 * unreachable — never dropped — and judged on the API alone. The access it needs is
 * manifests/migration-operator/rbac.yaml.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { apiGet } from '../cluster/api-request.js';
import { buildClusterReport, type ClusterMigrationReport, type NodeOutcome } from '../migration/cluster.js';
import { API_EVALUATORS, apiFindings, configuredForIpvs } from '../migration/cluster-api.js';
import { parseNodeReport } from '../migration/node-report-json.js';
import { renderClusterMigration } from '../migration/render-cluster.js';
import type { Options } from './flags.js';
import type { Io } from './io.js';
import { listNodes, readAlertRules, readClusterApi, type ApiNode } from './migration-cluster-api.js';

/** One GET against the API server: status and body text, bounded in time and size (the edge enforces both). */
export type ApiGetText = (path: string) => Promise<{ status: number; body: string }>;

export interface ClusterMigrationDeps {
  get: ApiGetText;
  now: () => Date;
}

/** The DaemonSet's namespace, label and port (manifests/daemonset.yaml). */
export const AGENT_NAMESPACE = 'ipvs-sentinel';
export const AGENT_SELECTOR = 'app.kubernetes.io/name=ipvs-sentinel';
export const AGENT_PORT = 9742;
/** Reports asked at once: a thousand-node cluster is not a thousand requests at the API server at once. */
const CONCURRENCY = 8;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

async function getJson(get: ApiGetText, path: string): Promise<unknown> {
  const { status, body } = await get(path);
  if (status < 200 || status > 299) throw new Error(`GET ${path}: HTTP ${status}`);
  try {
    return JSON.parse(body) as unknown;
  } catch {
    throw new Error(`GET ${path}: the answer is not JSON`);
  }
}

function items(list: unknown): Record<string, unknown>[] {
  return isObject(list) && Array.isArray(list.items) ? list.items.filter(isObject) : [];
}

function text(obj: unknown, ...path: string[]): string | null {
  let v: unknown = obj;
  for (const key of path) v = isObject(v) ? v[key] : undefined;
  return typeof v === 'string' ? v : null;
}

/** Each Node with its agent's report, or why there is none. */
export async function gatherNodeOutcomes(get: ApiGetText, nodes: readonly ApiNode[], namespace = AGENT_NAMESPACE): Promise<NodeOutcome[]> {
  const pods = items(await getJson(get, `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods?labelSelector=${encodeURIComponent(AGENT_SELECTOR)}`));
  const podOf = new Map<string, string>();
  for (const p of pods) {
    const node = text(p, 'spec', 'nodeName');
    const name = text(p, 'metadata', 'name');
    if (node && name && text(p, 'status', 'phase') === 'Running') podOf.set(node, name);
  }
  const outcomes: NodeOutcome[] = [];
  const queue = [...nodes];
  const worker = async (): Promise<void> => {
    for (let n = queue.shift(); n !== undefined; n = queue.shift()) {
      const pod = podOf.get(n.name);
      if (!pod) {
        outcomes.push({ node: n.name, kernelVersion: n.kernelVersion, report: null, error: `no running agent pod (${AGENT_SELECTOR}) in namespace ${namespace}` });
        continue;
      }
      const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}:${AGENT_PORT}/proxy/migration`;
      try {
        const parsed = parseNodeReport(await getJson(get, path));
        if ('report' in parsed) outcomes.push({ node: n.name, kernelVersion: n.kernelVersion, report: parsed.report, error: null });
        else outcomes.push({ node: n.name, kernelVersion: n.kernelVersion, report: null, error: `GET ${path}: ${parsed.problem}` });
      } catch (err) {
        outcomes.push({ node: n.name, kernelVersion: n.kernelVersion, report: null, error: err instanceof Error ? err.message : String(err) });
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return outcomes;
}

/** The nodes the API must judge: those without a report, and those whose agent could not decide a finding the API can. */
function needsApi(o: NodeOutcome): boolean {
  if (!o.report) return true;
  if (o.report.phase === 'post-switch') return false;
  return o.report.unknowns.some((u) => u.hides.some((id) => API_FINDING_IDS.has(id)));
}

const API_FINDING_IDS: ReadonlySet<string> = new Set(API_EVALUATORS.flatMap((e) => e.ids));

export async function runClusterMigration(options: Options, io: Io, deps: ClusterMigrationDeps): Promise<number> {
  const { nodes, models } = await listNodes(deps.get);
  const outcomes = await gatherNodeOutcomes(deps.get, nodes);
  const [{ state, notes }, rules] = await Promise.all([readClusterApi(deps.get, models, options.targetVersion), readAlertRules(deps.get)]);
  if (rules.note !== null) notes.push(rules.note);
  const now = deps.now();
  if (state !== null && configuredForIpvs(state) === false) {
    notes.push(`kube-proxy's ConfigMap sets mode ${state.config?.mode || '(default, iptables)'}: nodes are not judged on the API alone (what a switched node left behind can only be seen on it).`);
  }
  const views = state === null ? [] : apiFindings(state, outcomes.filter(needsApi).map((o) => o.node), now);
  const report: ClusterMigrationReport = buildClusterReport(outcomes, now, { views, notes, alertRules: rules.evidence });
  io.stdout(renderClusterMigration(report, options.output));
  return report.verdict === 'blocked' ? 1 : report.verdict === 'unknown' ? 2 : 0;
}

/** The answer's body, at most `maxBytes`; a larger one rejects (an agent's report is tens of kilobytes). */
export function readBody(response: AsyncIterable<Buffer>, maxBytes: number): Promise<string> {
  return (async () => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response) {
      size += chunk.length;
      if (size > maxBytes) throw new Error(`answer larger than ${maxBytes} bytes`);
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString('utf8');
  })();
}

/** GETs against the kubeconfig's API server with its credentials, 15 s and 8 MiB each. */
export function apiTextGetter(kubeConfig: KubeConfig, timeoutMs = 15_000, maxBytes = 8 * 1024 * 1024): ApiGetText {
  const server = kubeConfig.getCurrentCluster()?.server ?? '';
  return async (path) => {
    const response = await apiGet(kubeConfig, new URL(server + path), AbortSignal.timeout(timeoutMs));
    return { status: response.statusCode ?? 0, body: await readBody(response, maxBytes) };
  };
}
