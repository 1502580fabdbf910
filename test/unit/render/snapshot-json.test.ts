import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../../src/cli/flags.js';
import { runIpvs } from '../../../src/cli/ipvs.js';
import type { ServicePortRef } from '../../../src/drift/types.js';
import { IpvsReader } from '../../../src/ipvs/reader.js';
import type { IpvsSnapshot } from '../../../src/ipvs/types.js';
import { ReplaySocket, type NetlinkRecording } from '../../../src/netlink/recording.js';
import { stringifyJson } from '../../../src/render/json.js';
import { renderSnapshotJson, snapshotJsonPieces } from '../../../src/render/snapshot-json.js';
import { snapshotJson, type ServiceLookup } from '../../../src/render/snapshot.js';
import { rs, serviceRef, snapshot, vs } from '../../support/builders.js';
import { expectGolden } from '../../support/golden.js';
import { lookup, renderSnapshot } from '../../support/render-snapshot.js';
import { REPO_ROOT } from '../../guest/harness.js';
import { oddString, snapshotArb } from '../../support/ipvs-arbitraries.js';

const GOLDEN = 'test/fixtures/golden/render';

/** The straightforward path the piece writer must match byte for byte: objects, then JSON.stringify. */
const reference = (snap: IpvsSnapshot, options: Parameters<typeof snapshotJson>[1], pretty: boolean): string => stringifyJson(snapshotJson(snap, options), pretty ? 2 : 0) + '\n';

const refArb: fc.Arbitrary<ServicePortRef | null> = fc.option(fc.record({ namespace: oddString, name: oddString, port: oddString }), { nil: null });

describe('snapshotJsonPieces', () => {
  it('writes the golden snapshot byte for byte, and the same document on one line', async () => {
    const snap = renderSnapshot();
    await expectGolden(`${GOLDEN}/snapshot.json`, renderSnapshotJson(snap, { node: 'worker-1', lookup, pretty: true }));
    const compact = renderSnapshotJson(snap, { node: 'worker-1', lookup, pretty: false });
    expect(compact).toBe(reference(snap, { node: 'worker-1', lookup }, false));
    expect(compact.indexOf('\n')).toBe(compact.length - 1);
    expect(compact).toContain('"conns":18446744073709551615');
    expect(compact).toContain('"inPkts":9007199254740993');
  });

  it('an empty table, with unknown attributes (golden and compact)', async () => {
    await expectGolden(`${GOLDEN}/snapshot-empty.json`, renderSnapshotJson(snapshot([], { info: null }), { node: null, pretty: true }));
    const withUnknown = snapshot([], { unknownAttributes: ['dest:16', 'service:13'] });
    expect(renderSnapshotJson(withUnknown, { node: null, pretty: false })).toBe(
      '{"node":null,"readAt":"2025-01-01T00:00:00.000Z","durationMs":1,"ipvs":{"info":{"version":"1.2.1","connTableSize":4096},"timeouts":null},"services":[],"unknownAttributes":["dest:16","service:13"]}\n',
    );
  });

  it.each(['kube-system/kube-dns', 'default/kubernetes', 'default/nope'])('?service=%s keeps what snapshotJson keeps', (service) => {
    for (const pretty of [true, false]) expect(renderSnapshotJson(renderSnapshot(), { node: null, lookup, service, pretty })).toBe(reference(renderSnapshot(), { node: null, lookup, service }, pretty));
  });

  it('escapes odd Service names, schedulers and pe exactly as JSON.stringify does', () => {
    const odd: ServicePortRef = { namespace: 'ns"\\', name: 'näme\n\u0001', port: '😀\ud800' };
    const snap = snapshot([vs('TCP/10.96.0.1:443', [rs('10.0.0.1:80', { forward: 'tunnel', tunnel: { type: 'gue', port: 6080, flags: ['csum'] } })], { scheduler: 'we"ird', pe: 'p\\e' })]);
    const oddLookup: ServiceLookup = () => odd;
    for (const pretty of [true, false]) {
      const text = renderSnapshotJson(snap, { node: 'nöde "1"', lookup: oddLookup, pretty });
      expect(text).toBe(reference(snap, { node: 'nöde "1"', lookup: oddLookup }, pretty));
      expect((JSON.parse(text) as { services: { service: unknown }[] }).services[0]?.service).toEqual(odd);
    }
  });

  it('matches snapshotJson + stringifyJson on random tables, indented or not, at any piece size', () => {
    fc.assert(
      fc.property(snapshotArb, fc.array(refArb, { maxLength: 6 }), fc.option(fc.nat({ max: 6 }), { nil: undefined }), fc.boolean(), fc.integer({ min: 1, max: 300 }), fc.option(oddString, { nil: null }), (snap, refs, pick, pretty, pieceBytes, node) => {
        const byKey = new Map(snap.services.map((s, i) => [s.key, refs[i] ?? null]));
        const lookupRandom: ServiceLookup = (key) => byKey.get(key) ?? null;
        const chosen = pick === undefined ? undefined : refs[pick];
        const service = pick === undefined ? undefined : chosen ? `${chosen.namespace}/${chosen.name}` : 'default/none';
        const pieces = [...snapshotJsonPieces(snap, { node, lookup: lookupRandom, service, pretty, pieceBytes })];
        expect(Buffer.concat(pieces).toString('utf8')).toBe(reference(snap, { node, lookup: lookupRandom, service }, pretty));
      }),
      { numRuns: 300 },
    );
  });

  it('is lazy: nothing is looked up before the first piece is asked for, and each answer is looked up once', () => {
    let lookups = 0;
    const counting: ServiceLookup = (key) => {
      lookups++;
      return lookup(key);
    };
    const pieces = snapshotJsonPieces(renderSnapshot(), { node: null, lookup: counting, pretty: true });
    expect(lookups).toBe(0);
    pieces.next();
    expect(lookups).toBe(renderSnapshot().services.length);
    Array.from(pieces);
    expect(lookups).toBe(renderSnapshot().services.length);
  });

  it('hands a large table out in many pieces of about pieceBytes', () => {
    const many = snapshot(Array.from({ length: 300 }, (_, i) => vs(`TCP/10.96.${i >> 8}.${i & 255}:80`, [rs(`10.244.0.${i & 255}:8080`)])));
    const pieces = [...snapshotJsonPieces(many, { node: null, lookup: () => serviceRef('default/web:http'), pretty: false, pieceBytes: 4096 })];
    expect(pieces.length).toBeGreaterThan(10);
    expect(pieces.slice(0, -1).every((p) => p.length > 3000 && p.length <= 4096)).toBe(true);
    expect(Buffer.concat(pieces).toString()).toBe(reference(many, { node: null, lookup: () => serviceRef('default/web:http') }, false));
  });
});

describe('ipvs --output json', () => {
  it.each(['empty', 'wide', 'many-services'])('writes the golden snapshot of the recorded kernel replies %s', async (name) => {
    const recording = JSON.parse(readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'netlink', `${name}.json`), 'utf8')) as NetlinkRecording;
    const reader = new IpvsReader({ open: () => new ReplaySocket(recording), maxAttempts: 1, now: () => new Date('2026-11-21T00:00:00Z'), monotonicMs: () => 0 });
    let stdout = '';
    const io = { stdout: (text: string) => void (stdout += text), stderr: () => undefined, env: {} };
    const { options } = parseCommandLine(['ipvs', '--output', 'json', '--node-name', 'node-a'], {});
    expect(await runIpvs(options, io, reader)).toBe(0);
    await expectGolden(`test/fixtures/golden/snapshot/${name}.json`, stdout);
  });
});
