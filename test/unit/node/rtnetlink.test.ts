import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { NodeInterface } from '../../../src/desired/types.js';
import { isSentinelError } from '../../../src/errors/index.js';
import type { NetlinkSocket } from '../../../src/netlink/libnl.js';
import { NLM_F_DUMP_INTR, NLM_F_MULTI, parseMessages } from '../../../src/netlink/message.js';
import { ReplaySocket, type NetlinkRecording } from '../../../src/netlink/recording.js';
import { kubeIpvs0Addresses, readNodeInterfaces } from '../../../src/node/kube-ipvs0.js';
import {
  assembleInterfaces,
  DumpCollector,
  datagram,
  decodeAddress,
  decodeLink,
  encodeAddressMessage,
  encodeDone,
  encodeDumpRequest,
  encodeLinkMessage,
  IFF_LOOPBACK,
  IFF_NOARP,
  IFF_UP,
  RT_SCOPE_HOST,
  RT_SCOPE_LINK,
  RT_SCOPE_UNIVERSE,
  RTM_GETADDR,
  RTM_GETLINK,
} from '../../../src/node/rtnetlink.js';
import { parseAddress } from '../../../src/util/ip.js';

const FIXTURES = join(import.meta.dirname, '../../fixtures/rtnetlink');
const PID = 4242;

const ip = (text: string): Uint8Array => {
  const parsed = parseAddress(text);
  if (parsed === null) throw new Error(`bad address ${text}`);
  return parsed.bytes;
};

/** A kube-proxy IPVS node: lo, eth0 (with a secondary IP), cni0, and kube-ipvs0 holding ClusterIPs. */
function nodeDump(seq: number, flags = NLM_F_MULTI): { links: Uint8Array[]; addrs: Uint8Array[] } {
  const links = [
    encodeLinkMessage({ index: 1, name: 'lo', type: 772, flags: IFF_UP | IFF_LOOPBACK }, seq, PID),
    encodeLinkMessage({ index: 2, name: 'eth0', type: 1, flags: IFF_UP }, seq, PID, [{ type: 1, data: new Uint8Array([2, 0xfc, 0, 0, 0, 1]) }]),
    encodeLinkMessage({ index: 5, name: 'kube-ipvs0', type: 1, flags: IFF_NOARP | 0x2 }, seq, PID),
    encodeLinkMessage({ index: 4, name: 'cni0', type: 1, flags: IFF_UP }, seq, PID),
  ];
  const addrs = [
    encodeAddressMessage({ index: 1, family: 'inet', prefixLength: 8, scope: RT_SCOPE_HOST, local: ip('127.0.0.1'), address: ip('127.0.0.1'), label: 'lo' }, seq, PID),
    encodeAddressMessage({ index: 2, family: 'inet', prefixLength: 24, scope: RT_SCOPE_UNIVERSE, local: ip('192.168.122.10'), address: ip('192.168.122.10'), label: 'eth0' }, seq, PID),
    encodeAddressMessage({ index: 2, family: 'inet', prefixLength: 32, scope: RT_SCOPE_UNIVERSE, local: ip('192.168.122.100'), address: ip('192.168.122.100'), label: 'eth0:vip' }, seq, PID),
    encodeAddressMessage({ index: 4, family: 'inet', prefixLength: 24, scope: RT_SCOPE_UNIVERSE, local: ip('10.244.0.1'), address: ip('10.244.0.1'), label: 'cni0' }, seq, PID),
    encodeAddressMessage({ index: 5, family: 'inet', prefixLength: 32, scope: RT_SCOPE_UNIVERSE, local: ip('10.96.0.10'), address: ip('10.96.0.10'), label: 'kube-ipvs0' }, seq, PID),
    encodeAddressMessage({ index: 5, family: 'inet', prefixLength: 32, scope: RT_SCOPE_UNIVERSE, local: ip('10.96.0.1'), address: ip('10.96.0.1'), label: 'kube-ipvs0' }, seq, PID),
    encodeAddressMessage({ index: 1, family: 'inet6', prefixLength: 128, scope: RT_SCOPE_HOST, local: null, address: ip('::1') }, seq, PID),
    encodeAddressMessage({ index: 2, family: 'inet6', prefixLength: 64, scope: RT_SCOPE_LINK, local: null, address: ip('fe80::fc:ff:fe00:1') }, seq, PID),
    encodeAddressMessage({ index: 5, family: 'inet6', prefixLength: 128, scope: RT_SCOPE_UNIVERSE, local: null, address: ip('fd00:10:96::a') }, seq, PID),
    encodeAddressMessage({ index: 5, family: 'inet6', prefixLength: 64, scope: RT_SCOPE_LINK, local: null, address: ip('fe80::1') }, seq, PID),
  ];
  if (flags !== NLM_F_MULTI) {
    for (const m of [...links, ...addrs]) new DataView(m.buffer, m.byteOffset).setUint16(6, flags, true);
  }
  return { links, addrs };
}

const NODE: NodeInterface[] = [
  { name: 'lo', loopback: true, addresses: [{ address: '127.0.0.1', prefixLength: 8, family: 'inet' }, { address: '::1', prefixLength: 128, family: 'inet6' }] },
  { name: 'eth0', loopback: false, addresses: [{ address: '192.168.122.10', prefixLength: 24, family: 'inet' }, { address: '192.168.122.100', prefixLength: 32, family: 'inet' }, { address: 'fe80::fc:ff:fe00:1', prefixLength: 64, family: 'inet6' }] },
  { name: 'cni0', loopback: false, addresses: [{ address: '10.244.0.1', prefixLength: 24, family: 'inet' }] },
  {
    name: 'kube-ipvs0',
    loopback: false,
    addresses: [
      { address: '10.96.0.10', prefixLength: 32, family: 'inet' },
      { address: '10.96.0.1', prefixLength: 32, family: 'inet' },
      { address: 'fd00:10:96::a', prefixLength: 128, family: 'inet6' },
      { address: 'fe80::1', prefixLength: 64, family: 'inet6' },
    ],
  },
];

/** A socket answering dumps from prepared datagrams, several messages per datagram like the kernel. */
class ScriptedSocket implements NetlinkSocket {
  readonly localPort = PID;
  readonly sent: Uint8Array[] = [];
  private queue: Uint8Array[] = [];
  closed = false;
  constructor(private readonly answer: (request: Uint8Array, count: number) => Uint8Array[]) {}
  send(bytes: Uint8Array): void {
    this.sent.push(bytes);
    this.queue = this.answer(bytes, this.sent.length);
  }
  receive(): Uint8Array {
    const next = this.queue.shift();
    if (next === undefined) throw new Error('nothing queued');
    return next;
  }
  close(): void {
    this.closed = true;
  }
}

function seqOf(request: Uint8Array): number {
  return new DataView(request.buffer, request.byteOffset).getUint32(8, true);
}

function typeOf(request: Uint8Array): number {
  return new DataView(request.buffer, request.byteOffset).getUint16(4, true);
}

/** The node's dump for either request, each split over two datagrams of several messages. */
function answerInTwoDatagrams(request: Uint8Array): Uint8Array[] {
  const seq = seqOf(request);
  const { links, addrs } = nodeDump(seq);
  if (typeOf(request) === RTM_GETLINK) return [datagram(...links.slice(0, 2)), datagram(...links.slice(2)), encodeDone(seq, PID)];
  return [datagram(...addrs.slice(0, 5)), datagram(...addrs.slice(5), encodeDone(seq, PID))];
}

describe('rtnetlink codec', () => {
  it.each([
    [RTM_GETLINK, '20000000120001030a0000003910000000000000000000000000000000000000'],
    [RTM_GETADDR, '18000000160001030a000000391000000000000000000000'],
  ])('dump request %i encodes as the kernel expects', (type, hex) => {
    expect(Buffer.from(encodeDumpRequest(type as typeof RTM_GETLINK, 10, 4153)).toString('hex')).toBe(hex);
  });

  it('decodes links and addresses it encoded', () => {
    const { links, addrs } = nodeDump(7);
    const link = decodeLink(parseMessages(links[2] ?? new Uint8Array(), 'test')[0] ?? { type: 0, flags: 0, seq: 0, pid: 0, payload: new Uint8Array() });
    expect(link).toEqual({ index: 5, name: 'kube-ipvs0', type: 1, flags: IFF_NOARP | 0x2 });
    const addr = decodeAddress(parseMessages(addrs[2] ?? new Uint8Array(), 'test')[0] ?? { type: 0, flags: 0, seq: 0, pid: 0, payload: new Uint8Array() });
    expect(addr).toEqual({ index: 2, family: 'inet', prefixLength: 32, scope: 0, address: '192.168.122.100', peer: null, label: 'eth0:vip' });
  });

  it('takes IFA_LOCAL as the address and IFA_ADDRESS as the peer of a point-to-point link', () => {
    const bytes = encodeAddressMessage({ index: 9, family: 'inet', prefixLength: 32, scope: 0, local: ip('10.0.0.1'), address: ip('10.0.0.2'), label: 'tun0' }, 1, PID);
    const [message] = parseMessages(bytes, 'test');
    expect(message && decodeAddress(message)).toMatchObject({ address: '10.0.0.1', peer: '10.0.0.2' });
  });

  it.each([
    ['a short ifaddrmsg', new Uint8Array([2, 24, 0, 0]), 'shorter than struct ifaddrmsg'],
    ['an address of the wrong width', (() => {
      const m = encodeAddressMessage({ index: 2, family: 'inet6', prefixLength: 64, scope: 0, local: null, address: ip('10.0.0.1') }, 1, PID);
      return m.subarray(16);
    })(), 'IFA_ADDRESS is 4 bytes, expected 16'],
    ['no address at all', (() => encodeAddressMessage({ index: 2, family: 'inet', prefixLength: 24, scope: 0, local: null, address: null }, 1, PID).subarray(16))(), 'neither IFA_LOCAL nor IFA_ADDRESS'],
  ])('rejects %s', (_why, payload, text) => {
    let error: unknown;
    try {
      decodeAddress({ type: 20, flags: 0, seq: 1, pid: PID, payload });
    } catch (e) {
      error = e;
    }
    expect(isSentinelError(error, 'NETLINK_DECODE')).toBe(true);
    expect((error as Error).message).toContain(text);
  });

  it('skips address families other than IPv4/IPv6', () => {
    expect(decodeAddress({ type: 20, flags: 0, seq: 1, pid: PID, payload: new Uint8Array(8) })).toBeNull();
  });

  it('rejects a link without IFLA_IFNAME', () => {
    expect(() => decodeLink({ type: 16, flags: 0, seq: 1, pid: PID, payload: new Uint8Array(16) })).toThrow(/IFLA_IFNAME/);
  });

  it('DumpCollector decodes datagram by datagram, stops at NLMSG_DONE, ignores other sequences and reports errors', () => {
    const { links } = nodeDump(3);
    const stale = encodeLinkMessage({ index: 99, name: 'old', type: 1, flags: 0 }, 2, PID);
    const reply = new DumpCollector(3, 'test', (m) => decodeLink(m).name);
    expect(reply.add(datagram(stale, ...links.slice(0, 2)))).toBe(false);
    expect(reply.items).toEqual(['lo', 'eth0']);
    expect(reply.add(datagram(...links.slice(2), encodeDone(3, PID)))).toBe(true);
    expect(reply).toMatchObject({ done: true, interrupted: false, items: ['lo', 'eth0', 'kube-ipvs0', 'cni0'] });
    const skipping = new DumpCollector(3, 'test', () => null);
    expect(skipping.add(datagram(...links, encodeDone(3, PID)))).toBe(true);
    expect(skipping.items).toEqual([]);
    const error = new Uint8Array(36);
    const view = new DataView(error.buffer);
    view.setUint32(0, 36, true);
    view.setUint16(4, 2, true);
    view.setUint32(8, 3, true);
    view.setInt32(16, -1, true);
    expect(() => new DumpCollector(3, 'test', () => null).add(error)).toThrow(/errno 1/);
  });

  it('assembles interfaces by index', () => {
    const { links, addrs } = nodeDump(1);
    const decodedLinks = links.map((l) => decodeLink(parseMessages(l, 't')[0] ?? { type: 0, flags: 0, seq: 0, pid: 0, payload: new Uint8Array() }));
    const decodedAddrs = addrs.flatMap((a) => {
      const d = decodeAddress(parseMessages(a, 't')[0] ?? { type: 0, flags: 0, seq: 0, pid: 0, payload: new Uint8Array() });
      return d === null ? [] : [d];
    });
    expect(assembleInterfaces(decodedLinks, decodedAddrs)).toEqual([NODE[0], NODE[1], NODE[2], NODE[3]]);
  });
});

describe('readNodeInterfaces', () => {
  it('reads a node from multi-message datagrams', () => {
    const socket = new ScriptedSocket(answerInTwoDatagrams);
    expect(readNodeInterfaces({ socket, seq: 100 })).toEqual(NODE);
    expect(socket.sent.map(typeOf)).toEqual([RTM_GETLINK, RTM_GETADDR]);
    expect(socket.closed).toBe(false);
  });

  it('reads a socket that lends one receive buffer, as libnl\'s does (valid until the next receive)', () => {
    const scripted = new ScriptedSocket(answerInTwoDatagrams);
    const buffer = new Uint8Array(64 * 1024);
    const lending: NetlinkSocket = {
      localPort: scripted.localPort,
      send: (bytes) => scripted.send(bytes),
      receive: () => {
        const next = scripted.receive();
        buffer.fill(0xa5); // what a later receive would leave in a view kept too long
        buffer.set(next);
        return buffer.subarray(0, next.byteLength);
      },
      close: () => scripted.close(),
    };
    expect(readNodeInterfaces({ socket: lending, seq: 100 })).toEqual(NODE);
  });

  it('dumps again when the kernel flags NLM_F_DUMP_INTR', () => {
    const socket = new ScriptedSocket((request, count) => {
      const seq = seqOf(request);
      const { links, addrs } = nodeDump(seq, count === 1 ? NLM_F_MULTI | NLM_F_DUMP_INTR : NLM_F_MULTI);
      return [datagram(...(typeOf(request) === RTM_GETLINK ? links : addrs), encodeDone(seq, PID))];
    });
    expect(readNodeInterfaces({ socket, seq: 100 })).toEqual(NODE);
    expect(socket.sent.map((r) => [typeOf(r), seqOf(r)])).toEqual([[RTM_GETLINK, 100], [RTM_GETLINK, 101], [RTM_GETADDR, 103]]);
  });

  it('gives up after three interrupted dumps', () => {
    const socket = new ScriptedSocket((request) => {
      const seq = seqOf(request);
      return [datagram(...nodeDump(seq, NLM_F_MULTI | NLM_F_DUMP_INTR).links, encodeDone(seq, PID))];
    });
    expect(() => readNodeInterfaces({ socket, seq: 1 })).toThrow(/kept changing/);
  });

  it('replays the real kernel dump recorded on the build host and matches `ip -j addr`', () => {
    const recording = JSON.parse(readFileSync(join(FIXTURES, 'host-links-addrs.json'), 'utf8')) as NetlinkRecording;
    const interfaces = readNodeInterfaces({ socket: new ReplaySocket(recording), seq: 1000 });
    expect(interfaces).toEqual(fromIpJson(readFileSync(join(FIXTURES, 'host-ip-addr.json'), 'utf8')));
    expect(kubeIpvs0Addresses(interfaces)).toBeNull();
  });

  const hasIp = (() => {
    try {
      execFileSync('ip', ['-j', 'addr'], { stdio: 'pipe' });
      return true;
    } catch {
      return false;
    }
  })();

  it.skipIf(!hasIp)('reads this machine over NETLINK_ROUTE exactly as `ip -j addr` does', () => {
    let interfaces: NodeInterface[];
    try {
      interfaces = readNodeInterfaces();
    } catch (error) {
      if (isSentinelError(error, 'LIBNL_UNAVAILABLE')) return; // no libnl on this host
      throw error;
    }
    expect(interfaces).toEqual(fromIpJson(execFileSync('ip', ['-j', 'addr'], { encoding: 'utf8' })));
  });
});

/** `ip -j addr` → NodeInterface[] (iproute2 lists links by index, addresses in kernel order). */
function fromIpJson(text: string): NodeInterface[] {
  const links = JSON.parse(text) as { ifindex: number; ifname: string; flags: string[]; addr_info: { family: string; local: string; prefixlen: number }[] }[];
  return links
    .sort((a, b) => a.ifindex - b.ifindex)
    .map((l) => ({
      name: l.ifname,
      loopback: l.flags.includes('LOOPBACK'),
      addresses: l.addr_info
        .filter((a) => a.family === 'inet' || a.family === 'inet6')
        .map((a) => ({ address: a.local, prefixLength: a.prefixlen, family: a.family as 'inet' | 'inet6' })),
    }));
}

describe('kube-ipvs0', () => {
  it('lists its addresses sorted, without IPv6 link-local', () => {
    expect(kubeIpvs0Addresses(NODE)).toEqual(['10.96.0.1', '10.96.0.10', 'fd00:10:96::a']);
  });

  it('an existing device with no address is an empty list, not null', () => {
    expect(kubeIpvs0Addresses([{ name: 'kube-ipvs0', loopback: false, addresses: [] }])).toEqual([]);
  });
});
