import { describe, expect, it } from 'vitest';
import { stringifyJson } from '../../../src/render/json.js';
import { serviceFlagNames } from '../../../src/ipvs/flags.js';
import { snapshotJson, virtualServerJson } from '../../../src/render/snapshot.js';
import { rs, snapshot, vs } from '../../support/builders.js';
import { expectGolden } from '../../support/golden.js';
import { lookup, renderSnapshot } from '../../support/render-snapshot.js';

const GOLDEN = 'test/fixtures/golden/render';

describe('serviceFlagNames', () => {
  it.each<[number, string, string[]]>([
    [0x0, 'rr', []],
    [0x2, 'rr', ['hashed']],
    [0x1 | 0x2, 'rr', ['persistent', 'hashed']],
    [0x4, 'rr', ['one-packet']],
    [0x8, 'sh', ['sh-fallback']],
    [0x10, 'sh', ['sh-port']],
    [0x8 | 0x10, 'mh', ['mh-fallback', 'mh-port']],
    [0x8 | 0x10 | 0x20, 'rr', ['flag-1', 'flag-2', 'flag-3']],
    [0x20, 'sh', ['flag-3']],
    [0x3f, 'mh', ['persistent', 'hashed', 'one-packet', 'mh-fallback', 'mh-port', 'flag-3']],
    [0x40 | 0x2, 'rr', ['hashed']],
  ])('bits 0x%s with %s → %j', (flagBits, scheduler, names) => {
    expect(serviceFlagNames({ flagBits, scheduler })).toEqual(names);
  });
});

describe('snapshotJson', () => {
  it('writes the snapshot schema of docs/contract.md §4 (golden)', async () => {
    await expectGolden(`${GOLDEN}/snapshot.json`, stringifyJson(snapshotJson(renderSnapshot(), { node: 'worker-1', lookup })) + '\n');
  });

  it('writes the keys in the order of docs/contract.md §4', () => {
    const json = snapshotJson(renderSnapshot(), { node: 'worker-1', lookup });
    const keys = Object.keys(json).filter((k) => ['node', 'readAt', 'durationMs', 'services'].includes(k));
    expect(keys).toEqual(['node', 'readAt', 'durationMs', 'services']);
    const svc = (json.services as Record<string, unknown>[])[0] ?? {};
    expect(Object.keys(svc)).toEqual(['key', 'family', 'protocol', 'address', 'port', 'fwmark', 'scheduler', 'persistent', 'timeout', 'netmask', 'flags', 'pe', 'stats', 'service', 'destinations']);
    const dest = (svc.destinations as Record<string, unknown>[])[0] ?? {};
    expect(Object.keys(dest).slice(0, 10)).toEqual(['address', 'port', 'forward', 'weight', 'upperThreshold', 'lowerThreshold', 'activeConns', 'inactiveConns', 'persistentConns', 'stats']);
    expect(Object.keys(dest.stats as object)).toEqual(['conns', 'inPkts', 'outPkts', 'inBytes', 'outBytes', 'cps', 'inPps', 'outPps', 'inBps', 'outBps']);
  });

  it('writes 64-bit counters exactly, including 18446744073709551615', () => {
    const text = stringifyJson(snapshotJson(renderSnapshot(), { node: null }));
    expect(text).toContain('"conns": 18446744073709551615');
    expect(text).toContain('"inPkts": 9007199254740993');
    expect(text).not.toMatch(/e\+/);
  });

  it('names the Service through the lookup, null when unknown', () => {
    const json = snapshotJson(renderSnapshot(), { node: null, lookup });
    const services = json.services as { key: string; service: unknown }[];
    expect(services.find((s) => s.key === 'TCP/10.96.0.1:443')?.service).toEqual({ namespace: 'default', name: 'kubernetes', port: 'https' });
    expect(services.find((s) => s.key === 'FWM/7/inet')?.service).toBeNull();
    expect((snapshotJson(renderSnapshot(), { node: null }).services as { service: unknown }[]).every((s) => s.service === null)).toBe(true);
  });

  it.each<[string, string[]]>([
    ['kube-system/kube-dns', ['UDP/10.96.0.10:53']],
    ['kube-system/syslog', ['UDP/10.96.0.40:514']],
    ['default/kubernetes', ['TCP/10.96.0.1:443']],
    ['default/nope', []],
  ])('?service=%s keeps only that Service', (service, keys) => {
    const json = snapshotJson(renderSnapshot(), { node: null, lookup, service });
    expect((json.services as { key: string }[]).map((s) => s.key)).toEqual(keys);
  });

  it('?service= without a lookup matches nothing', () => {
    expect(snapshotJson(renderSnapshot(), { node: null, service: 'default/kubernetes' }).services).toEqual([]);
  });

  it('writes unknownAttributes only when there are some', () => {
    expect('unknownAttributes' in snapshotJson(snapshot([]), { node: null })).toBe(false);
    const json = snapshotJson(snapshot([], { unknownAttributes: ['dest:16', 'service:13'] }), { node: null });
    expect(json.unknownAttributes).toEqual(['dest:16', 'service:13']);
    expect(Object.keys(json).at(-1)).toBe('unknownAttributes');
  });

  it('an empty table is a valid snapshot (golden)', async () => {
    await expectGolden(`${GOLDEN}/snapshot-empty.json`, stringifyJson(snapshotJson(snapshot([], { info: null }), { node: null })) + '\n');
  });

  it('virtualServerJson of a fwmark service has null protocol, address and port', () => {
    expect(virtualServerJson(vs('FWM/4097/inet6', [rs('[fd00::1]:0')]))).toMatchObject({ key: 'FWM/4097/inet6', family: 'inet6', protocol: null, address: null, port: null, fwmark: 4097 });
  });
});
