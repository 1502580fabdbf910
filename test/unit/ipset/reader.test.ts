/**
 * The ipset reader over recorded kernel exchanges and over scripted sockets: what it returns, how it
 * turns the kernel's refusals into coded errors, when it dumps again, and where it stops.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ipsetEntry, ipsetEntryText } from '../../../src/ipset/entry.js';
import { readIpset, readIpsets } from '../../../src/ipset/reader.js';
import type { IpSet } from '../../../src/ipset/types.js';
import { ERRNO, NetlinkError } from '../../../src/netlink/errors.js';
import { NLM_F_DUMP_INTR, NLM_F_MULTI } from '../../../src/netlink/message.js';
import { ReplaySocket, type NetlinkRecording } from '../../../src/netlink/recording.js';
import { REPO_ROOT } from '../../guest/harness.js';
import { expectSentinelError } from '../../support/errors.js';
import { datagramOf, doneMessage, errorMessage, ipsetDumpDatagrams, ipsetDumpMessages } from '../../support/ipset-messages.js';
import { parseIpsetSave } from '../../support/ipset-save.js';
import { ScriptedSocket, seqOf } from '../../support/scripted-netlink.js';

const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'ipset');
const load = (name: string): NetlinkRecording => JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8')) as NetlinkRecording;

const SETS: IpSet[] = [
  {
    name: 'KUBE-CLUSTER-IP',
    type: 'hash:ip,port',
    family: 'inet',
    revision: 7,
    header: { hashSize: 1024, maxElem: 65536, references: 3, elements: 300, memSize: 9000 },
    entriesListed: true,
    entries: Array.from({ length: 300 }, (_, i) => ipsetEntry({ ip: `10.96.${i >> 8}.${i & 0xff}`, protocol: 'tcp', port: 443 })),
  },
  {
    name: 'KUBE-NODE-PORT-TCP',
    type: 'bitmap:port',
    family: null,
    revision: 3,
    header: { references: 1, elements: 1, memSize: 8264, portRange: { from: 0, to: 65535 } },
    entriesListed: true,
    entries: [ipsetEntry({ port: 30080 })],
  },
];

/** Answers every list request with SETS, several messages per datagram, in the socket's one buffer. */
const answerSets = (request: Uint8Array): Uint8Array[] => ipsetDumpDatagrams(SETS, { seq: seqOf(request), pid: 4242, perMessage: 64, perDatagram: 3 });

describe('readIpsets over the recorded kernel exchanges', () => {
  it('reads every set, then headers only, then one set, then a missing set as null', () => {
    const socket = new ReplaySocket(load('kube-proxy'));
    const open = (): ReplaySocket => socket;
    const all = readIpsets({ open, seq: 1000 });
    const oracle = parseIpsetSave(readFileSync(join(FIXTURES, 'kube-proxy.save'), 'utf8'));
    expect(new Map(all.sets.map((s) => [s.name, { type: s.type, family: s.family, members: s.entries.map(ipsetEntryText).sort() }]))).toEqual(oracle);
    expect(all.stats).toEqual({ datagrams: 35, bytes: load('kube-proxy').exchanges[0]?.replies.reduce((n, r) => n + r.length / 2, 0), attempts: 1 });

    const headers = readIpsets({ open, seq: 2000, headersOnly: true });
    expect(headers.sets.map((s) => [s.name, s.header.elements])).toEqual(all.sets.map((s) => [s.name, s.entries.length]));
    expect(headers.sets.every((s) => !s.entriesListed && s.entries.length === 0)).toBe(true);

    const one = readIpset('KUBE-CLUSTER-IP', { open, seq: 3000 });
    expect(one).toEqual({ ...all.sets.find((s) => s.name === 'KUBE-CLUSTER-IP'), unknownAttributes: [], stats: { datagrams: 2, bytes: 392, attempts: 1 } });

    expect(readIpset('KUBE-MISSING', { open, seq: 4000 })).toBeNull();
    expect(socket.closed).toBe(true);
  });

  it('merges the large sets continued over several messages', () => {
    const read = readIpsets({ open: () => new ReplaySocket(load('large')), seq: 5000 });
    expect(read.sets.map((s) => [s.name, s.entries.length])).toEqual([
      ['KUBE-CLUSTER-IP', 1200],
      ['KUBE-6-LOOP-BACK', 500],
    ]);
    expect(read.stats.datagrams).toBe(6);
  });
});

describe('readIpsets over a scripted socket', () => {
  it('decodes each datagram while it is in the reused receive buffer', () => {
    const socket = new ScriptedSocket(answerSets);
    const read = readIpsets({ open: () => socket, seq: 77 });
    expect(read.sets).toEqual(SETS);
    expect(read.stats.datagrams).toBe(3);
    expect(socket.closed).toBe(1);
  });

  it('skips replies of another sequence or port, and NLMSG_NOOP', () => {
    const socket = new ScriptedSocket((request) => {
      const seq = seqOf(request);
      const stale = ipsetDumpMessages([{ ...SETS[1], name: 'STALE' } as IpSet], { seq: seq - 1, pid: 4242 });
      const foreign = ipsetDumpMessages([{ ...SETS[1], name: 'FOREIGN' } as IpSet], { seq, pid: 99 });
      const noop = doneMessage(seq, 4242).map((b, i) => (i === 4 ? 1 : b));
      return [datagramOf([...stale, doneMessage(seq - 1, 4242)]), datagramOf([...foreign, noop]), ...answerSets(request)];
    });
    expect(readIpsets({ open: () => socket, seq: 5 }).sets.map((s) => s.name)).toEqual(['KUBE-CLUSTER-IP', 'KUBE-NODE-PORT-TCP']);
  });

  it.each([
    [ERRNO.EPERM, 'IPSET_PERMISSION_DENIED', /CAP_NET_ADMIN/],
    [4097, 'NETLINK_PROTOCOL', /does not speak ipset protocol 6 \(IPSET_ERR_PROTOCOL\)/],
    [71, 'NETLINK_PROTOCOL', /does not speak ipset protocol 6 \(EPROTO\)/],
    [ERRNO.EINVAL, 'NETLINK_PROTOCOL', /no ipset subsystem/],
    [ERRNO.ENOENT, 'NETLINK_PROTOCOL', /does not exist/],
    [ERRNO.EOPNOTSUPP, 'NETLINK_PROTOCOL', /errno 95/],
  ] as const)('turns NLMSG_ERROR %i into %s, without retrying', (errno, code, text) => {
    const socket = new ScriptedSocket((request) => [errorMessage(errno, seqOf(request), 4242)]);
    const err = expectSentinelError(() => readIpsets({ open: () => socket }), code, text);
    expect((err as NetlinkError).errno).toBe(errno);
    expect(socket.sent).toHaveLength(1);
    expect(socket.closed).toBe(1);
  });

  it('dumps again on a fresh socket when the dump was interrupted or a datagram was dropped', () => {
    const sockets: ScriptedSocket[] = [];
    const open = (): ScriptedSocket => {
      const attempt = sockets.length + 1;
      const socket = new ScriptedSocket((request) => {
        if (attempt === 1) return [new NetlinkError('NETLINK_IO', 'receive netlink reply', 'recv failed: ENOBUFS', { errno: ERRNO.ENOBUFS })];
        const datagrams = answerSets(request);
        if (attempt === 2) for (const d of datagrams) new DataView(d.buffer, d.byteOffset).setUint16(6, NLM_F_MULTI | NLM_F_DUMP_INTR, true);
        return datagrams;
      });
      sockets.push(socket);
      return socket;
    };
    const read = readIpsets({ open, seq: 10 });
    expect(read.sets).toEqual(SETS);
    expect(read.stats.attempts).toBe(3);
    expect(sockets.map((s) => [seqOf(s.sent[0] ?? new Uint8Array(12)), s.closed])).toEqual([
      [10, 1],
      [11, 1],
      [12, 1],
    ]);
  });

  it('gives up after three interrupted dumps', () => {
    const open = (): ScriptedSocket =>
      new ScriptedSocket((request) => {
        const datagrams = answerSets(request);
        for (const d of datagrams) new DataView(d.buffer, d.byteOffset).setUint16(6, NLM_F_MULTI | NLM_F_DUMP_INTR, true);
        return datagrams;
      });
    expectSentinelError(() => readIpsets({ open }), 'NETLINK_PROTOCOL', /no complete dump after 3 attempts: .*NLM_F_DUMP_INTR/);
  });

  it('does not retry a failure that is not transient', () => {
    let opened = 0;
    const open = (): ScriptedSocket => {
      opened++;
      return new ScriptedSocket(() => [new NetlinkError('NETLINK_IO', 'receive netlink reply', 'the kernel closed the netlink socket', {})]);
    };
    expectSentinelError(() => readIpsets({ open }), 'NETLINK_IO', /closed/);
    expect(opened).toBe(1);
  });

  it.each([
    [{ maxEntries: 300 }, /300 entries/],
    [{ maxBytes: 1000 }, /1000 bytes/],
    [{ maxDatagrams: 2 }, /2 datagrams/],
  ])('abandons a dump past %o with NETLINK_DUMP_TOO_LARGE and closes the socket', (limits, text) => {
    const socket = new ScriptedSocket(answerSets);
    expectSentinelError(() => readIpsets({ open: () => socket, limits }), 'NETLINK_DUMP_TOO_LARGE', text);
    expect(socket.closed).toBe(1);
  });

  it('reads a dump exactly at its bounds', () => {
    const bytes = answerSets(new Uint8Array(16)).reduce((n, d) => n + d.byteLength, 0);
    const read = readIpsets({ open: () => new ScriptedSocket(answerSets), limits: { maxEntries: 301, maxBytes: bytes, maxDatagrams: 3 } });
    expect(read.sets).toEqual(SETS);
  });

  it('asks for one set by name with the request ipset sends, and says so when the kernel answers with another', () => {
    const socket = new ScriptedSocket(answerSets);
    expectSentinelError(() => readIpset('KUBE-LOOP-BACK', { open: () => socket }), 'NETLINK_PROTOCOL', /answered the list of set KUBE-LOOP-BACK with 2 other set/);
    expect(Buffer.from(socket.sent[0] ?? []).toString('latin1')).toContain('KUBE-LOOP-BACK\0');
  });
});
