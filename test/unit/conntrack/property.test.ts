/**
 * Properties of the ctnetlink decoder and reader: any UDP entry the kernel could send decodes to
 * exactly itself, entries of other protocols are skipped, and random or mutated bytes — messages
 * built by hand, datagrams recorded from the kernel — end in a value or a SentinelError with a
 * stable code, never another throw and never a loop.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UdpConntrackDecoder } from '../../../src/conntrack/codec.js';
import { readUdpConntrack } from '../../../src/conntrack/reader.js';
import type { ConntrackTuple } from '../../../src/conntrack/types.js';
import type { ErrorCode } from '../../../src/errors/index.js';
import { parseMessages } from '../../../src/netlink/message.js';
import type { NetlinkRecording } from '../../../src/netlink/recording.js';
import { formatIPv4, formatIPv6 } from '../../../src/util/ip.js';
import { mutateAll, mutation, valueOrCoded } from '../fuzz/hostile.js';
import { ScriptedSocket, seqOf } from '../../support/scripted-netlink.js';
import { entryMessage, entryPayload, type EntrySpec } from './messages.js';

const DECODE_CODES: readonly ErrorCode[] = ['NETLINK_DECODE', 'NETLINK_PROTOCOL', 'NETLINK_DUMP_TOO_LARGE'];
const READ_CODES: readonly ErrorCode[] = [...DECODE_CODES, 'NETLINK_IO', 'CONNTRACK_PERMISSION_DENIED'];
const LIMITS = { maxScanned: 1000, maxEntries: 1000 };

const ipv4 = fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => formatIPv4(b));
const ipv6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => formatIPv6(b));
const port = fc.integer({ min: 0, max: 0xffff });
const tupleOf = (addr: fc.Arbitrary<string>): fc.Arbitrary<ConntrackTuple> => fc.record({ src: addr, dst: addr, srcPort: port, dstPort: port });

const entry: fc.Arbitrary<EntrySpec> = fc.constantFrom<EntrySpec['family']>('inet', 'inet6').chain((family) => {
  const addr = family === 'inet' ? ipv4 : ipv6;
  return fc.record({
    family: fc.constant(family),
    protocol: fc.oneof({ weight: 3, arbitrary: fc.constant(17) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) }),
    original: tupleOf(addr),
    reply: tupleOf(addr),
    timeout: fc.nat({ max: 0xffffffff }),
    zone: fc.integer({ min: 0, max: 0xffff }),
  });
});

function decode(family: EntrySpec['family'], datagram: Uint8Array): UdpConntrackDecoder {
  const decoder = new UdpConntrackDecoder(family, LIMITS);
  for (const m of parseMessages(datagram, 'test')) decoder.add(m);
  return decoder;
}

describe('UdpConntrackDecoder', () => {
  it('decodes every UDP entry to exactly itself and skips every other protocol', () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 8 }), fc.constantFrom<EntrySpec['family']>('inet', 'inet6'), (entries, family) => {
        const datagram = new Uint8Array(entries.reduce((n, e) => n + entryMessage(e, 1, 1).byteLength, 0));
        let at = 0;
        for (const e of entries) {
          const m = entryMessage(e, 1, 1);
          datagram.set(m, at);
          at += m.byteLength;
        }
        const decoder = decode(family, datagram);
        const kept = entries.filter((e) => e.family === family && e.protocol === 17);
        expect(decoder.entries).toEqual(kept.map((e) => ({ family: e.family, original: e.original, reply: e.reply, timeout: e.timeout, zone: e.zone })));
        expect(decoder.skipped).toBe(entries.length - kept.length);
      }),
      { numRuns: 300 },
    );
  });

  it('turns mutated entries and random bytes into an entry, a skip or a coded error', () => {
    const payload = fc.oneof(
      fc.tuple(entry, fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([e, ms]) => mutateAll(entryPayload(e), ms)),
      fc.uint8Array({ maxLength: 200 }),
    );
    fc.assert(
      fc.property(payload, fc.constantFrom<EntrySpec['family']>('inet', 'inet6'), fc.constantFrom(0x100, 0x101, 0x600), (p, family, type) => {
        const decoder = new UdpConntrackDecoder(family, LIMITS);
        valueOrCoded(DECODE_CODES, () => decoder.add({ type, flags: 2, seq: 1, pid: 1, payload: p }));
        expect(decoder.entries.length + decoder.skipped).toBeLessThanOrEqual(1);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('readUdpConntrack over mutated kernel datagrams', () => {
  const rec = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'fixtures', 'conntrack', 'plain.json'), 'utf8')) as NetlinkRecording;
  const recorded = rec.exchanges.map((e) => e.replies.map((hex) => new Uint8Array(Buffer.from(hex, 'hex'))));

  it('ends in entries or a coded error, with at most the bounded number of receives', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), fc.array(mutation, { minLength: 1, maxLength: 3 })), { maxLength: 3 }), fc.boolean(), (mutations, plain) => {
        let receives = 0;
        const socket = new ScriptedSocket((request, count) => {
          // Re-stamp the recorded replies with this request's sequence and port, then mutate some.
          const replies = (recorded[(count - 1) % recorded.length] ?? []).map((d) => restamp(d, seqOf(request), 4242));
          for (const [which, ms] of mutations) {
            const i = which % replies.length;
            replies[i] = mutateAll(replies[i] as Uint8Array, ms);
          }
          return replies;
        });
        const counting = { localPort: socket.localPort, send: (b: Uint8Array) => socket.send(b), receive: () => (receives++, socket.receive()), close: () => socket.close() };
        try {
          valueOrCoded(READ_CODES, () => readUdpConntrack({ open: () => counting, seq: 9, plain, limits: { maxDatagrams: 50 } }));
        } catch (err) {
          // The scripted socket runs dry when a mutation ate NLMSG_DONE: a plain Error of the test's own, not the reader's.
          if (!(err instanceof Error) || !err.message.startsWith('scripted socket')) throw err;
        }
        expect(receives).toBeLessThanOrEqual(2 * 3 * 2 * 50);
      }),
      { numRuns: 500 },
    );
  });
});

/** A recorded datagram with every message's sequence number and port replaced. */
function restamp(datagram: Uint8Array, seq: number, pid: number): Uint8Array {
  const out = datagram.slice();
  const view = new DataView(out.buffer);
  for (let at = 0; at + 16 <= out.byteLength; ) {
    const len = view.getUint32(at, true);
    view.setUint32(at + 8, seq, true);
    view.setUint32(at + 12, pid, true);
    if (len < 16) break;
    at += (len + 3) & ~3;
  }
  return out;
}
