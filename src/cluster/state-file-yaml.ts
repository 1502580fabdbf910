/**
 * A YAML cluster-state file cut into one-object pieces as its lines arrive (state-file-pieces.ts):
 * documents end at `---` / `...` lines, and in a document whose root is a block mapping at column 0
 * — as `kubectl get -o yaml` writes a `v1 List` — each entry of the root key `items:`'s block
 * sequence is a piece of its own: its lines from its `- ` to the next `- ` at the same indentation.
 * In valid YAML a line at column 0 inside a document is always a root key, a root sequence entry or a
 * marker (block scalars and flow or quoted scalars must be indented there), so a cut in the wrong
 * place can only make a piece fail to parse, never change a value. Anchors do not reach from one
 * item to another (an alias to another item's anchor is reported as such); kubectl writes none.
 */
import { loadYaml } from '../util/yaml.js';
import { firstLinePrintable } from '../util/printable.js';
import { positionIn, sizeText, STATE_FILE_LIMITS as LIMITS, stateInvalid } from './state-file-pieces.js';
import type { StatePiece, StateSink } from './state-file-pieces.js';
import { yamlTooDeepAt } from './yaml-depth.js';

/**
 * The Composer's options: keys are not checked for uniqueness (the check compares each key with every
 * earlier one — minutes for one 2 MiB mapping; a repeated key keeps its last value, as JSON.parse
 * does); warnings (an unknown tag, a collection as a key) are not printed to stderr; the rest as
 * `yaml`'s parse() (YAML 1.2 core schema).
 */
const COMPOSE_OPTIONS = { uniqueKeys: false, logLevel: 'error' } as const;

/** The message for what `toJS` threw: aliases are the only thing it refuses in a parsed document. */
function toJsProblem(cause: unknown): string {
  const message = cause instanceof Error ? cause.message : String(cause);
  if (message.startsWith('Excessive alias count')) {
    return `alias expansion limit: its aliases would expand past ${LIMITS.aliasCount} nodes (a "billion laughs")`;
  }
  if (message.startsWith('Unresolved alias')) {
    const name = message.slice(message.lastIndexOf(': ') + 2);
    return `an alias (*${firstLinePrintable(name, 60)}) whose anchor is not earlier in the same object (anchors do not reach from one List item to another)`;
  }
  return firstLinePrintable(message);
}

/**
 * The value of one YAML document's text, within the limits. `where(offset)` names a position
 * ("line 12, column 3"), `name` the piece ("f.yaml: document 1 items[4]").
 */
export function parseYamlText(text: string, where: (offset: number) => string, name: string): unknown {
  const { Composer, Parser } = loadYaml();
  const tokens = Array.from(new Parser().parse(text));
  const deep = yamlTooDeepAt(tokens, LIMITS.nestingDepth);
  if (deep !== null) throw stateInvalid(`${name}: nesting depth limit: more than ${LIMITS.nestingDepth} levels of mappings and lists at ${where(deep)}`);
  const docs = Array.from(new Composer(COMPOSE_OPTIONS).compose(tokens));
  const doc = docs[0];
  if (doc === undefined) return null;
  const error = doc.errors[0] ?? docs[1]?.errors[0];
  if (error !== undefined) throw stateInvalid(`${name}: malformed YAML at ${where(error.pos[0])}: ${firstLinePrintable(error.message)}`, error);
  if (docs[1] !== undefined) throw stateInvalid(`${name}: a second YAML document at ${where(docs[1].range[0])} where one object was expected`);
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: LIMITS.aliasCount });
  } catch (cause) {
    throw stateInvalid(`${name}: ${toJsProblem(cause)}`, cause);
  }
  return plainCopy(value, name);
}

/**
 * The value as JSON.parse would give it: strings of their own (the yaml package's are slices of the
 * piece's text, so each string the model keeps would keep its whole object's text alive: 35 MB for a
 * 50,000-object List), no shared or circular references (an anchor holding its own alias), no
 * Buffers, Infinity or NaN — what the converters would also get from a JSON file.
 */
function plainCopy(value: unknown, name: string): unknown {
  if (value === undefined || value === null) return null;
  let json: string;
  try {
    json = JSON.stringify(value);
  } catch (cause) {
    throw stateInvalid(`${name}: an anchor that contains its own alias (a circular value)`, cause);
  }
  return JSON.parse(json) as unknown;
}

/** Lines kept for one piece, with their line numbers in the file. */
class PieceLines {
  readonly text: string[] = [];
  readonly numbers: number[] = [];
  chars = 0;

  constructor(private readonly tooLarge: (firstLine: number) => Error) {}

  add(line: string, number: number): void {
    this.text.push(line);
    this.numbers.push(number);
    this.chars += line.length + 1;
    if (this.chars > LIMITS.objectChars) throw this.tooLarge(this.numbers[0] ?? number);
  }

  addAll(other: PieceLines): void {
    other.text.forEach((line, i) => this.add(line, other.numbers[i] ?? 0));
  }
}

function yamlPiece(source: string, path: string, lines: PieceLines, listEntry: boolean): StatePiece {
  const text = lines.text.length === 0 ? '' : `${lines.text.join('\n')}\n`;
  const numbers = lines.numbers.slice();
  const where = (offset: number): string => {
    const { lineIndex, column } = positionIn(text, offset);
    return `line ${numbers[lineIndex] ?? numbers[numbers.length - 1] ?? 1}, column ${column}`;
  };
  return {
    path,
    text,
    parse(): unknown {
      const value = parseYamlText(text, where, `${source}: ${path}`);
      if (!listEntry) return value;
      // The piece is one entry of a block sequence, parsed as a sequence of its own.
      if (!Array.isArray(value) || value.length !== 1) throw stateInvalid(`${source}: ${path} at line ${numbers[0]} is not one list entry`);
      return value[0] as unknown;
    },
  };
}

const ITEMS_KEY = /^items:[ \t]*(?:#.*)?\r?$/;
/** A first character that makes a column-0 line something other than a plain or quoted mapping key. */
const NOT_A_KEY_START = new Set(['-', '[', '{', '!', '&', '*', '|', '>', '?', '%', '@', '`', ' ', '\t', ':', ',', ']', '}', '#']);

function isMarker(line: string): boolean {
  if (!line.startsWith('---') && !line.startsWith('...')) return false;
  const next = line.charAt(3);
  return next === '' || next === ' ' || next === '\t' || next === '\r';
}

/** Whether the line holds anything but spaces and a comment. */
function hasContent(line: string, from = 0): boolean {
  for (let i = from; i < line.length; i++) {
    const c = line.charAt(i);
    if (c === ' ' || c === '\t' || c === '\r') continue;
    return c !== '#';
  }
  return false;
}

function leadingSpaces(line: string): number {
  let i = 0;
  while (line.charCodeAt(i) === 32) i++;
  return i;
}

/** A block sequence entry ("- …" or a lone "-") starting at `indent`. */
function isSeqEntry(line: string, indent: number): boolean {
  if (line.charCodeAt(indent) !== 45) return false;
  const next = line.charAt(indent + 1);
  return next === '' || next === ' ' || next === '\t' || next === '\r';
}

interface YamlDocument {
  number: number;
  hasContent: boolean;
  sawStartMarker: boolean;
  /** The root is a block mapping at column 0, so its `items:` entries may be handed over one by one. */
  splittable: boolean;
  phase: 'header' | 'items-start' | 'items' | 'after-items';
  header: PieceLines;
  itemsLine: PieceLines | null;
  itemsHandedOver: boolean;
  seqIndent: number;
  item: PieceLines | null;
  itemIndex: number;
}

export class YamlStateSplitter {
  private carry = '';
  private lineNumber = 0;
  private documents = 0;
  private emptyDocuments = 0;
  private doc: YamlDocument | null = null;

  constructor(
    private readonly source: string,
    private readonly sink: StateSink,
  ) {}

  push(text: string): void {
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      const line = start === 0 ? this.carry + text.slice(0, nl) : text.slice(start, nl);
      if (start === 0) this.carry = '';
      this.line(line);
      start = nl + 1;
    }
    this.carry += start === 0 ? text : text.slice(start);
    if (this.carry.length > LIMITS.objectChars) throw this.tooLarge(this.currentPath(), this.lineNumber + 1);
  }

  end(): void {
    if (this.carry !== '') {
      const last = this.carry;
      this.carry = '';
      this.line(last);
    }
    this.finishDocument();
  }

  private currentPath(): string {
    const doc = this.doc;
    if (doc === null) return `document ${this.documents + 1}`;
    return doc.item !== null ? `document ${doc.number} items[${doc.itemIndex}]` : `document ${doc.number}`;
  }

  private tooLarge(path: string, firstLine: number): Error {
    return stateInvalid(
      `${this.source}: ${path} (from line ${firstLine}) is larger than ${sizeText(LIMITS.objectChars)}, the most one object may take in a cluster-state file (Kubernetes stores at most 1.5 MiB per object)`,
    );
  }

  private newDocument(): YamlDocument {
    const number = ++this.documents;
    const doc: YamlDocument = {
      number,
      hasContent: false,
      sawStartMarker: false,
      splittable: false,
      phase: 'header',
      header: new PieceLines((first) => this.tooLarge(`document ${number}`, first)),
      itemsLine: null,
      itemsHandedOver: false,
      seqIndent: 0,
      item: null,
      itemIndex: 0,
    };
    this.doc = doc;
    return doc;
  }

  private line(raw: string): void {
    const number = ++this.lineNumber;
    if (isMarker(raw)) {
      this.marker(raw, number);
      return;
    }
    const doc = this.doc;
    if (!hasContent(raw)) {
      // Blank and comment lines: kept inside a piece (a block scalar's blank lines are its text).
      if (doc === null || !doc.hasContent || doc.phase === 'items-start') return;
      (doc.item ?? doc.header).add(raw, number);
      return;
    }
    if (raw.charCodeAt(0) === 37 /* % */ && (doc === null || !doc.hasContent)) {
      (doc ?? this.newDocument()).header.add(raw, number); // a directive, before its ---
      return;
    }
    this.contentLine(doc ?? this.newDocument(), raw, number);
  }

  private marker(raw: string, number: number): void {
    let doc = this.doc;
    if (raw.startsWith('...')) {
      this.finishDocument(); // the pieces need no end marker
      return;
    }
    if (doc !== null && (doc.hasContent || doc.sawStartMarker)) {
      if (!doc.hasContent && ++this.emptyDocuments > LIMITS.emptyDocuments) {
        throw stateInvalid(`${this.source}: more than ${LIMITS.emptyDocuments} empty YAML documents (--- with nothing before the next ---), at line ${number}`);
      }
      this.finishDocument();
      doc = null;
    }
    doc ??= this.newDocument();
    doc.sawStartMarker = true;
    doc.header.add(raw, number);
    if (hasContent(raw, 3)) doc.hasContent = true; // "--- !!map", "--- {…}": not a block mapping on lines of its own
  }

  private contentLine(doc: YamlDocument, raw: string, number: number): void {
    if (!doc.hasContent) {
      doc.hasContent = true;
      doc.splittable = !NOT_A_KEY_START.has(raw.charAt(0));
    }
    const indent = leadingSpaces(raw);
    switch (doc.phase) {
      case 'header':
        if (indent === 0 && doc.splittable && ITEMS_KEY.test(raw)) {
          doc.phase = 'items-start';
          doc.itemsLine = new PieceLines((first) => this.tooLarge(`document ${doc.number}`, first));
          doc.itemsLine.add(raw, number);
          return;
        }
        doc.header.add(raw, number);
        return;
      case 'after-items':
        doc.header.add(raw, number);
        return;
      case 'items-start':
        if (isSeqEntry(raw, indent)) {
          doc.phase = 'items';
          doc.seqIndent = indent;
          doc.itemsHandedOver = true;
          this.sink.beginItems(doc.number, yamlPiece(this.source, `document ${doc.number}`, doc.header, false));
          this.startItem(doc, raw, number);
          return;
        }
        // `items:` holds something other than a block sequence: the document stays whole.
        doc.phase = 'after-items';
        if (doc.itemsLine) doc.header.addAll(doc.itemsLine);
        doc.itemsLine = null;
        doc.header.add(raw, number);
        return;
      case 'items':
        if (indent === doc.seqIndent && isSeqEntry(raw, indent)) {
          this.handOverItem(doc);
          this.startItem(doc, raw, number);
        } else if (indent === 0) {
          this.handOverItem(doc);
          doc.phase = 'after-items';
          doc.header.add(raw, number);
        } else {
          doc.item?.add(raw, number);
        }
        return;
    }
  }

  private startItem(doc: YamlDocument, raw: string, number: number): void {
    const path = `document ${doc.number} items[${doc.itemIndex}]`;
    doc.item = new PieceLines((first) => this.tooLarge(path, first));
    doc.item.add(raw, number);
  }

  private handOverItem(doc: YamlDocument): void {
    if (doc.item === null) return;
    const piece = yamlPiece(this.source, `document ${doc.number} items[${doc.itemIndex}]`, doc.item, true);
    doc.item = null;
    doc.itemIndex++;
    this.sink.item(doc.number, piece);
  }

  private finishDocument(): void {
    const doc = this.doc;
    if (doc === null) return;
    this.doc = null;
    this.handOverItem(doc);
    if (doc.itemsLine !== null && !doc.itemsHandedOver) doc.header.addAll(doc.itemsLine); // `items:` and nothing under it
    if (!doc.hasContent) return;
    this.sink.endDocument(doc.number, yamlPiece(this.source, `document ${doc.number}`, doc.header, false), doc.itemsHandedOver);
  }
}

