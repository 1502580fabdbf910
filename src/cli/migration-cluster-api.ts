/**
 * What `migration --cluster` reads from the API itself, as kube-proxy's informers would: Services
 * and EndpointSlices with kube-proxy's label selector (cmd/kube-proxy/app/server.go), all Nodes,
 * each list in pages of 500 (`limit`/`continue`, as client-go's pager; an expired continue token
 * lists once unpaged) and every page validated and converted as the agent's lists are
 * (src/cluster/list-page.ts, convert.ts); and the kube-system/kube-proxy ConfigMap by name. A list
 * or ConfigMap the kubeconfig may not read is said in the notes, never a crash: the findings that
 * need it are then left to the agents.
 */
import type { CachedObject, ClusterResource, ConvertedByResource } from '../cluster/cached.js';
import { checkCached } from '../cluster/cached.js';
import { KUBE_PROXY_LABEL_SELECTOR } from '../cluster/informers.js';
import { checkListPage } from '../cluster/list-page.js';
import type { Node } from '../cluster/model.js';
import { SentinelError } from '../errors/index.js';
import { ipvsAlertRules } from '../migration/alert-rules.js';
import type { ClusterApiState } from '../migration/cluster-api.js';
import type { Evidence } from '../migration/types.js';
import { parseKubeProxyConfigMap } from '../node/kube-proxy.js';
import type { ApiGetText } from './migration-cluster.js';

const PAGE_SIZE = 500;
/** 2,000 pages of 500: a million objects; more is not a cluster this can judge in one run. */
const MAX_PAGES = 2000;

export const KUBE_PROXY_CONFIGMAP = { namespace: 'kube-system', name: 'kube-proxy' } as const;

/** A GET that did not answer 2xx: the status says whether it is a 403, a 404 or an outage. */
export class ApiAnswerError extends Error {
  constructor(
    readonly path: string,
    readonly status: number,
  ) {
    super(`GET ${path}: HTTP ${status}`);
  }
}

function parseJson(path: string, body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    throw new Error(`GET ${path}: the answer is not JSON`);
  }
}

export interface Listed<R extends ClusterResource> {
  /** Converted objects kube-proxy would use (convert.ts returned one). */
  objects: ConvertedByResource[R][];
  /** The raw items, in the order of `cached`, for fields the model leaves out. */
  raw: unknown[];
  cached: CachedObject<ConvertedByResource[R]>[];
  /** Objects whose conversion failed (kept out, as the agent keeps them out). */
  unconverted: number;
}

/** Every object of one resource, page by page; throws on an error status, a malformed page or too many pages. */
export async function listResource<R extends ClusterResource>(get: ApiGetText, resource: R, path: string, labelSelector?: string): Promise<Listed<R>> {
  const out: Listed<R> = { objects: [], raw: [], cached: [], unconverted: 0 };
  let token: string | undefined;
  let paged = true;
  for (let page = 0; ; page++) {
    if (page >= MAX_PAGES) throw new Error(`list ${path}: more than ${MAX_PAGES} pages of ${PAGE_SIZE}`);
    const query = new URLSearchParams();
    if (labelSelector) query.set('labelSelector', labelSelector);
    if (paged) query.set('limit', String(PAGE_SIZE));
    if (token) query.set('continue', token);
    const url = `${path}?${query.toString()}`;
    const { status, body } = await get(url);
    if (status === 410 && token !== undefined) {
      // The continue token expired: one list without pages, as client-go's pager falls back.
      Object.assign(out, { objects: [], raw: [], cached: [], unconverted: 0 });
      token = undefined;
      paged = false;
      continue;
    }
    if (status < 200 || status > 299) throw new ApiAnswerError(url, status);
    const parsed = parseJson(url, body);
    const checked = checkListPage(resource, parsed);
    if (!checked.ok) throw new Error(`list ${path}: ${checked.reason}`);
    const rawItems = (parsed as { items: unknown[] }).items;
    checked.value.items.forEach((item, i) => {
      out.cached.push(item);
      out.raw.push(rawItems[i]);
      if (item.converted !== null) out.objects.push(item.converted);
      else if (item.problem !== null) out.unconverted++;
    });
    if (!paged || checked.value.continueToken === '') return out;
    token = checked.value.continueToken;
  }
}

function text(obj: unknown, ...path: string[]): string | null {
  let v: unknown = obj;
  for (const key of path) v = typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>)[key] : undefined;
  return typeof v === 'string' ? v : null;
}

export interface ApiNode {
  name: string;
  kernelVersion: string | null;
}

/** Every Node: its name and kernel for the report, its model for the desired state. */
export async function listNodes(get: ApiGetText): Promise<{ nodes: ApiNode[]; models: Node[] }> {
  const listed = await listResource(get, 'node', '/api/v1/nodes');
  const nodes = listed.cached.map((c, i) => ({ name: c.metadata.name, kernelVersion: text(listed.raw[i], 'status', 'nodeInfo', 'kernelVersion') }));
  return { nodes, models: listed.objects };
}

function why(err: unknown): string {
  if (err instanceof ApiAnswerError && err.status === 403) return `${err.message} (forbidden: see manifests/migration-operator/)`;
  return err instanceof SentinelError ? err.toLine() : err instanceof Error ? err.message : String(err);
}

/** kube-proxy's configuration from its ConfigMap, or why there is none. */
export async function readKubeProxyConfigMap(get: ApiGetText): Promise<Pick<ClusterApiState, 'config' | 'configProblem'>> {
  const path = `/api/v1/namespaces/${KUBE_PROXY_CONFIGMAP.namespace}/configmaps/${KUBE_PROXY_CONFIGMAP.name}`;
  try {
    const { status, body } = await get(path);
    if (status === 404) return { config: null, configProblem: `ConfigMap ${KUBE_PROXY_CONFIGMAP.namespace}/${KUBE_PROXY_CONFIGMAP.name} does not exist (kube-proxy configured by flags or another file?)` };
    if (status < 200 || status > 299) throw new ApiAnswerError(path, status);
    const checked = checkCached('configmap', parseJson(path, body));
    if (!checked.ok) throw new Error(`GET ${path}: ${checked.reason}`);
    if (checked.value.converted === null) return { config: null, configProblem: `ConfigMap ${KUBE_PROXY_CONFIGMAP.namespace}/${KUBE_PROXY_CONFIGMAP.name} has no config.conf` };
    return { config: parseKubeProxyConfigMap(checked.value.converted), configProblem: null };
  } catch (err) {
    return { config: null, configProblem: why(err) };
  }
}

/**
 * Everything the API-only findings need; `state` null (with the notes saying why) when Services or
 * EndpointSlices cannot be listed.
 */
export async function readClusterApi(get: ApiGetText, nodes: Node[], targetVersion: string | null): Promise<{ state: ClusterApiState | null; notes: string[] }> {
  const notes: string[] = [];
  const settle = <T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> => p.then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error }));
  const [services, slices, configMap] = await Promise.all([
    settle(listResource(get, 'service', '/api/v1/services', KUBE_PROXY_LABEL_SELECTOR)),
    settle(listResource(get, 'endpointslice', '/apis/discovery.k8s.io/v1/endpointslices', KUBE_PROXY_LABEL_SELECTOR)),
    readKubeProxyConfigMap(get),
  ]);
  if (configMap.configProblem !== null) notes.push(`kube-proxy's configuration was not read from the API (${configMap.configProblem}): the configuration findings come from the agents alone, and local-traffic detection is unknown for nodes judged on the API alone.`);
  for (const [what, listed] of [['Services', services], ['EndpointSlices', slices]] as const) {
    if (!listed.ok) notes.push(`${what} could not be listed (${why(listed.error)}): no finding is computed from the API alone; they come from the agents only.`);
    else if (listed.value.unconverted > 0) notes.push(`${listed.value.unconverted} ${what} could not be read and were left out, as the agents leave them out.`);
  }
  if (!services.ok || !slices.ok) return { state: null, notes };
  return {
    state: { cluster: { services: services.value.objects, endpointSlices: slices.value.objects, nodes }, config: configMap.config, configProblem: configMap.configProblem, targetVersion },
    notes,
  };
}

/** The Prometheus Operator's rules, all namespaces (optional RBAC: README › Migration readiness). */
export const PROMETHEUS_RULES_PATH = '/apis/monitoring.coreos.com/v1/prometheusrules';
/** 100 pages of 500 rule objects: far more than any cluster keeps. */
const MAX_RULE_PAGES = 100;

/**
 * PrometheusRules whose expressions read IPVS series. The CRD not served (404) is skipped quietly —
 * no Prometheus Operator, nothing to list; any other failure (403 without the optional rule) is a note.
 */
export async function readAlertRules(get: ApiGetText): Promise<{ evidence: Evidence[]; note: string | null }> {
  const items: unknown[] = [];
  let token = '';
  try {
    for (let page = 0; page < MAX_RULE_PAGES; page++) {
      const url = `${PROMETHEUS_RULES_PATH}?limit=${PAGE_SIZE}${token ? `&continue=${encodeURIComponent(token)}` : ''}`;
      const { status, body } = await get(url);
      if (status === 404) return { evidence: [], note: null };
      if (status < 200 || status > 299) throw new ApiAnswerError(url, status);
      const list = parseJson(url, body);
      const obj = typeof list === 'object' && list !== null && !Array.isArray(list) ? (list as Record<string, unknown>) : null;
      if (!obj || !Array.isArray(obj.items)) throw new Error(`list ${PROMETHEUS_RULES_PATH}: the answer is not a list`);
      items.push(...(obj.items as unknown[]));
      const next = text(obj, 'metadata', 'continue');
      if (!next) break;
      token = next;
    }
  } catch (err) {
    return { evidence: [], note: `PrometheusRules could not be listed (${why(err)}): alerts on IPVS metrics are not named (ipvs-monitoring-dark).` };
  }
  const { evidence, malformed } = ipvsAlertRules(items);
  return { evidence, note: malformed > 0 ? `${malformed} PrometheusRule objects or rules were malformed and skipped.` : null };
}
