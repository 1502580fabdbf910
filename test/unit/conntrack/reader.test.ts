import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeConntrackDumpRequest, tupleText } from '../../../src/conntrack/codec.js';
import { readUdpConntrack } from '../../../src/conntrack/reader.js';
import type { UdpConntrackEntry } from '../../../src/conntrack/types.js';
import { isSentinelError } from '../../../src/errors/index.js';
import { ERRNO } from '../../../src/netlink/errors.js';
import { ReplaySocket, type NetlinkRecording } from '../../../src/netlink/recording.js';
import { ScriptedSocket, seqOf } from '../../support/scripted-netlink.js';
import { concat, doneMessage, entryMessage, errorMessage, tcpFlow, udpFlow, type EntrySpec } from './messages.js';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'conntrack');
/** scripts/record-conntrack-fixtures.ts RECORDED_SEQ. */
const RECORDED_SEQ = 4242;
const recording = (name: string): NetlinkRecording => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as NetlinkRecording;

/** `conntrack -L -o extended` lines of the recorded state, as entries: the oracle. */
function oracle(): string[] {
  return readFileSync(join(FIXTURES, 'conntrack-L.txt'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line) => {
      const family = line.startsWith('ipv6') ? 'inet6' : 'inet';
      const kv = [...line.matchAll(/(src|dst|sport|dport)=(\S+)/g)].map((m) => m[2]);
      if (kv.length !== 8) throw new Error(`unexpected oracle line: ${line}`);
      return `${family} udp src=${kv[0]} dst=${kv[1]} sport=${kv[2]} dport=${kv[3]} | src=${kv[4]} dst=${kv[5]} sport=${kv[6]} dport=${kv[7]}`;
    })
    .sort();
}

const text = (e: UdpConntrackEntry): string => `${e.family} udp ${tupleText(e.original)} | ${tupleText(e.reply)}`;

describe('readUdpConntrack on dumps recorded from the kernel', () => {
  it.each([
    ['udp-filtered.json', false, true, 0],
    ['plain.json', true, false, 41],
  ])('%s gives exactly the UDP entries conntrack -L lists', (name, plain, kernelFiltered, skipped) => {
    // One replay across the reader's sockets: each family's dump is the next exchange.
    const socket = new ReplaySocket(recording(name));
    const read = readUdpConntrack({ open: () => socket, seq: RECORDED_SEQ, plain });
    expect(read.entries.map(text).sort()).toEqual(oracle());
    expect(read.stats).toMatchObject({ kernelFiltered, skipped, scanned: read.entries.length + skipped, attempts: 2 });
    expect(read.entries.every((e) => e.timeout !== null && e.timeout > 0 && e.zone === 0)).toBe(true);
  });
});

describe('encodeConntrackDumpRequest', () => {
  it('asks for one family, and for UDP with CTA_FILTER on the original tuple', () => {
    const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
    const plain = encodeConntrackDumpRequest({ seq: 7, pid: 0, family: 'inet6', udpOnly: false });
    // nlmsghdr: 20 bytes, type 0x0101 (CTNETLINK << 8 | CT_GET), flags REQUEST|DUMP; nfgenmsg family 10.
    expect(hex(plain)).toBe('14000000010101030700000000000000' + '0a000000');
    const udp = encodeConntrackDumpRequest({ seq: 7, pid: 0, family: 'inet', udpOnly: true });
    expect(hex(udp.subarray(20))).toBe(
      // CTA_TUPLE_ORIG { CTA_TUPLE_PROTO { CTA_PROTO_NUM 17 } }, CTA_FILTER { ORIG_FLAGS 1<<3, REPLY_FLAGS 0 }
      '1000' + '0180' + '0c00' + '0280' + '0500' + '0100' + '11000000' + '1400' + '1980' + '0800' + '0100' + '08000000' + '0800' + '0200' + '00000000',
    );
  });
});

/** A socket answering each dump request with `entries` of the request's family in datagrams of `perDatagram`. */
function kernel(entries: readonly EntrySpec[], opts: { refuseFilter?: number; perDatagram?: number; ignoreFilter?: boolean } = {}): ScriptedSocket {
  return new ScriptedSocket((request) => {
    const seq = seqOf(request);
    const family = request[16] === 10 ? 'inet6' : 'inet';
    const filtered = request.byteLength > 20;
    if (filtered && opts.refuseFilter !== undefined) return [errorMessage(opts.refuseFilter, seq, 4242)];
    const mine = entries.filter((e) => e.family === family && (!filtered || opts.ignoreFilter === true || e.protocol === 17));
    const per = opts.perDatagram ?? 50;
    const datagrams: Uint8Array[] = [];
    for (let i = 0; i < mine.length; i += per) datagrams.push(concat(mine.slice(i, i + per).map((e) => entryMessage(e, seq, 4242))));
    datagrams.push(doneMessage(seq, 4242));
    return datagrams;
  });
}

const DNS = udpFlow('10.0.2.15', 40000, '10.96.0.10', 53, '10.244.1.7', 53);
const DNS6 = udpFlow('fd00::1', 40000, 'fd00:96::a', 53, 'fd00:244::2:9', 53, 'inet6');

describe('readUdpConntrack against a scripted kernel', () => {
  it('keeps UDP entries of both families and skips every other protocol unread', () => {
    const socket = kernel([DNS, DNS6, ...Array.from({ length: 300 }, (_, i) => tcpFlow(i))], { ignoreFilter: true });
    const read = readUdpConntrack({ open: () => socket, seq: 1 });
    expect(read.entries.map(text)).toEqual([
      'inet udp src=10.0.2.15 dst=10.96.0.10 sport=40000 dport=53 | src=10.244.1.7 dst=10.0.2.15 sport=53 dport=40000',
      'inet6 udp src=fd00::1 dst=fd00:96::a sport=40000 dport=53 | src=fd00:244::2:9 dst=fd00::1 sport=53 dport=40000',
    ]);
    // A kernel before 5.6 ignores CTA_FILTER: what it sent says so.
    expect(read.stats).toMatchObject({ skipped: 300, scanned: 302, kernelFiltered: false });
  });

  it.each([
    ['EINVAL', ERRNO.EINVAL],
    ['EOPNOTSUPP', ERRNO.EOPNOTSUPP],
  ])('asks again without the filter when the kernel refuses it (%s)', (_, errno) => {
    const socket = kernel([DNS, tcpFlow(1)], { refuseFilter: errno });
    const read = readUdpConntrack({ open: () => socket, seq: 1, families: ['inet'] });
    expect(read.entries.map((e) => e.original.dst)).toEqual(['10.96.0.10']);
    expect(read.stats).toMatchObject({ kernelFiltered: false, skipped: 1 });
    expect(socket.sent.map((r) => r.byteLength > 20)).toEqual([true, false]);
  });

  it('names a refusal for lack of CAP_NET_ADMIN with its own code', () => {
    const socket = kernel([DNS], { refuseFilter: ERRNO.EPERM });
    expect(() => readUdpConntrack({ open: () => socket, seq: 1 })).toThrow(expect.objectContaining({ code: 'CONNTRACK_PERMISSION_DENIED' }));
  });

  it.each<[string, Parameters<typeof readUdpConntrack>[0], string]>([
    ['entries of any protocol', { limits: { maxScanned: 100 } }, 'past 100 entries'],
    ['UDP entries kept', { limits: { maxEntries: 1 } }, 'past 1 UDP entries'],
    ['bytes', { limits: { maxBytes: 10_000 } }, 'past 10000 bytes'],
    ['datagrams', { limits: { maxDatagrams: 3 } }, 'past 3 datagrams'],
  ])('abandons a dump past its bound on %s', (_, options, message) => {
    const socket = kernel([DNS, DNS, ...Array.from({ length: 1000 }, (_, i) => tcpFlow(i))], { ignoreFilter: true, perDatagram: 20 });
    let caught: unknown;
    try {
      readUdpConntrack({ open: () => socket, seq: 1, ...options });
    } catch (err) {
      caught = err;
    }
    expect(isSentinelError(caught, 'NETLINK_DUMP_TOO_LARGE')).toBe(true);
    expect((caught as Error).message).toContain(message);
  });

  it('abandons a dump that takes longer than its time bound (a clock that advances 1 ms per look)', () => {
    const socket = kernel(Array.from({ length: 5000 }, (_, i) => tcpFlow(i)), { ignoreFilter: true });
    let t = 0;
    expect(() => readUdpConntrack({ open: () => socket, seq: 1, now: () => (t += 1), limits: { maxMs: 5 } })).toThrow(/past 5 ms/);
  });
});
