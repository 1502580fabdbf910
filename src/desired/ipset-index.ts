/**
 * The ipsets' entries over all Services, kept incrementally for DesiredStateIndex: each entry is
 * counted (several Service ports may want the same one — two Services with one externalIP:port),
 * and a set's sorted list is patched when a few entries came or went, re-sorted when many did, and
 * reused as is when none did. KUBE-IPVS-IPS is not counted here: it is the kube-ipvs0 addresses
 * (pkg/proxy/ipvs/proxier.go sets it to activeBindAddrs), which the caller passes in.
 */
import type { AddressFamily } from '../ipvs/types.js';
import { ipsetsOfFamily } from './ipsets.js';
import type { IpsetMembers } from './ipsets.js';
import { familyOfCanonical } from './service-port.js';
import type { DesiredIpset } from './types.js';

/** Up to this many changed entries a set's previous list is patched (binary search + splice); beyond, re-sorted. */
const PATCH_LIMIT = 64;

/** Index of the first element ≥ entry in a list sorted by code unit. */
function lowerBound(sorted: readonly string[], entry: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as string) < entry) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A copy of `previous` with each touched entry inserted or removed as `counts` now wants it. */
function patched(previous: readonly string[], touched: readonly string[], counts: ReadonlyMap<string, number> | undefined): string[] {
  const out = previous.slice();
  for (const entry of touched) {
    const i = lowerBound(out, entry);
    const listed = i < out.length && out[i] === entry;
    const wanted = counts?.has(entry) ?? false;
    if (wanted && !listed) out.splice(i, 0, entry);
    else if (!wanted && listed) out.splice(i, 1);
  }
  return out;
}

export class IpsetIndex {
  /** Set name → entry → how many Service ports want it (0 only until the next build). */
  private readonly counts = new Map<string, Map<string, number>>();
  /** (set, entry) pairs whose count reached 0 since the last build. */
  private zeroed: string[] = [];
  /** Set name → entries that appeared or disappeared since its list was last built (may repeat). */
  private readonly touched = new Map<string, string[]>();
  /** The last built set of each name, kept while its entries stay the same. */
  private readonly output = new Map<string, DesiredIpset>();

  add(members: IpsetMembers): void {
    let set = '';
    let counts: Map<string, number> | undefined;
    for (let i = 0; i + 1 < members.length; i += 2) {
      // A Service's members mostly come grouped by set: look the set up when it changes only.
      if (members[i] !== set || counts === undefined) {
        set = members[i] as string;
        counts = this.counts.get(set);
        if (counts === undefined) {
          counts = new Map();
          this.counts.set(set, counts);
        }
      }
      const entry = members[i + 1] as string;
      const n = counts.get(entry);
      if (n === undefined) this.touch(set, entry);
      counts.set(entry, (n ?? 0) + 1);
    }
  }

  /** Counts may drop to 0 here and rise again in the add() that usually follows; build() drops zeros. */
  remove(members: IpsetMembers): void {
    for (let i = 0; i + 1 < members.length; i += 2) {
      const set = members[i] as string;
      const entry = members[i + 1] as string;
      const counts = this.counts.get(set);
      const n = counts?.get(entry);
      if (counts === undefined || n === undefined) continue;
      counts.set(entry, n - 1);
      if (n === 1) this.zeroed.push(set, entry);
    }
  }

  /**
   * Every set of every family, empty ones too, in the catalogue's order. `kubeIpvs0Addresses` are
   * the bound addresses of all families; `addressesChanged` says whether they changed since the
   * last build.
   */
  build(families: readonly AddressFamily[], kubeIpvs0Addresses: readonly string[], addressesChanged: boolean): Map<string, DesiredIpset> {
    const zeroed = this.zeroed;
    for (let i = 0; i + 1 < zeroed.length; i += 2) {
      const set = zeroed[i] as string;
      const entry = zeroed[i + 1] as string;
      const counts = this.counts.get(set);
      if (counts?.get(entry) === 0) {
        counts.delete(entry);
        this.touch(set, entry);
      }
    }
    this.zeroed = [];
    const out = new Map<string, DesiredIpset>();
    for (const family of families) {
      for (const set of ipsetsOfFamily(family)) {
        const previous = this.output.get(set.name);
        let entries: readonly string[] | null = null;
        if (set.key === 'ipvsIPs') {
          if (previous === undefined || addressesChanged) entries = kubeIpvs0Addresses.filter((a) => familyOfCanonical(a) === family).sort();
        } else {
          const touched = this.touched.get(set.name);
          const counts = this.counts.get(set.name);
          if (previous !== undefined && touched !== undefined && touched.length <= PATCH_LIMIT) entries = patched(previous.entries, touched, counts);
          // Default sort is code-unit order, the same as compareStrings and lowerBound.
          else if (previous === undefined || touched !== undefined) entries = [...(counts?.keys() ?? [])].sort();
        }
        const built = entries === null ? (previous as DesiredIpset) : Object.freeze({ name: set.name, family, type: set.type, entries: Object.freeze(entries) });
        this.output.set(set.name, built);
        out.set(set.name, built);
      }
    }
    this.touched.clear();
    return out;
  }

  private touch(set: string, entry: string): void {
    const list = this.touched.get(set);
    if (list === undefined) this.touched.set(set, [entry]);
    // Past the limit the set is re-sorted anyway: no need to remember more (a re-list touches them all).
    else if (list.length <= PATCH_LIMIT) list.push(entry);
  }
}
