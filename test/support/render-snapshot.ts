/** The snapshot the render goldens are made from: IPv4, IPv6, fwmark, persistence, tunnels, huge counters. */
import type { IpvsSnapshot, IpvsStats } from '../../src/ipvs/types.js';
import { rs, serviceRef, snapshot, vs } from './builders.js';
import type { ServiceLookup } from '../../src/render/snapshot.js';

export function counters(conns: bigint, inPkts: bigint, outPkts: bigint, inBytes: bigint, outBytes: bigint): IpvsStats {
  return { conns, inPkts, outPkts, inBytes, outBytes, cps: 0n, inPps: 1n, outPps: 2n, inBps: 3n, outBps: 4n };
}

export const MAX_U64 = 18446744073709551615n;

export function renderSnapshot(): IpvsSnapshot {
  return snapshot(
    [
      vs(
        'TCP/10.96.0.1:443',
        [
          rs('192.168.1.10:6443', { activeConns: 3, inactiveConns: 12, stats: counters(15n, 1200n, 1100n, 180000n, 2500000n) }),
          rs('192.168.1.9:6443', { activeConns: 1, stats: counters(4n, 40n, 38n, 5000n, 70000n) }),
        ],
        { stats: counters(19n, 1240n, 1138n, 185000n, 2570000n) },
      ),
      vs('UDP/10.96.0.10:53', [rs('10.244.1.5:53', { weight: 0 }), rs('10.244.2.7:53')], { scheduler: 'rr' }),
      vs(
        'TCP/[fd00:1234:5678:9abc:def0:1234:5678:9abc]:65535',
        [rs('[2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff]:65535', { forward: 'route', stats: counters(MAX_U64, MAX_U64, 0n, MAX_U64, 0n) })],
        { scheduler: 'sh', flagBits: 0x1 | 0x2 | 0x8 | 0x10, persistent: true, timeout: 10800, netmask: 64, stats: counters(MAX_U64, 2n ** 53n + 1n, 0n, MAX_U64, 0n) },
      ),
      vs('TCP/10.96.0.30:80', [], { scheduler: 'mh', flagBits: 0x2 | 0x8 | 0x10 | 0x20, pe: 'sip', persistent: true, timeout: 300, netmask: 24 }),
      vs('UDP/10.96.0.40:514', [rs('10.244.3.3:514')], { scheduler: 'wrr', flagBits: 0x2 | 0x4 | 0x8 }),
      vs('FWM/4097/inet6', [rs('[fd00::9]:0', { forward: 'tunnel', tunnel: { type: 'gue', port: 5555, flags: ['remcsum'] } })], { scheduler: 'lc' }),
      vs('FWM/7/inet', [rs('10.0.0.7:0', { forward: 'tunnel', tunnel: { type: 'ipip', port: 0, flags: [] } }), rs('10.0.0.8:0', { forward: 'local' }), rs('10.0.0.9:0', { forward: 'bypass' })]),
    ],
    { info: { version: '1.2.1', connTableSize: 4096 }, timeouts: { tcp: 900, tcpFin: 120, udp: 300 }, durationMs: 3.25 },
  );
}

/** Which Service each virtual server serves (what the desired state knows). */
export const lookup: ServiceLookup = (key) =>
  ({
    'TCP/10.96.0.1:443': serviceRef('default/kubernetes:https'),
    'UDP/10.96.0.10:53': serviceRef('kube-system/kube-dns:dns'),
    'TCP/10.96.0.30:80': serviceRef('shop/web'),
    'UDP/10.96.0.40:514': serviceRef('kube-system/syslog:syslog'),
  })[key] ?? null;
