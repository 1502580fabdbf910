/**
 * Where the parser says a cluster-state file is wrong: the file, the document or item, and the line
 * and column in the whole file — although each List item is parsed on its own.
 */
import { describe, it } from 'vitest';
import { ClusterStateParser, parseClusterState } from '../../../src/cluster/state-file.js';
import { expectSentinelError } from '../../support/errors.js';

const node = (name: string): string => `- kind: Node\n  metadata:\n    name: ${name}\n`;

describe('error positions', () => {
  it.each([
    {
      name: 'YAML: a bad item after others',
      text: `apiVersion: v1\nitems:\n${node('a')}${node('b')}- kind: Node\n  metadata: [\n${node('c')}kind: List\n`,
      message: /^s: document 1 items\[2\]: malformed YAML at line 10, column 1: /,
    },
    {
      name: 'YAML: the List header after its items',
      text: `apiVersion: v1\nitems:\n${node('a')}kind: List\nmetadata: {a: [}\n`,
      message: /^s: document 1: malformed YAML at line 7, column \d+: /,
    },
    {
      name: 'YAML: a later document',
      text: `kind: Node\nmetadata: {name: a}\n---\nkind: Node\nmetadata: {name: "b}\n`,
      message: /^s: document 2: malformed YAML at line 5, column \d+: Missing closing "quote/,
    },
    {
      name: 'JSON: a bad item on a later line',
      text: '{\n    "items": [\n        {"kind": "Node", "metadata": {"name": "a"}},\n        {"kind": "Node",\n         "metadata": {"name": a}}\n    ],\n    "kind": "List"\n}\n',
      message: /^s: document 1 items\[1\]: malformed JSON at line 5, column 31: expected a value, found 'a'$/,
    },
    {
      name: 'JSON: a bad escape in a key',
      text: '{"kind": "List", "it\\ems": []}',
      message: /^s: document 1: malformed JSON at line 1, column 21: expected a valid string/,
    },
    { name: 'JSON: text after the object', text: '{"kind": "List", "items": []}\n{}', message: /^s: malformed JSON at line 2, column 1: expected nothing more after the JSON object, found '\{'$/ },
    { name: 'JSON: cut off inside an item', text: '{"kind": "List", "items": [{"kind": "Node"', message: /^s: malformed JSON: the file ends inside document 1 items\[0\], in the value that starts at line 1, column 28$/ },
    { name: 'JSON: cut off after an item', text: '{"kind": "List", "items": [{"kind": "Node", "metadata": {"name": "n"}}\n', message: /^s: malformed JSON at line 2, column 1: expected ',' or '\]', found the end of the file$/ },
    { name: 'JSON: two items lists', text: '{"kind": "List", "items": [], "items": []}', message: /^s: document 1 has more than one items list/ },
    { name: 'YAML: items under a kind that is not a List', text: `items:\n${node('a')}kind: Service\n`, message: /^s: document 1 has a top-level items list but kind Service; expected List/ },
    { name: 'YAML: kind before items that is not a List', text: `kind: Node\nitems:\n${node('a')}`, message: /^s: document 1 has a top-level items list but kind Node/ },
    { name: 'YAML: two kinds', text: `kind: List\nitems:\n${node('a')}kind: NodeList\n`, message: /^s: document 1 has two kinds, List and NodeList$/ },
  ])('$name', ({ text, message }) => {
    expectSentinelError(() => parseClusterState(text, 's'), 'CLUSTER_STATE_INVALID', message);
  });
});

/** Parsing `text` pushed in chunks of `size` fails at `offset`, the bare value n37 of item 37, by its line and column in the whole file. */
function expectBadValueAt(text: string, offset: number, size: number): void {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  const parser = new ClusterStateParser('s');
  expectSentinelError(
    () => {
      for (let i = 0; i < text.length; i += size) parser.push(text.slice(i, i + size));
      parser.end();
    },
    'CLUSTER_STATE_INVALID',
    new RegExp(`^s: document 1 items\\[37\\]: malformed JSON at line ${line}, column ${column}: expected a value, found 'n'$`),
  );
}

describe('error positions after many lines of items, the file taken in chunks of any size', () => {
  // kubectl's indented JSON: every item over many lines, the line count carried from item to item.
  const items = Array.from({ length: 40 }, (_, i) => ({ kind: 'Node', metadata: { name: `n${i}`, labels: { zone: `z${i % 3}` } }, status: { addresses: [{ type: 'InternalIP', address: `10.0.0.${i}` }] } }));
  const good = JSON.stringify({ kind: 'List', items }, null, 4);

  it.each([1, 7, 64, 4096, good.length])('a bad value in item 37, chunks of %d characters', (size) => {
    const text = good.replace('"name": "n37"', '"name": n37');
    const offset = text.indexOf('"name": n37') + '"name": '.length;
    expectBadValueAt(text, offset, size);
  });

  it.each([1, 7, 64, good.length])('a bad value on the line where the item before ends, chunks of %d characters', (size) => {
    // Each item over several lines, the next starting on the line the one before ends: "}, {".
    const pretty = items.slice(0, 37).map((item) => JSON.stringify(item, null, 2));
    const text = `{"kind": "List", "items": [${pretty.join(', ')}, {"kind": "Node", "metadata": {"name": n37}}]}`;
    const offset = text.indexOf('n37');
    expectBadValueAt(text, offset, size);
  });

  it.each([1, 7, 64, 4096, 1 << 20])('a file on one line, and one with a few line breaks between items, chunks of %d characters', (size) => {
    // JSON.stringify and `jq -c` write one line: no newline to find after any item.
    const compact = items.slice(0, 37).map((item) => JSON.stringify(item));
    const bad = '{"kind":"Node","metadata":{"name":n37}}';
    for (const separator of [() => ',', (i: number) => (i % 10 === 9 ? ',\n' : ',')]) {
      const text = `{"kind":"List","items":[${compact.map((item, i) => item + separator(i)).join('')}${bad}]}`;
      const offset = text.indexOf('n37');
      expectBadValueAt(text, offset, size);
    }
  });

  it('a value too deeply nested, in the last item', () => {
    const deep = `${'['.repeat(70)}${']'.repeat(70)}`;
    const text = good.replace(/\n\s*\]\n\}$/, `,\n        {"kind": "Node", "metadata": {"name": "deep"}, "x":\n ${deep}}\n    ]\n}`);
    const line = text.split('\n').findIndex((l) => l.startsWith(' [[[')) + 1;
    expectSentinelError(() => parseClusterState(text, 's'), 'CLUSTER_STATE_INVALID', new RegExp(`^s: document 1 items\\[40\\]: nesting depth limit: more than 64 levels of objects and arrays at line ${line}, column \\d+$`));
  });
});
