/**
 * Pure parsing of a cluster-state document (`--cluster-state FILE`, docs/contract.md §2): a `v1 List` as
 * `kubectl get services,endpointslices,nodes -A -o yaml|json` writes it, several YAML documents
 * separated by `---`, or raw API lists (`ServiceList` …). Items may be Services, EndpointSlices,
 * Nodes and ConfigMaps (only kube-system/kube-proxy is kept: its `config.conf` text); nested Lists
 * are flattened. Later duplicates of the same object replace earlier ones, as an informer would.
 */
import { parseAllDocuments } from 'yaml';
import { SentinelError, isSentinelError } from '../errors/index.js';
import { endpointSliceFromObject, nodeFromObject, serviceFromObject } from './convert.js';
import { namespacedKey } from './model.js';
import type { ClusterSnapshot, EndpointSlice, Node, Service } from './model.js';

const OP = 'parse cluster state';
const LIST_ITEM_KINDS: Record<string, string> = {
  ServiceList: 'Service',
  EndpointSliceList: 'EndpointSlice',
  NodeList: 'Node',
  ConfigMapList: 'ConfigMap',
};

interface Collected {
  services: Map<string, Service>;
  slices: Map<string, EndpointSlice>;
  nodes: Map<string, Node>;
  kubeProxyConfigMap: string | null;
}

function invalid(message: string, cause?: unknown): SentinelError {
  return new SentinelError('CLUSTER_STATE_INVALID', OP, message, cause === undefined ? undefined : { cause });
}

function lineColumnAt(text: string, position: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < position && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: position - lineStart + 1 };
}

function parseJson(text: string, source: string): unknown[] {
  try {
    return [JSON.parse(text) as unknown];
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause);
    throw invalid(`${source}: malformed JSON${jsonErrorLocation(text, message)}: ${message}`, cause);
  }
}

/** " at line L, column C" for a JSON.parse error: from its position, else from the YAML parser (JSON ⊂ YAML). */
function jsonErrorLocation(text: string, message: string): string {
  const pos = /position (\d+)/.exec(message)?.[1];
  if (pos !== undefined) {
    const { line, column } = lineColumnAt(text, Number(pos));
    return ` at line ${line}, column ${column}`;
  }
  const at = parseAllDocuments(text).flatMap((d) => d.errors)[0]?.linePos?.[0];
  return at === undefined ? '' : ` at line ${at.line}, column ${at.col}`;
}

function parseYaml(text: string, source: string): unknown[] {
  const docs = parseAllDocuments(text);
  const values: unknown[] = [];
  for (const doc of docs) {
    const error = doc.errors[0];
    if (error !== undefined) {
      const at = error.linePos?.[0];
      const where = at === undefined ? '' : ` at line ${at.line}, column ${at.col}`;
      const firstLine = error.message.split('\n')[0] ?? error.message;
      throw invalid(`${source}: malformed YAML${where}: ${firstLine.replace(/ at line \d+, column \d+:?$/, '')}`, error);
    }
    values.push(doc.toJS({ maxAliasCount: 100 }));
  }
  return values;
}

function visit(value: unknown, path: string, inheritedKind: string | null, out: Collected): void {
  if (value === null || value === undefined) return; // an empty YAML document
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid(`${path} is not a Kubernetes object`);
  const obj = value as Record<string, unknown>;
  const kind = typeof obj.kind === 'string' && obj.kind !== '' ? obj.kind : inheritedKind;
  if (kind === 'List' || (kind !== null && kind in LIST_ITEM_KINDS)) {
    const items = obj.items ?? [];
    if (!Array.isArray(items)) throw invalid(`${path} is a ${kind} whose items is not a list`);
    const itemKind = kind === 'List' ? null : (LIST_ITEM_KINDS[kind] ?? null);
    items.forEach((item, i) => visit(item, `${path} items[${i}]`, itemKind, out));
    return;
  }
  try {
    switch (kind ?? '') {
      case 'Service': {
        const svc = serviceFromObject(obj);
        if (svc) out.services.set(namespacedKey(svc.namespace, svc.name), svc);
        return;
      }
      case 'EndpointSlice': {
        const slice = endpointSliceFromObject(obj);
        if (slice) out.slices.set(namespacedKey(slice.namespace, slice.name), slice);
        return;
      }
      case 'Node': {
        const node = nodeFromObject(obj);
        out.nodes.set(node.name, node);
        return;
      }
      case 'ConfigMap': {
        const meta = obj.metadata as Record<string, unknown> | undefined;
        if (meta?.namespace === 'kube-system' && meta.name === 'kube-proxy') {
          const text = (obj.data as Record<string, unknown> | undefined)?.['config.conf'];
          out.kubeProxyConfigMap = typeof text === 'string' ? text : null;
        }
        return;
      }
      default:
        throw invalid(`${path} has kind ${kind ?? '(none)'}; expected Service, EndpointSlice, Node, ConfigMap or List`);
    }
  } catch (cause) {
    if (isSentinelError(cause) && cause.op === OP) throw cause;
    const message = cause instanceof Error ? cause.message : String(cause);
    throw invalid(`${path} (${kind}): ${message}`, cause);
  }
}

/**
 * Parse the text of a cluster-state file. `source` names it in error messages (the file path).
 * Throws SentinelError CLUSTER_STATE_INVALID for malformed YAML/JSON (with line and column) and
 * for items of other kinds (with the item's position, e.g. "document 1 items[3]").
 */
export function parseClusterState(text: string, source = 'cluster state'): ClusterSnapshot {
  const trimmed = text.trimStart();
  const documents = trimmed.startsWith('{') ? parseJson(text, source) : parseYaml(text, source);
  const out: Collected = { services: new Map(), slices: new Map(), nodes: new Map(), kubeProxyConfigMap: null };
  documents.forEach((doc, i) => visit(doc, `document ${i + 1}`, null, out));
  return {
    services: [...out.services.values()],
    endpointSlices: [...out.slices.values()],
    nodes: [...out.nodes.values()],
    kubeProxyConfigMap: out.kubeProxyConfigMap,
  };
}
