/**
 * The read plan and the backend decision, on dumps parsed from the captured `*-save` output: which tools
 * may run (never one whose backend holds no table), which backend kube-proxy's image would pick, where
 * kube-proxy's IPVS chains are, and a legacy backend that is only instantiated.
 */
import { describe, expect, it } from 'vitest';
import { SentinelError } from '../../../src/errors/index.js';
import { decideBackend, hasKubeletHint, ipvsChainsIn, isInstantiatedButUnused, parseTablesNames, planReads, type ReadPlanInput } from '../../../src/iptables/backend.js';
import { parseSave } from '../../../src/iptables/save-parser.js';
import type { BackendRead, FamilyReads, IptablesBackend, IptablesDump, SaveTool } from '../../../src/iptables/types.js';
import { fixture } from './dump-json.js';

const absent: BackendRead = { state: 'absent', reason: 'no table' };
const failed: BackendRead = { state: 'failed', error: new SentinelError('IPTABLES_PERMISSION_DENIED', 'run', 'denied') };

function read(tool: SaveTool, text: string): BackendRead {
  return { state: 'read', result: { tool, dump: parseSave(text), warnings: [], legacyTablesPresent: false } };
}

function reads(legacy: Partial<FamilyReads>, nft: Partial<FamilyReads>): Record<IptablesBackend, FamilyReads> {
  return { legacy: { inet: absent, inet6: absent, ...legacy }, nft: { inet: absent, inet6: absent, ...nft } };
}

/** A capture without kubelet's chains: what a backend holding only kube-proxy's rules looks like. */
function withoutKubelet(text: string): string {
  return text
    .split('\n')
    .filter((l) => !/KUBE-IPTABLES-HINT|KUBE-KUBELET-CANARY/.test(l))
    .join('\n');
}

describe('parseTablesNames', () => {
  it('reads one table per line and ignores anything else', () => {
    expect(parseTablesNames('nat\nfilter\n\nmangle\n')).toEqual(['nat', 'filter', 'mangle']);
    expect(parseTablesNames('')).toEqual([]);
    expect(parseTablesNames('nat\nnot a table\n')).toEqual(['nat']);
  });
});

describe('planReads', () => {
  const tools = (input: ReadPlanInput): string[] => planReads(input).flatMap((p) => (p.run ? [p.tool] : []));

  it.each([
    ['nothing anywhere: no tool runs', { legacyTableNames: { inet: [], inet6: [] }, nftTables: null }, []],
    ['legacy v4 tables only', { legacyTableNames: { inet: ['nat', 'filter'], inet6: [] }, nftTables: null }, ['iptables-legacy-save']],
    [
      'nft tables of both families',
      { legacyTableNames: { inet: [], inet6: [] }, nftTables: [{ family: 'ip', name: 'nat', use: 5 }, { family: 'ip6', name: 'filter', use: 3 }] },
      ['iptables-nft-save', 'ip6tables-nft-save'],
    ],
    [
      "only nft tables iptables-nft does not print (kube-proxy's nftables mode, another family)",
      { legacyTableNames: { inet: [], inet6: [] }, nftTables: [{ family: 'ip', name: 'kube-proxy', use: 1 }, { family: 'inet', name: 'filter', use: 1 }, { family: 7, name: 'nat', use: 0 }] },
      [],
    ],
    [
      'both backends, both families',
      { legacyTableNames: { inet: ['filter'], inet6: ['nat'] }, nftTables: [{ family: 'ip', name: 'mangle', use: 2 }, { family: 'ip6', name: 'raw', use: 0 }] },
      ['iptables-legacy-save', 'ip6tables-legacy-save', 'iptables-nft-save', 'ip6tables-nft-save'],
    ],
    ['an unreadable tables_names file: legacy not run', { legacyTableNames: { inet: null, inet6: [] }, nftTables: [] }, []],
  ] as [string, ReadPlanInput, string[]][])('%s', (_what, input, expected) => {
    expect(tools(input)).toEqual(expected);
  });

  it('says why a backend is not read, and marks an unreadable file apart from no table', () => {
    const plan = planReads({ legacyTableNames: { inet: null, inet6: [] }, nftTables: null });
    expect(plan).toEqual([
      { backend: 'legacy', family: 'inet', run: false, reason: 'net/ip_tables_names could not be read', unreadable: true },
      { backend: 'legacy', family: 'inet6', run: false, reason: 'no legacy ip6tables table exists', unreadable: false },
      { backend: 'nft', family: 'inet', run: false, reason: 'nf_tables is not loaded', unreadable: false },
      { backend: 'nft', family: 'inet6', run: false, reason: 'nf_tables is not loaded', unreadable: false },
    ]);
  });
});

describe('decideBackend', () => {
  const legacyIpvs = read('iptables-legacy-save', fixture('legacy-ipvs.save'));
  const legacyIpvs6 = read('ip6tables-legacy-save', fixture('legacy-ipvs6.save'));
  const nftIpvs = read('iptables-nft-save', fixture('nft-ipvs.save'));
  const nftIpvs6 = read('ip6tables-nft-save', fixture('nft-ipvs6.save'));

  it.each([
    ['IPVS chains and kubelet hint in nft only', reads({}, { inet: nftIpvs, inet6: nftIpvs6 }), { expected: 'nft', reason: 'kubelet-hint-nft', ipvsChains: { legacy: false, nft: true } }],
    ['IPVS chains and kubelet hint in legacy only', reads({ inet: legacyIpvs, inet6: legacyIpvs6 }, {}), { expected: 'legacy', reason: 'kubelet-hint-legacy', ipvsChains: { legacy: true, nft: false } }],
    [
      'IPVS chains in both, hint in both: nft wins (checked first)',
      reads({ inet: legacyIpvs }, { inet: nftIpvs }),
      { expected: 'nft', reason: 'kubelet-hint-nft', ipvsChains: { legacy: true, nft: true } },
    ],
    [
      'IPVS chains in both, hint in legacy only',
      reads({ inet: legacyIpvs }, { inet: read('iptables-nft-save', withoutKubelet(fixture('nft-ipvs.save'))) }),
      { expected: 'legacy', reason: 'kubelet-hint-legacy', ipvsChains: { legacy: true, nft: true } },
    ],
    [
      'no hint: more rule lines in legacy',
      reads({ inet: read('iptables-legacy-save', withoutKubelet(fixture('legacy-leftovers.save'))) }, { inet: read('iptables-nft-save', withoutKubelet(fixture('nft-ipvs.save'))) }),
      { expected: 'legacy', reason: 'more-rules-legacy' },
    ],
    [
      'no hint: a tie goes to nft',
      reads({ inet: read('iptables-legacy-save', withoutKubelet(fixture('legacy-ipvs.save'))) }, { inet: read('iptables-nft-save', withoutKubelet(fixture('nft-ipvs.save'))) }),
      { expected: 'nft', reason: 'more-rules-nft', ruleLines: { legacy: 45, nft: 45 } },
    ],
    ['nothing at all: nft', reads({}, {}), { expected: 'nft', reason: 'more-rules-nft', ruleLines: { legacy: 0, nft: 0 }, uncertain: false, ipvsChains: { legacy: false, nft: false } }],
  ])('%s', (_what, input, expected) => {
    expect(decideBackend(input)).toMatchObject(expected);
  });

  it('counts rule lines of both families, as iptables-wrappers does', () => {
    const decision = decideBackend(reads({ inet: legacyIpvs, inet6: legacyIpvs6 }, {}));
    const lines = (name: string): number => parseSave(fixture(name)).ruleLines;
    expect(decision.ruleLines.legacy).toBe(lines('legacy-ipvs.save') + lines('legacy-ipvs6.save'));
  });

  it('is uncertain when a read failed, and keeps deciding from what was read', () => {
    expect(decideBackend(reads({ inet: failed }, { inet: nftIpvs }))).toMatchObject({ expected: 'nft', uncertain: true, legacyInstantiatedButUnused: false });
  });

  it('tells a legacy backend that is only instantiated from one in use', () => {
    const unused = read('iptables-legacy-save', fixture('legacy-unused.save'));
    expect(decideBackend(reads({ inet: unused }, { inet: nftIpvs })).legacyInstantiatedButUnused).toBe(true);
    expect(decideBackend(reads({ inet: unused, inet6: legacyIpvs6 }, { inet: nftIpvs })).legacyInstantiatedButUnused).toBe(false);
    expect(decideBackend(reads({}, { inet: nftIpvs })).legacyInstantiatedButUnused).toBe(false);
  });
});

describe('dump predicates', () => {
  const dump = (name: string): IptablesDump => parseSave(fixture(name));

  it('finds the IPVS-only chains, and none in a dump without kube-proxy', () => {
    expect(ipvsChainsIn(dump('nft-ipvs.save')).map((c) => `${c.table}/${c.chain}`)).toEqual([
      'nat/KUBE-NODE-PORT',
      'nat/KUBE-LOAD-BALANCER',
      'filter/KUBE-NODE-PORT',
      'filter/KUBE-SOURCE-RANGES-FIREWALL',
      'filter/KUBE-IPVS-FILTER',
      'filter/KUBE-IPVS-OUT-FILTER',
    ]);
    expect(ipvsChainsIn(dump('legacy-unused.save'))).toEqual([]);
  });

  it('looks for the nft hint in mangle only (iptables-wrappers runs iptables-nft-save -t mangle), the legacy one anywhere', () => {
    const canaryInNatOnly = '*nat\n:PREROUTING ACCEPT [0:0]\n:KUBE-KUBELET-CANARY - [0:0]\nCOMMIT\n';
    expect(hasKubeletHint('nft', parseSave(canaryInNatOnly))).toBe(false);
    expect(hasKubeletHint('legacy', parseSave(canaryInNatOnly))).toBe(true);
    expect(hasKubeletHint('nft', dump('nft-ipvs6.save'))).toBe(true);
  });

  it.each([
    ['legacy-unused.save', true],
    ['legacy-ipvs.save', false],
    ['nft-native.save', false],
  ])('%s instantiated but unused: %s', (name, expected) => {
    expect(isInstantiatedButUnused(dump(name))).toBe(expected);
  });

  it('does not call a table with a DROP policy unused', () => {
    expect(isInstantiatedButUnused(parseSave('*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\nCOMMIT\n'))).toBe(false);
  });
});
