import { describe, expect, it } from 'vitest';
import { renderTable } from '../../../src/render/table.js';
import { rs, snapshot, vs } from '../../support/builders.js';
import { expectGolden } from '../../support/golden.js';
import { counters, lookup, MAX_U64, renderSnapshot } from '../../support/render-snapshot.js';

const GOLDEN = 'test/fixtures/golden/render';

/** Column start of each counter: every line with counters must right-align them on the header's columns. */
function counterEnds(line: string): number[] {
  const ends: number[] = [];
  const re = /\d+(?=\s|$)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) ends.push(m.index + m[0].length);
  return ends.slice(-5);
}

describe('renderTable', () => {
  it('plain, like ipvsadm -Ln --stats (golden)', async () => {
    await expectGolden(`${GOLDEN}/table-plain.txt`, renderTable(renderSnapshot()));
  });

  it('annotated with Services, drift marks and missing real servers (golden)', async () => {
    const text = renderTable(renderSnapshot(), {
      lookup,
      mark: (vsKey, rsKey) => {
        if (vsKey === 'UDP/10.96.0.10:53' && rsKey === '10.244.1.5:53') return '<- weight 0, expected 1';
        if (vsKey === 'TCP/10.96.0.30:80' && rsKey === null) return '<- unexpected scheduler mh, expected rr';
        return null;
      },
      missingRealServers: (vsKey) => (vsKey === 'TCP/10.96.0.1:443' ? ['192.168.1.11:6443'] : vsKey === 'TCP/10.96.0.30:80' ? ['10.244.5.5:8080', '[fd00::5]:8080'] : []),
    });
    await expectGolden(`${GOLDEN}/table-annotated.txt`, text);
  });

  it('filtered to one Service (golden)', async () => {
    await expectGolden(`${GOLDEN}/table-service.txt`, renderTable(renderSnapshot(), { lookup, service: 'kube-system/kube-dns' }));
  });

  it('an empty table without version info', () => {
    expect(renderTable(snapshot([], { info: null }))).toBe(
      [
        'IP Virtual Server',
        'Prot LocalAddress:Port Scheduler Flags                                                         Conns      InPkts     OutPkts     InBytes    OutBytes',
        '  -> RemoteAddress:Port                     Forward         Weight ActiveConn InActConn',
        '',
      ].join('\n'),
    );
  });

  it('keeps every counter right-aligned under its header, even with 20-digit counters and long IPv6 addresses', () => {
    const lines = renderTable(renderSnapshot()).split('\n');
    const header = lines[1] ?? '';
    const headerEnds = ['Conns', 'InPkts', 'OutPkts', 'InBytes', 'OutBytes'].map((h) => header.indexOf(h) + h.length);
    const withCounters = lines.slice(3).filter((l) => l.length > 0);
    expect(withCounters.length).toBeGreaterThan(10);
    for (const line of withCounters) expect(counterEnds(line), line).toEqual(headerEnds);
    expect(lines.some((l) => l.includes(MAX_U64.toString()))).toBe(true);
  });

  it('keeps the Forward/Weight/ActiveConn/InActConn columns aligned with their header', () => {
    const lines = renderTable(renderSnapshot()).split('\n');
    const header = lines[2] ?? '';
    const starts = ['Forward', 'Weight', 'ActiveConn', 'InActConn'].map((h) => header.indexOf(h));
    for (const line of lines.filter((l) => l.startsWith('  -> ') && l !== header)) {
      const cells = line.slice(starts[0]).split(/\s+/);
      // Forward may be two words for tunnels ("Tunnel gue:5555"); the weight starts at its column.
      expect(line[(starts[1] ?? 0) - 1], line).toBe(' ');
      expect(line[starts[1] ?? 0], line).toMatch(/\d/);
      expect(cells.length).toBeGreaterThan(3);
    }
  });

  it.each<[string, Parameters<typeof vs>[2], string]>([
    ['persistent IPv4 with a /24 mask', { persistent: true, flagBits: 0x3, timeout: 360, netmask: 24 }, 'TCP  10.96.0.1:443 rr persistent 360 mask /24'],
    ['persistent IPv4 host mask (not printed)', { persistent: true, flagBits: 0x3, timeout: 360, netmask: 32 }, 'TCP  10.96.0.1:443 rr persistent 360'],
    ['one-packet', { flagBits: 0x6 }, 'TCP  10.96.0.1:443 rr ops'],
    ['sh flags', { scheduler: 'sh', flagBits: 0x1a }, 'TCP  10.96.0.1:443 sh (sh-fallback,sh-port)'],
    ['pe', { pe: 'sip', persistent: true, flagBits: 0x3, timeout: 60 }, 'TCP  10.96.0.1:443 rr persistent 60 pe sip'],
  ])('service line: %s', (_name, overrides, want) => {
    const line = renderTable(snapshot([vs('TCP/10.96.0.1:443', [], overrides)])).split('\n')[3] ?? '';
    expect(line.slice(0, want.length + 1).trimEnd()).toBe(want);
  });

  it('prints a weight-0 (draining) real server and zero counters', () => {
    const text = renderTable(snapshot([vs('TCP/10.96.0.1:443', [rs('10.0.0.1:80', { weight: 0, stats: counters(0n, 0n, 0n, 0n, 0n) })])]));
    expect(text).toMatch(/ {2}-> 10\.0\.0\.1:80 +Masq +0 +0 +0 +0 +0 +0 +0 +0\n$/);
  });
});
