/**
 * The ipset list codec on dumps recorded from this machine's kernel (scripts/record-netfilter-fixtures.ts):
 * decoded sets against `ipset save` of the same state and against golden files; then every way a
 * reply can be malformed, each a NETLINK_DECODE naming what is wrong.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeIpsetMessages, encodeIpsetListRequest, IPSET_LIST_MESSAGE_TYPE, IpsetDumpDecoder } from '../../../src/ipset/codec.js';
import { IPSET_ATTR, IPSET_ELEMENT_ATTR, IPSET_HEADER_ATTR } from '../../../src/ipset/constants.js';
import { ipsetEntry, ipsetEntryText } from '../../../src/ipset/entry.js';
import type { IpSet, IpsetDump } from '../../../src/ipset/types.js';
import { stringAttr, type AttrSpec } from '../../../src/netlink/attributes.js';
import { NLMSG_DONE, NLMSG_ERROR, parseMessages, type NlMessage } from '../../../src/netlink/message.js';
import type { NetlinkRecording } from '../../../src/netlink/recording.js';
import { REPO_ROOT } from '../../guest/harness.js';
import { expectSentinelError } from '../../support/errors.js';
import { expectGolden } from '../../support/golden.js';
import { elementAttr, headerAttr, ipsetDumpMessages, ipsetMessage } from '../../support/ipset-messages.js';
import { parseIpsetSave } from '../../support/ipset-save.js';

const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'ipset');

function recording(name: string): NetlinkRecording {
  return JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8')) as NetlinkRecording;
}

/** The reply messages of one recorded exchange, without NLMSG_DONE / NLMSG_ERROR. */
function replyMessages(rec: NetlinkRecording, exchange: number): NlMessage[] {
  const replies = rec.exchanges[exchange]?.replies ?? [];
  return replies
    .flatMap((hex) => parseMessages(new Uint8Array(Buffer.from(hex, 'hex')), 'fixture'))
    .filter((m) => m.type !== NLMSG_DONE && m.type !== NLMSG_ERROR);
}

function decodeExchange(name: string, exchange: number, headersOnly = false): IpsetDump {
  return decodeIpsetMessages(replyMessages(recording(name), exchange), { maxEntries: 1_000_000, headersOnly });
}

/** What the decoder says, in the oracle's shape. */
function asSaved(dump: IpsetDump): Map<string, { type: string; family: string | null; members: string[] }> {
  return new Map(dump.sets.map((s) => [s.name, { type: s.type, family: s.family, members: s.entries.map(ipsetEntryText).sort() }]));
}

describe.each(['kube-proxy', 'large'])('the recorded %s dump', (name) => {
  const dump = decodeExchange(name, 0);

  it('holds exactly the sets, types, families and members `ipset save` printed for the same state', () => {
    const oracle = parseIpsetSave(readFileSync(join(FIXTURES, `${name}.save`), 'utf8'));
    expect(asSaved(dump)).toEqual(oracle);
  });

  it('knows every attribute the kernel sent', () => {
    expect(dump.unknownAttributes).toEqual([]);
  });

  it('says each header element count truly', () => {
    for (const set of dump.sets) expect(set.entries.length, set.name).toBe(set.header.elements);
  });
});

/** One line per set (everything but its members), then one line per member, every field shown. */
function goldenText(dump: IpsetDump): string {
  const lines: string[] = [];
  for (const { entries, ...set } of dump.sets) {
    lines.push(JSON.stringify(set));
    for (const entry of entries) lines.push(`  ${JSON.stringify(entry)}`);
  }
  lines.push(`unknownAttributes ${JSON.stringify(dump.unknownAttributes)}`);
  return lines.join('\n') + '\n';
}

describe('kube-proxy sets as this kernel lists them', () => {
  const dump = decodeExchange('kube-proxy', 0);
  const byName = new Map(dump.sets.map((s) => [s.name, s]));

  it('decode to the golden sets', async () => {
    await expectGolden('test/fixtures/golden/ipset/kube-proxy.txt', goldenText(dump));
  });

  it('has all 17 sets in both families, KUBE-6- names cut to 31 characters', () => {
    expect(dump.sets).toHaveLength(34);
    expect(byName.has('KUBE-6-LOAD-BALANCER-SOURCE-CID')).toBe(true);
    expect(byName.has('KUBE-6-NODE-PORT-LOCAL-SCTP-HAS')).toBe(true);
    expect(Math.max(...dump.sets.map((s) => s.name.length))).toBe(31);
  });

  it.each([
    ['KUBE-IPVS-IPS', 'hash:ip', 'inet', ipsetEntry({ ip: '10.96.0.10' })],
    ['KUBE-CLUSTER-IP', 'hash:ip,port', 'inet', ipsetEntry({ ip: '10.96.77.9', protocol: 'sctp', port: 9000 })],
    ['KUBE-LOOP-BACK', 'hash:ip,port,ip', 'inet', ipsetEntry({ ip: '10.244.1.5', protocol: 'udp', port: 53, ip2: '10.244.1.5' })],
    ['KUBE-LOAD-BALANCER-SOURCE-CIDR', 'hash:ip,port,net', 'inet', ipsetEntry({ ip: '192.0.2.10', protocol: 'tcp', port: 80, ip2: '198.51.100.7', cidr2: 32 })],
    ['KUBE-NODE-PORT-TCP', 'bitmap:port', null, ipsetEntry({ port: 31443 })],
    ['KUBE-6-IPVS-IPS', 'hash:ip', 'inet6', ipsetEntry({ ip: 'fd00:10:96::2d0c' })],
    ['KUBE-6-CLUSTER-IP', 'hash:ip,port', 'inet6', ipsetEntry({ ip: 'fd00:10:96::a', protocol: 'udp', port: 53 })],
    ['KUBE-6-LOOP-BACK', 'hash:ip,port,ip', 'inet6', ipsetEntry({ ip: 'fd00:10:244:1::7', protocol: 'tcp', port: 8080, ip2: 'fd00:10:244:1::7' })],
    ['KUBE-6-LOAD-BALANCER-SOURCE-CID', 'hash:ip,port,net', 'inet6', ipsetEntry({ ip: '2001:db8::10', protocol: 'tcp', port: 80, ip2: '2001:db8:1::', cidr2: 64 })],
    ['KUBE-6-NODE-PORT-TCP', 'bitmap:port', null, ipsetEntry({ port: 30080 })],
  ])('%s is a %s set of family %s holding a parsed member', (setName, type, family, entry) => {
    const set = byName.get(setName);
    expect(set).toMatchObject({ type, family, entriesListed: true });
    expect(set?.entries).toContainEqual(entry);
  });

  it('reads the headers kube-proxy creates: hashsize/maxelem for hash sets, range 0-65535 for bitmap:port', () => {
    expect(byName.get('KUBE-CLUSTER-IP')?.header).toMatchObject({ hashSize: 1024, maxElem: 65536, references: 1, elements: 7 });
    expect(byName.get('KUBE-CLUSTER-IP')?.header.portRange).toBeUndefined();
    expect(byName.get('KUBE-NODE-PORT-TCP')?.header).toMatchObject({ portRange: { from: 0, to: 65535 }, references: 0, elements: 2 });
    expect(byName.get('KUBE-NODE-PORT-TCP')?.header.hashSize).toBeUndefined();
    expect(byName.get('KUBE-6-EXTERNAL-IP')).toMatchObject({ entries: [], header: { elements: 0 } });
  });

  it('gives the same headers, without members, from a headers-only dump', () => {
    const headers = decodeExchange('kube-proxy', 1, true);
    expect(headers.sets.map((s) => s.name)).toEqual(dump.sets.map((s) => s.name));
    for (const set of headers.sets) {
      const full = byName.get(set.name);
      expect(set).toMatchObject({ entriesListed: false, entries: [], type: full?.type, family: full?.family });
      expect({ ...set.header, memSize: 0 }).toEqual({ ...full?.header, memSize: 0 });
    }
  });
});

describe('the list request', () => {
  it.each([
    ['every set', { seq: 1000, pid: 0x2e803805 }, 0],
    ['headers only', { seq: 2000, pid: 0x2e803805, headersOnly: true }, 1],
    ['one set', { seq: 3000, pid: 0x2e803805, setName: 'KUBE-CLUSTER-IP' }, 2],
  ])('for %s is byte for byte what the recorded kernel answered', (_what, request, exchange) => {
    expect(Buffer.from(encodeIpsetListRequest(request)).toString('hex')).toBe(recording('kube-proxy').exchanges[exchange]?.request);
  });

  it('is type 0x0607, NLM_F_REQUEST|NLM_F_DUMP, protocol 6', () => {
    expect(Buffer.from(encodeIpsetListRequest({ seq: 1, pid: 2 })).toString('hex')).toBe('1c00000007060103010000000200000002000000' + '0500010006000000');
  });

  it.each(['', 'X'.repeat(32), 'KUBE CLUSTER'])('refuses the set name "%s"', (setName) => {
    expectSentinelError(() => encodeIpsetListRequest({ seq: 1, setName }), 'INTERNAL', /not an ipset name/);
  });
});

// ---- malformed replies --------------------------------------------------------------------------

const CLUSTER_IP: IpSet = {
  name: 'KUBE-CLUSTER-IP',
  type: 'hash:ip,port',
  family: 'inet',
  revision: 7,
  header: { hashSize: 1024, maxElem: 65536, references: 3, elements: 2, memSize: 400 },
  entriesListed: true,
  entries: [ipsetEntry({ ip: '10.96.0.1', protocol: 'tcp', port: 443 }), ipsetEntry({ ip: '10.96.0.10', protocol: 'udp', port: 53 })],
};

const u8 = (type: number, value: number): AttrSpec => ({ type, data: new Uint8Array([value]) });
const raw = (type: number, ...bytes: number[]): AttrSpec => ({ type, data: new Uint8Array(bytes) });
const first = (set: IpSet, family = 2): AttrSpec[] => [
  u8(IPSET_ATTR.PROTOCOL, 6),
  stringAttr(IPSET_ATTR.SETNAME, set.name),
  stringAttr(IPSET_ATTR.TYPENAME, set.type),
  u8(IPSET_ATTR.FAMILY, family),
  u8(IPSET_ATTR.REVISION, set.revision),
  headerAttr(set),
];
const adt = (...elements: AttrSpec[]): AttrSpec => ({ type: IPSET_ATTR.ADT, nested: elements });
const element = (...attrs: AttrSpec[]): AttrSpec => ({ type: IPSET_ATTR.DATA, nested: attrs });

function decodeRaw(...messages: Uint8Array[]): IpsetDump {
  return decodeIpsetMessages(
    messages.flatMap((m) => parseMessages(m, 'test')),
    { maxEntries: 100 },
  );
}

describe('malformed replies', () => {
  it.each<[string, Uint8Array[], RegExp]>([
    ['a set that continues before its header came', [ipsetMessage([u8(IPSET_ATTR.PROTOCOL, 6), stringAttr(IPSET_ATTR.SETNAME, 'KUBE-CLUSTER-IP'), adt()], 1, 1)], /header \(TYPENAME\) never came/],
    ['a set listed twice', [ipsetMessage([...first(CLUSTER_IP), adt()], 1, 1), ipsetMessage([...first(CLUSTER_IP), adt()], 1, 1)], /listed twice/],
    ['a message without SETNAME', [ipsetMessage([u8(IPSET_ATTR.PROTOCOL, 6)], 1, 1)], /without SETNAME/],
    ['a header without REVISION', [ipsetMessage(first(CLUSTER_IP).filter((a) => a.type !== IPSET_ATTR.REVISION), 1, 1)], /lacks REVISION/],
    ['a header without ELEMENTS', [ipsetMessage([...first(CLUSTER_IP).slice(0, 5), { type: IPSET_ATTR.DATA, nested: [raw(IPSET_HEADER_ATTR.REFERENCES, 0, 0, 0, 1), raw(IPSET_HEADER_ATTR.MEMSIZE, 0, 0, 1, 0)] }], 1, 1)], /lacks ELEMENTS/],
    ['a 2-byte REFERENCES', [ipsetMessage([...first(CLUSTER_IP).slice(0, 5), { type: IPSET_ATTR.DATA, nested: [raw(IPSET_HEADER_ATTR.REFERENCES, 0, 1)] }], 1, 1)], /REFERENCES has 2 bytes, needs 4/],
    ['a bitmap:port header without its range', [ipsetMessage(first({ ...CLUSTER_IP, type: 'bitmap:port' }, 0), 1, 1)], /lacks its port range/],
    ['family 7', [ipsetMessage(first(CLUSTER_IP, 7), 1, 1)], /family 7/],
    ['a hash:ip set without a family', [ipsetMessage(first(CLUSTER_IP, 0), 1, 1)], /no address family/],
    ['a member without its port', [ipsetMessage([...first(CLUSTER_IP), adt(elementAttr(ipsetEntry({ ip: '10.96.0.1', protocol: 'tcp' })))], 1, 1)], /member without its port/],
    ['a 5-byte IPv4 address', [ipsetMessage([...first(CLUSTER_IP), adt(element({ type: IPSET_ELEMENT_ATTR.IP, nested: [raw(1, 10, 96, 0, 1, 0)] }))], 1, 1)], /IPADDR_IPV4 has 5 bytes, needs 4/],
    ['an address nest without an address', [ipsetMessage([...first(CLUSTER_IP), adt(element({ type: IPSET_ELEMENT_ATTR.IP, nested: [raw(9, 1, 2, 3, 4)] }))], 1, 1)], /without IPADDR_IPV4 or IPADDR_IPV6/],
    ['an IPv6 member in an inet set', [ipsetMessage([...first(CLUSTER_IP), adt(elementAttr(ipsetEntry({ ip: 'fd00::1', protocol: 'tcp', port: 1 })))], 1, 1)], /IPv6 address in an inet set/],
    ['a /33 net', [ipsetMessage([...first({ ...CLUSTER_IP, type: 'hash:ip,port,net' }), adt(elementAttr(ipsetEntry({ ip: '10.0.0.1', protocol: 'tcp', port: 1, ip2: '10.0.0.0', cidr2: 33 })))], 1, 1)], /prefix length above 32/],
    ['an empty PORT', [ipsetMessage([...first(CLUSTER_IP), adt(element({ type: IPSET_ELEMENT_ATTR.PORT, data: new Uint8Array(0) }))], 1, 1)], /PORT has 0 bytes, needs 2/],
    ['an element attribute longer than its nest', [ipsetMessage([...first(CLUSTER_IP), adt(element(raw(IPSET_ELEMENT_ATTR.PORT, 0, 80)))], 1, 1).map((b, i, all) => (i === all.length - 8 ? 40 : b))], /truncated/],
    ['garbage after the last element attribute', [ipsetMessage([...first(CLUSTER_IP), adt({ type: IPSET_ATTR.DATA, data: new Uint8Array([6, 0, 4, 0, 0, 80, 0, 0, 7, 7, 7]) })], 1, 1)], /trailing bytes/],
    ['an element attribute of length 2', [ipsetMessage([...first(CLUSTER_IP), adt({ type: IPSET_ATTR.DATA, data: new Uint8Array([2, 0, 4, 0]) })], 1, 1)], /length 2/],
    ['members in a headers-only dump', [ipsetMessage([...first(CLUSTER_IP), adt()], 1, 1)], /headers-only/],
    ['a message type other than a list reply', [ipsetMessage(first(CLUSTER_IP), 1, 1, 0x0602)], /unexpected message type 0x602/],
    ['a message shorter than nfgenmsg', [ipsetMessage([], 1, 1).subarray(0, 18).map((b, i) => (i === 0 ? 18 : b))], /shorter than struct nfgenmsg/],
  ])('%s is NETLINK_DECODE', (what, messages, text) => {
    const headersOnly = what === 'members in a headers-only dump';
    expectSentinelError(() => decodeIpsetMessages(messages.flatMap((m) => parseMessages(m, 'test')), { maxEntries: 100, headersOnly }), 'NETLINK_DECODE', text);
  });

  it('merges a set continued over several messages, and keeps the set order', () => {
    const sets: IpSet[] = [
      { ...CLUSTER_IP, header: { ...CLUSTER_IP.header, elements: 250 }, entries: Array.from({ length: 250 }, (_, i) => ipsetEntry({ ip: `10.96.0.${i}`, protocol: 'tcp', port: 80 })) },
      { ...CLUSTER_IP, name: 'KUBE-EXTERNAL-IP', entries: [] },
    ];
    const messages = ipsetDumpMessages(sets, { seq: 1, pid: 1, perMessage: 100 });
    expect(messages).toHaveLength(4);
    const dump = decodeIpsetMessages(messages.flatMap((m) => parseMessages(m, 'test')), { maxEntries: 1000 });
    expect(dump.sets.map((s) => [s.name, s.entries.length])).toEqual([
      ['KUBE-CLUSTER-IP', 250],
      ['KUBE-EXTERNAL-IP', 0],
    ]);
    expect(dump.sets[0]?.entries.at(-1)).toEqual(ipsetEntry({ ip: '10.96.0.249', protocol: 'tcp', port: 80 }));
  });

  it('reports attributes it does not know, at each level, and reads past the extensions kube-proxy never enables', () => {
    const dump = decodeRaw(
      ipsetMessage(
        [
          ...first(CLUSTER_IP).slice(0, 5),
          { type: IPSET_ATTR.DATA, nested: [...(headerAttr(CLUSTER_IP) as { nested: AttrSpec[] }).nested, raw(40, 0, 0, 0, 0)] },
          raw(12, 1, 2, 3, 4),
          adt(elementAttr(ipsetEntry({ ip: '10.96.0.1', protocol: 'tcp', port: 443 }), [raw(31, 1, 2, 3, 4), stringAttr(IPSET_ELEMENT_ATTR.COMMENT, 'hello'), raw(IPSET_ELEMENT_ATTR.TIMEOUT, 0, 0, 0, 9)]), raw(3, 0, 0, 0, 0)),
        ],
        1,
        1,
      ),
    );
    expect(dump.unknownAttributes).toEqual(['adt:3', 'element:31', 'header:40', 'message:12']);
    expect(dump.sets[0]?.entries).toEqual([ipsetEntry({ ip: '10.96.0.1', protocol: 'tcp', port: 443 })]);
  });

  it('keeps a protocol kube-proxy does not use as its number, and nomatch', () => {
    const entry = ipsetEntry({ ip: '10.96.0.1', protocol: 1, port: 2048, nomatch: true });
    const dump = decodeRaw(ipsetMessage([...first(CLUSTER_IP), adt(elementAttr(entry))], 1, 1));
    expect(dump.sets[0]?.entries).toEqual([entry]);
  });

  it('stops at maxEntries with NETLINK_DUMP_TOO_LARGE', () => {
    const decoder = new IpsetDumpDecoder({ maxEntries: 1 });
    const [message] = parseMessages(ipsetMessage([...first(CLUSTER_IP), adt(...CLUSTER_IP.entries.map((e) => elementAttr(e)))], 1, 1), 'test');
    expectSentinelError(() => decoder.add(message ?? ({} as NlMessage)), 'NETLINK_DUMP_TOO_LARGE', /1 entries/);
  });

  it('accepts IPSET_CMD_SAVE replies like list replies', () => {
    const dump = decodeRaw(ipsetMessage([...first(CLUSTER_IP), adt()], 1, 1, IPSET_LIST_MESSAGE_TYPE + 1));
    expect(dump.sets.map((s) => s.name)).toEqual(['KUBE-CLUSTER-IP']);
  });
});
