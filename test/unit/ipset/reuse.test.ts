/**
 * What consecutive reads of one set share (src/ipset/reuse.ts): a set the kernel lists byte for
 * byte as before is answered by the last decode; any changed byte but the sequence number and port
 * id is decoded afresh; what is kept is bounded. Over scripted sockets that answer as the kernel.
 */
import { describe, expect, it } from 'vitest';
import { diffIpset } from '../../../src/checks/ipsets.js';
import type { DesiredIpset } from '../../../src/desired/types.js';
import { ipsetEntry, ipsetEntryText } from '../../../src/ipset/entry.js';
import { readIpset } from '../../../src/ipset/reader.js';
import { IpsetReuse, MessageRecording } from '../../../src/ipset/reuse.js';
import type { IpSet, IpsetDump } from '../../../src/ipset/types.js';
import { ERRNO } from '../../../src/netlink/errors.js';
import { errorMessage, ipsetDumpDatagrams } from '../../support/ipset-messages.js';
import { ScriptedSocket, seqOf } from '../../support/scripted-netlink.js';

function clusterIpSet(members: number, references = 3): IpSet {
  return {
    name: 'KUBE-CLUSTER-IP',
    type: 'hash:ip,port',
    family: 'inet',
    revision: 7,
    header: { hashSize: 1024, maxElem: 65536, references, elements: members, memSize: 9000 },
    entriesListed: true,
    entries: Array.from({ length: members }, (_, i) => ipsetEntry({ ip: `10.96.${i >> 8}.${i & 0xff}`, protocol: 'tcp', port: 443 })),
  };
}

/** A socket answering every list request with `current()`, several messages per datagram, under a pid of its own per socket. */
function kernel(current: () => IpSet | null): { open: () => ScriptedSocket; opened: () => number } {
  let opened = 0;
  return {
    open: () => {
      const pid = 4000 + ++opened;
      return new ScriptedSocket((request) => {
        const set = current();
        return set === null ? [errorMessage(ERRNO.ENOENT, seqOf(request), pid)] : ipsetDumpDatagrams([set], { seq: seqOf(request), pid, perMessage: 50, perDatagram: 2 });
      }, pid);
    },
    opened: () => opened,
  };
}

describe('IpsetReuse through readIpset', () => {
  it('answers an unchanged set with the last decode, under new sequence numbers and ports', () => {
    const set = clusterIpSet(300);
    const k = kernel(() => set);
    const reuse = new IpsetReuse<IpsetDump>();
    const first = readIpset('KUBE-CLUSTER-IP', { open: k.open, seq: 10, reuse });
    const second = readIpset('KUBE-CLUSTER-IP', { open: k.open, seq: 20, reuse });
    expect(first?.entries).toEqual(set.entries);
    expect(second?.entries).toBe(first?.entries);
    expect(second?.stats.attempts).toBe(1);
    expect([reuse.decoded, reuse.reused]).toEqual([1, 1]);
    expect(k.opened()).toBe(2);
  });

  it.each([
    ['a member more', clusterIpSet(301)],
    ['the same members, another reference count', clusterIpSet(300, 4)],
  ])('decodes afresh when the set changed: %s', (_, changed) => {
    let current = clusterIpSet(300);
    const k = kernel(() => current);
    const reuse = new IpsetReuse<IpsetDump>();
    const first = readIpset('KUBE-CLUSTER-IP', { open: k.open, seq: 10, reuse });
    current = changed;
    const second = readIpset('KUBE-CLUSTER-IP', { open: k.open, seq: 20, reuse });
    expect(second?.entries).not.toBe(first?.entries);
    expect(second).toMatchObject({ header: changed.header, entries: changed.entries });
    expect([reuse.decoded, reuse.reused]).toEqual([2, 0]);
    // And the changed set is what the next unchanged read reuses.
    expect(readIpset('KUBE-CLUSTER-IP', { open: k.open, seq: 30, reuse })?.entries).toBe(second?.entries);
  });

  it('forgets a set that is gone, so one re-created with the same bytes is decoded again', () => {
    let current: IpSet | null = clusterIpSet(10);
    const k = kernel(() => current);
    const reuse = new IpsetReuse<IpsetDump>();
    readIpset('KUBE-CLUSTER-IP', { open: k.open, seq: 10, reuse });
    current = null;
    expect(readIpset('KUBE-CLUSTER-IP', { open: k.open, seq: 20, reuse })).toBeNull();
    expect(reuse.size).toBe(0);
    current = clusterIpSet(10);
    readIpset('KUBE-CLUSTER-IP', { open: k.open, seq: 30, reuse });
    expect([reuse.decoded, reuse.reused]).toEqual([2, 0]);
  });
});

describe('IpsetReuse bounds', () => {
  const recordingOf = (payload: number[]): MessageRecording => {
    const r = new MessageRecording();
    r.add({ type: 0x601, flags: 2, seq: 1, pid: 1, payload: Uint8Array.from(payload) });
    return r;
  };

  it('keeps at most 64 sets, dropping the one read longest ago', () => {
    const reuse = new IpsetReuse<string>();
    for (let i = 0; i < 65; i++) reuse.resolve(`KUBE-${i}`, recordingOf([i]), () => `v${i}`);
    expect(reuse.size).toBe(64);
    // KUBE-0 was dropped: decoded again. KUBE-1 is still kept.
    expect(reuse.resolve('KUBE-1', recordingOf([1]), () => 'again')).toBe('v1');
    expect(reuse.resolve('KUBE-0', recordingOf([0]), () => 'again')).toBe('again');
  });

  it('tells recordings apart by type, flags and payload, not by sequence or port', () => {
    const a = new MessageRecording();
    a.add({ type: 0x601, flags: 2, seq: 1, pid: 1, payload: Uint8Array.of(1, 2, 3) });
    const sameButSeq = new MessageRecording();
    sameButSeq.add({ type: 0x601, flags: 2, seq: 9, pid: 9, payload: Uint8Array.of(1, 2, 3) });
    expect(sameButSeq.equals(a.snapshot())).toBe(true);
    for (const other of [
      { type: 0x607, flags: 2, payload: [1, 2, 3] },
      { type: 0x601, flags: 0, payload: [1, 2, 3] },
      { type: 0x601, flags: 2, payload: [1, 2, 4] },
      { type: 0x601, flags: 2, payload: [1, 2] },
    ]) {
      const r = new MessageRecording();
      r.add({ ...other, seq: 1, pid: 1, payload: Uint8Array.from(other.payload) });
      expect(r.equals(a.snapshot()), JSON.stringify(other)).toBe(false);
    }
  });

  it('replays the recorded messages in order, as they came', () => {
    const r = new MessageRecording();
    const sent = Array.from({ length: 3000 }, (_, i) => ({ type: 0x601 + (i % 3), flags: i & 0xffff, seq: i, pid: 7, payload: Uint8Array.from({ length: i % 40 }, (_, j) => (i + j) & 0xff) }));
    for (const m of sent) r.add(m);
    expect([...r.messages()]).toEqual(sent.map((m) => ({ ...m, seq: 0, pid: 0 })));
  });
});

describe('diffIpset on a reused entry list', () => {
  const desired = (entries: readonly string[]): DesiredIpset => ({ name: 'KUBE-CLUSTER-IP', family: 'inet', type: 'hash:ip,port', entries: [...entries] });

  it('gives the same verdict, as copies, while the desired set is the same object; judges afresh when it is not', () => {
    const observed = clusterIpSet(3);
    const texts = observed.entries.map(ipsetEntryText);
    const want = desired([...texts.slice(0, 2), '10.96.9.9,tcp:443']);
    const first = diffIpset(want, observed);
    expect(first.map((f) => `${f.kind} ${f.subject}`).sort()).toEqual(['ipset-entry-missing KUBE-CLUSTER-IP 10.96.9.9,tcp:443', 'ipset-entry-unexpected KUBE-CLUSTER-IP 10.96.0.2,tcp:443']);
    (first[0] as { message: string }).message = 'changed by a caller';
    const again = diffIpset(want, observed);
    expect(again).toEqual(diffIpset(desired(want.entries), observed));
    expect(again.map((f) => f.message)).not.toContain('changed by a caller');
    expect(diffIpset(desired(texts), observed)).toEqual([]);
  });
});
