/**
 * The nftables table list: the dump recorded from this machine's kernel (scripts/record-netfilter-fixtures.ts)
 * against `nft list tables` of the same state and a golden file; malformed replies, refusals, retries
 * and bounds over scripted sockets.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SentinelError } from '../../../src/errors/index.js';
import { ERRNO, NetlinkError } from '../../../src/netlink/errors.js';
import { NLM_F_DUMP_INTR, NLM_F_MULTI, parseMessages } from '../../../src/netlink/message.js';
import { ReplaySocket, type NetlinkRecording } from '../../../src/netlink/recording.js';
import { readNftTables } from '../../../src/nftables/reader.js';
import { decodeNftTable, encodeGetTablesRequest, NFT_TABLE_F, type NftTable } from '../../../src/nftables/tables.js';
import { REPO_ROOT } from '../../guest/harness.js';
import { expectSentinelError } from '../../support/errors.js';
import { datagramOf, doneMessage, errorMessage } from '../../support/ipset-messages.js';
import { expectGolden } from '../../support/golden.js';
import { tableMessage, type TableSpec } from '../../support/nft-messages.js';
import { ScriptedSocket, seqOf } from '../../support/scripted-netlink.js';

const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'nftables');
const recording = JSON.parse(readFileSync(join(FIXTURES, 'tables.json'), 'utf8')) as NetlinkRecording;

const TABLES: TableSpec[] = [
  { family: 2, name: 'nat', use: 11, flags: 0, handle: 1 },
  { family: 10, name: 'kube-proxy', use: 0, flags: NFT_TABLE_F.DORMANT, handle: 7 },
  { family: 42, name: 'future', use: 1, flags: 0, handle: null },
];
const DECODED: NftTable[] = [
  { family: 'ip', name: 'nat', use: 11, flags: 0, handle: 1 },
  { family: 'ip6', name: 'kube-proxy', use: 0, flags: 1, handle: 7 },
  { family: 42, name: 'future', use: 1, flags: 0, handle: null },
];

const answer = (request: Uint8Array): Uint8Array[] => {
  const seq = seqOf(request);
  return [datagramOf(TABLES.slice(0, 2).map((t) => tableMessage(t, seq, 4242))), datagramOf([tableMessage(TABLES[2] as TableSpec, seq, 4242), doneMessage(seq, 4242)])];
};

describe('the recorded table dump', () => {
  const read = readNftTables({ open: () => new ReplaySocket(recording), seq: 6000 });

  it('lists exactly the tables `nft list tables` printed for the same state, in its order', () => {
    const oracle = readFileSync(join(FIXTURES, 'tables.txt'), 'utf8').trim().split('\n');
    expect(read.tables.map((t) => `table ${t.family} ${t.name}`)).toEqual(oracle);
  });

  it('decodes to the golden tables', async () => {
    await expectGolden('test/fixtures/golden/nftables/tables.json', JSON.stringify(read, null, 2) + '\n');
  });

  it('counts the chains in use: iptables-nft nat holds KUBE-SERVICES beside its base chains, the nft kube-proxy table one chain', () => {
    const table = (family: string, name: string): NftTable | undefined => read.tables.find((t) => t.family === family && t.name === name);
    expect(table('ip', 'kube-proxy')?.use).toBe(1);
    expect(table('ip6', 'kube-proxy')?.use).toBe(0);
    expect(table('ip', 'nat')?.use).toBeGreaterThanOrEqual(3);
    expect(read.unknownAttributes).toEqual([]);
  });

  it('sends the request the recording holds: GETTABLE, every family', () => {
    expect(Buffer.from(encodeGetTablesRequest(6000, recording.localPort)).toString('hex')).toBe(recording.exchanges[0]?.request);
    expect(Buffer.from(encodeGetTablesRequest(1, 2)).toString('hex')).toBe('14000000010a0103010000000200000000000000');
  });
});

describe('readNftTables over a scripted socket', () => {
  it('decodes each table as it arrives, keeping unknown families as numbers and a missing handle as null', () => {
    const socket = new ScriptedSocket(answer);
    expect(readNftTables({ open: () => socket, seq: 3 })).toEqual({ tables: DECODED, unknownAttributes: [], stats: { datagrams: 2, bytes: expect.any(Number) as number, attempts: 1 } });
    expect(socket.closed).toBe(1);
  });

  it('dumps again when the ruleset changed during the dump (NLM_F_DUMP_INTR), up to four times', () => {
    let opened = 0;
    const open = (): ScriptedSocket => {
      const interrupted = ++opened < 3;
      return new ScriptedSocket((request) => {
        const datagrams = answer(request);
        if (interrupted) for (const d of datagrams) new DataView(d.buffer, d.byteOffset).setUint16(6, NLM_F_MULTI | NLM_F_DUMP_INTR, true);
        return datagrams;
      });
    };
    expect(readNftTables({ open }).stats.attempts).toBe(3);
    opened = -10;
    expectSentinelError(() => readNftTables({ open }), 'NETLINK_PROTOCOL', /no complete dump after 4 attempts: the ruleset changed/);
  });

  it.each([
    [ERRNO.EPERM, 'NFTABLES_PERMISSION_DENIED', /CAP_NET_ADMIN/],
    [ERRNO.EINVAL, 'NETLINK_PROTOCOL', /no nf_tables subsystem/],
    [ERRNO.EAFNOSUPPORT, 'NETLINK_PROTOCOL', /errno 97/],
  ] as const)('turns NLMSG_ERROR %i into %s', (errno, code, text) => {
    const socket = new ScriptedSocket((request) => [errorMessage(errno, seqOf(request), 4242)]);
    expectSentinelError(() => readNftTables({ open: () => socket }), code, text);
    expect(socket.closed).toBe(1);
  });

  it.each([
    [{ maxTables: 2 }, /2 tables/],
    [{ maxBytes: 100 }, /100 bytes/],
    [{ maxDatagrams: 1 }, /1 datagrams/],
  ])('abandons a dump past %o with NETLINK_DUMP_TOO_LARGE', (limits, text) => {
    expectSentinelError(() => readNftTables({ open: () => new ScriptedSocket(answer), limits }), 'NETLINK_DUMP_TOO_LARGE', text);
  });
});

describe('malformed table replies', () => {
  const decode = (bytes: Uint8Array, unknown?: Set<string>): NftTable => {
    const [message] = parseMessages(bytes, 'test');
    if (!message) throw new Error('no message');
    return decodeNftTable(message, unknown);
  };
  const nat = TABLES[0] as TableSpec;

  it.each<[string, Uint8Array, RegExp]>([
    ['a table without USE', tableMessage(nat, 1, 1).subarray(0, 28).map((b, i) => (i === 0 ? 28 : b)), /without NAME, USE or FLAGS/],
    ['a 2-byte USE', tableMessage({ ...nat }, 1, 1).map((b, i) => (i === 28 ? 6 : b)), /truncated|USE has 2 bytes|trailing/],
    ['a handle beyond 2^53', tableMessage({ ...nat, handle: null }, 1, 1, [{ type: 4, data: new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]) }]), /beyond 2\^53/],
    ['a 4-byte handle', tableMessage({ ...nat, handle: null }, 1, 1, [{ type: 4, data: new Uint8Array(4) }]), /HANDLE has 4 bytes, needs 8/],
    ['a message of another type', tableMessage(nat, 1, 1).map((b, i) => (i === 4 ? 3 : b)), /unexpected message type 0xa03/],
  ])('%s is NETLINK_DECODE', (_what, bytes, text) => {
    expectSentinelError(() => decode(bytes), 'NETLINK_DECODE', text);
  });

  it('reports attributes it does not know and reads past userdata and owner', () => {
    const unknown = new Set<string>();
    expect(decode(tableMessage(nat, 1, 1, [{ type: 6, data: new Uint8Array(3) }, { type: 7, data: new Uint8Array(4) }, { type: 9, data: new Uint8Array(4) }]), unknown)).toEqual(DECODED[0]);
    expect([...unknown]).toEqual(['table:9']);
  });

  it('never throws anything but a SentinelError on corrupted real datagrams', () => {
    const datagrams = (recording.exchanges[0]?.replies ?? []).map((hex) => new Uint8Array(Buffer.from(hex, 'hex')));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean()), { minLength: 1, maxLength: 6 }), (mutations) => {
        const corrupted = datagrams.map((d) => d.slice());
        for (const [which, at, value, truncate] of mutations) {
          const i = which % corrupted.length;
          const d = corrupted[i] ?? new Uint8Array(0);
          const p = at % Math.max(1, d.byteLength);
          if (truncate) corrupted[i] = d.subarray(0, p);
          else d[p] = value;
        }
        const noReply = new NetlinkError('NETLINK_IO', 'receive netlink reply', 'recv failed: EAGAIN (no reply)', { errno: ERRNO.EAGAIN });
        try {
          readNftTables({ open: () => new ScriptedSocket(() => [...corrupted, noReply], recording.localPort), seq: 6000 });
        } catch (err) {
          if (!(err instanceof SentinelError)) throw err;
        }
      }),
      { numRuns: 1000 },
    );
  });
});
