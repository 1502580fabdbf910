import { describe, expect, it } from 'vitest';
import type { DesiredState } from '../../../src/desired/types.js';
import { describeService, diffIpvs } from '../../../src/drift/differ.js';
import type { Finding, FindingKind, Severity } from '../../../src/drift/types.js';
import type { IpvsSnapshot } from '../../../src/ipvs/types.js';
import { desired, expectedRs, expectedVs, rs, serviceRef, snapshot, vs } from '../../support/builders.js';

/** "severity kind virtualServer realServer", sorted: the shape most cases assert. */
function summary(findings: Finding[]): string[] {
  return findings.map((f) => `${f.severity} ${f.kind} ${f.virtualServer ?? '-'} ${f.realServer ?? '-'}`).sort();
}

const KUBERNETES = 'TCP/10.96.0.1:443';
const DNS = 'UDP/10.96.0.10:53';
const V6 = 'TCP/[fd00:10:96::1]:443';

interface Case {
  name: string;
  desired: DesiredState;
  observed: IpvsSnapshot;
  want: string[];
}

const cases: Case[] = [
  {
    name: 'identical tables',
    desired: desired([expectedVs(KUBERNETES, ['172.18.0.2:6443', '172.18.0.3:6443']), expectedVs(DNS, ['10.244.0.5:53'])]),
    observed: snapshot([vs(KUBERNETES, [rs('172.18.0.2:6443'), rs('172.18.0.3:6443')]), vs(DNS, [rs('10.244.0.5:53')])]),
    want: [],
  },
  {
    name: 'counters never decide equality',
    desired: desired([expectedVs(KUBERNETES, ['172.18.0.2:6443'])]),
    observed: snapshot([
      vs(KUBERNETES, [rs('172.18.0.2:6443', { activeConns: 12, inactiveConns: 40, persistentConns: 3, stats: { ...vs(KUBERNETES).stats, conns: 99n, inBytes: 1n << 40n } })], {
        stats: { ...vs(KUBERNETES).stats, conns: 12345n, inPkts: 1n << 60n },
      }),
    ]),
    want: [],
  },
  {
    name: 'hashed flag is ignored whether or not the kernel reports it',
    desired: desired([expectedVs(KUBERNETES), expectedVs(DNS)]),
    observed: snapshot([vs(KUBERNETES, [], { flagBits: 0x2 }), vs(DNS, [], { flagBits: 0 })]),
    want: [],
  },
  {
    name: 'an expected VS with zero destinations is OK (docs/kube-proxy-rules.md §2.5)',
    desired: desired([expectedVs(KUBERNETES, [])]),
    observed: snapshot([vs(KUBERNETES, [])]),
    want: [],
  },
  {
    name: 'missing VS: one finding, not one per endpoint',
    desired: desired([expectedVs(KUBERNETES, ['172.18.0.2:6443', '172.18.0.3:6443'])]),
    observed: snapshot([]),
    want: [`critical missing-virtual-server ${KUBERNETES} -`],
  },
  {
    name: 'TCP and UDP on the same address and port are different VSs',
    desired: desired([expectedVs('TCP/10.96.0.10:53'), expectedVs(DNS)]),
    observed: snapshot([vs('TCP/10.96.0.10:53')]),
    want: [`critical missing-virtual-server ${DNS} -`],
  },
  {
    name: 'unexpected VS of a proxied family',
    desired: desired([]),
    observed: snapshot([vs('TCP/10.96.0.99:80', [rs('10.244.0.9:80')])]),
    want: ['warning unexpected-virtual-server TCP/10.96.0.99:80 -'],
  },
  {
    name: 'a VS of a family this node does not proxy is not kube-proxy\'s',
    desired: desired([], { families: ['inet'] }),
    observed: snapshot([vs('TCP/[fd00::99]:80'), vs('FWM/7/inet6')]),
    want: [],
  },
  {
    name: 'undesired VS inside excludeCIDRs is info, never drift',
    desired: desired([], { excludeCIDRs: ['192.168.50.0/24', 'fd00:50::/64'] }),
    observed: snapshot([vs('TCP/192.168.50.10:80'), vs('TCP/[fd00:50::10]:80'), vs('TCP/192.168.51.10:80')]),
    want: ['info unexpected-virtual-server TCP/192.168.50.10:80 -', 'info unexpected-virtual-server TCP/[fd00:50::10]:80 -', 'warning unexpected-virtual-server TCP/192.168.51.10:80 -'],
  },
  {
    name: 'a desired VS inside excludeCIDRs is still compared',
    desired: desired([expectedVs('TCP/192.168.50.10:80', ['10.244.0.9:80'])], { excludeCIDRs: ['192.168.50.0/24'] }),
    observed: snapshot([vs('TCP/192.168.50.10:80', [], { scheduler: 'wrr' })]),
    want: ['critical missing-real-server TCP/192.168.50.10:80 10.244.0.9:80', 'warning scheduler-mismatch TCP/192.168.50.10:80 -'],
  },
  {
    name: 'invalid excludeCIDRs entries are ignored',
    desired: desired([], { excludeCIDRs: ['not-a-cidr'] }),
    observed: snapshot([vs('TCP/192.168.50.10:80')]),
    want: ['warning unexpected-virtual-server TCP/192.168.50.10:80 -'],
  },
  {
    name: 'the startup scheduler probe VS is ignored',
    desired: desired([]),
    observed: snapshot([vs('TCP/198.51.100.0:20000'), vs('UDP/198.51.100.0:20000')]),
    want: ['warning unexpected-virtual-server UDP/198.51.100.0:20000 -'],
  },
  {
    name: 'fwmark services are foreign and reported as unexpected in their family',
    desired: desired([]),
    observed: snapshot([vs('FWM/4097/inet', [rs('192.168.1.10:0')]), vs('FWM/12/inet6')]),
    want: ['warning unexpected-virtual-server FWM/12/inet6 -', 'warning unexpected-virtual-server FWM/4097/inet -'],
  },
  {
    name: 'fwmark services count as 0.0.0.0 / :: for excludeCIDRs',
    desired: desired([], { excludeCIDRs: ['0.0.0.0/32'] }),
    observed: snapshot([vs('FWM/4097/inet'), vs('FWM/12/inet6')]),
    want: ['info unexpected-virtual-server FWM/4097/inet -', 'warning unexpected-virtual-server FWM/12/inet6 -'],
  },
  {
    name: 'scheduler mismatch',
    desired: desired([expectedVs(KUBERNETES)]),
    observed: snapshot([vs(KUBERNETES, [], { scheduler: 'wlc' })]),
    want: [`warning scheduler-mismatch ${KUBERNETES} -`],
  },
  {
    name: 'ClientIP affinity: persistent flag and timeout match',
    desired: desired([expectedVs(KUBERNETES, [], { flagBits: 0x1, timeout: 10800 })]),
    observed: snapshot([vs(KUBERNETES, [], { flagBits: 0x3, persistent: true, timeout: 10800 })]),
    want: [],
  },
  {
    name: 'persistence: persistent flag missing',
    desired: desired([expectedVs(KUBERNETES, [], { flagBits: 0x1, timeout: 10800 })]),
    observed: snapshot([vs(KUBERNETES, [], { flagBits: 0x2, timeout: 10800 })]),
    want: [`warning persistence-mismatch ${KUBERNETES} -`],
  },
  {
    name: 'persistence: timeout differs',
    desired: desired([expectedVs(KUBERNETES, [], { flagBits: 0x1, timeout: 10800 })]),
    observed: snapshot([vs(KUBERNETES, [], { flagBits: 0x3, persistent: true, timeout: 300 })]),
    want: [`warning persistence-mismatch ${KUBERNETES} -`],
  },
  {
    name: 'persistence: extra one-packet flag',
    desired: desired([expectedVs(DNS)]),
    observed: snapshot([vs(DNS, [], { flagBits: 0x6 })]),
    want: [`warning persistence-mismatch ${DNS} -`],
  },
  {
    name: 'mh scheduler: mh-port flag present',
    desired: desired([expectedVs(KUBERNETES, [], { scheduler: 'mh', flagBits: 0x10 })]),
    observed: snapshot([vs(KUBERNETES, [], { scheduler: 'mh', flagBits: 0x12 })]),
    want: [],
  },
  {
    name: 'mh scheduler: mh-port flag missing',
    desired: desired([expectedVs(KUBERNETES, [], { scheduler: 'mh', flagBits: 0x10 })]),
    observed: snapshot([vs(KUBERNETES, [], { scheduler: 'mh', flagBits: 0x2 })]),
    want: [`warning persistence-mismatch ${KUBERNETES} -`],
  },
  {
    name: 'netmask mismatch is info',
    desired: desired([expectedVs(KUBERNETES), expectedVs(V6)]),
    observed: snapshot([vs(KUBERNETES, [], { netmask: 24 }), vs(V6, [], { netmask: 64 })]),
    want: [`info netmask-mismatch ${KUBERNETES} -`, `info netmask-mismatch ${V6} -`],
  },
  {
    name: 'missing RS while another usable one remains: warning',
    desired: desired([expectedVs(KUBERNETES, ['172.18.0.2:6443', '172.18.0.3:6443'])]),
    observed: snapshot([vs(KUBERNETES, [rs('172.18.0.2:6443')])]),
    want: [`warning missing-real-server ${KUBERNETES} 172.18.0.3:6443`],
  },
  {
    name: 'every RS missing: critical',
    desired: desired([expectedVs(KUBERNETES, ['172.18.0.2:6443', '172.18.0.3:6443'])]),
    observed: snapshot([vs(KUBERNETES, [])]),
    want: [`critical missing-real-server ${KUBERNETES} 172.18.0.2:6443`, `critical missing-real-server ${KUBERNETES} 172.18.0.3:6443`],
  },
  {
    name: 'missing RS and the only present desired one at weight 0: critical',
    desired: desired([expectedVs(KUBERNETES, ['172.18.0.2:6443', '172.18.0.3:6443'])]),
    observed: snapshot([vs(KUBERNETES, [rs('172.18.0.2:6443', { weight: 0 })])]),
    want: [`critical missing-real-server ${KUBERNETES} 172.18.0.3:6443`, `critical weight-mismatch ${KUBERNETES} 172.18.0.2:6443`],
  },
  {
    name: 'missing RS and only an undesired destination carries traffic: critical',
    desired: desired([expectedVs(KUBERNETES, ['172.18.0.3:6443'])]),
    observed: snapshot([vs(KUBERNETES, [rs('172.18.0.9:6443')])]),
    want: [`critical missing-real-server ${KUBERNETES} 172.18.0.3:6443`, `warning unexpected-real-server ${KUBERNETES} 172.18.0.9:6443`],
  },
  {
    name: 'unexpected RS with weight > 0',
    desired: desired([expectedVs(KUBERNETES, ['172.18.0.2:6443'])]),
    observed: snapshot([vs(KUBERNETES, [rs('172.18.0.2:6443'), rs('172.18.0.4:6443', { weight: 1 })])]),
    want: [`warning unexpected-real-server ${KUBERNETES} 172.18.0.4:6443`],
  },
  {
    name: 'weight-0 draining destination with connections: terminating (info)',
    desired: desired([expectedVs(KUBERNETES, ['172.18.0.2:6443'])]),
    observed: snapshot([vs(KUBERNETES, [rs('172.18.0.2:6443'), rs('172.18.0.4:6443', { weight: 0, activeConns: 3, inactiveConns: 1 })])]),
    want: [`info terminating-real-server ${KUBERNETES} 172.18.0.4:6443`],
  },
  {
    name: 'weight-0 undesired destination without connections: terminating (info)',
    desired: desired([expectedVs(KUBERNETES, ['172.18.0.2:6443'])]),
    observed: snapshot([vs(KUBERNETES, [rs('172.18.0.2:6443'), rs('172.18.0.4:6443', { weight: 0 })])]),
    want: [`info terminating-real-server ${KUBERNETES} 172.18.0.4:6443`],
  },
  {
    name: 'weight-0 undesired UDP destination: terminating (info)',
    desired: desired([expectedVs(DNS, ['10.244.0.5:53'])]),
    observed: snapshot([vs(DNS, [rs('10.244.0.5:53'), rs('10.244.0.6:53', { weight: 0, inactiveConns: 8 })])]),
    want: [`info terminating-real-server ${DNS} 10.244.0.6:53`],
  },
  {
    name: 'desired destination at weight 0 (#108319): critical',
    desired: desired([expectedVs(KUBERNETES, ['172.18.0.2:6443', '172.18.0.3:6443'])]),
    observed: snapshot([vs(KUBERNETES, [rs('172.18.0.2:6443', { weight: 0, activeConns: 5 }), rs('172.18.0.3:6443')])]),
    want: [`critical weight-mismatch ${KUBERNETES} 172.18.0.2:6443`],
  },
  {
    name: 'desired destination at weight 5: warning',
    desired: desired([expectedVs(KUBERNETES, ['172.18.0.2:6443'])]),
    observed: snapshot([vs(KUBERNETES, [rs('172.18.0.2:6443', { weight: 5 })])]),
    want: [`warning weight-mismatch ${KUBERNETES} 172.18.0.2:6443`],
  },
  {
    name: 'forward method other than masq',
    desired: desired([expectedVs(KUBERNETES, ['172.18.0.2:6443', '172.18.0.3:6443'])]),
    observed: snapshot([vs(KUBERNETES, [rs('172.18.0.2:6443', { forward: 'route' }), rs('172.18.0.3:6443', { forward: 'tunnel', weight: 2 })])]),
    want: [`warning forward-method-mismatch ${KUBERNETES} 172.18.0.2:6443`, `warning forward-method-mismatch ${KUBERNETES} 172.18.0.3:6443`, `warning weight-mismatch ${KUBERNETES} 172.18.0.3:6443`],
  },
  {
    name: 'IPv6: identical',
    desired: desired([expectedVs(V6, ['[fd00:10:244::5]:6443'])]),
    observed: snapshot([vs(V6, [rs('[fd00:10:244::5]:6443')])]),
    want: [],
  },
  {
    name: 'IPv6: missing and unexpected destinations use [addr]:port',
    desired: desired([expectedVs(V6, ['[fd00:10:244::5]:6443', '[fd00:10:244::6]:6443'])]),
    observed: snapshot([vs(V6, [rs('[fd00:10:244::5]:6443'), rs('[fd00:10:244::7]:6443')])]),
    want: [`warning missing-real-server ${V6} [fd00:10:244::6]:6443`, `warning unexpected-real-server ${V6} [fd00:10:244::7]:6443`],
  },
  {
    name: 'dual stack: each family compared on its own',
    desired: desired([expectedVs(KUBERNETES, ['172.18.0.2:6443']), expectedVs(V6, ['[fd00:10:244::5]:6443'])]),
    observed: snapshot([vs(KUBERNETES, [rs('172.18.0.2:6443')]), vs('TCP/[fd00:10:96::99]:80')]),
    want: [`critical missing-virtual-server ${V6} -`, 'warning unexpected-virtual-server TCP/[fd00:10:96::99]:80 -'],
  },
];

describe('diffIpvs', () => {
  it.each(cases)('$name', ({ desired: d, observed, want }) => {
    expect(summary(diffIpvs(d, observed))).toEqual(want);
  });

  it('pairs VSs whatever the order and whatever breaks the lockstep walk', () => {
    const d = desired([expectedVs('TCP/10.96.0.2:80', ['10.244.0.2:80']), expectedVs('TCP/10.96.0.3:80', ['10.244.0.3:80']), expectedVs('TCP/10.96.0.4:80')]);
    const services = [vs('TCP/10.96.0.4:80'), vs('TCP/10.96.0.3:80', [rs('10.244.0.3:80')]), vs('TCP/10.96.0.1:80'), vs('TCP/10.96.0.2:80', [rs('10.244.0.2:80', { weight: 0 })])];
    const want = ['critical weight-mismatch TCP/10.96.0.2:80 10.244.0.2:80', 'warning unexpected-virtual-server TCP/10.96.0.1:80 -'];
    expect(summary(diffIpvs(d, { services }))).toEqual(want);
    expect(summary(diffIpvs(d, snapshot(services)))).toEqual(want);
  });

  it('compares large destination sets through the address index', () => {
    const addresses = Array.from({ length: 40 }, (_, i) => `10.244.9.${i + 1}:8080`);
    const d = desired([expectedVs(KUBERNETES, addresses)]);
    const present = addresses.slice(1).reverse().map((a, i) => rs(a, i === 0 ? { forward: 'route' } : {}));
    // Overriding `destinations` keeps this unsorted order (the builder only sorts its second argument).
    const observed = snapshot([vs(KUBERNETES, [], { destinations: [...present, rs('10.244.9.1:9090'), rs('10.244.9.200:8080', { weight: 0 })] })]);
    expect(summary(diffIpvs(d, observed))).toEqual([
      `info terminating-real-server ${KUBERNETES} 10.244.9.200:8080`,
      `warning forward-method-mismatch ${KUBERNETES} 10.244.9.40:8080`,
      `warning missing-real-server ${KUBERNETES} 10.244.9.1:8080`,
      `warning unexpected-real-server ${KUBERNETES} 10.244.9.1:9090`,
    ]);
  });

  it('names flags as ipvsadm does, per scheduler, without the hashed bit', () => {
    const d = desired([expectedVs(KUBERNETES, [], { scheduler: 'mh', flagBits: 0x10 })]);
    const [f] = diffIpvs(d, snapshot([vs(KUBERNETES, [], { scheduler: 'mh', flagBits: 0x0b, timeout: 60 })]));
    expect(f).toMatchObject({ kind: 'persistence-mismatch', expected: { flags: ['mh-port'], timeout: 0 }, actual: { flags: ['persistent', 'mh-fallback'], timeout: 60 } });
  });

  it('skips excluded VSs entirely with reportExcluded: false', () => {
    const d = desired([], { excludeCIDRs: ['192.168.50.0/24'] });
    expect(diffIpvs(d, snapshot([vs('TCP/192.168.50.10:80')]), { reportExcluded: false })).toEqual([]);
  });

  it('does not mutate its inputs', () => {
    const d = desired([expectedVs(KUBERNETES, ['172.18.0.2:6443'])]);
    const s = snapshot([vs(KUBERNETES, [rs('172.18.0.9:6443')]), vs('TCP/10.96.0.99:80')]);
    const before = JSON.stringify([d, s], (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    diffIpvs(d, s);
    expect(JSON.stringify([d, s], (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))).toBe(before);
  });
});

describe('finding contents', () => {
  const web = serviceRef('shop/web:http');
  const d = desired(
    [
      expectedVs('TCP/10.96.5.5:80', ['10.244.1.1:8080', '10.244.1.2:8080', '10.244.1.3:8080', '10.244.1.4:8080', '10.244.1.5:8080'], { service: web, flagBits: 0x1, timeout: 10800 }),
      expectedVs('TCP/10.96.5.6:80', ['10.244.2.1:8080'], { service: web, role: 'external-ip' }),
      expectedVs('TCP/10.96.5.7:80', ['10.244.3.1:8080'], { service: serviceRef('shop/api') }),
    ],
    { excludeCIDRs: ['192.168.50.0/24'] },
  );
  const observed = snapshot([
    vs('TCP/10.96.5.5:80', [
      rs('10.244.1.1:8080', { weight: 0 }),
      rs('10.244.1.2:8080', { forward: 'route' }),
      rs('10.244.1.3:8080', { weight: 3 }),
      rs('10.244.1.4:8080'),
      rs('10.244.1.9:8080'),
      rs('10.244.1.8:8080', { weight: 0, activeConns: 2 }),
    ], { scheduler: 'wrr', netmask: 24, flagBits: 0x2, timeout: 0 }),
    vs('TCP/10.96.5.7:80', []),
    vs('TCP/10.96.9.9:80'),
    vs('TCP/192.168.50.10:80'),
    vs('FWM/4097/inet'),
  ]);
  const findings = diffIpvs(d, observed);
  /** The finding of this kind about `subject` (a real server, or a virtual server key); the only one when null. */
  const byKind = (kind: FindingKind, subject: string | null): Finding => {
    const f = findings.find((x) => x.kind === kind && (subject === null || x.realServer === subject || x.virtualServer === subject));
    if (!f) throw new Error(`no ${kind} finding`);
    return f;
  };

  it('produces every IPVS kind of the scenario', () => {
    expect(new Set(findings.map((f) => f.kind))).toEqual(
      new Set<FindingKind>([
        'missing-virtual-server',
        'unexpected-virtual-server',
        'scheduler-mismatch',
        'persistence-mismatch',
        'netmask-mismatch',
        'missing-real-server',
        'unexpected-real-server',
        'terminating-real-server',
        'weight-mismatch',
        'forward-method-mismatch',
      ]),
    );
  });

  it.each<[FindingKind, boolean]>([
    ['missing-virtual-server', true],
    ['unexpected-virtual-server', true],
    ['scheduler-mismatch', true],
    ['persistence-mismatch', true],
    ['netmask-mismatch', false],
    ['missing-real-server', true],
    ['unexpected-real-server', true],
    ['terminating-real-server', true],
    ['weight-mismatch', false],
    ['forward-method-mismatch', false],
  ])('%s has selfHealing %s', (kind, selfHealing) => {
    const ofKind = findings.filter((x) => x.kind === kind && !(kind === 'unexpected-virtual-server' && x.severity === 'info'));
    expect(ofKind.length).toBeGreaterThan(0);
    for (const f of ofKind) expect(f.selfHealing).toBe(selfHealing);
  });

  it('excluded VSs are info and not self-healing (kube-proxy leaves them alone)', () => {
    const f = findings.find((x) => x.virtualServer === 'TCP/192.168.50.10:80');
    expect(f).toMatchObject({ kind: 'unexpected-virtual-server', severity: 'info', selfHealing: false, service: null });
    expect(f?.message).toContain('excludeCIDRs');
  });

  it('every finding has one actionable sentence and JSON-able values', () => {
    for (const f of findings) {
      expect(f.message).toMatch(/^[A-Z].*\.$/);
      expect(f.message).not.toMatch(/\.\s+[A-Z]/);
      expect(() => JSON.stringify([f.expected, f.actual])).not.toThrow();
    }
  });

  it('names the Service from the expected VS, and null for foreign VSs', () => {
    for (const f of findings) {
      if (f.virtualServer === 'TCP/10.96.9.9:80' || f.virtualServer === 'FWM/4097/inet' || f.virtualServer === 'TCP/192.168.50.10:80') {
        expect(f.service).toBeNull();
      } else if (f.virtualServer === 'TCP/10.96.5.7:80') {
        expect(f.service).toEqual(serviceRef('shop/api'));
      } else {
        expect(f.service).toEqual(web);
      }
    }
  });

  it.each<[FindingKind, string | null, Severity, unknown, unknown, RegExp]>([
    ['missing-virtual-server', null, 'critical', { role: 'external-ip', scheduler: 'rr', flags: [], timeout: 0, realServers: 1 }, null, /TCP\/10\.96\.5\.6:80 \(external-ip\) of Service shop\/web:http .*next sync \(ipvs\.syncPeriod\).*kube-proxy logs/],
    ['unexpected-virtual-server', 'TCP/10.96.9.9:80', 'warning', null, { scheduler: 'rr', destinations: 0 }, /TCP\/10\.96\.9\.9:80 .*deletes it on its next sync/],
    ['scheduler-mismatch', null, 'warning', 'rr', 'wrr', /uses scheduler wrr instead of rr/],
    ['persistence-mismatch', null, 'warning', { flags: ['persistent'], timeout: 10800 }, { flags: [], timeout: 0 }, /sessionAffinity/],
    ['netmask-mismatch', null, 'info', 32, 24, /\/24 instead of \/32/],
    ['missing-real-server', '10.244.1.5:8080', 'warning', '10.244.1.5:8080', null, /Endpoint 10\.244\.1\.5:8080 of Service shop\/web:http is not a destination/],
    ['unexpected-real-server', '10.244.1.9:8080', 'warning', null, { weight: 1, activeConns: 0, inactiveConns: 0 }, /still gets traffic \(weight 1\)/],
    ['terminating-real-server', '10.244.1.8:8080', 'info', null, { weight: 0, activeConns: 2, inactiveConns: 0 }, /draining.*60 s graceful-termination loop once its 2 connection/],
    ['weight-mismatch', '10.244.1.1:8080', 'critical', 1, 0, /weight 0.*#108319.*restart kube-proxy/],
    ['weight-mismatch', '10.244.1.3:8080', 'warning', 1, 3, /weight 3 instead of 1.*restart kube-proxy/],
    ['forward-method-mismatch', '10.244.1.2:8080', 'warning', 'masq', 'route', /forwarded by route instead of masq/],
  ])('%s %s: %s, expected/actual and message', (kind, subject, severity, expectedValue, actualValue, message) => {
    const f = byKind(kind, subject);
    expect(f.severity).toBe(severity);
    expect(f.expected).toEqual(expectedValue);
    expect(f.actual).toEqual(actualValue);
    expect(f.message).toMatch(message);
  });

  it('fwmark findings say the service is foreign', () => {
    const f = findings.find((x) => x.virtualServer === 'FWM/4097/inet');
    expect(f).toMatchObject({ kind: 'unexpected-virtual-server', severity: 'warning', service: null, actual: { fwmark: 4097, scheduler: 'rr', destinations: 0 } });
    expect(f?.message).toMatch(/foreign.*0\.0\.0\.0/);
  });

  it('critical missing-real-server says the VS drops traffic', () => {
    const f = findings.find((x) => x.kind === 'missing-real-server' && x.virtualServer === 'TCP/10.96.5.7:80');
    expect(f?.severity).toBe('critical');
    expect(f?.message).toMatch(/no usable destination left/);
  });

  it.each([
    [{ weight: 0, activeConns: 0, inactiveConns: 0 }, 'TCP/10.96.0.1:443', /no connections left; kube-proxy deletes it on its 60 s graceful-termination loop/],
    [{ weight: 0, activeConns: 0, inactiveConns: 4 }, 'TCP/10.96.0.1:443', /draining.*4 connection/],
    [{ weight: 0, activeConns: 0, inactiveConns: 4 }, 'UDP/10.96.0.10:53', /deletes UDP destinations without draining/],
    [{ weight: 0, activeConns: 1, inactiveConns: 0 }, 'SCTP/10.96.0.20:9000', /deletes SCTP destinations without draining/],
  ])('terminating message for %o on %s', (overrides, key, message) => {
    const [f] = diffIpvs(desired([expectedVs(key)]), snapshot([vs(key, [rs('10.244.0.4:9000', overrides)])]));
    expect(f?.kind).toBe('terminating-real-server');
    expect(f?.severity).toBe('info');
    expect(f?.message).toMatch(message);
  });
});

describe('helpers', () => {
  it.each([
    ['default/kubernetes:https', 'default/kubernetes:https'],
    ['shop/web', 'shop/web'],
  ])('describeService(%s)', (ref, text) => {
    expect(describeService(serviceRef(ref))).toBe(text);
  });

  it('expectedRs builder defaults to what kube-proxy programs', () => {
    expect(expectedRs('[fd00::7]:8080')).toEqual({ address: 'fd00::7', port: 8080, weight: 1, terminatingFallback: false, nodeName: null });
  });
});
