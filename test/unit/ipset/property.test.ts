/**
 * Properties of the ipset codec: any sets a kernel could list read back exactly, however the dump is
 * cut into messages and datagrams; members print and parse back; and no corruption of real recorded
 * datagrams makes the reader throw anything but a SentinelError.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ipsetEntry, ipsetEntryText, parseIpsetEntry } from '../../../src/ipset/entry.js';
import { readIpsets } from '../../../src/ipset/reader.js';
import { KUBE_PROXY_SET_TYPES, type IpSet, type IpsetEntry, type IpsetFamily, type KubeProxySetType } from '../../../src/ipset/types.js';
import { SentinelError } from '../../../src/errors/index.js';
import { ERRNO, NetlinkError } from '../../../src/netlink/errors.js';
import type { NetlinkRecording } from '../../../src/netlink/recording.js';
import { formatIPv4, formatIPv6 } from '../../../src/util/ip.js';
import { REPO_ROOT } from '../../guest/harness.js';
import { ipsetDumpDatagrams } from '../../support/ipset-messages.js';
import { ScriptedSocket, seqOf } from '../../support/scripted-netlink.js';

const address = (family: IpsetFamily): fc.Arbitrary<string> =>
  family === 'inet'
    ? fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => formatIPv4(b))
    : fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => formatIPv6(b));

/** A network address as the kernel stores it: masked to its prefix. */
const network = (family: IpsetFamily): fc.Arbitrary<{ ip2: string; cidr2: number }> => {
  const width = family === 'inet' ? 4 : 16;
  return fc.tuple(fc.uint8Array({ minLength: width, maxLength: width }), fc.integer({ min: 0, max: width * 8 })).map(([bytes, cidr2]) => {
    const masked = bytes.map((b, i) => b & ((0xff << (8 - Math.min(8, Math.max(0, cidr2 - i * 8)))) & 0xff));
    return { ip2: family === 'inet' ? formatIPv4(masked) : formatIPv6(masked), cidr2 };
  });
};

const protocol = fc.constantFrom<'tcp' | 'udp' | 'sctp'>('tcp', 'udp', 'sctp');
const port = fc.integer({ min: 0, max: 0xffff });

function entryOf(type: KubeProxySetType, family: IpsetFamily): fc.Arbitrary<IpsetEntry> {
  switch (type) {
    case 'hash:ip':
      return address(family).map((ip) => ipsetEntry({ ip }));
    case 'hash:ip,port':
      return fc.record({ ip: address(family), protocol, port }).map(ipsetEntry);
    case 'hash:ip,port,ip':
      return fc.record({ ip: address(family), protocol, port, ip2: address(family) }).map(ipsetEntry);
    case 'hash:ip,port,net':
      return fc.tuple(fc.record({ ip: address(family), protocol, port }), network(family)).map(([e, n]) => ipsetEntry({ ...e, ...n }));
    case 'bitmap:port':
      return port.map((p) => ipsetEntry({ port: p }));
  }
}

/** Anything the kernel could list for a set: also protocols kube-proxy never uses, nomatch members. */
function wildEntry(type: KubeProxySetType, family: IpsetFamily): fc.Arbitrary<IpsetEntry> {
  return fc.tuple(entryOf(type, family), fc.boolean(), fc.integer({ min: 0, max: 255 })).map(([e, nomatch, proto]) =>
    ipsetEntry({ ...e, nomatch, protocol: e.protocol === null ? null : [6, 17, 132].includes(proto) ? e.protocol : proto }),
  );
}

const setName = fc.stringMatching(/^[A-Z0-9-]{1,31}$/);

const ipSet: fc.Arbitrary<IpSet> = fc
  .record({
    name: setName,
    type: fc.constantFrom(...KUBE_PROXY_SET_TYPES),
    family: fc.constantFrom<IpsetFamily>('inet', 'inet6'),
    revision: fc.integer({ min: 0, max: 255 }),
    references: fc.nat({ max: 0xffffffff }),
    memSize: fc.nat({ max: 0xffffffff }),
  })
  .chain((s) =>
    fc.array(wildEntry(s.type, s.family), { maxLength: 40 }).map((entries): IpSet => {
      const bitmap = s.type === 'bitmap:port';
      return {
        name: s.name,
        type: s.type,
        family: bitmap ? null : s.family,
        revision: s.revision,
        header: bitmap
          ? { references: s.references, elements: entries.length, memSize: s.memSize, portRange: { from: 0, to: 65535 } }
          : { hashSize: 1024, maxElem: 65536, references: s.references, elements: entries.length, memSize: s.memSize },
        entriesListed: true,
        entries,
      };
    }),
  );

/** libnl's receive on an empty non-blocking socket. */
const noReply = (): NetlinkError => new NetlinkError('NETLINK_IO', 'receive netlink reply', 'recv failed: EAGAIN (no reply)', { errno: ERRNO.EAGAIN });

describe('ipset codec properties', () => {
  it('reads back any sets, however the dump is cut into messages and datagrams', () => {
    fc.assert(
      fc.property(fc.uniqueArray(ipSet, { selector: (s) => s.name, maxLength: 6 }), fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 8 }), (sets, perMessage, perDatagram) => {
        const socket = new ScriptedSocket((request) => ipsetDumpDatagrams(sets, { seq: seqOf(request), pid: 4242, perMessage, perDatagram }));
        const read = readIpsets({ open: () => socket, seq: 1 });
        expect(read.sets).toEqual(sets);
        expect(read.unknownAttributes).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  it('prints any kube-proxy member in a form that parses back to it', () => {
    const typed = fc.tuple(fc.constantFrom(...KUBE_PROXY_SET_TYPES), fc.constantFrom<IpsetFamily>('inet', 'inet6')).chain(([type, family]) => fc.tuple(fc.constant(type), entryOf(type, family)));
    fc.assert(
      fc.property(typed, ([type, entry]) => {
        expect(parseIpsetEntry(type, ipsetEntryText(entry))).toEqual(entry);
      }),
      { numRuns: 500 },
    );
  });

  const recorded = (['kube-proxy', 'large'] as const).map((name) => {
    const rec = JSON.parse(readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'ipset', `${name}.json`), 'utf8')) as NetlinkRecording;
    const exchange = rec.exchanges[0];
    return { rec, seq: name === 'kube-proxy' ? 1000 : 5000, datagrams: (exchange?.replies ?? []).map((hex) => new Uint8Array(Buffer.from(hex, 'hex'))) };
  });

  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  );

  function mutate(datagram: Uint8Array, m: { kind: 'flip' | 'truncate' | 'insert'; at: number; value?: number; bytes?: Uint8Array }): Uint8Array {
    const at = m.at % Math.max(1, datagram.byteLength);
    const out = datagram.slice();
    if (m.kind === 'flip') {
      out[at] = m.value ?? 0;
      return out;
    }
    if (m.kind === 'truncate') return out.subarray(0, at);
    const bytes = m.bytes ?? new Uint8Array(0);
    const grown = new Uint8Array(out.byteLength + bytes.byteLength);
    grown.set(out.subarray(0, at));
    grown.set(bytes, at);
    grown.set(out.subarray(at), at + bytes.byteLength);
    return grown;
  }

  it('never throws anything but a SentinelError on corrupted real datagrams', () => {
    fc.assert(
      fc.property(fc.constantFrom(...recorded), fc.array(fc.tuple(fc.nat(), mutation), { minLength: 1, maxLength: 6 }), ({ rec, seq, datagrams }, mutations) => {
        const corrupted: Uint8Array[] = datagrams.map((d) => d.slice());
        for (const [which, m] of mutations) {
          const i = which % corrupted.length;
          corrupted[i] = mutate(corrupted[i] ?? new Uint8Array(0), m);
        }
        const open = (): ScriptedSocket => new ScriptedSocket(() => [...corrupted, noReply()], rec.localPort);
        try {
          const read = readIpsets({ open, seq });
          for (const set of read.sets) expect(typeof set.name).toBe('string');
        } catch (err) {
          if (!(err instanceof SentinelError)) throw err;
        }
      }),
      { numRuns: 1000 },
    );
  });
});
