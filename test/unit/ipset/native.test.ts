/**
 * The ipset reader on this machine's real kernel, in a throw-away network namespace (test/support/netns.ts):
 * sets made by the ipset tool, read by our reader from inside the namespace, compared with `ipset save`
 * of the same state — kube-proxy's sets in both families, 10,000 Services' worth of members, a
 * missing set, and a reader without CAP_NET_ADMIN. Runs as root (CI does); skipped, saying why, elsewhere.
 */
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../guest/harness.js';
import type { ChildOutput, ChildSet } from '../../support/netfilter-child.js';
import { kubeProxySetsRestore } from '../../support/ipset-scale.js';
import { parseIpsetSave } from '../../support/ipset-save.js';
import { netnsUnavailable, runInNetns } from '../../support/netns.js';

const unavailable = netnsUnavailable();

function sets(result: ChildOutput['ipsets'][number] | undefined): ChildSet[] {
  if (result === undefined || 'error' in result) throw new Error(`the reader failed: ${JSON.stringify(result)}`);
  if (result.ok === null) throw new Error('the reader found no set');
  return result.ok;
}

function asSaved(list: ChildSet[]): Map<string, { type: string; family: string | null; members: string[] }> {
  return new Map(list.map((s) => [s.name, { type: s.type, family: s.family, members: [...s.members].sort() }]));
}

describe.skipIf(unavailable !== null)(unavailable === null ? 'ipsets on the real kernel, in unshare -n' : `ipsets on the real kernel (skipped: ${unavailable})`, () => {
  it('reads kube-proxy\'s sets exactly as `ipset save` prints them, with headers, one set by name, and a missing set as null', () => {
    const out = runInNetns({
      setup: `ipset restore < ${REPO_ROOT}/test/fixtures/ipset/kube-proxy.restore
iptables-nft -t nat -A POSTROUTING -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT
iptables-nft -t filter -A INPUT -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT`,
      request: { ipsets: [{}, { headersOnly: true }, { setName: 'KUBE-6-LOAD-BALANCER-SOURCE-CID' }, { setName: 'KUBE-MISSING' }], oracle: true },
    });
    const all = sets(out.ipsets[0]);
    expect(asSaved(all)).toEqual(parseIpsetSave(out.ipsetSave ?? ''));
    expect(all).toHaveLength(34);
    const byName = new Map(all.map((s) => [s.name, s]));
    expect(byName.get('KUBE-CLUSTER-IP')?.header.references).toBe(2);
    expect(byName.get('KUBE-LOOP-BACK')?.header.references).toBe(0);

    const headers = sets(out.ipsets[1]);
    expect(headers.map((s) => [s.name, s.header.elements, s.header.references, s.members.length])).toEqual(all.map((s) => [s.name, s.members.length, s.header.references, 0]));

    expect(sets(out.ipsets[2])).toEqual([byName.get('KUBE-6-LOAD-BALANCER-SOURCE-CID')]);
    expect(out.ipsets[3]).toEqual({ ok: null });
  });

  it('reads 10,000 Services\' worth of members (44,000 in six sets, each over many messages) exactly', { timeout: 120_000 }, () => {
    const { restore, entries } = kubeProxySetsRestore(10_000);
    const out = runInNetns({ setup: 'ipset restore < "$RESTORE"', restore, request: { ipsets: [{}], oracle: true } });
    const all = sets(out.ipsets[0]);
    expect(all.reduce((n, s) => n + s.members.length, 0)).toBe(entries);
    expect(entries).toBeGreaterThanOrEqual(40_000);
    expect(asSaved(all)).toEqual(parseIpsetSave(out.ipsetSave ?? ''));
    for (const set of all) expect(set.header.elements, set.name).toBe(set.members.length);
  });

  it('reads an empty namespace as no sets', () => {
    expect(runInNetns({ setup: ':', request: { ipsets: [{}] } }).ipsets).toEqual([{ ok: [] }]);
  });

  it('says IPSET_PERMISSION_DENIED when the reader lacks CAP_NET_ADMIN', () => {
    const out = runInNetns({
      setup: `ipset restore < ${REPO_ROOT}/test/fixtures/ipset/kube-proxy.restore`,
      wrap: ['setpriv', '--bounding-set=-net_admin', '--inh-caps=-net_admin'],
      request: { ipsets: [{}] },
    });
    expect(out.ipsets[0]).toMatchObject({ error: { code: 'IPSET_PERMISSION_DENIED', message: expect.stringMatching(/CAP_NET_ADMIN/) as string } });
  });
});
