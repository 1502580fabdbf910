/**
 * readNodeNetfilter's base chains: read under the tables' gate, only the chains on a hook kept, a
 * failed chain dump an error state beside the tables, never a failed read.
 */
import { describe, expect, it } from 'vitest';
import { SentinelError } from '../../../src/errors/index.js';
import { readNodeNetfilter } from '../../../src/iptables/node.js';
import type { IptablesObservation } from '../../../src/iptables/types.js';
import type { ModuleFacts } from '../../../src/kmod/check.js';
import type { NftChain } from '../../../src/nftables/chains.js';

const facts = (over: Partial<ModuleFacts>): ModuleFacts => ({ release: '6.1.0-57-amd64', loaded: [], builtin: new Set(), procNetIpvs: true, conntrackSysctls: true, problems: [], ...over });
const withNfTables = facts({ builtin: new Set(['nf_tables']) });
const CHAINS: NftChain[] = [
  { family: 'inet', table: 'fw', name: 'input', hook: { name: 'input', priority: 0 }, type: 'filter', policy: 'drop' },
  { family: 'inet', table: 'fw', name: 'allow_ssh', hook: null, type: null, policy: null },
];

async function read(modules: ModuleFacts, chains: () => readonly NftChain[]): Promise<{ result: Awaited<ReturnType<typeof readNodeNetfilter>>; asked: number }> {
  let asked = 0;
  const result = await readNodeNetfilter({
    modules: () => Promise.resolve(modules),
    nftTables: () => [{ family: 'inet', name: 'fw', use: 2 }],
    nftChains: () => {
      asked++;
      return chains();
    },
    iptables: () => Promise.resolve({} as IptablesObservation),
  });
  return { result, asked };
}

describe('readNodeNetfilter: base chains', () => {
  it('keeps the base chains only', async () => {
    const { result } = await read(withNfTables, () => CHAINS);
    expect(result.nft).toMatchObject({ state: 'read', baseChains: { state: 'read', chains: [CHAINS[0]] } });
  });

  it('a failed chain dump is an error state; the tables stay read', async () => {
    const { result } = await read(withNfTables, () => {
      throw new SentinelError('NFTABLES_PERMISSION_DENIED', 'dump nftables chains', 'EPERM');
    });
    expect(result.nft).toMatchObject({ state: 'read', tables: [{ name: 'fw' }], baseChains: { state: 'error', reason: expect.stringContaining('NFTABLES_PERMISSION_DENIED') as string } });
  });

  it('not asked when nf_tables is not in the kernel (asking would load it)', async () => {
    const { result, asked } = await read(facts({}), () => CHAINS);
    expect([result.nft.state, asked]).toEqual(['absent', 0]);
  });
});
