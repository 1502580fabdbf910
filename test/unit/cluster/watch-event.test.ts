/** The watch wire format and the list page, validated: pure, table-driven, and fuzzed with any JSON. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ClusterResource } from '../../../src/cluster/cached.js';
import { checkListPage } from '../../../src/cluster/list-page.js';
import { checkWatchEvent, LineSplitter } from '../../../src/cluster/watch-event.js';

const service = { kind: 'Service', metadata: { name: 'web', namespace: 'shop', resourceVersion: '42' }, spec: { clusterIP: '10.96.0.7', ports: [{ port: 80, protocol: 'TCP' }] } };
const RESOURCES: ClusterResource[] = ['service', 'endpointslice', 'node', 'configmap'];

describe('checkWatchEvent', () => {
  it.each([
    ['ADDED', { type: 'ADDED', object: service }],
    ['MODIFIED', { type: 'MODIFIED', object: service }],
    ['DELETED', { type: 'DELETED', object: service }],
  ])('accepts %s with the object converted and its identity', (type, event) => {
    const checked = checkWatchEvent('service', event);
    expect(checked).toMatchObject({ ok: true, value: { type, object: { metadata: { name: 'web', namespace: 'shop', resourceVersion: '42' }, problem: null } } });
  });

  it('reduces a BOOKMARK to its resourceVersion and an ERROR to its Status fields', () => {
    expect(checkWatchEvent('node', { type: 'BOOKMARK', object: { kind: 'Node', metadata: { resourceVersion: '7', annotations: { x: 'y' } } } })).toEqual({
      ok: true,
      value: { type: 'BOOKMARK', object: { metadata: { resourceVersion: '7' } } },
    });
    expect(checkWatchEvent('node', { type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version: 1 (5)' } })).toEqual({
      ok: true,
      value: { type: 'ERROR', object: { code: 410, reason: 'Expired', message: 'too old resource version: 1 (5)' } },
    });
    expect(checkWatchEvent('node', { type: 'ERROR', object: {} })).toEqual({ ok: true, value: { type: 'ERROR', object: { code: null, reason: '', message: '' } } });
  });

  it.each<[string, ClusterResource, unknown, string]>([
    ['{}', 'service', {}, 'the event type is missing'],
    ['[1,2,3]', 'service', [1, 2, 3], 'the event is an array, not an object with type and object'],
    ['"str"', 'service', 'str', 'the event is a string, not an object with type and object'],
    ['null', 'service', null, 'the event is null, not an object with type and object'],
    ['a number type', 'service', { type: 5, object: service }, 'the event type is a number'],
    ['an unknown type', 'service', { type: 'x'.repeat(100), object: service }, `unknown event type "${'x'.repeat(40)}"`],
    ['no object', 'service', { type: 'ADDED' }, 'ADDED event: the object is missing'],
    ['an array object', 'service', { type: 'ADDED', object: [] }, 'ADDED event: the object is an array'],
    ['no metadata', 'service', { type: 'ADDED', object: { spec: {} } }, 'ADDED event: metadata is missing'],
    ['an empty name', 'service', { type: 'MODIFIED', object: { metadata: { name: '', namespace: 'a', resourceVersion: '1' } } }, 'MODIFIED event: metadata.name is missing or not a string'],
    ['no resourceVersion', 'service', { type: 'DELETED', object: { metadata: { name: 'a', namespace: 'a' } } }, 'DELETED event: metadata.resourceVersion is missing or not a string'],
    ['a namespaced object without namespace', 'endpointslice', { type: 'ADDED', object: { metadata: { name: 'a', resourceVersion: '1' } } }, 'ADDED event: metadata.namespace is missing or not a string'],
    ['a Node with a numeric namespace', 'node', { type: 'ADDED', object: { metadata: { name: 'a', namespace: 1, resourceVersion: '1' } } }, 'ADDED event: metadata.namespace is missing or not a string'],
    ['a numeric uid', 'node', { type: 'ADDED', object: { metadata: { name: 'a', uid: 1, resourceVersion: '1' } } }, 'ADDED event: metadata.uid is not a string'],
    ['another kind', 'configmap', { type: 'ADDED', object: { ...service, kind: 'Pod' } }, 'ADDED event: kind "Pod" where ConfigMap was asked for'],
    ['a BOOKMARK without version', 'node', { type: 'BOOKMARK', object: { metadata: { resourceVersion: 7 } } }, 'BOOKMARK event without metadata.resourceVersion'],
    ['an ERROR without Status', 'node', { type: 'ERROR', object: null }, 'ERROR event whose object is null, not a Status'],
  ])('rejects %s with a reason that names no content', (_name, resource, line, reason) => {
    expect(checkWatchEvent(resource, line)).toEqual({ ok: false, reason });
  });

  it('never throws, and what it accepts ListWatch can key and version', () => {
    const event = fc.record({ type: fc.constantFrom('ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR', 'X'), object: fc.jsonValue() }, { requiredKeys: [] });
    fc.assert(
      fc.property(fc.constantFrom(...RESOURCES), fc.oneof(fc.jsonValue(), event), (resource, line) => {
        const checked = checkWatchEvent(resource, line);
        if (!checked.ok) return typeof checked.reason === 'string' && checked.reason.length < 200;
        const { value } = checked;
        if (value.type === 'BOOKMARK') return value.object.metadata.resourceVersion !== '';
        if (value.type === 'ERROR') return value.object.code === null || Number.isInteger(value.object.code);
        return value.object.metadata.name !== '' && value.object.metadata.resourceVersion !== '';
      }),
    );
  });
});

describe('checkListPage', () => {
  it('takes items, resourceVersion and continue', () => {
    const page = checkListPage('service', { kind: 'ServiceList', metadata: { resourceVersion: '9', continue: 'abc' }, items: [{ ...service, kind: undefined }] });
    expect(page).toMatchObject({ ok: true, value: { resourceVersion: '9', continueToken: 'abc', items: [{ metadata: { name: 'web' } }] } });
  });

  it('never throws on any JSON', () => {
    fc.assert(
      fc.property(fc.constantFrom(...RESOURCES), fc.oneof(fc.jsonValue(), fc.record({ kind: fc.jsonValue(), metadata: fc.jsonValue(), items: fc.array(fc.jsonValue()) }, { requiredKeys: [] })), (resource, parsed) => {
        const page = checkListPage(resource, parsed);
        return page.ok ? page.value.resourceVersion !== '' : page.rejectedItems >= 0;
      }),
    );
  });
});

describe('LineSplitter', () => {
  it('gives the same lines however the bytes are cut, skipping empty ones', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme', maxLength: 20 }).map((s) => s.replaceAll('\n', ' ')), { maxLength: 8 }), fc.array(fc.nat(30), { maxLength: 6 }), (lines, cuts) => {
        const bytes = Buffer.from(lines.map((l) => `${l}\n`).join(''));
        const splitter = new LineSplitter(1024);
        const out: string[] = [];
        let at = 0;
        for (const cut of [...cuts.map((c) => Math.min(bytes.length, at + c)), bytes.length]) {
          out.push(...splitter.push(bytes.subarray(at, Math.max(at, cut))));
          at = Math.max(at, cut);
        }
        expect(splitter.rest()).toBeNull();
        expect(out).toEqual(lines.filter((l) => l.trim() !== ''));
      }),
    );
  });

  it('refuses a line longer than its bound instead of holding it', () => {
    const splitter = new LineSplitter(10);
    expect(splitter.push(Buffer.from('0123456789\nabc'))).toEqual(['0123456789']);
    expect(() => splitter.push(Buffer.from('defghijk'))).toThrow(/longer than 10 bytes/);
  });

  it('hands back a last line without its newline', () => {
    const splitter = new LineSplitter();
    expect(splitter.push(Buffer.from('{"a":1}\n{"b"'))).toEqual(['{"a":1}']);
    expect(splitter.rest()).toBe('{"b"');
  });
});
