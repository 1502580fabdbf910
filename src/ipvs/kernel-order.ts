/**
 * The previous read in the order the kernel listed it, and a new read's real servers matched with
 * it by place. While the table holds still the kernel lists the services and each service's
 * destinations in the same order from one dump to the next (ip_vs_genl_dump_services walks the
 * service hash tables, ip_vs_genl_dump_dests a service's destination list), so the message at place
 * i almost always names what place i named last time: compared there, it needs no key, no lookup and
 * no sort. Anything else — a real server added, removed or moved — falls back to matching by key
 * (reuse.ts), which gives the same snapshot. Pure.
 */
import { addressSortKey, compareSortKeys, type AddressSortKey } from '../util/sort-key.js';
import { realServerKey } from './identity.js';
import { reuseRealServers } from './reuse.js';
import type { RealServer, VirtualServer } from './types.js';

const NONE: readonly RealServer[] = Object.freeze([]);

/** What the last consistent read saw. */
export class LastRead {
  constructor(
    /** Its virtual servers by key. */
    readonly byKey: ReadonlyMap<string, VirtualServer> = new Map(),
    /** Its virtual server for each NEW_SERVICE message, in the kernel's order (a repeated entry twice). */
    readonly services: readonly VirtualServer[] = [],
    /** Real servers in the kernel's order, for the virtual servers where that is not their sorted order. */
    private readonly kernelOrder: ReadonlyMap<string, readonly RealServer[]> = new Map(),
    /** Each message's place among its virtual servers sorted by key (the snapshot's order); -1 for a repeat. */
    readonly places: Int32Array = new Int32Array(0),
    /** How many virtual servers it had. */
    private readonly count = 0,
  ) {}

  /** `vs`'s real servers in the order its last GET_DEST dump listed them. */
  destinationsInKernelOrder(vs: VirtualServer): readonly RealServer[] {
    return this.kernelOrder.get(vs.key) ?? vs.destinations;
  }

  /**
   * `services` (one per message, as `this.services` is) sorted by key, when every message named the
   * virtual server it named last time: their sorted places are the last read's, nothing is compared.
   */
  sortLike(services: readonly VirtualServer[]): VirtualServer[] {
    const out = new Array<VirtualServer>(this.count);
    for (let i = 0; i < services.length; i++) {
      const place = this.places[i] as number;
      if (place >= 0) out[place] = services[i] as VirtualServer;
    }
    return out;
  }
}

/**
 * `services` (one per message, a repeated entry twice) sorted by key, and each message's place in
 * that order (-1 for a repeat): what LastRead.sortLike() needs.
 */
export function sortByKey(services: readonly VirtualServer[]): { sorted: VirtualServer[]; places: Int32Array } {
  const first = [...new Set(services)];
  const sorted = first.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const placeOf = new Map(sorted.map((vs, i) => [vs, i]));
  const places = new Int32Array(services.length).fill(-1);
  const seen = new Set<VirtualServer>();
  services.forEach((vs, i) => {
    if (seen.has(vs)) return;
    seen.add(vs);
    places[i] = placeOf.get(vs) ?? -1;
  });
  return { sorted, places };
}

/** One GET_DEST dump's real servers, as they arrive, matched by place with the last read's. */
export class DestinationMatch {
  private previous: VirtualServer | undefined;
  private expected: readonly RealServer[] = NONE;
  /** The dump's real servers so far: the first `count` of `dumped` (one array reused from dump to dump). */
  private readonly dumped: RealServer[] = [];
  private count = 0;
  /** Every real server so far was at the place where the last read had it. */
  private aligned = true;
  private changed = false;

  /** Starts the dump of a virtual server whose last read was `previous` (undefined: none). */
  begin(previous: VirtualServer | undefined, last: LastRead): void {
    this.previous = previous;
    this.expected = previous === undefined ? NONE : last.destinationsInKernelOrder(previous);
    this.count = 0;
    this.aligned = true;
    this.changed = false;
  }

  /** The last read's real server at the next message's place; undefined once the order broke. */
  expectedNext(): RealServer | undefined {
    return this.aligned ? this.expected[this.count] : undefined;
  }

  /**
   * The next message's real server: expectedNext() itself when nothing changed, else a new one;
   * `samePlace` when it has expectedNext()'s address and port.
   */
  add(rs: RealServer, samePlace: boolean): void {
    if (!samePlace) this.aligned = false;
    else if (rs !== this.expected[this.count]) this.changed = true;
    this.dumped[this.count++] = rs;
  }

  /**
   * The dump's real servers sorted by address then port, as they were decoded: what finish() gives
   * on a first read, without the copies that read keeps for the next (reuse.ts) and without their
   * kernel order — for a reader that reads once (the `ipvs` command). A repeated entry: the last
   * one counts, as in finish().
   */
  finishOnce(): readonly RealServer[] {
    this.previous = undefined;
    this.expected = NONE;
    const dumped = this.dumped.slice(0, this.count);
    const sorted = sortFew(dumped.slice());
    for (let i = 1; i < sorted.length; i++) {
      const a = sorted[i - 1] as RealServer;
      const b = sorted[i] as RealServer;
      if (a.port === b.port && a.address === b.address) {
        const byKey = new Map<string, RealServer>();
        for (const rs of dumped) byKey.set(realServerKey(rs), rs);
        return sortRealServers(byKey.values());
      }
    }
    return sorted;
  }

  /**
   * The virtual server's real servers, sorted by address then port, sharing what did not change with
   * the last read (an unchanged list is the last read's array); records their kernel order in
   * `kernelOrder` (keyed by `key`) where it is not the sorted order.
   */
  finish(key: string, kernelOrder: Map<string, readonly RealServer[]>): readonly RealServer[] {
    const { previous, expected } = this;
    // Nothing of the last read is held past its dump.
    this.previous = undefined;
    this.expected = NONE;
    const samePlaces = previous !== undefined && this.aligned && this.count === expected.length;
    if (samePlaces && !this.changed) {
      if (expected !== previous.destinations) kernelOrder.set(key, expected);
      return previous.destinations;
    }
    const dumped = this.dumped.slice(0, this.count);
    if (previous === undefined) {
      const first = firstSeen(dumped);
      if (first !== null) {
        if (first.order !== null) kernelOrder.set(key, first.order);
        return first.destinations;
      }
    }
    if (samePlaces) {
      // The same real servers in the same places: the last sorted list, with the changed ones replaced.
      if (expected === previous.destinations) return dumped;
      const replaced = new Map<RealServer, RealServer>();
      for (let i = 0; i < dumped.length; i++) replaced.set(expected[i] as RealServer, dumped[i] as RealServer);
      kernelOrder.set(key, dumped);
      return previous.destinations.map((rs) => replaced.get(rs) ?? rs);
    }
    // By key (a dump may repeat an entry across batches: the last one counts), sorted, then shared.
    const byKey = new Map<string, RealServer>();
    for (const rs of dumped) byKey.set(realServerKey(rs), rs);
    const destinations = reuseRealServers(previous?.destinations, sortRealServers(byKey.values()));
    const kept = new Map<string, RealServer>();
    for (const rs of destinations) kept.set(realServerKey(rs), rs);
    const order = dumped.map((rs) => kept.get(realServerKey(rs)) as RealServer);
    if (order.length !== destinations.length || order.some((rs, i) => rs !== destinations[i])) kernelOrder.set(key, order);
    return destinations;
  }
}

/**
 * The real servers of a virtual server the last read did not have (every one of them, on a first
 * read: the `ipvs` command's only read), sorted and kept, and their kernel order when it is not the
 * sorted one — what the by-key path below gives, without a key text per real server; null when the
 * dump repeated an entry, which that path handles.
 */
function firstSeen(dumped: readonly RealServer[]): { destinations: readonly RealServer[]; order: RealServer[] | null } | null {
  const sorted = sortRealServers(dumped);
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1] as RealServer;
    const b = sorted[i] as RealServer;
    if (a.port === b.port && a.address === b.address) return null;
  }
  const destinations = reuseRealServers(undefined, sorted);
  if (sorted.every((rs, i) => rs === dumped[i])) return { destinations, order: null };
  const keptOf = new Map<RealServer, RealServer>();
  sorted.forEach((rs, i) => keptOf.set(rs, destinations[i] as RealServer));
  return { destinations, order: dumped.map((rs) => keptOf.get(rs) as RealServer) };
}

/** Up to this many real servers are sorted in place by sortFew (a Service's endpoints on most nodes). */
const FEW = 32;
const fewKeys: AddressSortKey[] = [];

/**
 * `servers` sorted in place as sortRealServers() sorts them, by insertion when there are few: no
 * object per real server and no comparator call through the array sort, for the one-shot read's
 * tens of thousands of short lists (the kernel lists them newest first, so mostly reversed).
 */
function sortFew(servers: RealServer[]): RealServer[] {
  const n = servers.length;
  if (n > FEW) return sortRealServers(servers);
  const keys = fewKeys;
  for (let i = 0; i < n; i++) keys[i] = addressSortKey((servers[i] as RealServer).address);
  for (let i = 1; i < n; i++) {
    const rs = servers[i] as RealServer;
    const key = keys[i] as AddressSortKey;
    let j = i - 1;
    for (; j >= 0; j--) {
      const other = servers[j] as RealServer;
      if ((compareSortKeys(keys[j] as AddressSortKey, key) || other.port - rs.port) <= 0) break;
      servers[j + 1] = other;
      keys[j + 1] = keys[j] as AddressSortKey;
    }
    servers[j + 1] = rs;
    keys[j + 1] = key;
  }
  return servers;
}

/** By address (IPv4 before IPv6, numerically), then port; each address parsed once. */
function sortRealServers(servers: Iterable<RealServer>): RealServer[] {
  return [...servers]
    .map((rs) => ({ rs, key: addressSortKey(rs.address) }))
    .sort((a, b) => compareSortKeys(a.key, b.key) || a.rs.port - b.rs.port)
    .map((x) => x.rs);
}
