import { describe, expect, it } from 'vitest';
import { IPVS_CMD } from '../../../src/ipvs/constants.js';
import { IpvsReader, type IpvsReaderOptions } from '../../../src/ipvs/reader.js';
import type { GenericNetlinkSocket } from '../../../src/netlink/libnl.js';
import { encodeAttributes } from '../../../src/netlink/attributes.js';
import { NetlinkError } from '../../../src/netlink/errors.js';
import { NLM_F_DUMP_INTR, NLM_F_MULTI } from '../../../src/netlink/message.js';
import { expectSentinelRejection } from '../../support/errors.js';
import { FakeIpvsKernel, type FakeRequest, type FakeTable, type Reply } from '../../support/fake-ipvs-kernel.js';
import { datagram, doneMessage, errorMessage, genlMessage, hex, serviceMessage } from '../../support/ipvs-messages.js';

const T0 = new Date('2025-03-01T12:00:00.000Z');

function reader(kernel: FakeIpvsKernel, options: Partial<IpvsReaderOptions> = {}): IpvsReader {
  let clock = 100;
  return new IpvsReader({ open: kernel.open, now: () => T0, monotonicMs: () => (clock += 2.5), ...options });
}

/** A small table in kernel hash order (unsorted), IPv4, IPv6 and fwmark services. */
const TABLE: FakeTable = {
  services: [
    {
      service: { protocol: 'UDP', address: '10.96.0.10', port: 53 },
      destinations: [
        { address: '10.244.2.9', port: 53 },
        { address: '10.244.10.3', port: 53 },
        { address: '10.244.2.10', port: 53 },
      ],
    },
    {
      service: { protocol: 'TCP', address: '10.96.0.1', port: 443, stats: { conns: 2n ** 53n + 1n } },
      destinations: [
        { address: '192.168.1.10', port: 6443, stats: { inBytes: 18446744073709551615n } },
        { address: '192.168.1.9', port: 6443 },
      ],
    },
    {
      service: { family: 'inet6', protocol: 'TCP', address: 'fd00::1', port: 80 },
      destinations: [
        { address: 'fd00:10::2', port: 8080 },
        { address: 'fd00:10::2', port: 80 },
        { address: '10.1.1.1', port: 80, forward: 'tunnel' },
      ],
    },
    { service: { family: 'inet6', fwmark: 4097, scheduler: 'sh', flags: 0x2 | 0x8 }, destinations: [{ address: 'fd00::9', port: 0, forward: 'route' }] },
    { service: { protocol: 'TCP', address: '10.96.0.20', port: 80 }, destinations: [] },
  ],
};

const only = (cmd: number, match: (r: FakeRequest) => boolean = () => true) => (reply: (r: FakeRequest, normal: () => Reply) => Reply) =>
  (r: FakeRequest, normal: () => Reply): Reply | undefined => (r.cmd === cmd && match(r) ? reply(r, normal) : undefined);

describe('IpvsReader.read', () => {
  it('reads the whole table: services sorted by key, destinations by address numerically then port', async () => {
    const kernel = new FakeIpvsKernel(TABLE);
    const snap = await reader(kernel).read();
    expect(snap.readAt).toBe(T0);
    expect(snap.durationMs).toBe(2.5);
    expect(snap.info).toEqual({ version: '1.2.1', connTableSize: 4096 });
    expect(snap.timeouts).toEqual({ tcp: 900, tcpFin: 120, udp: 300 });
    expect(snap.unknownAttributes).toEqual([]);
    expect(snap.services.map((s) => s.key)).toEqual(['FWM/4097/inet6', 'TCP/10.96.0.1:443', 'TCP/10.96.0.20:80', 'TCP/[fd00::1]:80', 'UDP/10.96.0.10:53']);
    const dests = Object.fromEntries(snap.services.map((s) => [s.key, s.destinations.map((d) => `${d.address}|${d.port}`)]));
    expect(dests).toEqual({
      'FWM/4097/inet6': ['fd00::9|0'],
      'TCP/10.96.0.1:443': ['192.168.1.9|6443', '192.168.1.10|6443'],
      'TCP/10.96.0.20:80': [],
      'TCP/[fd00::1]:80': ['10.1.1.1|80', 'fd00:10::2|80', 'fd00:10::2|8080'],
      'UDP/10.96.0.10:53': ['10.244.2.9|53', '10.244.2.10|53', '10.244.10.3|53'],
    });
    const api = snap.services.find((s) => s.key === 'TCP/10.96.0.1:443');
    expect(api?.stats.conns).toBe(2n ** 53n + 1n);
    expect(api?.destinations[1]?.stats.inBytes).toBe(18446744073709551615n);
    const fwm = snap.services[0];
    expect(fwm).toMatchObject({ scheduler: 'sh', flagBits: 0xa, fwmark: 4097, family: 'inet6' });
  });

  it('sends one GET_DEST per service with the identity, and dumps the services twice (consistency check)', async () => {
    const kernel = new FakeIpvsKernel(TABLE);
    await reader(kernel).read();
    const cmds = kernel.commands();
    expect(cmds.filter((c) => c === IPVS_CMD.GET_SERVICE)).toHaveLength(2);
    expect(cmds.filter((c) => c === IPVS_CMD.GET_DEST)).toHaveLength(5);
    expect(cmds[0]).toBe(IPVS_CMD.GET_INFO);
    expect(cmds[1]).toBe(IPVS_CMD.GET_CONFIG);
    const getDest = kernel.requests.find((r) => r.cmd === IPVS_CMD.GET_DEST);
    expect(getDest?.flags).toBe(0x0301);
    // Sequence numbers are fresh per request.
    const seqs = kernel.requests.map((r) => r.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(kernel.sockets).toHaveLength(1);
  });

  it('reads an empty table (a dump that is just DONE)', async () => {
    const snap = await reader(new FakeIpvsKernel({ services: [] })).read();
    expect(snap.services).toEqual([]);
  });

  it.each([
    ['DONE alone, one message per datagram', 1, false],
    ['DONE alone, three per datagram', 3, false],
    ['DONE in the same datagram as the last batch', 2, true],
    ['everything in one datagram with DONE', 100, true],
  ])('handles %s', async (_name, batchSize, doneWithData) => {
    const kernel = new FakeIpvsKernel(TABLE);
    kernel.batchSize = batchSize;
    kernel.doneWithData = doneWithData;
    const snap = await reader(kernel).read();
    expect(snap.services).toHaveLength(5);
    expect(snap.services.flatMap((s) => s.destinations)).toHaveLength(9);
  });

  it('de-duplicates a service and a destination repeated across dump batches', async () => {
    const svc = { service: { address: '10.96.0.1', port: 443 }, destinations: [{ address: '10.0.0.1' }, { address: '10.0.0.2' }, { address: '10.0.0.1' }] };
    const kernel = new FakeIpvsKernel({ services: [svc, { service: { address: '10.96.0.2' } }, svc] });
    kernel.batchSize = 1;
    const snap = await reader(kernel).read();
    expect(snap.services.map((s) => s.key)).toEqual(['TCP/10.96.0.1:443', 'TCP/10.96.0.2:443']);
    expect(snap.services[0]?.destinations.map((d) => d.address)).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(kernel.commands().filter((c) => c === IPVS_CMD.GET_DEST)).toHaveLength(2);
  });

  it('skips messages of another sequence number or port id (leftovers of an abandoned request)', async () => {
    const kernel = new FakeIpvsKernel(TABLE);
    kernel.script.push(
      only(IPVS_CMD.GET_SERVICE)((r, normal) => {
        const stale = genlMessage({ type: kernel.familyId, seq: r.seq - 1, pid: r.socket.localPort }, IPVS_CMD.NEW_SERVICE, serviceMessage({ address: '10.99.99.99' }));
        const otherPid = genlMessage({ type: kernel.familyId, seq: r.seq, pid: r.socket.localPort + 1 }, IPVS_CMD.NEW_SERVICE, serviceMessage({ address: '10.99.99.98' }));
        const staleDone = doneMessage(r.seq + 5, r.socket.localPort);
        const staleError = errorMessage(r.seq - 1, r.socket.localPort, 1);
        return [datagram(stale, staleDone, otherPid, staleError), ...normal()];
      }),
    );
    const snap = await reader(kernel).read();
    expect(snap.services.map((s) => s.address)).not.toContain('10.99.99.99');
    expect(snap.services.map((s) => s.address)).not.toContain('10.99.99.98');
    expect(snap.services).toHaveLength(5);
  });

  it('skips NOOP messages and genl commands it does not expect', async () => {
    const kernel = new FakeIpvsKernel(TABLE);
    kernel.script.push(
      only(IPVS_CMD.GET_SERVICE)((r, normal) => {
        const noop = datagram(genlMessage({ type: 1, seq: r.seq, pid: r.socket.localPort }, 0, new Uint8Array(0)));
        const otherCmd = datagram(genlMessage({ type: kernel.familyId, seq: r.seq, pid: r.socket.localPort }, IPVS_CMD.NEW_DEST, new Uint8Array(0)));
        return [noop, otherCmd, ...normal()];
      }),
    );
    expect((await reader(kernel).read()).services).toHaveLength(5);
  });

  it('reports unknown attributes of a newer kernel', async () => {
    const kernel = new FakeIpvsKernel({
      services: [{ service: { extra: [{ type: 13, data: hex('01 00 00 00') }] }, destinations: [{ extra: [{ type: 16, data: hex('00') }] }] }],
    });
    const snap = await reader(kernel).read();
    expect(snap.unknownAttributes).toEqual(['dest:16', 'service:13']);
  });

  it('EPERM → IPVS_PERMISSION_DENIED mentioning CAP_NET_ADMIN, not retried', async () => {
    const kernel = new FakeIpvsKernel(TABLE);
    kernel.script.push((r) => [errorMessage(r.seq, r.socket.localPort, 1)]);
    const err = await expectSentinelRejection(reader(kernel).read(), 'IPVS_PERMISSION_DENIED', /CAP_NET_ADMIN/);
    expect(err).toBeInstanceOf(NetlinkError);
    expect((err as NetlinkError).errno).toBe(1);
    expect(kernel.requests).toHaveLength(1);
  });

  it('no IPVS family → IPVS_UNAVAILABLE mentioning `modprobe ip_vs`', async () => {
    const kernel = new FakeIpvsKernel(TABLE);
    kernel.loaded = false;
    const r = reader(kernel);
    await expectSentinelRejection(r.read(), 'IPVS_UNAVAILABLE', /modprobe ip_vs/);
    expect(kernel.requests).toHaveLength(0);
    expect(kernel.sockets.every((s) => s.closed)).toBe(true);
    expect(r.familyResolves()).toBe(false);
    kernel.loaded = true;
    expect(r.familyResolves()).toBe(true);
    expect((await r.read()).services).toHaveLength(5);
  });

  it('ENOBUFS while receiving → socket closed, reopened, and the whole read retried', async () => {
    const kernel = new FakeIpvsKernel(TABLE);
    const enobufs = new NetlinkError('NETLINK_IO', 'receive netlink reply', 'Out of memory (libnl -5)', { libnlCode: -5 });
    let dests = 0;
    kernel.script.push(only(IPVS_CMD.GET_DEST, () => ++dests === 3)((_r, normal) => [enobufs, ...normal()]));
    const snap = await reader(kernel).read();
    expect(snap.services).toHaveLength(5);
    expect(kernel.sockets).toHaveLength(2);
    expect(kernel.sockets[0]?.closed).toBe(true);
    expect(kernel.sockets[1]?.closed).toBe(false);
    expect(kernel.sockets[1]?.resolveCalls).toBe(1);
  });

  it.each([
    ['EBUSY errno (a dump already running)', 16],
    ['EAGAIN errno', 11],
  ])('%s → retried', async (_name, errno) => {
    const kernel = new FakeIpvsKernel(TABLE);
    kernel.script.push(only(IPVS_CMD.GET_SERVICE)((r) => [errorMessage(r.seq, r.socket.localPort, errno)]));
    expect((await reader(kernel).read()).services).toHaveLength(5);
    expect(kernel.sockets).toHaveLength(2);
  });

  it('ENOENT on an IPVS request (ip_vs reloaded, family id stale) → family resolved again', async () => {
    const kernel = new FakeIpvsKernel(TABLE);
    const r = reader(kernel);
    await r.read();
    kernel.familyId = 0x1d; // module reloaded: the old id now answers ENOENT
    const snap = await r.read();
    expect(snap.services).toHaveLength(5);
    expect(kernel.sockets).toHaveLength(2);
    expect(kernel.lastSocket?.resolveCalls).toBe(1);
    expect(kernel.requests.filter((q) => q.type === 0x1d).length).toBeGreaterThan(0);
  });

  it('a service list that changes between the first and second dump → read again', async () => {
    const before: FakeTable = { services: [{ service: { address: '10.96.0.1' }, destinations: [{ address: '10.0.0.1' }] }] };
    const after: FakeTable = {
      services: [...before.services, { service: { address: '10.96.0.2' }, destinations: [{ address: '10.0.0.2' }] }],
    };
    const kernel = new FakeIpvsKernel((n) => (n === 0 ? before : after));
    const snap = await reader(kernel).read();
    expect(snap.services.map((s) => s.key)).toEqual(['TCP/10.96.0.1:443', 'TCP/10.96.0.2:443']);
    expect(snap.services[1]?.destinations.map((d) => d.address)).toEqual(['10.0.0.2']);
    expect(kernel.serviceDumps).toBe(4);
  });

  it('a service that disappears between the two dumps → read again', async () => {
    const full: FakeTable = { services: [{ service: { address: '10.96.0.1' } }, { service: { address: '10.96.0.2' } }] };
    const kernel = new FakeIpvsKernel((n) => (n === 0 ? full : { services: [full.services[0] ?? { service: {} }] }));
    expect((await reader(kernel).read()).services).toHaveLength(1);
  });

  it('a table that never holds still → IPVS_DUMP_RETRIES_EXHAUSTED after maxAttempts', async () => {
    const kernel = new FakeIpvsKernel((n) => ({ services: [{ service: { port: 1000 + n } }] }));
    const err = await expectSentinelRejection(reader(kernel, { maxAttempts: 3 }).read(), 'IPVS_DUMP_RETRIES_EXHAUSTED', /after 3 attempts.*changed/);
    expect(err.op).toBe('dump IPVS table');
    expect(kernel.serviceDumps).toBe(6);
  });

  it('ENOBUFS on every attempt → IPVS_DUMP_RETRIES_EXHAUSTED with the cause', async () => {
    const kernel = new FakeIpvsKernel(TABLE);
    const enobufs = (): NetlinkError => new NetlinkError('NETLINK_IO', 'receive netlink reply', 'Out of memory', { libnlCode: -5 });
    for (let i = 0; i < 4; i++) kernel.script.push(only(IPVS_CMD.GET_SERVICE)(() => [enobufs()]));
    const err = await expectSentinelRejection(reader(kernel).read(), 'IPVS_DUMP_RETRIES_EXHAUSTED', /after 4 attempts: Out of memory/);
    expect(err.cause).toBeInstanceOf(NetlinkError);
    expect(kernel.sockets).toHaveLength(4);
    expect(kernel.sockets.every((s) => s.closed)).toBe(true);
  });

  it('NLM_F_DUMP_INTR → retried', async () => {
    const kernel = new FakeIpvsKernel(TABLE);
    kernel.script.push(
      only(IPVS_CMD.GET_SERVICE)((r) => [
        datagram(genlMessage({ type: kernel.familyId, flags: NLM_F_MULTI | NLM_F_DUMP_INTR, seq: r.seq, pid: r.socket.localPort }, IPVS_CMD.NEW_SERVICE, serviceMessage())),
        doneMessage(r.seq, r.socket.localPort),
      ]),
    );
    expect((await reader(kernel).read()).services).toHaveLength(5);
    expect(kernel.serviceDumps).toBe(2);
  });

  it('NLMSG_OVERRUN → retried', async () => {
    const kernel = new FakeIpvsKernel(TABLE);
    kernel.script.push(only(IPVS_CMD.GET_DEST)((r) => [datagram(genlMessage({ type: 4, seq: r.seq, pid: r.socket.localPort }, 0, new Uint8Array(0)))]));
    expect((await reader(kernel).read()).services).toHaveLength(5);
    expect(kernel.sockets).toHaveLength(2);
  });

  it('a malformed reply (truncated attribute) → NETLINK_DECODE, not retried, socket closed', async () => {
    const kernel = new FakeIpvsKernel(TABLE);
    kernel.script.push(
      only(IPVS_CMD.GET_DEST)((r) => {
        const truncated = encodeAttributes([{ type: 2, data: hex('14 00 01 00 0a 00 00 01') }], false);
        return [datagram(genlMessage({ type: kernel.familyId, seq: r.seq, pid: r.socket.localPort }, IPVS_CMD.NEW_DEST, truncated)), doneMessage(r.seq, r.socket.localPort)];
      }),
    );
    const r = reader(kernel);
    await expectSentinelRejection(r.read(), 'NETLINK_DECODE', /truncated/);
    expect(kernel.serviceDumps).toBe(1);
    expect(kernel.commands().filter((c) => c === IPVS_CMD.GET_DEST)).toHaveLength(1);
    // The abandoned dump is not left on the socket (docs/ipvs-netlink.md §3.7): the next read starts clean.
    expect(kernel.sockets[0]?.closed).toBe(true);
    expect((await r.read()).services).toHaveLength(5);
    expect(kernel.sockets).toHaveLength(2);
  });

  it('a truncated datagram → NETLINK_DECODE, not retried', async () => {
    const kernel = new FakeIpvsKernel(TABLE);
    kernel.script.push(only(IPVS_CMD.GET_SERVICE)(() => [hex('40 00 00 00 1c 00 02 00 01 00 00 00 a0 0f 00 00 01 01 00 00')]));
    await expectSentinelRejection(reader(kernel).read(), 'NETLINK_DECODE', /length 64/);
    expect(kernel.serviceDumps).toBe(0);
  });

  it('another kernel errno → NETLINK_PROTOCOL naming it, not retried', async () => {
    const kernel = new FakeIpvsKernel(TABLE);
    kernel.script.push(only(IPVS_CMD.GET_SERVICE)((r) => [errorMessage(r.seq, r.socket.localPort, 95)]));
    await expectSentinelRejection(reader(kernel).read(), 'NETLINK_PROTOCOL', /errno 95 \(EOPNOTSUPP\)/);
    expect(kernel.sockets).toHaveLength(1);
  });

  it('works when GET_INFO and GET_CONFIG return nothing but the ACK', async () => {
    const kernel = new FakeIpvsKernel(TABLE);
    kernel.script.push(only(IPVS_CMD.GET_INFO)((r) => [errorMessage(r.seq, r.socket.localPort, 0)]));
    kernel.script.push(only(IPVS_CMD.GET_CONFIG)((r) => [errorMessage(r.seq, r.socket.localPort, 0)]));
    const snap = await reader(kernel).read();
    expect(snap.info).toBeNull();
    expect(snap.timeouts).toBeNull();
  });

  it('yields to the event loop between destination dumps without changing the result', async () => {
    const a = await reader(new FakeIpvsKernel(TABLE), { yieldEvery: 1 }).read();
    const b = await reader(new FakeIpvsKernel(TABLE)).read();
    expect(a.services).toEqual(b.services);
  });

  it('keeps nothing of a datagram past the next receive (the libnl socket reuses one buffer)', async () => {
    // Every receive() overwrites the one buffer the previous datagram was handed out in, as
    // LibnlSocket does: a reader that held on to a view would decode scribbles.
    const kernel = new FakeIpvsKernel(TABLE);
    kernel.batchSize = 1;
    const buffer = new Uint8Array(64 * 1024);
    const reusing = (): GenericNetlinkSocket => {
      const inner = kernel.open();
      return {
        localPort: inner.localPort,
        resolveFamily: (name) => inner.resolveFamily(name),
        send: (bytes) => inner.send(bytes),
        receive: () => {
          const datagram = inner.receive();
          buffer.fill(0xa5);
          buffer.set(datagram);
          return buffer.subarray(0, datagram.byteLength);
        },
        close: () => inner.close(),
      };
    };
    const viaReusedBuffer = await reader(kernel, { open: reusing }).read();
    const viaCopies = await reader(new FakeIpvsKernel(TABLE)).read();
    expect(viaReusedBuffer.services).toEqual(viaCopies.services);
    expect(viaReusedBuffer.info).toEqual(viaCopies.info);
    expect(viaReusedBuffer.timeouts).toEqual(viaCopies.timeouts);
  });

  it('shares what did not change with the previous read: same objects, equal to a fresh read', async () => {
    // Dumps 0 and 1 are the first read (list + consistency re-dump), 2 and 3 the second.
    const busy = (dump: number): FakeTable => ({
      services: TABLE.services.map((s, i) =>
        i === 0 && dump >= 2 ? { ...s, destinations: [{ ...s.destinations![0]!, stats: { conns: 1n } }, ...s.destinations!.slice(1)] } : s,
      ),
    });
    const kernel = new FakeIpvsKernel(busy);
    const r = reader(kernel);
    const first = await r.read();
    const second = await r.read();
    const fresh = await reader(new FakeIpvsKernel(busy(2))).read();
    expect(second.services).toEqual(fresh.services);
    const udp = (s: typeof first) => s.services.find((v) => v.key === 'UDP/10.96.0.10:53')!;
    for (const [i, vs] of second.services.entries()) if (vs.key !== 'UDP/10.96.0.10:53') expect(vs).toBe(first.services[i]);
    expect(udp(second)).not.toBe(udp(first));
    const changed = udp(second).destinations.findIndex((d) => d.address === '10.244.2.9');
    for (const [i, d] of udp(second).destinations.entries()) {
      if (i === changed) expect(d.stats.conns).toBe(1n);
      else expect(d).toBe(udp(first).destinations[i]);
    }
  });

  it('reuses one socket across reads and closes it on close()', async () => {
    const kernel = new FakeIpvsKernel(TABLE);
    const r = reader(kernel);
    await r.read();
    await r.read();
    expect(kernel.sockets).toHaveLength(1);
    expect(kernel.sockets[0]?.resolveCalls).toBe(1);
    r.close();
    expect(kernel.sockets[0]?.closed).toBe(true);
    r.close(); // idempotent
    await r.read(); // and usable again
    expect(kernel.sockets).toHaveLength(2);
  });

  it('a failure to open the socket propagates as it is', async () => {
    const r = new IpvsReader({
      open: () => {
        throw new NetlinkError('LIBNL_UNAVAILABLE', 'load libnl', 'libnl-3.so.200 missing', {});
      },
    });
    await expectSentinelRejection(r.read(), 'LIBNL_UNAVAILABLE');
  });
});
