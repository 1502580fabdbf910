import { describe, expect, it } from 'vitest';
import {
  decodeDestMessage,
  decodeInfo,
  decodeServiceMessage,
  decodeTimeouts,
  ZERO_STATS,
  type UnknownSink,
} from '../../../src/ipvs/codec.js';
import { realServerKey, virtualServerKey } from '../../../src/ipvs/identity.js';
import { IPVS_CMD_ATTR, IPVS_DEST_ATTR, IPVS_STATS_ATTR, IPVS_SVC_ATTR } from '../../../src/ipvs/constants.js';
import type { IpvsStats } from '../../../src/ipvs/types.js';
import { encodeAttributes, u16Attr, u32Attr, type AttrSpec } from '../../../src/netlink/attributes.js';
import { parseGenl, parseMessages, type NlMessage } from '../../../src/netlink/message.js';
import { expectSentinelError } from '../../support/errors.js';
import { bytesAttr, destMessage, hex, serviceMessage, statsNest, toHex, type StatsValues } from '../../support/ipvs-messages.js';

const MAX_U64 = 18446744073709551615n;

function stats(values: StatsValues): IpvsStats {
  return { ...ZERO_STATS, ...values };
}

function dataOf(spec: AttrSpec): Uint8Array {
  return 'data' in spec ? spec.data : new Uint8Array(0);
}

describe('decodeServiceMessage', () => {
  it('decodes a kernel-shaped IPv4 TCP service', () => {
    const { service, identity } = decodeServiceMessage(serviceMessage({ address: '10.96.0.1', port: 443, scheduler: 'rr' }));
    expect(service).toEqual({
      key: 'TCP/10.96.0.1:443',
      family: 'inet',
      protocol: 'TCP',
      address: '10.96.0.1',
      port: 443,
      fwmark: null,
      scheduler: 'rr',
      flagBits: 0x2,
      persistent: false,
      timeout: 0,
      netmask: 32,
      pe: null,
      stats: ZERO_STATS,
      destinations: [],
    });
    // The identity for GET_DEST is the kernel's own bytes: AF, PROTOCOL, the 16-byte ADDR, PORT.
    expect(identity.map((a) => [a.type, toHex(dataOf(a))])).toEqual([
      [IPVS_SVC_ATTR.AF, '02 00'],
      [IPVS_SVC_ATTR.PROTOCOL, '06 00'],
      [IPVS_SVC_ATTR.ADDR, '0a 60 00 01 00 00 00 00 00 00 00 00 00 00 00 00'],
      [IPVS_SVC_ATTR.PORT, '01 bb'],
    ]);
  });

  it.each<[string, 'TCP' | 'UDP' | 'SCTP', number, string]>([
    ['fd00:0:0:0:0:0:0:10', 'UDP', 53, 'UDP/[fd00::10]:53'],
    ['2001:db8:0:0:1:0:0:1', 'TCP', 443, 'TCP/[2001:db8::1:0:0:1]:443'],
    ['2001:DB8::', 'SCTP', 3868, 'SCTP/[2001:db8::]:3868'],
    ['::1', 'TCP', 80, 'TCP/[::1]:80'],
    ['fe80::1:2:3:4:5', 'TCP', 65535, 'TCP/[fe80::1:2:3:4:5]:65535'],
    ['2001:db8:1:2:3:4:5:6', 'UDP', 1, 'UDP/[2001:db8:1:2:3:4:5:6]:1'],
  ])('IPv6 %s is written in RFC 5952 form', (address, protocol, port, key) => {
    const { service } = decodeServiceMessage(serviceMessage({ family: 'inet6', address, protocol, port }));
    expect(service.key).toBe(key);
    expect(service.family).toBe('inet6');
    expect(service.protocol).toBe(protocol);
    expect(service.netmask).toBe(128);
  });

  it.each([
    [80, '00 50'],
    [8080, '1f 90'],
    [65535, 'ff ff'],
    [256, '01 00'],
  ])('reads port %i from its big-endian bytes %s', (port, bytes) => {
    const msg = serviceMessage({ port });
    expect(toHex(msg)).toContain(`06 00 04 00 ${bytes}`);
    expect(decodeServiceMessage(msg).service.port).toBe(port);
  });

  it.each<['inet' | 'inet6', string]>([
    ['inet', 'FWM/4097/inet'],
    ['inet6', 'FWM/4097/inet6'],
  ])('decodes a fwmark service of family %s', (family, key) => {
    const { service, identity } = decodeServiceMessage(serviceMessage({ family, fwmark: 4097 }));
    expect(service).toMatchObject({ key, family, protocol: null, address: null, port: null, fwmark: 4097 });
    expect(identity.map((a) => [a.type, toHex(dataOf(a))])).toEqual([
      [IPVS_SVC_ATTR.AF, family === 'inet' ? '02 00' : '0a 00'],
      [IPVS_SVC_ATTR.FWMARK, '01 10 00 00'],
    ]);
  });

  it('prefers FWMARK over PROTOCOL/ADDR/PORT when both are present', () => {
    const msg = encodeAttributes([{ type: IPVS_CMD_ATTR.SERVICE, nested: [u16Attr(1, 2), u16Attr(2, 6), u32Attr(5, 7)] }], false);
    expect(decodeServiceMessage(msg).service.key).toBe('FWM/7/inet');
  });

  it.each<[string, 'inet' | 'inet6', number[], number]>([
    ['IPv4 ff ff ff 00', 'inet', [0xff, 0xff, 0xff, 0x00], 24],
    ['IPv4 ff ff ff ff', 'inet', [0xff, 0xff, 0xff, 0xff], 32],
    ['IPv4 ff ff ff fe (cloudflare)', 'inet', [0xff, 0xff, 0xff, 0xfe], 31],
    ['IPv4 00 00 00 00', 'inet', [0, 0, 0, 0], 0],
    ['IPv4 ff 80 00 00', 'inet', [0xff, 0x80, 0, 0], 9],
    ['IPv6 host-order 128 (80 00 00 00)', 'inet6', [0x80, 0, 0, 0], 128],
    ['IPv6 host-order 64', 'inet6', [0x40, 0, 0, 0], 64],
  ])('netmask %s → /%i', (_name, family, bytes, prefix) => {
    const address = family === 'inet' ? '10.0.0.1' : 'fd00::1';
    const msg = serviceMessage({ family, address, flags: 0x3, timeout: 300, override: { [IPVS_SVC_ATTR.NETMASK]: bytesAttr(IPVS_SVC_ATTR.NETMASK, bytes) } });
    expect(decodeServiceMessage(msg).service.netmask).toBe(prefix);
  });

  it('the builder writes the IPv4 mask in network order and the IPv6 prefix in host order', () => {
    expect(toHex(serviceMessage({ netmask: 24 }))).toContain('08 00 09 00 ff ff ff 00');
    expect(toHex(serviceMessage({ family: 'inet6', address: 'fd00::1', netmask: 128 }))).toContain('08 00 09 00 80 00 00 00');
  });

  it('defaults the netmask to the host prefix when NETMASK is absent', () => {
    expect(decodeServiceMessage(serviceMessage({ omit: [IPVS_SVC_ATTR.NETMASK] })).service.netmask).toBe(32);
    expect(decodeServiceMessage(serviceMessage({ family: 'inet6', address: 'fd00::1', omit: [IPVS_SVC_ATTR.NETMASK] })).service.netmask).toBe(128);
  });

  it.each<[string, number, number, number, boolean]>([
    ['hashed only', 0x2, 0xffffffff, 0x2, false],
    ['persistent + hashed + sh-fallback', 0x1 | 0x2 | 0x8, 0xffffffff, 0xb, true],
    ['mask hides bits', 0xff, 0x3, 0x3, true],
    ['mask hides persistent', 0x3, 0x2, 0x2, false],
    ['high bits kept unsigned', 0xf1f2f3f4, 0xffffffff, 0xf1f2f3f4, false],
  ])('flags & mask: %s', (_name, flags, mask, flagBits, persistent) => {
    const { service } = decodeServiceMessage(serviceMessage({ flags, mask }));
    expect(service.flagBits).toBe(flagBits);
    expect(service.persistent).toBe(persistent);
  });

  it('decodes persistence: timeout seconds, netmask, PE name', () => {
    const { service } = decodeServiceMessage(serviceMessage({ scheduler: 'sh', flags: 0x1 | 0x2 | 0x8 | 0x10, timeout: 10800, netmask: 24, pe: 'sip' }));
    expect(service).toMatchObject({ scheduler: 'sh', persistent: true, timeout: 10800, netmask: 24, pe: 'sip', flagBits: 0x1b });
  });

  it('an empty PE name is no PE; a missing scheduler is "none"', () => {
    const { service } = decodeServiceMessage(serviceMessage({ pe: '', omit: [IPVS_SVC_ATTR.SCHED_NAME] }));
    expect(service.pe).toBeNull();
    expect(service.scheduler).toBe('none');
  });

  it('prefers STATS64 over STATS', () => {
    const msg = serviceMessage({
      statsNests: 'none',
      extra: [statsNest(IPVS_SVC_ATTR.STATS, { conns: 1n, inBytes: 10n }, false), statsNest(IPVS_SVC_ATTR.STATS64, { conns: 2n ** 32n + 1n, inBytes: 20n }, true)],
    });
    expect(decodeServiceMessage(msg).service.stats).toEqual(stats({ conns: 2n ** 32n + 1n, inBytes: 20n }));
  });

  it('prefers STATS64 even when it comes first', () => {
    const msg = serviceMessage({
      statsNests: 'none',
      extra: [statsNest(IPVS_SVC_ATTR.STATS64, { conns: 7n }, true), statsNest(IPVS_SVC_ATTR.STATS, { conns: 1n }, false)],
    });
    expect(decodeServiceMessage(msg).service.stats.conns).toBe(7n);
  });

  it('falls back to STATS: u32 values (truncated by the kernel) and u64 byte counters', () => {
    const values: StatsValues = { conns: 2n ** 32n + 5n, inPkts: 100n, outPkts: 200n, inBytes: 2n ** 40n + 3n, outBytes: MAX_U64, cps: 1n, inPps: 2n, outPps: 3n, inBps: 4n, outBps: 5n };
    const { service } = decodeServiceMessage(serviceMessage({ stats: values, statsNests: 'stats' }));
    expect(service.stats).toEqual(stats({ ...values, conns: 5n }));
  });

  it('keeps counters above 2^53 exact as bigint', () => {
    const values: StatsValues = { conns: 2n ** 53n + 1n, inPkts: MAX_U64, outPkts: 2n ** 63n, inBytes: 9007199254740993n, outBytes: MAX_U64 - 1n, outBps: 2n ** 60n + 7n };
    expect(decodeServiceMessage(serviceMessage({ stats: values })).service.stats).toEqual(stats(values));
  });

  it('skips PAD attributes in the stats nests and does not report them as unknown', () => {
    const sink: UnknownSink = new Set();
    const values: StatsValues = { conns: 3n, inBytes: 1050n, outBps: 9n };
    expect(decodeServiceMessage(serviceMessage({ stats: values, pad: true }), sink).service.stats).toEqual(stats(values));
    expect([...sink]).toEqual([]);
  });

  it('reads zero stats when neither nest is present', () => {
    expect(decodeServiceMessage(serviceMessage({ statsNests: 'none' })).service.stats).toEqual(ZERO_STATS);
  });

  it('records unknown attributes in the sink as "service:13", "stats64:12", and still decodes', () => {
    const sink: UnknownSink = new Set();
    const msg = serviceMessage({
      extra: [u32Attr(13, 1), u32Attr(0x3fff, 2)],
      statsNests: 'stats',
    });
    const withStats64Unknown = serviceMessage({ statsNests: 'none', extra: [{ type: IPVS_SVC_ATTR.STATS64, nested: [u32Attr(12, 0)] }] });
    expect(decodeServiceMessage(msg, sink).service.key).toBe('TCP/10.96.0.1:443');
    decodeServiceMessage(withStats64Unknown, sink);
    expect([...sink].sort()).toEqual(['service:13', 'service:16383', 'stats64:12']);
    // Without a sink the decoder does not care.
    expect(() => decodeServiceMessage(msg)).not.toThrow();
  });

  it('accepts a 4-byte IPv4 ADDR (requests and mqliang/libipvs send 4)', () => {
    const msg = serviceMessage({ override: { [IPVS_SVC_ATTR.ADDR]: bytesAttr(IPVS_SVC_ATTR.ADDR, [192, 168, 0, 1]) }, port: 1337 });
    expect(toHex(msg)).toContain('06 00 04 00 05 39');
    expect(decodeServiceMessage(msg).service.key).toBe('TCP/192.168.0.1:1337');
  });

  it.each<[string, Uint8Array, RegExp]>([
    ['no IPVS_CMD_ATTR_SERVICE', encodeAttributes([u32Attr(IPVS_CMD_ATTR.DEST, 1)], false), /IPVS_CMD_ATTR_SERVICE is missing/],
    ['no AF', serviceMessage({ omit: [IPVS_SVC_ATTR.AF] }), /IPVS_SVC_ATTR_AF is missing/],
    ['no PROTOCOL', serviceMessage({ omit: [IPVS_SVC_ATTR.PROTOCOL] }), /IPVS_SVC_ATTR_PROTOCOL is missing/],
    ['no ADDR', serviceMessage({ omit: [IPVS_SVC_ATTR.ADDR] }), /IPVS_SVC_ATTR_ADDR is missing/],
    ['no PORT', serviceMessage({ omit: [IPVS_SVC_ATTR.PORT] }), /IPVS_SVC_ATTR_PORT is missing/],
    ['AF 7', serviceMessage({ family: 7 }), /unsupported address family 7/],
    ['AF 0', serviceMessage({ family: 0, fwmark: 1 }), /unsupported address family 0/],
    ['protocol ICMP', serviceMessage({ protocol: 1 }), /unsupported IP protocol 1/],
    ['1-byte AF', serviceMessage({ override: { [IPVS_SVC_ATTR.AF]: bytesAttr(IPVS_SVC_ATTR.AF, [2]) } }), /AF \(type 1\) has 1 bytes, needs 2/],
    ['4-byte ADDR on an IPv6 service', serviceMessage({ family: 'inet6', override: { [IPVS_SVC_ATTR.ADDR]: bytesAttr(IPVS_SVC_ATTR.ADDR, [0xfd, 0, 0, 1]) } }), /ADDR \(type 3\) has 4 bytes, needs 16/],
    ['1-byte PORT', serviceMessage({ override: { [IPVS_SVC_ATTR.PORT]: bytesAttr(IPVS_SVC_ATTR.PORT, [80]) } }), /PORT \(type 4\) has 1 bytes, needs 2/],
    ['4-byte FLAGS', serviceMessage({ override: { [IPVS_SVC_ATTR.FLAGS]: bytesAttr(IPVS_SVC_ATTR.FLAGS, [2, 0, 0, 0]) } }), /FLAGS \(type 7\) has 4 bytes, needs 8/],
    ['2-byte FWMARK', serviceMessage({ fwmark: 1, override: { [IPVS_SVC_ATTR.FWMARK]: bytesAttr(IPVS_SVC_ATTR.FWMARK, [1, 0]) } }), /FWMARK \(type 5\) has 2 bytes, needs 4/],
    ['4-byte u64 in STATS64', serviceMessage({ statsNests: 'none', extra: [{ type: IPVS_SVC_ATTR.STATS64, nested: [u32Attr(IPVS_STATS_ATTR.CONNS, 1)] }] }), /stats conns \(type 1\) has 4 bytes, needs 8/],
    ['truncated nest', encodeAttributes([{ type: IPVS_CMD_ATTR.SERVICE, data: hex('06 00 01 00 02 00 00 00 14 00 03 00 0a 00') }], false), /truncated/],
  ])('rejects a service with %s as NETLINK_DECODE', (_name, msg, message) => {
    expectSentinelError(() => decodeServiceMessage(msg), 'NETLINK_DECODE', message);
  });
});

describe('decodeDestMessage', () => {
  it('decodes a kernel-shaped IPv4 masq destination', () => {
    const rs = decodeDestMessage(
      destMessage({ address: '10.244.1.7', port: 8080, weight: 3, upperThreshold: 100, lowerThreshold: 10, activeConns: 4, inactiveConns: 5, persistentConns: 6, stats: { conns: 9n } }),
      'inet',
    );
    expect(rs).toEqual({
      address: '10.244.1.7',
      addressFamily: 'inet',
      port: 8080,
      forward: 'masq',
      weight: 3,
      upperThreshold: 100,
      lowerThreshold: 10,
      activeConns: 4,
      inactiveConns: 5,
      persistentConns: 6,
      tunnel: null,
      stats: stats({ conns: 9n }),
    });
  });

  it.each<[number | 'masq' | 'local' | 'tunnel' | 'route' | 'bypass', string]>([
    [0, 'masq'],
    [1, 'local'],
    [2, 'tunnel'],
    [3, 'route'],
    [4, 'bypass'],
    [0x100 | 3, 'route'],
  ])('forward method %s → %s (masked with IP_VS_CONN_F_FWD_MASK)', (forward, want) => {
    expect(decodeDestMessage(destMessage({ forward }), 'inet').forward).toBe(want);
  });

  it.each([5, 6, 7])('rejects the undefined forward method %i', (forward) => {
    expectSentinelError(() => decodeDestMessage(destMessage({ forward }), 'inet'), 'NETLINK_DECODE', new RegExp(`unknown forwarding method ${forward}`));
  });

  it('decodes a GUE tunnel destination: type 1, port 5555 from 15 b3, REMCSUM from 02 00', () => {
    const msg = destMessage({ forward: 'tunnel', tunnel: { type: 'gue', port: 5555, flags: 0x2 } });
    const bytes = toHex(msg);
    expect(bytes).toContain('05 00 0d 00 01');
    expect(bytes).toContain('06 00 0e 00 15 b3');
    expect(bytes).toContain('06 00 0f 00 02 00');
    expect(decodeDestMessage(msg, 'inet').tunnel).toEqual({ type: 'gue', port: 5555, flags: ['remcsum'] });
  });

  it.each<[string, { type?: 'ipip' | 'gue' | 'gre' | number; port?: number; flags?: number }, object]>([
    ['IPIP, nocsum', { type: 'ipip' }, { type: 'ipip', port: 0, flags: [] }],
    ['GRE, csum', { type: 'gre', flags: 0x1 }, { type: 'gre', port: 0, flags: ['csum'] }],
    ['GUE, csum + remcsum', { type: 'gue', port: 6080, flags: 0x3 }, { type: 'gue', port: 6080, flags: ['csum', 'remcsum'] }],
    ['an unknown type is kept as a number', { type: 7 }, { type: 'type-7', port: 0, flags: [] }],
  ])('tunnel %s', (_name, tunnel, want) => {
    expect(decodeDestMessage(destMessage({ forward: 'tunnel', tunnel }), 'inet').tunnel).toEqual(want);
  });

  it('ignores TUN_* attributes of a non-tunnel destination (the kernel always sends them)', () => {
    expect(decodeDestMessage(destMessage({ forward: 'route', tunnel: { type: 'gue', port: 5555 } }), 'inet').tunnel).toBeNull();
  });

  it('a tunnel destination from a kernel without TUN_* attributes is IPIP', () => {
    const msg = destMessage({ forward: 'tunnel', omit: [IPVS_DEST_ATTR.TUN_TYPE, IPVS_DEST_ATTR.TUN_PORT, IPVS_DEST_ATTR.TUN_FLAGS] });
    expect(decodeDestMessage(msg, 'inet').tunnel).toEqual({ type: 'ipip', port: 0, flags: [] });
  });

  it('takes the service family when ADDR_FAMILY is absent (kernels before 3.18)', () => {
    const v6 = decodeDestMessage(destMessage({ address: '2002::cafe', port: 53, addressFamily: null }), 'inet6');
    expect(v6).toMatchObject({ address: '2002::cafe', addressFamily: 'inet6', port: 53 });
    const v4 = decodeDestMessage(destMessage({ address: '10.1.2.3', addressFamily: null }), 'inet');
    expect(v4).toMatchObject({ address: '10.1.2.3', addressFamily: 'inet' });
  });

  it('decodes an IPv6 real server behind an IPv4 service by ADDR_FAMILY', () => {
    const rs = decodeDestMessage(destMessage({ address: '2001:db8:0:0:0:0:0:7', addressFamily: 'inet6', forward: 'tunnel' }), 'inet');
    expect(rs).toMatchObject({ address: '2001:db8::7', addressFamily: 'inet6' });
    expect(realServerKey(rs)).toBe('[2001:db8::7]:8080');
  });

  it('reads the weight as a signed int so a corrupt value shows, 0 = quiesced', () => {
    expect(decodeDestMessage(destMessage({ weight: 0 }), 'inet').weight).toBe(0);
    expect(decodeDestMessage(destMessage({ weight: 0xffffffff }), 'inet').weight).toBe(-1);
  });

  it('prefers STATS64, falls back to STATS, keeps u64 exact', () => {
    const values: StatsValues = { conns: 2n ** 32n + 1n, inBytes: MAX_U64, outPps: 2n ** 53n + 1n };
    expect(decodeDestMessage(destMessage({ stats: values }), 'inet').stats).toEqual(stats(values));
    expect(decodeDestMessage(destMessage({ stats: values, statsNests: 'stats' }), 'inet').stats).toEqual(stats({ conns: 1n, inBytes: MAX_U64, outPps: 1n }));
  });

  it('records unknown destination attributes as "dest:16" and unknown stats attributes as "stats:12"', () => {
    const sink: UnknownSink = new Set();
    const msg = destMessage({ extra: [u32Attr(16, 1)], statsNests: 'none' });
    const withStats = destMessage({ statsNests: 'none', extra: [{ type: IPVS_DEST_ATTR.STATS, nested: [u32Attr(12, 0)] }] });
    decodeDestMessage(msg, 'inet', sink);
    decodeDestMessage(withStats, 'inet', sink);
    expect([...sink].sort()).toEqual(['dest:16', 'stats:12']);
  });

  it.each<[string, Uint8Array, RegExp]>([
    ['no IPVS_CMD_ATTR_DEST', serviceMessage(), /IPVS_CMD_ATTR_DEST is missing/],
    ['no ADDR', destMessage({ omit: [IPVS_DEST_ATTR.ADDR] }), /IPVS_DEST_ATTR_ADDR is missing/],
    ['no PORT', destMessage({ omit: [IPVS_DEST_ATTR.PORT] }), /IPVS_DEST_ATTR_PORT is missing/],
    ['no FWD_METHOD', destMessage({ omit: [IPVS_DEST_ATTR.FWD_METHOD] }), /IPVS_DEST_ATTR_FWD_METHOD is missing/],
    ['ADDR_FAMILY 99', destMessage({ addressFamily: 99 }), /unsupported address family 99/],
    ['4-byte ADDR with ADDR_FAMILY inet6', destMessage({ addressFamily: 'inet6', override: { [IPVS_DEST_ATTR.ADDR]: bytesAttr(IPVS_DEST_ATTR.ADDR, [10, 0, 0, 1]) } }), /ADDR \(type 1\) has 4 bytes, needs 16/],
    ['3-byte WEIGHT', destMessage({ override: { [IPVS_DEST_ATTR.WEIGHT]: bytesAttr(IPVS_DEST_ATTR.WEIGHT, [1, 0, 0]) } }), /WEIGHT \(type 4\) has 3 bytes, needs 4/],
    ['empty TUN_TYPE', destMessage({ forward: 'tunnel', override: { [IPVS_DEST_ATTR.TUN_TYPE]: bytesAttr(IPVS_DEST_ATTR.TUN_TYPE, []) } }), /TUN_TYPE \(type 13\) has 0 bytes, needs 1/],
  ])('rejects a destination with %s as NETLINK_DECODE', (_name, msg, message) => {
    expectSentinelError(() => decodeDestMessage(msg, 'inet'), 'NETLINK_DECODE', message);
  });
});

describe('decodeInfo and decodeTimeouts', () => {
  it('decodes the version code 0x010201 as "1.2.1" and the connection table size', () => {
    expect(decodeInfo(encodeAttributes([u32Attr(1, 0x010201), u32Attr(2, 4096)]))).toEqual({ version: '1.2.1', connTableSize: 4096 });
  });

  it('reports a missing table size as 0 and a missing version as NETLINK_DECODE', () => {
    expect(decodeInfo(encodeAttributes([u32Attr(1, 0x020a03)]))).toEqual({ version: '2.10.3', connTableSize: 0 });
    expectSentinelError(() => decodeInfo(encodeAttributes([u32Attr(2, 4096)])), 'NETLINK_DECODE', /IPVS_INFO_ATTR_VERSION is missing/);
  });

  it('decodes the three timeouts in seconds', () => {
    expect(decodeTimeouts(encodeAttributes([u32Attr(4, 900), u32Attr(5, 120), u32Attr(6, 300)]))).toEqual({ tcp: 900, tcpFin: 120, udp: 300 });
  });

  it('reports each missing timeout as null', () => {
    expect(decodeTimeouts(encodeAttributes([u32Attr(6, 300)]))).toEqual({ tcp: null, tcpFin: null, udp: 300 });
    expect(decodeTimeouts(new Uint8Array(0))).toEqual({ tcp: null, tcpFin: null, udp: null });
  });
});

describe('keys', () => {
  it.each<[Parameters<typeof virtualServerKey>[0], string]>([
    [{ family: 'inet', protocol: 'TCP', address: '10.96.0.1', port: 443, fwmark: null }, 'TCP/10.96.0.1:443'],
    [{ family: 'inet6', protocol: 'UDP', address: 'fd00::10', port: 53, fwmark: null }, 'UDP/[fd00::10]:53'],
    [{ family: 'inet', protocol: null, address: null, port: null, fwmark: 4097 }, 'FWM/4097/inet'],
    [{ family: 'inet6', protocol: null, address: null, port: null, fwmark: 4097 }, 'FWM/4097/inet6'],
  ])('virtualServerKey → %s', (vs, key) => {
    expect(virtualServerKey(vs)).toBe(key);
  });
});

// ---- vectors from other projects (docs/ipvs-netlink.md §6) ------------------------------------------

/** Paste Go byte-slice literals verbatim: "0xc4, 0x00, ..." → bytes. */
function goBytes(text: string): Uint8Array {
  return hex(text.replace(/0x/g, '').replace(/,/g, ' '));
}

function onlyMessage(bytes: Uint8Array): NlMessage {
  const messages = parseMessages(bytes, 'vector');
  expect(messages).toHaveLength(1);
  return messages[0] as NlMessage;
}

/** google/seesaw ipvs/ipvs_test.go testIPVSStats. */
const SEESAW_STATS = stats({ conns: 3n, inPkts: 12n, inBytes: 1050n, inPps: 1n, inBps: 84n });

describe('google/seesaw ipvs/ipvs_test.go vectors', () => {
  it('nlmIPVSService: 196-byte NEW_SERVICE with NLM_F_MULTI and a 32-bit STATS nest', () => {
    const nlmIPVSService = goBytes(`
      0xc4, 0x00, 0x00, 0x00, 0x16, 0x00, 0x02, 0x00,
      0xb0, 0xb3, 0xc8, 0x55, 0x79, 0x02, 0x00, 0x00,
      0x01, 0x01, 0x00, 0x00, 0xb0, 0x00, 0x01, 0x00,
      0x06, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00,
      0x06, 0x00, 0x02, 0x00, 0x06, 0x00, 0x00, 0x00,
      0x14, 0x00, 0x03, 0x00, 0x01, 0x01, 0x01, 0x01,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x06, 0x00, 0x04, 0x00,
      0x50, 0x00, 0x00, 0x00, 0x07, 0x00, 0x06, 0x00,
      0x77, 0x6c, 0x63, 0x00, 0x0c, 0x00, 0x07, 0x00,
      0xf4, 0xf3, 0xf2, 0xf1, 0xff, 0xff, 0xff, 0xff,
      0x08, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x08, 0x00, 0x09, 0x00, 0xff, 0xff, 0xff, 0xff,
      0x5c, 0x00, 0x0a, 0x00, 0x08, 0x00, 0x01, 0x00,
      0x03, 0x00, 0x00, 0x00, 0x08, 0x00, 0x02, 0x00,
      0x0c, 0x00, 0x00, 0x00, 0x08, 0x00, 0x03, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x04, 0x00,
      0x1a, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x0c, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x06, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x07, 0x00,
      0x01, 0x00, 0x00, 0x00, 0x08, 0x00, 0x08, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x09, 0x00,
      0x54, 0x00, 0x00, 0x00, 0x08, 0x00, 0x0a, 0x00,
      0x00, 0x00, 0x00, 0x00,
    `);
    expect(nlmIPVSService.byteLength).toBe(196);
    const m = onlyMessage(nlmIPVSService);
    expect(m).toMatchObject({ type: 0x16, flags: 0x2, seq: 0x55c8b3b0, pid: 0x279 });
    const g = parseGenl(m, 'vector');
    expect([g.cmd, g.version]).toEqual([1, 1]);
    const sink: UnknownSink = new Set();
    const { service } = decodeServiceMessage(g.attributes, sink);
    expect(service).toEqual({
      key: 'TCP/1.1.1.1:20480', // the port bytes are 50 00: big-endian 0x5000
      family: 'inet',
      protocol: 'TCP',
      address: '1.1.1.1',
      port: 20480,
      fwmark: null,
      scheduler: 'wlc', // sent without its NUL
      flagBits: 0xf1f2f3f4,
      persistent: false,
      timeout: 0,
      netmask: 32,
      pe: null,
      stats: SEESAW_STATS,
      destinations: [],
    });
    expect([...sink]).toEqual([]);
  });

  it('nlmIPVSDestination: 200-byte NEW_DEST, IPv6 2002::cafe port 53, no ADDR_FAMILY, 32-bit STATS', () => {
    const nlmIPVSDestination = goBytes(`
      0xc8, 0x00, 0x00, 0x00, 0x19, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x01, 0x01, 0x00, 0x00, 0xb4, 0x00, 0x02, 0x00,
      0x14, 0x00, 0x01, 0x00, 0x20, 0x02, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0xca, 0xfe, 0x06, 0x00, 0x02, 0x00,
      0x00, 0x35, 0x00, 0x00, 0x08, 0x00, 0x03, 0x00,
      0xf4, 0xf3, 0xf2, 0xf1, 0x08, 0x00, 0x04, 0x00,
      0x01, 0x00, 0x00, 0x00, 0x08, 0x00, 0x05, 0x00,
      0xd0, 0x07, 0x00, 0x00, 0x08, 0x00, 0x06, 0x00,
      0xe8, 0x03, 0x00, 0x00, 0x08, 0x00, 0x07, 0x00,
      0x4e, 0x61, 0xbc, 0x00, 0x08, 0x00, 0x08, 0x00,
      0xb1, 0x7f, 0x39, 0x05, 0x08, 0x00, 0x09, 0x00,
      0xd2, 0x04, 0x00, 0x00, 0x5c, 0x00, 0x0a, 0x00,
      0x08, 0x00, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00,
      0x08, 0x00, 0x02, 0x00, 0x0c, 0x00, 0x00, 0x00,
      0x08, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x0c, 0x00, 0x04, 0x00, 0x1a, 0x04, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x05, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x08, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x08, 0x00, 0x07, 0x00, 0x01, 0x00, 0x00, 0x00,
      0x08, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x08, 0x00, 0x09, 0x00, 0x54, 0x00, 0x00, 0x00,
      0x08, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00,
    `);
    expect(nlmIPVSDestination.byteLength).toBe(200);
    const m = onlyMessage(nlmIPVSDestination);
    expect(m).toMatchObject({ type: 0x19, flags: 0, seq: 0, pid: 0 });
    const rs = decodeDestMessage(parseGenl(m, 'vector').attributes, 'inet6');
    expect(rs).toEqual({
      address: '2002::cafe',
      addressFamily: 'inet6',
      port: 53,
      forward: 'bypass', // the synthetic 0xf1f2f3f4 & IP_VS_CONN_F_FWD_MASK = 4
      weight: 1,
      upperThreshold: 2000,
      lowerThreshold: 1000,
      activeConns: 12345678,
      inactiveConns: 87654321,
      persistentConns: 1234,
      tunnel: null,
      stats: SEESAW_STATS,
    });
  });

  it('nlmIPVSAddService (encoder expectation, nest flagged NLA_F_NESTED) decodes too', () => {
    const nlmIPVSAddService = goBytes(`
      0x68, 0x00, 0x00, 0x00, 0x19, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x01, 0x01, 0x00, 0x00, 0x54, 0x00, 0x01, 0x80,
      0x06, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00,
      0x06, 0x00, 0x02, 0x00, 0x06, 0x00, 0x00, 0x00,
      0x14, 0x00, 0x03, 0x00, 0x01, 0x01, 0x01, 0x01,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x06, 0x00, 0x04, 0x00,
      0x50, 0x00, 0x00, 0x00, 0x08, 0x00, 0x06, 0x00,
      0x77, 0x6c, 0x63, 0x00, 0x0c, 0x00, 0x07, 0x00,
      0xf4, 0xf3, 0xf2, 0xf1, 0xff, 0xff, 0xff, 0xff,
      0x08, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x08, 0x00, 0x09, 0x00, 0xff, 0xff, 0xff, 0xff,
    `);
    const { service } = decodeServiceMessage(parseGenl(onlyMessage(nlmIPVSAddService), 'vector').attributes);
    expect(service).toMatchObject({ key: 'TCP/1.1.1.1:20480', scheduler: 'wlc', flagBits: 0xf1f2f3f4, netmask: 32, stats: ZERO_STATS });
  });

  it('nlmIPVSAddDestination (nest flagged NLA_F_NESTED, no stats) decodes too', () => {
    const nlmIPVSAddDestination = goBytes(`
      0x6c, 0x00, 0x00, 0x00, 0x19, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x01, 0x01, 0x00, 0x00, 0x58, 0x00, 0x02, 0x80,
      0x14, 0x00, 0x01, 0x00, 0x20, 0x02, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0xca, 0xfe, 0x06, 0x00, 0x02, 0x00,
      0x00, 0x35, 0x00, 0x00, 0x08, 0x00, 0x03, 0x00,
      0xf4, 0xf3, 0xf2, 0xf1, 0x08, 0x00, 0x04, 0x00,
      0x01, 0x00, 0x00, 0x00, 0x08, 0x00, 0x05, 0x00,
      0xd0, 0x07, 0x00, 0x00, 0x08, 0x00, 0x06, 0x00,
      0xe8, 0x03, 0x00, 0x00, 0x08, 0x00, 0x07, 0x00,
      0x4e, 0x61, 0xbc, 0x00, 0x08, 0x00, 0x08, 0x00,
      0xb1, 0x7f, 0x39, 0x05, 0x08, 0x00, 0x09, 0x00,
      0xd2, 0x04, 0x00, 0x00,
    `);
    const rs = decodeDestMessage(parseGenl(onlyMessage(nlmIPVSAddDestination), 'vector').attributes, 'inet6');
    expect(rs).toMatchObject({ address: '2002::cafe', port: 53, forward: 'bypass', weight: 1, upperThreshold: 2000, lowerThreshold: 1000, stats: ZERO_STATS });
  });
});

describe('cloudflare/ipvs client_linux_test.go vectors (attributes marshalled by nltest, no NLA_F_NESTED)', () => {
  const svc = (nested: AttrSpec[]): Uint8Array => encodeAttributes([{ type: IPVS_CMD_ATTR.SERVICE, nested }], false);
  const dst = (nested: AttrSpec[]): Uint8Array => encodeAttributes([{ type: IPVS_CMD_ATTR.DEST, nested }], false);
  const commonTail = (netmask: number[]): AttrSpec[] => [
    bytesAttr(IPVS_SVC_ATTR.PORT, [0x00, 0x50]),
    bytesAttr(IPVS_SVC_ATTR.SCHED_NAME, [0x77, 0x6c, 0x63]), // []byte("wlc"), no NUL
    bytesAttr(IPVS_SVC_ATTR.TIMEOUT, [0x68, 0x01, 0x00, 0x00]),
    bytesAttr(IPVS_SVC_ATTR.NETMASK, netmask),
    bytesAttr(IPVS_SVC_ATTR.FLAGS, [0, 0, 0, 0, 0, 0, 0, 0]),
  ];

  it('TestServices "single": 127.0.1.1:80, wlc, timeout 360, netmask ff ff ff fe = /31, no stats', () => {
    const { service } = decodeServiceMessage(
      svc([
        bytesAttr(IPVS_SVC_ATTR.AF, [0x02, 0x00]),
        bytesAttr(IPVS_SVC_ATTR.PROTOCOL, [0x06, 0x00]),
        bytesAttr(IPVS_SVC_ATTR.ADDR, [0x7f, 0, 0x01, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        ...commonTail([0xff, 0xff, 0xff, 0xfe]),
      ]),
    );
    expect(service).toMatchObject({ key: 'TCP/127.0.1.1:80', scheduler: 'wlc', timeout: 360, netmask: 31, flagBits: 0, persistent: false, stats: ZERO_STATS });
  });

  it('TestServices "single-ipv6": [ff00::]:80, netmask 80 00 00 00 = /128 host order', () => {
    const { service } = decodeServiceMessage(
      svc([
        bytesAttr(IPVS_SVC_ATTR.AF, [0x0a, 0x00]),
        bytesAttr(IPVS_SVC_ATTR.PROTOCOL, [0x06, 0x00]),
        bytesAttr(IPVS_SVC_ATTR.ADDR, [0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        ...commonTail([0x80, 0x00, 0x00, 0x00]),
      ]),
    );
    expect(service).toMatchObject({ key: 'TCP/[ff00::]:80', family: 'inet6', netmask: 128, timeout: 360 });
  });

  it('TestDestinations_Unpack "single direct": 127.0.1.1:80 route, weight 1', () => {
    const rs = decodeDestMessage(
      dst([
        bytesAttr(IPVS_DEST_ATTR.ADDR, [0x7f, 0, 0x01, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        bytesAttr(IPVS_DEST_ATTR.FWD_METHOD, [0x03, 0x00, 0x00, 0x00]),
        bytesAttr(IPVS_DEST_ATTR.WEIGHT, [0x01, 0x00, 0x00, 0x00]),
        bytesAttr(IPVS_DEST_ATTR.PORT, [0x00, 0x50]),
        bytesAttr(IPVS_DEST_ATTR.ADDR_FAMILY, [0x02, 0x00]),
      ]),
      'inet',
    );
    expect(rs).toEqual({
      address: '127.0.1.1',
      addressFamily: 'inet',
      port: 80,
      forward: 'route',
      weight: 1,
      upperThreshold: 0,
      lowerThreshold: 0,
      activeConns: 0,
      inactiveConns: 0,
      persistentConns: 0,
      tunnel: null,
      stats: ZERO_STATS,
    });
  });

  it('TestDestinations_Unpack "single GUE tunnel": TUN_TYPE 01, TUN_PORT 15 b3 = 5555, TUN_FLAGS 02 00 = remcsum', () => {
    const rs = decodeDestMessage(
      dst([
        bytesAttr(IPVS_DEST_ATTR.ADDR, [0x7f, 0, 0x01, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        bytesAttr(IPVS_DEST_ATTR.FWD_METHOD, [0x02, 0x00, 0x00, 0x00]),
        bytesAttr(IPVS_DEST_ATTR.WEIGHT, [0x01, 0x00, 0x00, 0x00]),
        bytesAttr(IPVS_DEST_ATTR.PORT, [0x00, 0x50]),
        bytesAttr(IPVS_DEST_ATTR.ADDR_FAMILY, [0x02, 0x00]),
        bytesAttr(IPVS_DEST_ATTR.TUN_TYPE, [0x01]),
        bytesAttr(IPVS_DEST_ATTR.TUN_PORT, [0x15, 0xb3]),
        bytesAttr(IPVS_DEST_ATTR.TUN_FLAGS, [0x02, 0x00]),
      ]),
      'inet',
    );
    expect(rs).toMatchObject({ address: '127.0.1.1', port: 80, forward: 'tunnel', weight: 1, tunnel: { type: 'gue', port: 5555, flags: ['remcsum'] } });
  });

  // TestUnpackServiceCrashers: service-nest payloads that crashed cloudflare's unpacker.
  it.each([
    '\x06\x00\x01\x00\n\x0000\x14\x00\x03\x0000000000' + '00000000\f\x00\t\x0000000000',
    '\x05\x00\x04\x000000',
    '\x06\x00\x01\x00\x02\x0000\x14\x00\x03\x0000000000' + '00000000\x06\x00\x07\x000000\b\x00\t\x00' + '0000',
  ])('crasher %# is a NETLINK_DECODE error, not a crash', (crash) => {
    const nest = Uint8Array.from(crash, (c) => c.charCodeAt(0));
    expectSentinelError(() => decodeServiceMessage(encodeAttributes([{ type: IPVS_CMD_ATTR.SERVICE, data: nest }], false)), 'NETLINK_DECODE');
  });
});
