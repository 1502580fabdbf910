/**
 * A JSON cluster-state file (`kubectl get -o json`, or an API list) cut into one-object pieces as
 * its text arrives (state-file-pieces.ts): the root object's members are read one by one, and each
 * element of its `items` array is handed over as a piece of its own, so JSON.parse never builds more
 * than one object at a time. The cutting only finds where each value ends (strings, brackets); each
 * piece is then checked by JSON.parse, and where it fails, by jsonSyntaxError() for the message.
 */
import { positionIn, sizeText, STATE_FILE_LIMITS as LIMITS, stateInvalid, describeChar } from './state-file-pieces.js';
import type { StatePiece, StateSink } from './state-file-pieces.js';

const WS = /[^ \t\n\r]/g;
const SCALAR_END = /[ \t\n\r,\]}]/g;
const LITERAL = /true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** Index after the closing quote of the string opening at `start`, or -1 when the text ends first. */
function stringEnd(text: string, start: number): number {
  for (let i = start + 1; ; ) {
    const quote = text.indexOf('"', i);
    if (quote < 0) return -1;
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === 92) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    i = quote + 1;
  }
}

/** What a JSON text lacks at its first error (RFC 8259); run only after JSON.parse refused it. */
export function jsonSyntaxError(text: string): { offset: number; expected: string } | null {
  const containers: string[] = [];
  let state: 'value' | 'first-value' | 'key' | 'first-key' | 'colon' | 'after' = 'value';
  let i = 0;
  const skipSpace = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text.charAt(i))) i++;
  };
  const string = (): number | null => {
    // Returns the offset of the fault, or null with `i` after the closing quote.
    for (let j = i + 1; j < text.length; j++) {
      const c = text.charCodeAt(j);
      if (c === 34) {
        i = j + 1;
        return null;
      }
      if (c < 0x20) return j;
      if (c === 92) {
        const e = text.charAt(j + 1);
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(j + 2, j + 6))) return j;
          j += 5;
        } else if ('"\\/bfnrt'.includes(e) && e !== '') {
          j++;
        } else {
          return j;
        }
      }
    }
    return text.length;
  };
  for (;;) {
    skipSpace();
    const c = text.charAt(i);
    const top = containers[containers.length - 1];
    switch (state) {
      case 'first-value':
      case 'value': {
        if (state === 'first-value' && c === ']') {
          containers.pop();
          i++;
          state = 'after';
          break;
        }
        if (c === '{' || c === '[') {
          containers.push(c);
          i++;
          state = c === '{' ? 'first-key' : 'first-value';
          break;
        }
        if (c === '"') {
          const fault = string();
          if (fault !== null) return { offset: fault, expected: 'a valid string (a closing quote; no control characters or bad escapes)' };
          state = 'after';
          break;
        }
        LITERAL.lastIndex = i;
        if (!LITERAL.test(text)) return { offset: i, expected: 'a value' };
        i = LITERAL.lastIndex;
        state = 'after';
        break;
      }
      case 'first-key':
      case 'key':
        if (state === 'first-key' && c === '}') {
          containers.pop();
          i++;
          state = 'after';
          break;
        }
        if (c !== '"') return { offset: i, expected: 'a property name in double quotes' };
        {
          const fault = string();
          if (fault !== null) return { offset: fault, expected: 'a valid string (a closing quote; no control characters or bad escapes)' };
        }
        state = 'colon';
        break;
      case 'colon':
        if (c !== ':') return { offset: i, expected: "':'" };
        i++;
        state = 'value';
        break;
      case 'after':
        if (top === undefined) return i >= text.length ? null : { offset: i, expected: 'nothing more' };
        if (c === ',') {
          i++;
          state = top === '{' ? 'key' : 'value';
        } else if (c === (top === '{' ? '}' : ']')) {
          containers.pop();
          i++;
        } else {
          return { offset: i, expected: top === '{' ? "',' or '}'" : "',' or ']'" };
        }
        break;
    }
  }
}

type State = 'root' | 'first-key' | 'key' | 'colon' | 'value' | 'after-member' | 'first-item' | 'item' | 'after-item' | 'done';

interface Position {
  line: number;
  column: number;
}

/** JsonStateSplitter.nextNewline not looked for. */
const UNKNOWN = -2;

export class JsonStateSplitter {
  private text = '';
  private pos = 0;
  private state: State = 'root';
  // Line counting, in `text` coordinates: lines before `counted`, and where the line holding it starts.
  private counted = 0;
  private line = 1;
  private lineStart = 0;
  /**
   * The first newline at or after `counted`, -1 when `text` has none there, UNKNOWN when not looked
   * for since `text` or `counted` moved past it. Kept because a file on one line (`jq -c`,
   * JSON.stringify) has no newline to find: each item's position looked for one to the end of the
   * text again, a quadratic walk over a file pushed whole.
   */
  private nextNewline = UNKNOWN;
  private keyText = '';
  private key = '';
  private members: string[] = [];
  private memberChars = 0;
  private itemsSeen = false;
  private itemIndex = 0;

  constructor(
    private readonly source: string,
    private readonly sink: StateSink,
  ) {}

  push(chunk: string): void {
    if (this.pos > 0) {
      this.positionAt(this.pos);
      this.text = this.text.slice(this.pos);
      this.counted -= this.pos;
      this.lineStart -= this.pos;
      this.pos = 0;
    }
    this.text += chunk;
    this.nextNewline = UNKNOWN; // the chunk may hold one
    this.run(false);
  }

  end(): void {
    this.run(true);
    if (this.state === 'done') return;
    const unfinished = this.skipSpace();
    if (unfinished >= 0) {
      // A string, object or array the text ends inside of.
      const { line, column } = this.positionAt(unfinished);
      throw stateInvalid(`${this.source}: malformed JSON: the file ends inside ${this.path()}, in the value that starts at line ${line}, column ${column}`);
    }
    throw this.syntax(this.text.length, this.expectation());
  }

  private positionAt(offset: number): Position {
    let nl = this.nextNewline === UNKNOWN ? this.text.indexOf('\n', this.counted) : this.nextNewline;
    for (; nl >= 0 && nl < offset; nl = this.text.indexOf('\n', nl + 1)) {
      this.line++;
      this.lineStart = nl + 1;
    }
    this.counted = Math.max(this.counted, offset);
    this.nextNewline = nl;
    return { line: this.line, column: offset - this.lineStart + 1 };
  }

  private expectation(): string {
    switch (this.state) {
      case 'root':
        return "'{'";
      case 'first-key':
        return "a property name in double quotes or '}'";
      case 'key':
        return 'a property name in double quotes';
      case 'colon':
        return "':'";
      case 'value':
      case 'item':
        return 'a value';
      case 'first-item':
        return "a value or ']'";
      case 'after-member':
        return "',' or '}'";
      case 'after-item':
        return "',' or ']'";
      case 'done':
        return 'nothing more';
    }
  }

  private syntax(offset: number, expected: string): Error {
    const { line, column } = this.positionAt(offset);
    return stateInvalid(`${this.source}: malformed JSON at line ${line}, column ${column}: expected ${expected}, found ${describeChar(this.text.charAt(offset))}`);
  }

  private path(): string {
    return this.state === 'item' || this.state === 'first-item' ? `document 1 items[${this.itemIndex}]` : 'document 1';
  }

  /**
   * The end of the value starting at `start`, or -1 when the text ends before it does. A character
   * loop, strings skipped by indexOf: a sticky regular expression per bracket and quote took four
   * times as long, the largest part of reading a JSON state file (issue 17).
   */
  private valueEnd(start: number, final: boolean): number {
    const text = this.text;
    const c = text.charCodeAt(start);
    if (c === 34) return stringEnd(text, start);
    if (c === 123 || c === 91) {
      let depth = 0;
      let lines = 0;
      let lastNewline = -1;
      for (let i = start; i < text.length; i++) {
        const ch = text.charCodeAt(i);
        if (ch === 10) {
          lines++;
          lastNewline = i;
        } else if (ch === 34) {
          const end = stringEnd(text, i);
          if (end < 0) return -1;
          i = end - 1;
        } else if (ch === 123 || ch === 91) {
          if (++depth > LIMITS.nestingDepth) {
            const { line, column } = this.positionAt(i);
            throw stateInvalid(`${this.source}: ${this.path()}: nesting depth limit: more than ${LIMITS.nestingDepth} levels of objects and arrays at line ${line}, column ${column}`);
          }
        } else if ((ch === 125 || ch === 93) && --depth === 0) {
          // The value's lines counted on the way (a JSON string holds no raw newline): the next
          // positionAt() starts after it, where it would have looked for them one indexOf at a time.
          if (this.counted === start) {
            this.line += lines;
            if (lastNewline >= 0) this.lineStart = lastNewline + 1;
            this.counted = i + 1;
            // A newline looked for before is still the next one if it lies past the value, or if there was none.
            if (this.nextNewline !== -1 && this.nextNewline <= i) this.nextNewline = UNKNOWN;
          }
          return i + 1;
        }
      }
      return -1;
    }
    SCALAR_END.lastIndex = start;
    const m = SCALAR_END.exec(text);
    return m !== null ? m.index : final ? text.length : -1;
  }

  /** The next non-space offset, or -1. */
  private skipSpace(): number {
    WS.lastIndex = this.pos;
    const m = WS.exec(this.text);
    this.pos = m === null ? this.text.length : m.index;
    return m === null ? -1 : m.index;
  }

  private tooLarge(start: number): Error {
    const { line } = this.positionAt(start);
    return stateInvalid(
      `${this.source}: ${this.path()} (from line ${line}) is larger than ${sizeText(LIMITS.objectChars)}, the most one object may take in a cluster-state file (Kubernetes stores at most 1.5 MiB per object)`,
    );
  }

  /** The value at `start` as a piece, or null when the text ends before it does. */
  private takeValue(start: number, final: boolean, path: string): StatePiece | null {
    // Where the value starts, before valueEnd() counts the value's own lines past it.
    const at = this.positionAt(start);
    const end = this.valueEnd(start, final);
    if (end < 0) {
      if (this.text.length - start > LIMITS.objectChars) throw this.tooLarge(start);
      return null;
    }
    if (end - start > LIMITS.objectChars) throw this.tooLarge(start);
    if (end === start) throw this.syntax(start, 'a value');
    this.pos = end;
    return jsonPiece(this.source, path, this.text.slice(start, end), at);
  }

  private headerPiece(): StatePiece {
    return jsonPiece(this.source, 'document 1', `{${this.members.join(',')}}`, null);
  }

  private run(final: boolean): void {
    for (;;) {
      if (this.state === 'done') {
        const at = this.skipSpace();
        if (at >= 0) throw this.syntax(at, 'nothing more after the JSON object');
        return;
      }
      const at = this.skipSpace();
      if (at < 0) return;
      const c = this.text.charAt(at);
      switch (this.state) {
        case 'root':
          if (c !== '{') throw this.syntax(at, "'{'");
          this.pos = at + 1;
          this.state = 'first-key';
          break;
        case 'first-key':
        case 'key': {
          if (c === '}' && this.state === 'first-key') {
            this.pos = at + 1;
            this.finish();
            break;
          }
          if (c !== '"') throw this.syntax(at, 'a property name in double quotes');
          const end = stringEnd(this.text, at);
          if (end < 0) {
            if (this.text.length - at > LIMITS.objectChars) throw this.tooLarge(at);
            if (final) throw this.syntax(this.text.length, 'a closing quote');
            return;
          }
          this.keyText = this.text.slice(at, end);
          this.key = jsonPiece(this.source, 'document 1', this.keyText, this.positionAt(at)).parse() as string;
          this.pos = end;
          this.state = 'colon';
          break;
        }
        case 'colon':
          if (c !== ':') throw this.syntax(at, "':'");
          this.pos = at + 1;
          this.state = 'value';
          break;
        case 'value': {
          if (this.key === 'items' && c === '[') {
            if (this.itemsSeen) throw stateInvalid(`${this.source}: document 1 has more than one items list (line ${this.positionAt(at).line})`);
            this.itemsSeen = true;
            this.sink.beginItems(1, this.headerPiece());
            this.pos = at + 1;
            this.state = 'first-item';
            break;
          }
          const piece = this.takeValue(at, final, 'document 1');
          if (piece === null) return;
          piece.parse(); // checked here, where its position is known; the header is parsed again as a whole
          this.members.push(`${this.keyText}:${piece.text}`);
          this.memberChars += this.keyText.length + piece.text.length + 1;
          if (this.memberChars > LIMITS.objectChars) throw this.tooLarge(at);
          this.state = 'after-member';
          break;
        }
        case 'after-member':
          if (c === ',') this.state = 'key';
          else if (c === '}') this.finish();
          else throw this.syntax(at, "',' or '}'");
          this.pos = at + 1;
          break;
        case 'first-item':
        case 'item': {
          if (c === ']' && this.state === 'first-item') {
            this.pos = at + 1;
            this.state = 'after-member';
            break;
          }
          const piece = this.takeValue(at, final, `document 1 items[${this.itemIndex}]`);
          if (piece === null) return;
          this.itemIndex++;
          this.state = 'after-item';
          this.sink.item(1, piece);
          break;
        }
        case 'after-item':
          if (c === ',') this.state = 'item';
          else if (c === ']') this.state = 'after-member';
          else throw this.syntax(at, "',' or ']'");
          this.pos = at + 1;
          break;
      }
    }
  }

  private finish(): void {
    this.state = 'done';
    this.sink.endDocument(1, this.headerPiece(), this.itemsSeen);
  }
}

function jsonPiece(source: string, path: string, text: string, at: Position | null): StatePiece {
  return {
    path,
    text,
    parse(): unknown {
      try {
        return JSON.parse(text) as unknown;
      } catch (cause) {
        const fault = jsonSyntaxError(text);
        if (fault === null || at === null) throw stateInvalid(`${source}: ${path}: malformed JSON`, cause);
        const { lineIndex, column } = positionIn(text, fault.offset);
        const line = at.line + lineIndex;
        const col = lineIndex === 0 ? at.column + fault.offset : column;
        throw stateInvalid(`${source}: ${path}: malformed JSON at line ${line}, column ${col}: expected ${fault.expected}, found ${describeChar(text.charAt(fault.offset))}`, cause);
      }
    },
  };
}
