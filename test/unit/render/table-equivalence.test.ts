import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DriftReport, ServicePortRef, TrackedFinding } from '../../../src/drift/types.js';
import type { IpvsStats, RealServer, VirtualServer } from '../../../src/ipvs/types.js';
import { driftTableMarks } from '../../../src/render/drift-marks.js';
import { finishTableBytes, renderTable, renderTableBase, renderTableBytes, type TableOptions } from '../../../src/render/table.js';
import { hostPort } from '../../../src/util/ip.js';
import { rs, snapshot, vs } from '../../support/builders.js';
import { referenceMarks, referenceTable } from '../../support/table-reference.js';

/** Text that may end in white space (ASCII or not), hold non-ASCII, or be empty: what trimming and padding must get right. */
const text = fc.oneof(
  fc.constantFrom('', ' ', '<- weight-mismatch', '<- x  ', 'tab\t', 'nbsp\u00a0', 'ideographic\u3000', 'ünïcödé', '😀', '\ufeff'),
  fc.string({ unit: 'binary', maxLength: 12 }),
);
const counter = fc.oneof(fc.bigInt({ min: 0n, max: 1000n }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.constantFrom(2n ** 53n - 1n, 2n ** 53n, 2n ** 64n - 1n, -1n));
const stats: fc.Arbitrary<IpvsStats> = fc.record({ conns: counter, inPkts: counter, outPkts: counter, inBytes: counter, outBytes: counter, cps: counter, inPps: counter, outPps: counter, inBps: counter, outBps: counter });
const address = fc.oneof(fc.ipV4(), fc.ipV6(), fc.constantFrom('10.244.1.5', 'fd00:1234:5678:9abc:def0:1234:5678:9abc', '::ffff:10.0.0.1'));
const smallNumber = fc.oneof(fc.nat(99), fc.nat(), fc.constantFrom(2 ** 32 - 1, -1, 1.5, NaN));

const realServer: fc.Arbitrary<RealServer> = fc.record({
  address,
  addressFamily: fc.constantFrom('inet' as const, 'inet6' as const),
  port: fc.oneof(fc.nat(65535), fc.constantFrom(0, 80, 65535)),
  forward: fc.constantFrom('masq' as const, 'local' as const, 'tunnel' as const, 'route' as const, 'bypass' as const),
  weight: smallNumber,
  upperThreshold: fc.nat(),
  lowerThreshold: fc.nat(),
  activeConns: smallNumber,
  inactiveConns: smallNumber,
  persistentConns: fc.nat(),
  tunnel: fc.option(fc.record({ type: fc.constantFrom('ipip' as const, 'gue' as const, 'gre' as const), port: fc.oneof(fc.constant(0), fc.nat(65535)), flags: fc.constant([]) })),
  stats,
});

const virtualServer: fc.Arbitrary<VirtualServer> = fc
  .record({
    fwmark: fc.option(fc.nat()),
    family: fc.constantFrom('inet' as const, 'inet6' as const),
    protocol: fc.constantFrom('TCP' as const, 'UDP' as const, 'SCTP' as const),
    address,
    port: fc.nat(65535),
    scheduler: fc.oneof(fc.constantFrom('rr', 'wrr', 'sh', 'mh', 'lc'), text),
    flagBits: fc.nat(0x3f),
    persistent: fc.boolean(),
    timeout: fc.nat(),
    netmask: fc.nat(128),
    pe: fc.option(fc.oneof(fc.constant('sip'), text)),
    stats,
    destinations: fc.array(realServer, { maxLength: 4 }),
  })
  .map((v) => ({
    ...v,
    key: v.fwmark !== null ? `FWM/${v.fwmark}/${v.family}` : `${v.protocol}/${hostPort(v.address, v.port)}`,
    protocol: v.fwmark !== null ? null : v.protocol,
    address: v.fwmark !== null ? null : v.address,
    port: v.fwmark !== null ? null : v.port,
  }));

/** A table with Services, marks and missing real servers drawn for some of its rows, and maybe a Service filter. */
const annotated = fc.array(virtualServer, { maxLength: 6 }).chain((services) => {
  const rowKeys = services.flatMap((v) => [`${v.key}\u0000`, ...v.destinations.map((r) => `${v.key}\u0000${hostPort(r.address, r.port)}`)]);
  const keys = services.map((v) => v.key);
  const ref: fc.Arbitrary<ServicePortRef> = fc.record({ namespace: fc.constantFrom('default', 'kube-system', 'ünï'), name: fc.oneof(fc.constantFrom('web', 'dns'), text), port: fc.oneof(fc.constant(''), text) });
  const some = <T>(from: string[], value: fc.Arbitrary<T>): fc.Arbitrary<Map<string, T>> =>
    fc.array(fc.tuple(from.length > 0 ? fc.constantFrom(...from) : fc.constant('none'), value), { maxLength: 4 }).map((entries) => new Map(entries));
  return fc.record({
    services: fc.constant(services),
    refs: some(keys, ref),
    marks: some(rowKeys, text),
    missing: some(keys, fc.array(fc.oneof(fc.constantFrom('10.244.5.5:8080', '[fd00::5]:8080'), text), { maxLength: 3 })),
    missingMarks: fc.array(text, { maxLength: 2 }),
    service: fc.option(fc.constantFrom('default/web', 'kube-system/dns', 'ünï/web'), { nil: undefined }),
  });
});

/** The bytes a terminal or an HTTP client gets. */
const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');
/** Bytes as text of one character each, to compare exactly and fast; null stays null. */
const latin1 = (b: Uint8Array | null): string | null => (b === null ? null : Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1'));

describe('renderTable is byte for byte the table it was before it was made fast (issue 17)', () => {
  it('for any table, with or without Services, marks, missing real servers and a Service filter', () => {
    fc.assert(
      fc.property(annotated, ({ services, refs, marks, missing, missingMarks, service }) => {
        const options: TableOptions = {
          lookup: (key) => refs.get(key) ?? null,
          // The same answers for a missing real server's row each time: the first few drawn texts, then none.
          mark: (vsKey, rsKey) => marks.get(`${vsKey}\u0000${rsKey ?? ''}`) ?? (rsKey !== null && missing.get(vsKey)?.includes(rsKey) ? (missingMarks[rsKey.length % 3] ?? null) : null),
          missingRealServers: (vsKey) => missing.get(vsKey) ?? [],
          service,
        };
        const table = snapshot(services, { info: services.length % 2 === 0 ? { version: '1.2.1', connTableSize: 4096 } : null });
        expect(latin1(bytes(renderTable(table, options)))).toBe(latin1(bytes(referenceTable(table, options))));
        expect(latin1(bytes(renderTable(table)))).toBe(latin1(bytes(referenceTable(table))));
      }),
      { numRuns: 300 },
    );
  });

  it('when the notes outgrow the room measured for the lines (the text then spans several buffers)', () => {
    const table = snapshot([vs('TCP/10.96.0.1:443', [rs('10.0.0.1:80'), rs('10.0.0.2:80')]), vs('UDP/[fd00::10]:53', [rs('[fd00::1]:53')])]);
    for (const long of ['x'.repeat(5000), `${'ü'.repeat(3000)} `]) {
      const options: TableOptions = { mark: () => long, missingRealServers: () => ['10.0.0.9:80'] };
      expect(latin1(bytes(renderTable(table, options, long)))).toBe(latin1(bytes(referenceTable(table, options) + long)));
    }
  });

  it('with the marks of any drift report', () => {
    const kinds = ['weight-mismatch', 'missing-real-server', 'unexpected-real-server', 'scheduler-mismatch', 'module-missing'] as const;
    const tableAndReport = fc.array(virtualServer, { minLength: 1, maxLength: 5 }).chain((services) => {
      const vsKey = fc.oneof(fc.constantFrom(...services.map((v) => v.key)), fc.constant('TCP/10.97.0.1:80'), fc.constant(null));
      const rsKey = fc.oneof(fc.constantFrom(...services.flatMap((v) => v.destinations.map((r) => hostPort(r.address, r.port))), '10.250.0.1:8080'), fc.constant(null));
      const finding = fc.record({ kind: fc.constantFrom(...kinds), virtualServer: vsKey, realServer: rsKey, confirmed: fc.boolean(), explainedBy: fc.option(fc.constant('kube-proxy-stale' as const), { nil: undefined }) });
      return fc.tuple(fc.constant(services), fc.array(finding, { maxLength: 8 }));
    });
    fc.assert(
      fc.property(tableAndReport, ([services, drawn]) => {
        const findings = drawn.map(
          (f, i): TrackedFinding => ({
            ...f,
            severity: 'warning',
            subject: `${f.virtualServer ?? ''} -> ${f.realServer ?? ''} ${i}`,
            service: null,
            expected: null,
            actual: null,
            message: 'm',
            selfHealing: true,
            id: String(i),
            firstSeen: new Date(0),
          }),
        );
        if (findings.every((f) => f.explainedBy === undefined)) for (const f of findings) delete f.explainedBy;
        const report: DriftReport = { node: null, checkedAt: new Date(0), status: 'drift', reason: null, findings };
        const table = snapshot(services);
        const fast = driftTableMarks(report);
        const reference = referenceMarks(report);
        expect(latin1(bytes(renderTable(table, { mark: fast.mark, missingRealServers: fast.missingRealServers })))).toBe(latin1(bytes(referenceTable(table, reference))));
        // marksRealServers only spares the questions: the same table with it.
        expect(latin1(bytes(renderTable(table, fast)))).toBe(latin1(bytes(referenceTable(table, reference))));
        const widest = Math.max(0, ...table.services.flatMap((v) => fast.missingRealServers(v.key).map((m) => 5 + m.length)));
        const base = structuredClone(renderTableBase(table));
        const finished = finishTableBytes(base, table, fast, 'after\n');
        if (widest >= (base.widths[0] as number)) expect(finished).toBeNull();
        else expect(latin1(finished)).toBe(latin1(bytes(referenceTable(table, reference) + 'after\n')));
      }),
      { numRuns: 300 },
    );
  });

  describe('finished from the plain table another thread wrote (check, issue 17)', () => {
    it('is the annotated table byte for byte, or null when a missing real server widens the first column', () => {
      fc.assert(
        fc.property(annotated, text, ({ services, refs, marks, missing, missingMarks }, after) => {
          const options: TableOptions = {
            lookup: (key) => refs.get(key) ?? null,
            mark: (vsKey, rsKey) => marks.get(`${vsKey}\u0000${rsKey ?? ''}`) ?? (rsKey !== null && missing.get(vsKey)?.includes(rsKey) ? (missingMarks[rsKey.length % 3] ?? null) : null),
            missingRealServers: (vsKey) => missing.get(vsKey) ?? [],
          };
          const table = snapshot(services, { info: services.length % 2 === 0 ? { version: '1.2.1', connTableSize: 4096 } : null });
          const plain = renderTableBase(table);
          expect(latin1(plain.bytes)).toBe(latin1(renderTableBytes(table)));
          // As it arrives from the worker thread: plain arrays, no Buffer.
          const base = structuredClone(plain);
          const widest = Math.max(0, ...services.flatMap((v) => (missing.get(v.key) ?? []).map((m) => 5 + m.length)));
          const finished = finishTableBytes(base, table, options, after);
          if (widest >= (base.widths[0] as number)) expect(finished).toBeNull();
          else expect(latin1(finished)).toBe(latin1(renderTableBytes(table, options, after)));
          expect(latin1(finishTableBytes(base, table, {}, after))).toBe(latin1(renderTableBytes(table, {}, after)));
        }),
        { numRuns: 300 },
      );
    });

    it('refuses a base of another table, and a Service filter', () => {
      const one = snapshot([vs('TCP/10.96.0.1:443', [rs('10.0.0.1:80'), rs('10.0.0.2:80')])]);
      const other = snapshot([vs('TCP/10.96.0.1:443', [rs('10.0.0.1:80')]), vs('UDP/10.96.0.10:53', [])]);
      expect(finishTableBytes(renderTableBase(other), one)).toBeNull();
      expect(finishTableBytes(renderTableBase(one), snapshot([]))).toBeNull();
      expect(finishTableBytes(renderTableBase(one), one, { service: 'default/web' })).toBeNull();
      expect(latin1(finishTableBytes(renderTableBase(one), one))).toBe(latin1(renderTableBytes(one)));
    });

    it('when the notes outgrow the room measured for the table', () => {
      const table = snapshot([vs('TCP/10.96.0.1:443', [rs('10.0.0.1:80'), rs('10.0.0.2:80')]), vs('UDP/[fd00::10]:53', [rs('[fd00::1]:53')])]);
      for (const long of ['x'.repeat(70_000), `${'ü'.repeat(30_000)} `]) {
        const options: TableOptions = { lookup: () => ({ namespace: 'default', name: long, port: 'dns' }), mark: () => long, missingRealServers: () => ['10.0.0.9:80'] };
        expect(latin1(finishTableBytes(renderTableBase(table), table, options, long))).toBe(latin1(renderTableBytes(table, options, long)));
      }
    });
  });
});
