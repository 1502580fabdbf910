import { describe, expect, it } from 'vitest';
import { isKubeProxySetName, readNodeIpsets, type NodeIpsetReaders } from '../../../src/ipset/node.js';
import type { IpSet } from '../../../src/ipset/types.js';
import type { ModuleFacts } from '../../../src/kmod/check.js';

const header = (name: string): IpSet => ({ name, type: 'hash:ip', family: 'inet', revision: 0, header: { references: 0, elements: 0, memSize: 0 }, entriesListed: false, entries: [] });
const facts = (over: Partial<ModuleFacts>): ModuleFacts => ({ release: '6.1.0-57-amd64', loaded: [], builtin: new Set(), procNetIpvs: true, conntrackSysctls: true, problems: [], ...over });

function readers(modules: ModuleFacts, names: string[]): NodeIpsetReaders & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    modules: () => Promise.resolve(modules),
    headers: () => {
      asked.push('headers');
      return names.map(header);
    },
    set: (name) => {
      asked.push(name);
      return name === 'KUBE-GONE' ? null : { ...header(name), entriesListed: true };
    },
  };
}

const ipSetLoaded = facts({ loaded: [{ name: 'ip_set', size: 1, refCount: 1, usedBy: [], state: 'Live' } as unknown as NonNullable<ModuleFacts['loaded']>[number]] });

describe('readNodeIpsets', () => {
  it('reads only kube-proxy sets, each by name after a headers-only list', async () => {
    const r = readers(ipSetLoaded, ['cali40all-ipam-pools', 'KUBE-CLUSTER-IP', 'KUBE-6-LOOP-BACK', 'KUBE-GONE']);
    const result = await readNodeIpsets(r);
    expect(r.asked).toEqual(['headers', 'KUBE-CLUSTER-IP', 'KUBE-6-LOOP-BACK', 'KUBE-GONE']);
    expect(result.readable && [...result.sets.keys()]).toEqual(['KUBE-CLUSTER-IP', 'KUBE-6-LOOP-BACK']);
  });

  it.each<[string, ModuleFacts, boolean]>([
    ['ip_set loaded', ipSetLoaded, true],
    ['ip_set built in', facts({ builtin: new Set(['ip_set']) }), true],
    ['a kernel without modules (no /proc/modules)', facts({ loaded: null }), true],
    ['ip_set neither loaded nor built in', facts({}), false],
    ['/proc/modules unreadable', facts({ loaded: null, loadedUnreadable: true, problems: ['cannot read /proc/modules: EACCES'] }), false],
  ])('asks the kernel only when that cannot load a module: %s', async (_name, modules, readable) => {
    const r = readers(modules, ['KUBE-CLUSTER-IP']);
    const result = await readNodeIpsets(r);
    expect(result.readable).toBe(readable);
    expect(r.asked.length > 0).toBe(readable);
    if (!result.readable) expect(result.reason).toMatch(/ip_set|\/proc\/modules/);
  });

  it('knows kube-proxy set names', () => {
    expect(['KUBE-CLUSTER-IP', 'KUBE-6-LOAD-BALANCER-SOURCE-CID', 'cali40s', 'KUBE'].map(isKubeProxySetName)).toEqual([true, true, false, false]);
  });
});
