/**
 * The nftables table list on this machine's real kernel, in a throw-away network namespace
 * (test/support/netns.ts): tables made by nft and iptables-nft, read by our reader from inside the
 * namespace, compared with `nft list tables`. Runs as root (CI does); skipped, saying why, elsewhere.
 */
import { describe, expect, it } from 'vitest';
import type { ChildOutput } from '../../support/netfilter-child.js';
import { netnsUnavailable, runInNetns } from '../../support/netns.js';

const unavailable = netnsUnavailable();

function tables(out: ChildOutput): { family: string | number; name: string; use: number }[] {
  const result = out.nftTables;
  if (result === null || 'error' in result) throw new Error(`the reader failed: ${JSON.stringify(result)}`);
  return result.ok;
}

describe.skipIf(unavailable !== null)(unavailable === null ? 'nftables tables on the real kernel, in unshare -n' : `nftables tables on the real kernel (skipped: ${unavailable})`, () => {
  it('lists the tables `nft list tables` lists: iptables-nft\'s ip nat and ip6 filter, nftables-mode kube-proxy leftovers', () => {
    const out = runInNetns({
      setup: `nft add table ip kube-proxy
nft add chain ip kube-proxy services '{ type nat hook prerouting priority -100; }'
nft add table ip6 kube-proxy
iptables-nft -t nat -N KUBE-SERVICES
iptables-nft -t nat -A PREROUTING -j KUBE-SERVICES
ip6tables-nft -t filter -N KUBE-FORWARD
nft add table inet other`,
      request: { nftTables: true, oracle: true },
    });
    const list = tables(out);
    expect(list.map((t) => `table ${t.family} ${t.name}`)).toEqual((out.nftList ?? '').trim().split('\n'));
    expect(list).toContainEqual({ family: 'ip', name: 'kube-proxy', use: 1 });
    expect(list).toContainEqual({ family: 'ip6', name: 'kube-proxy', use: 0 });
    expect(list.find((t) => t.family === 'ip' && t.name === 'nat')?.use).toBe(2);
  });

  it('reads an empty namespace as no tables', () => {
    expect(tables(runInNetns({ setup: ':', request: { nftTables: true } }))).toEqual([]);
  });

  it('says NFTABLES_PERMISSION_DENIED when the reader lacks CAP_NET_ADMIN', () => {
    const out = runInNetns({ setup: 'nft add table ip kube-proxy', wrap: ['setpriv', '--bounding-set=-net_admin', '--inh-caps=-net_admin'], request: { nftTables: true } });
    expect(out.nftTables).toMatchObject({ error: { code: 'NFTABLES_PERMISSION_DENIED' } });
  });
});
