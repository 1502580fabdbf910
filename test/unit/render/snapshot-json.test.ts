import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../../src/cli/flags.js';
import { runIpvs } from '../../../src/cli/ipvs.js';
import type { ServicePortRef } from '../../../src/drift/types.js';
import { IpvsReader } from '../../../src/ipvs/reader.js';
import type { ForwardMethod, IpvsSnapshot, IpvsStats, RealServer, VirtualServer } from '../../../src/ipvs/types.js';
import { ReplaySocket, type NetlinkRecording } from '../../../src/netlink/recording.js';
import { stringifyJson } from '../../../src/render/json.js';
import { renderSnapshotJson, snapshotJsonPieces } from '../../../src/render/snapshot-json.js';
import { snapshotJson, type ServiceLookup } from '../../../src/render/snapshot.js';
import { rs, serviceRef, snapshot, vs } from '../../support/builders.js';
import { expectGolden } from '../../support/golden.js';
import { lookup, MAX_U64, renderSnapshot } from '../../support/render-snapshot.js';
import { REPO_ROOT } from '../../guest/harness.js';

const GOLDEN = 'test/fixtures/golden/render';

/** The straightforward path the piece writer must match byte for byte: objects, then JSON.stringify. */
const reference = (snap: IpvsSnapshot, options: Parameters<typeof snapshotJson>[1], pretty: boolean): string => stringifyJson(snapshotJson(snap, options), pretty ? 2 : 0) + '\n';

// Random tables: every family and protocol, fwmark services, tunnels, counters up to 2^64 − 1, and
// strings (Service names, schedulers, pe, unknown attributes) with quotes, backslashes, control
// characters, non-ASCII and lone surrogates.
const u64 = fc.bigInt({ min: 0n, max: MAX_U64 });
const oddString = fc.oneof(fc.string({ unit: 'binary', maxLength: 12 }), fc.constantFrom('', 'a"b', 'back\\slash', 'new\nline', '\u0000', 'ünï', '😀', '\ud800'));
const statsArb: fc.Arbitrary<IpvsStats> = fc.oneof(
  fc.record({ conns: u64, inPkts: u64, outPkts: u64, inBytes: u64, outBytes: u64, cps: u64, inPps: u64, outPps: u64, inBps: u64, outBps: u64 }),
  fc.record({ conns: u64, inPkts: u64, outPkts: u64, inBytes: u64, outBytes: u64 }).map((c) => ({ ...c, cps: 0n, inPps: 0n, outPps: 0n, inBps: 0n, outBps: 0n })),
  fc.constant({ conns: 0n, inPkts: 0n, outPkts: 0n, inBytes: 0n, outBytes: 0n, cps: 0n, inPps: 0n, outPps: 0n, inBps: 0n, outBps: 0n }),
);
const u32 = fc.integer({ min: 0, max: 2 ** 32 - 1 });
const rsArb: fc.Arbitrary<RealServer> = fc.record({
  address: fc.oneof(fc.ipV4(), fc.ipV6()),
  addressFamily: fc.constantFrom('inet' as const, 'inet6' as const),
  port: fc.integer({ min: 0, max: 65535 }),
  forward: fc.constantFrom<ForwardMethod>('masq', 'local', 'tunnel', 'route', 'bypass'),
  weight: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  upperThreshold: u32,
  lowerThreshold: u32,
  activeConns: u32,
  inactiveConns: u32,
  persistentConns: u32,
  tunnel: fc.option(fc.record({ type: fc.constantFrom('ipip' as const, 'gue' as const, 'gre' as const, 'type-7' as const), port: fc.integer({ min: 0, max: 65535 }), flags: fc.subarray(['csum', 'remcsum']) }), { nil: null }),
  stats: statsArb,
});
const identityArb = fc.oneof(
  fc.record({ protocol: fc.constantFrom('TCP' as const, 'UDP' as const, 'SCTP' as const), address: fc.oneof(fc.ipV4(), fc.ipV6()), port: fc.integer({ min: 0, max: 65535 }) }).map(({ protocol, address, port }) => {
    const family = address.includes(':') ? ('inet6' as const) : ('inet' as const);
    return { key: `${protocol}/${family === 'inet6' ? `[${address}]` : address}:${port}`, family, protocol, address, port, fwmark: null };
  }),
  fc.record({ fwmark: u32, family: fc.constantFrom('inet' as const, 'inet6' as const) }).map(({ fwmark, family }) => ({ key: `FWM/${fwmark}/${family}`, family, protocol: null, address: null, port: null, fwmark })),
);
const vsArb: fc.Arbitrary<VirtualServer> = fc.record({
  identity: identityArb,
  scheduler: fc.oneof(fc.constantFrom('rr', 'wrr', 'sh', 'mh', 'lc'), oddString),
  flagBits: fc.integer({ min: 0, max: 0x7f }),
  persistent: fc.boolean(),
  timeout: u32,
  netmask: fc.integer({ min: 0, max: 128 }),
  pe: fc.option(fc.oneof(fc.constant('sip'), oddString), { nil: null }),
  stats: statsArb,
  destinations: fc.array(rsArb, { maxLength: 4 }),
}).map(({ identity, ...rest }) => ({ ...identity, ...rest }));
const snapshotArb: fc.Arbitrary<IpvsSnapshot> = fc.record({
  readAt: fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2200-01-01T00:00:00Z'), noInvalidDate: true }),
  durationMs: fc.oneof(fc.double(), fc.nat()),
  info: fc.option(fc.record({ version: oddString, connTableSize: u32 }), { nil: null }),
  timeouts: fc.option(fc.record({ tcp: fc.option(u32, { nil: null }), tcpFin: fc.option(u32, { nil: null }), udp: fc.option(u32, { nil: null }) }), { nil: null }),
  services: fc.array(vsArb, { maxLength: 6 }),
  unknownAttributes: fc.oneof(fc.constant<string[]>([]), fc.array(oddString, { maxLength: 3 })),
});
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
