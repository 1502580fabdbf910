/**
 * The contract between the cluster-state splitters (state-file-yaml.ts, state-file-json.ts) and the
 * collector (state-file.ts): the file is cut into pieces of one object each — every item of a
 * document's top-level `items` list, and each document without those items — and only a piece is
 * ever parsed. The `yaml` package's document model costs 50–100 times the text it parses, so a
 * 50,000-object List parsed whole took more than a gigabyte; a piece is bounded (LIMITS.objectChars).
 */
import { SentinelError } from '../errors/index.js';

const MiB = 1024 * 1024;

/** The bounds on a cluster-state file (README, "State files"). */
export const STATE_FILE_LIMITS = {
  /** The whole file: `kubectl get services,endpointslices,nodes -A -o json` of 25,000 Services with 10 endpoints each (50,000 objects) is 200 MiB. */
  fileBytes: 256 * MiB,
  /** One object's text (a List item, or a document without its items): etcd stores at most 1.5 MiB per object. */
  objectChars: 2 * MiB,
  /** Collections nested in one object; the yaml package's composer recurses per level and overflows the stack near 800. */
  nestingDepth: 64,
  /** Aliases one object may expand (the yaml package's maxAliasCount; a "billion laughs" needs far more). */
  aliasCount: 100,
  /** Empty YAML documents (`---` with nothing before the next one). */
  emptyDocuments: 1000,
  /** Text of items without `kind` held until their List's kind is read (kubectl writes `kind` after `items`). */
  pendingChars: 32 * MiB,
} as const;

export const PARSE_OP = 'parse cluster state';

export function stateInvalid(message: string, cause?: unknown): SentinelError {
  return new SentinelError('CLUSTER_STATE_INVALID', PARSE_OP, message, cause === undefined ? undefined : { cause });
}

/** "1.5 MiB", "300 KiB", "12 bytes". */
export function sizeText(n: number): string {
  if (n >= MiB) return `${(n / MiB).toFixed(n % MiB === 0 ? 0 : 1)} MiB`;
  if (n >= 1024) return `${Math.round(n / 1024)} KiB`;
  return `${n} bytes`;
}

/** One object's text and where it is in the file. */
export interface StatePiece {
  /** Names it in messages, e.g. "document 2 items[5]". */
  readonly path: string;
  readonly text: string;
  /** Its value, parsed within the limits; throws CLUSTER_STATE_INVALID naming the file, path, line and column. */
  parse(): unknown;
}

/** What a splitter tells the collector, in file order. */
export interface StateSink {
  /** Document `document`'s top-level `items` list starts; `before` is the document up to it, without it. */
  beginItems(document: number, before: StatePiece): void;
  /** One item of that list (`path` "document N items[i]"). */
  item(document: number, piece: StatePiece): void;
  /** A document ends: the whole of it, or, when its items were handed over one by one, the rest of it. */
  endDocument(document: number, rest: StatePiece, itemsHandedOver: boolean): void;
}

/** Line index (0-based) and column (1-based) of `offset` in `text`. */
export function positionIn(text: string, offset: number): { lineIndex: number; column: number } {
  let lineIndex = 0;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let nl = text.indexOf('\n'); nl >= 0 && nl < end; nl = text.indexOf('\n', nl + 1)) {
    lineIndex++;
    lineStart = nl + 1;
  }
  return { lineIndex, column: offset - lineStart + 1 };
}

/** One character for a message: `','`, `U+00A0`, or "the end of the file". */
export function describeChar(ch: string | undefined): string {
  if (ch === undefined || ch === '') return 'the end of the file';
  const code = ch.codePointAt(0) ?? 0;
  return code > 0x20 && code < 0x7f ? `'${ch}'` : `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}
