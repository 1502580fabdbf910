/**
 * The `*-save` parser on output captured from the real tools (test/fixtures/iptables/capture.sh: Debian
 * iptables 1.8.9, both backends, both families, in a throw-away network namespace) of the hand-written
 * kube-proxy rulesets beside it; goldens of the parsed model; streaming, bounds and garbage.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SentinelError } from '../../../src/errors/index.js';
import { parseRule, parseSave, SaveParser, tokenizeRule } from '../../../src/iptables/save-parser.js';
import type { IptablesDump, IptablesRule } from '../../../src/iptables/types.js';
import { expectSentinelError } from '../../support/errors.js';
import { expectGolden } from '../../support/golden.js';
import { dumpJson, fixture, FIXTURES } from './dump-json.js';

const CAPTURES = [
  'legacy-ipvs.save',
  'legacy-ipvs6.save',
  'nft-ipvs.save',
  'nft-ipvs6.save',
  'legacy-leftovers.save',
  'nft-leftovers.save',
  'legacy-unused.save',
  'nft-native.save',
  'legacy-ipvs-counters.save',
];

function rulesOf(dump: IptablesDump, table: string, chain: string): IptablesRule[] {
  return (dump.tables.get(table)?.rules ?? []).filter((r) => r.chain === chain);
}

describe('parseSave on captured iptables-save output', () => {
  it.each(CAPTURES)('%s parses to its golden model', async (name) => {
    const dump = parseSave(fixture(name));
    expect(dump.malformedCount).toBe(0);
    await expectGolden(`${FIXTURES}/golden/${name.replace('.save', '.json')}`, dumpJson(dump));
  });

  it.each([
    ['legacy-ipvs.save', 'nft-ipvs.save'],
    ['legacy-ipvs6.save', 'nft-ipvs6.save'],
    ['legacy-leftovers.save', 'nft-leftovers.save'],
    ['legacy-ipvs.save', 'legacy-ipvs-counters.save'],
  ])('%s and %s give the same model (the backends print the same rules; tables in another order)', (a, b) => {
    const sorted = (d: IptablesDump): IptablesDump => ({ ...d, tables: new Map([...d.tables].sort(([x], [y]) => x.localeCompare(y))) });
    expect(dumpJson(sorted(parseSave(fixture(b))), { withGenerator: false })).toBe(dumpJson(sorted(parseSave(fixture(a))), { withGenerator: false }));
  });

  it('names the tool that printed it', () => {
    expect(parseSave(fixture('legacy-ipvs.save')).generator).toEqual({ program: 'iptables-save', version: '1.8.9', variant: null });
    expect(parseSave(fixture('nft-ipvs6.save')).generator).toEqual({ program: 'ip6tables-nft-save', version: '1.8.9', variant: 'nf_tables' });
  });

  it('keeps the builtin-chain jumps kube-proxy prepends, with their comments, in chain order', () => {
    const dump = parseSave(fixture('nft-ipvs.save'));
    const jumps = (table: string, chain: string): [string | null, string | null][] => rulesOf(dump, table, chain).map((r) => [r.target, r.comment]);
    expect(jumps('nat', 'PREROUTING')).toEqual([['KUBE-SERVICES', 'kubernetes service portals']]);
    expect(jumps('nat', 'POSTROUTING')).toEqual([['KUBE-POSTROUTING', 'kubernetes postrouting rules']]);
    expect(jumps('filter', 'INPUT')).toEqual([
      ['KUBE-IPVS-FILTER', 'kubernetes ipvs access filter'],
      ['KUBE-PROXY-FIREWALL', 'kube-proxy firewall rules'],
      ['KUBE-NODE-PORT', 'kubernetes health check rules'],
      ['KUBE-FIREWALL', null],
    ]);
    expect(jumps('filter', 'OUTPUT')).toEqual([
      ['KUBE-IPVS-OUT-FILTER', 'kubernetes ipvs access filter'],
      ['KUBE-FIREWALL', null],
    ]);
  });

  it('summarises set matches, negated sources, addrtype, ctstate, mark and target arguments', () => {
    const dump = parseSave(fixture('legacy-ipvs.save'));
    const services = rulesOf(dump, 'nat', 'KUBE-SERVICES');
    const masq = services.find((r) => r.sets[0]?.name === 'KUBE-CLUSTER-IP' && r.target === 'KUBE-MARK-MASQ');
    expect(masq).toMatchObject({
      source: { value: '10.244.0.0/16', negated: true },
      sets: [{ name: 'KUBE-CLUSTER-IP', flags: 'dst,dst', negated: false }],
      comment: 'Kubernetes service cluster ip + port for masquerade purpose',
      matches: ['comment', 'set'],
    });
    expect(services.find((r) => r.target === 'KUBE-NODE-PORT')?.addrtype).toEqual({ srcType: null, dstType: { value: 'LOCAL', negated: false } });
    const externalAccept = services.find((r) => r.matches.includes('physdev'));
    expect(externalAccept?.addrtype).toEqual({ srcType: { value: 'LOCAL', negated: true }, dstType: null });
    const reject = rulesOf(dump, 'filter', 'KUBE-IPVS-FILTER').at(-1);
    expect(reject).toMatchObject({
      target: 'REJECT',
      targetArgs: ['--reject-with', 'icmp-port-unreachable'],
      ctstate: { value: ['NEW'], negated: false },
      sets: [{ name: 'KUBE-IPVS-IPS', flags: 'dst', negated: false }],
    });
    const postrouting = rulesOf(dump, 'nat', 'KUBE-POSTROUTING');
    expect(postrouting.map((r) => [r.mark, r.target, r.targetArgs])).toEqual([
      [null, 'MASQUERADE', []],
      [{ value: '0x4000/0x4000', negated: true }, 'RETURN', []],
      [null, 'MARK', ['--set-xmark', '0x4000/0x0']],
      [null, 'MASQUERADE', ['--random-fully']],
    ]);
  });

  it("unescapes quoted comments (iptables-save writes ' as \\' inside \"…\")", () => {
    const sctp = rulesOf(parseSave(fixture('nft-ipvs.save')), 'nat', 'KUBE-NODE-PORT').find((r) => r.protocol?.value === 'sctp');
    expect(sctp?.comment).toBe("Kubernetes nodeport SCTP port for masquerade purpose with type 'hash ip:port'");
  });

  it('counts the per-Service chains of an iptables-mode leftover instead of keeping them, and keeps KUBE-EXTERNAL-SERVICES', () => {
    const dump = parseSave(fixture('legacy-leftovers.save'));
    const nat = dump.tables.get('nat');
    expect(nat?.perService.counts).toMatchObject({ 'KUBE-SVC-': 4, 'KUBE-SEP-': 6, 'KUBE-EXT-': 1 });
    // KUBE-SERVICES was rewritten by the IPVS proxier: only nat KUBE-NODEPORTS still jumps to one.
    expect(nat?.perService.jumpsTo).toBe(1);
    // KUBE-SVC-: 2 + 3 + 3 + 2 rules, six KUBE-SEP- of 2, one KUBE-EXT- of 2.
    expect(nat?.perService.rules).toBe(10 + 12 + 2);
    expect([...(nat?.chains.keys() ?? [])].some((c) => c.startsWith('KUBE-SVC-') || c.startsWith('KUBE-SEP-'))).toBe(false);
    expect(nat?.rules.some((r) => r.chain.startsWith('KUBE-SVC-') || r.chain.startsWith('KUBE-SEP-'))).toBe(false);
    const external = rulesOf(dump, 'filter', 'KUBE-EXTERNAL-SERVICES');
    expect(external).toHaveLength(1);
    expect(external[0]).toMatchObject({ target: 'REJECT', comment: 'default/web:http has no endpoints', protocol: { value: 'tcp', negated: false } });
    expect(rulesOf(dump, 'filter', 'INPUT').map((r) => r.target)).toContain('KUBE-EXTERNAL-SERVICES');
  });

  it.each(CAPTURES)('%s: every rule is kept or counted once (ruleCount = kept + other + dropped)', (name) => {
    for (const table of parseSave(fixture(name)).tables.values()) {
      expect(table.ruleCount).toBe(table.rules.length + table.otherRules + table.droppedRules);
    }
  });

  it('reports what iptables-nft cannot show: a native rule printed short, a base chain it cannot represent', () => {
    const dump = parseSave(fixture('nft-native.save'));
    expect(dump.incompatibleTables).toEqual(['filter']);
    expect(dump.tables.get('nat')).toMatchObject({ ruleCount: 1, otherRules: 1, rules: [] });
  });

  it('sees nothing but builtin chains in a legacy table a lookup instantiated', () => {
    const nat = parseSave(fixture('legacy-unused.save')).tables.get('nat');
    expect([...(nat?.chains.values() ?? [])].every((c) => c.builtin && c.policy === 'ACCEPT' && c.ruleCount === 0)).toBe(true);
  });

  it('notes iptables-nft-save\'s "legacy tables present" warning when older versions print it on stdout', () => {
    const dump = parseSave(`${fixture('nft-ipvs.save')}${fixture('nft-legacy-present.stderr')}`);
    expect(dump.legacyTablesWarning).toBe(true);
    expect(parseSave(fixture('nft-ipvs.save')).legacyTablesWarning).toBe(false);
  });
});

describe('SaveParser streaming', () => {
  it('gives the same model whatever the chunking, a multi-byte character split included', () => {
    const text = fixture('nft-leftovers.save').replace('default/web:http has no endpoints', 'default/wéb:http has no endpoints');
    const bytes = new TextEncoder().encode(text);
    const whole = dumpJson(parseSave(text));
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 40 }), (cuts) => {
        const parser = new SaveParser();
        let from = 0;
        for (const at of [...cuts].sort((x, y) => x - y)) {
          parser.push(bytes.subarray(from, at));
          from = at;
        }
        parser.push(bytes.subarray(from));
        expect(dumpJson(parser.end())).toBe(whole);
      }),
      { numRuns: 50 },
    );
  });

  it('parses a last line without a newline, and CRLF line ends', () => {
    const text = '*filter\r\n:INPUT ACCEPT [0:0]\r\n:KUBE-X - [0:0]\r\n-A INPUT -j KUBE-X\r\nCOMMIT';
    const dump = parseSave(text);
    expect(dump.tables.get('filter')?.rules.map((r) => r.target)).toEqual(['KUBE-X']);
  });
});

describe('SaveParser bounds and bad input', () => {
  const leftovers = fixture('legacy-leftovers.save');

  it('stops keeping rules at maxKeptRules and says the dump is truncated', () => {
    const dump = parseSave(leftovers, { maxKeptRules: 5 });
    const kept = [...dump.tables.values()].reduce((n, t) => n + t.rules.length, 0);
    const dropped = [...dump.tables.values()].reduce((n, t) => n + t.droppedRules, 0);
    expect(kept).toBe(5);
    expect(dropped).toBeGreaterThan(0);
    expect(dump.truncated).toBe(true);
    expect(parseSave(leftovers).truncated).toBe(false);
  });

  it('stops keeping chains at maxKeptChains, counting the rest', () => {
    const dump = parseSave(leftovers, { maxKeptChains: 3 });
    expect(dump.truncated).toBe(true);
    const keptUserChains = [...dump.tables.values()].reduce((n, t) => n + [...t.chains.values()].filter((c) => !c.builtin).length, 0);
    expect(keptUserChains).toBe(3);
  });

  it('counts a line longer than maxLineLength as malformed and goes on', () => {
    const long = `-A KUBE-X -m comment --comment "${'x'.repeat(500)}" -j ACCEPT`;
    const dump = parseSave(`*filter\n:KUBE-X - [0:0]\n${long}\n-A KUBE-X -j DROP\nCOMMIT\n`, { maxLineLength: 200 });
    expect(dump.malformed).toEqual([{ line: 3, reason: 'line longer than 200 characters', text: '' }]);
    expect(dump.tables.get('filter')?.rules.map((r) => r.target)).toEqual(['DROP']);
  });

  it.each([
    ['rule of undeclared chain KUBE-Y', '-A KUBE-Y -j ACCEPT'],
    ['unbalanced double quote', '-A KUBE-X -m comment --comment "open -j ACCEPT'],
    ['-j without a target', '-A KUBE-X -j'],
    ['--match-set without a set name and flags', '-A KUBE-X -m set --match-set KUBE-CLUSTER-IP'],
    ['malformed chain line', ':KUBE-Z'],
    ['unrecognised line', 'garbage here'],
    ['not an -A CHAIN rule', '-I KUBE-X 1 -j ACCEPT'],
  ])('counts and samples a malformed line: %s', (reason, line) => {
    const dump = parseSave(`*filter\n:KUBE-X - [0:0]\n${line}\n-A KUBE-X -j RETURN\nCOMMIT\n`);
    expect(dump.malformedCount).toBe(1);
    expect(dump.malformed[0]).toMatchObject({ line: 3, reason });
    expect(dump.tables.get('filter')?.rules.map((r) => r.target)).toEqual(['RETURN']);
  });

  it.each([
    ['garbage', 'this is not\niptables output at all\n', /not iptables-save output/],
    ['a dump cut off inside a table', '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j KUBE-X\n', /ends inside table filter/],
    ['a table opened inside another', '*filter\n:INPUT ACCEPT [0:0]\n*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n', /ends inside table filter/],
  ])('refuses %s with IPTABLES_DUMP_INVALID', (_what, text, message) => {
    expectSentinelError(() => parseSave(text), 'IPTABLES_DUMP_INVALID', message);
  });

  it('gives up with IPTABLES_DUMP_INVALID once maxMalformed lines are malformed, while streaming', () => {
    const parser = new SaveParser({ maxMalformed: 3 });
    expectSentinelError(() => parser.push('*filter\nx\ny\nz\nw\n'), 'IPTABLES_DUMP_INVALID', /more than 3 malformed lines/);
  });

  it('reads empty output (no table instantiated) as an empty dump', () => {
    expect(parseSave('').tables.size).toBe(0);
  });

  it('never throws anything but an IPTABLES_DUMP_INVALID SentinelError, whatever the lines', () => {
    const fragments = ['*filter', '*nat', 'COMMIT', ':INPUT ACCEPT [0:0]', ':KUBE-X - [0:0]', '-A KUBE-X', '-A INPUT -j KUBE-X', '[1:2] -A KUBE-X -j DROP', '"', '!', '-A', '# Generated by x', '\r', '\\'];
    const line = fc.oneof(fc.constantFrom(...fragments), fc.string({ maxLength: 60 }), fc.string({ unit: 'binary', maxLength: 30 }));
    fc.assert(
      fc.property(fc.array(fc.array(line, { maxLength: 4 }).map((parts) => parts.join(' ')), { maxLength: 40 }), (lines) => {
        try {
          const dump = parseSave(lines.join('\n'), { maxMalformed: 20 });
          for (const t of dump.tables.values()) expect(t.ruleCount).toBe(t.rules.length + t.otherRules + t.droppedRules);
        } catch (error) {
          expect(error).toBeInstanceOf(SentinelError);
          expect((error as SentinelError).code).toBe('IPTABLES_DUMP_INVALID');
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('tokenizeRule and parseRule', () => {
  it.each([
    ['-A X -m comment --comment "a b" -j Y', ['-A', 'X', '-m', 'comment', '--comment', 'a b', '-j', 'Y']],
    ['-A X --comment "say \\"hi\\" \\\\ there"', ['-A', 'X', '--comment', 'say "hi" \\ there']],
    ['-A  X\t-j Y ', ['-A', 'X', '-j', 'Y']],
    ['-A X --comment ""', ['-A', 'X', '--comment', '']],
  ])('splits %j', (text, tokens) => {
    expect(tokenizeRule(text)).toEqual(tokens);
  });

  it('reads -g as a goto and a negated set match', () => {
    expect(parseRule('-A KUBE-X -m set ! --match-set KUBE-LOOP-BACK dst,dst,src -g KUBE-Y')).toMatchObject({
      rule: { target: 'KUBE-Y', goto: true, sets: [{ name: 'KUBE-LOOP-BACK', flags: 'dst,dst,src', negated: true }] },
    });
  });

  it('keeps a negation on options it does not summarise from leaking onto the next one', () => {
    const parsed = parseRule('-A KUBE-X -m physdev ! --physdev-is-in -m addrtype --src-type LOCAL -j ACCEPT');
    expect(parsed).toMatchObject({ rule: { addrtype: { srcType: { value: 'LOCAL', negated: false }, dstType: null } } });
  });
});
