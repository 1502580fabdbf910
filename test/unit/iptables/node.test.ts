import { describe, expect, it } from 'vitest';
import { readNodeNetfilter } from '../../../src/iptables/node.js';
import type { IptablesObservation, NftTableRef } from '../../../src/iptables/types.js';
import type { ModuleFacts } from '../../../src/kmod/check.js';

const facts = (over: Partial<ModuleFacts>): ModuleFacts => ({ release: '6.1.0-57-amd64', loaded: [], builtin: new Set(), procNetIpvs: true, conntrackSysctls: true, problems: [], ...over });
const loaded = (name: string): NonNullable<ModuleFacts['loaded']> => [{ name } as NonNullable<ModuleFacts['loaded']>[number]];
const TABLES: NftTableRef[] = [{ family: 'ip', name: 'nat', use: 9 }];

describe('readNodeNetfilter', () => {
  it.each<[string, ModuleFacts, 'read' | 'absent' | 'unknown']>([
    ['nf_tables loaded', facts({ loaded: loaded('nf_tables') }), 'read'],
    ['nf_tables built in', facts({ builtin: new Set(['nf_tables']) }), 'read'],
    ['no loadable modules at all', facts({ loaded: null }), 'read'],
    ['nf_tables neither loaded nor built in', facts({}), 'absent'],
    ['/proc/modules unreadable', facts({ loaded: null, loadedUnreadable: true, problems: ['cannot read /proc/modules: EACCES'] }), 'unknown'],
  ])('lists nftables tables only when asking cannot load nf_tables: %s', async (_name, modules, state) => {
    const asked: string[] = [];
    let nftPassed: readonly NftTableRef[] | null | undefined;
    const result = await readNodeNetfilter({
      modules: () => Promise.resolve(modules),
      nftTables: () => {
        asked.push('nft');
        return TABLES;
      },
      iptables: (nftTables) => {
        nftPassed = nftTables;
        return Promise.resolve({} as IptablesObservation);
      },
    });
    expect(result.nft.state).toBe(state);
    expect(asked).toEqual(state === 'read' ? ['nft'] : []);
    // The iptables reader is told not to run the nft tools when nf_tables may not be asked.
    expect(nftPassed).toEqual(state === 'read' ? TABLES : null);
  });
});
