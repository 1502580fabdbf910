/**
 * Pure parsing of a cluster-state document (`--cluster-state FILE`, README "State files"): a `v1 List`
 * as `kubectl get services,endpointslices,nodes -A -o yaml|json` writes it, several YAML documents
 * separated by `---`, or raw API lists (`ServiceList` …). Items may be Services, EndpointSlices,
 * Nodes and ConfigMaps (only kube-system/kube-proxy is kept: its `config.conf` text); nested Lists
 * are flattened. Later duplicates of the same object replace earlier ones, as an informer would.
 *
 * The text is taken in chunks and cut into one-object pieces (state-file-pieces.ts), each parsed and
 * converted to the model before the next, so memory follows the largest object and the model, not
 * the file: the limits are STATE_FILE_LIMITS.
 */
import { isSentinelError } from '../errors/index.js';
import { printable } from '../util/printable.js';
import { asObj, endpointSliceFromObject, nodeFromObject, serviceFromObject } from './convert.js';
import { namespacedKey } from './model.js';
import type { ClusterSnapshot, EndpointSlice, Node, Service } from './model.js';
import { JsonStateSplitter } from './state-file-json.js';
import { PARSE_OP, positionIn, sizeText, STATE_FILE_LIMITS, stateInvalid } from './state-file-pieces.js';
import type { StatePiece, StateSink } from './state-file-pieces.js';
import { YamlStateSplitter } from './state-file-yaml.js';

export { STATE_FILE_LIMITS } from './state-file-pieces.js';

const LIST_ITEM_KINDS: Record<string, string> = {
  ServiceList: 'Service',
  EndpointSliceList: 'EndpointSlice',
  NodeList: 'Node',
  ConfigMapList: 'ConfigMap',
};
const CONVERTED_KINDS = new Set(['Service', 'EndpointSlice', 'Node', 'ConfigMap']);
const LIST_KINDS_TEXT = 'List, ServiceList, EndpointSliceList, NodeList or ConfigMapList';

function isListKind(kind: string | null): kind is string {
  return kind === 'List' || (kind !== null && Object.hasOwn(LIST_ITEM_KINDS, kind));
}

function itemKindOf(listKind: string): string | null {
  return listKind === 'List' ? null : (LIST_ITEM_KINDS[listKind] ?? null);
}

function ownKind(value: unknown): string | null {
  const kind = asObj(value)?.kind;
  return typeof kind === 'string' && kind !== '' ? kind : null;
}

/** A document's items handed over one by one: its kind, once known, and the kindless items waiting for it. */
interface ListInProgress {
  kind: string | null;
  pending: StatePiece[];
  pendingChars: number;
}

/** Turns pieces into the model as they come: the Kubernetes meaning of the file. */
class Collector implements StateSink {
  private readonly services = new Map<string, Service>();
  private readonly slices = new Map<string, EndpointSlice>();
  private readonly nodes = new Map<string, Node>();
  private kubeProxyConfigMap: string | null = null;
  private list: ListInProgress | null = null;

  constructor(private readonly source: string) {}

  beginItems(document: number, before: StatePiece): void {
    const kind = ownKind(before.parse());
    if (kind !== null && !isListKind(kind)) throw this.notAList(`document ${document}`, kind);
    this.list = { kind, pending: [], pendingChars: 0 };
  }

  item(document: number, piece: StatePiece): void {
    const list = this.list;
    if (list === null) throw new Error(`document ${document}: an item outside a list`);
    if (list.kind !== null) {
      this.visit(piece.parse(), piece.path, itemKindOf(list.kind));
      return;
    }
    // kubectl writes `kind` after `items`: an item with its own kind needs nothing from its List.
    if (list.pending.length === 0) {
      const value = piece.parse();
      if (ownKind(value) !== null) {
        this.visit(value, piece.path, null);
        return;
      }
    }
    list.pending.push(piece);
    list.pendingChars += piece.text.length;
    if (list.pendingChars > STATE_FILE_LIMITS.pendingChars) {
      throw stateInvalid(
        `${this.source}: document ${document} has more than ${sizeText(STATE_FILE_LIMITS.pendingChars)} of items without a kind before the List's own kind; write kind before items, or a kind in every item`,
      );
    }
  }

  endDocument(document: number, rest: StatePiece, itemsHandedOver: boolean): void {
    const path = `document ${document}`;
    if (!itemsHandedOver) {
      this.visit(rest.parse(), path, null);
      return;
    }
    const list = this.list;
    this.list = null;
    const header = asObj(rest.parse());
    const kind = ownKind(header);
    if (!isListKind(kind)) throw this.notAList(path, kind);
    if (list !== null && list.kind !== null && list.kind !== kind) throw stateInvalid(`${this.source}: ${path} has two kinds, ${list.kind} and ${kind}`);
    if (header !== null && Object.hasOwn(header, 'items')) throw stateInvalid(`${this.source}: ${path} has more than one items list`);
    for (const piece of list?.pending ?? []) this.visit(piece.parse(), piece.path, itemKindOf(kind));
  }

  snapshot(): ClusterSnapshot {
    return {
      services: [...this.services.values()],
      endpointSlices: [...this.slices.values()],
      nodes: [...this.nodes.values()],
      kubeProxyConfigMap: this.kubeProxyConfigMap,
    };
  }

  private notAList(path: string, kind: string | null): Error {
    return stateInvalid(`${this.source}: ${path} has a top-level items list but kind ${printable(kind ?? '(none)', 60)}; expected ${LIST_KINDS_TEXT}`);
  }

  private visit(value: unknown, path: string, inheritedKind: string | null): void {
    if (value === null || value === undefined) return; // an empty YAML document
    const obj = asObj(value);
    if (obj === null) throw stateInvalid(`${this.source}: ${path} is not a Kubernetes object`);
    const kind = ownKind(obj) ?? inheritedKind;
    if (isListKind(kind)) {
      const items = obj.items ?? [];
      if (!Array.isArray(items)) throw stateInvalid(`${this.source}: ${path} is a ${kind} whose items is not a list`);
      const itemKind = itemKindOf(kind);
      items.forEach((item: unknown, i) => this.visit(item, `${path} items[${i}]`, itemKind));
      return;
    }
    if (kind === null || !CONVERTED_KINDS.has(kind)) {
      throw stateInvalid(`${this.source}: ${path} has kind ${printable(kind ?? '(none)', 60)}; expected Service, EndpointSlice, Node, ConfigMap or List`);
    }
    try {
      this.convert(obj, kind);
    } catch (cause) {
      if (isSentinelError(cause) && cause.op === PARSE_OP) throw cause;
      const message = cause instanceof Error ? cause.message : String(cause);
      throw stateInvalid(`${this.source}: ${path} (${printable(kind ?? '(none)', 60)}): ${printable(message)}`, cause);
    }
  }

  private convert(obj: Record<string, unknown>, kind: string): void {
    switch (kind) {
      case 'Service': {
        const svc = serviceFromObject(obj);
        if (svc) this.services.set(namespacedKey(svc.namespace, svc.name), svc);
        return;
      }
      case 'EndpointSlice': {
        const slice = endpointSliceFromObject(obj);
        if (slice) this.slices.set(namespacedKey(slice.namespace, slice.name), slice);
        return;
      }
      case 'Node': {
        const node = nodeFromObject(obj);
        this.nodes.set(node.name, node);
        return;
      }
      case 'ConfigMap': {
        const meta = asObj(obj.metadata);
        if (meta?.namespace === 'kube-system' && meta.name === 'kube-proxy') {
          const text = asObj(obj.data)?.['config.conf'];
          this.kubeProxyConfigMap = typeof text === 'string' ? text : null;
        }
        return;
      }
    }
  }
}

// eslint-disable-next-line no-control-regex -- the C0 controls YAML and JSON both forbid (tab, LF and CR aside)
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/;
const JSON_OR_YAML_SPACE = /[^ \t\n\r]/;
/** Leading blank text held before the format is known (a JSON file starts with `{`). */
const DETECT_CHARS = 64 * 1024;

/**
 * A cluster-state text taken chunk by chunk (readClusterStateFile() pushes the file as it reads
 * it). Every error is a SentinelError CLUSTER_STATE_INVALID naming `source`, the document or item
 * ("document 1 items[3]") and, for syntax, the line and column.
 */
export class ClusterStateParser {
  private readonly collector: Collector;
  private splitter: YamlStateSplitter | JsonStateSplitter | null = null;
  private held = '';
  private chars = 0;
  private lines = 0;
  private lastLineChars = 0;

  constructor(private readonly source = 'cluster state') {
    this.collector = new Collector(source);
  }

  push(chunk: string): void {
    let text = chunk;
    if (this.chars === 0 && text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a UTF-8 byte-order mark
    if (text === '') return;
    this.chars += text.length;
    if (this.chars > STATE_FILE_LIMITS.fileBytes) {
      throw stateInvalid(`${this.source} is larger than ${sizeText(STATE_FILE_LIMITS.fileBytes)}, the most a cluster-state file may be`);
    }
    const control = this.controlCharacter(text);
    this.split(control === null ? text : text.slice(0, control.index));
    // The text before a control character is parsed first: the file's first problem is the one reported.
    if (control !== null) throw control.error;
  }

  private split(text: string): void {
    if (this.splitter !== null) {
      this.splitter.push(text);
      return;
    }
    this.held += text;
    const first = JSON_OR_YAML_SPACE.exec(this.held);
    if (first === null && this.held.length < DETECT_CHARS) return;
    const held = this.held;
    this.held = '';
    this.splitter = first?.[0] === '{' ? new JsonStateSplitter(this.source, this.collector) : new YamlStateSplitter(this.source, this.collector);
    this.splitter.push(held);
  }

  end(): ClusterSnapshot {
    if (this.splitter === null) {
      this.splitter = new YamlStateSplitter(this.source, this.collector);
      this.splitter.push(this.held);
      this.held = '';
    }
    this.splitter.end();
    return this.collector.snapshot();
  }

  /** The first C0 control character (NUL above all: a binary or UTF-16 file), refused before any parser sees it. */
  private controlCharacter(text: string): { index: number; error: Error } | null {
    const bad = CONTROL.exec(text);
    if (bad !== null) {
      const { lineIndex, column } = positionIn(text, bad.index);
      const line = this.lines + lineIndex + 1;
      const col = lineIndex === 0 ? this.lastLineChars + column : column;
      const code = `U+${bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
      const hint = bad[0] === '\u0000' ? ' (NUL: a binary file, or UTF-16 without a byte-order mark?)' : '';
      return { index: bad.index, error: stateInvalid(`${this.source}: a control character ${code} at line ${line}, column ${col}${hint}; a cluster-state file is YAML or JSON text`) };
    }
    let count = 0;
    let last = -1;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', nl + 1)) {
      count++;
      last = nl;
    }
    this.lines += count;
    this.lastLineChars = last < 0 ? this.lastLineChars + text.length : text.length - last - 1;
    return null;
  }
}

/**
 * Parse the text of a cluster-state file. `source` names it in error messages (the file path).
 * Throws SentinelError CLUSTER_STATE_INVALID for malformed YAML/JSON (with line and column), for
 * items of other kinds (with the item's position, e.g. "document 1 items[3]") and past the limits.
 */
export function parseClusterState(text: string, source = 'cluster state'): ClusterSnapshot {
  const parser = new ClusterStateParser(source);
  parser.push(text);
  return parser.end();
}
