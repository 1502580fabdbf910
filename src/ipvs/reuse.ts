/**
 * Structural sharing between two reads of the IPVS table. Pure.
 *
 * Between two polls most of a node's table is unchanged: the same virtual servers, the same real
 * servers, and for every backend that saw no packet in the interval the same counters. The reader
 * decodes each virtual server afresh and hands it here with the previous read's: every part equal to
 * its predecessor is replaced by the predecessor object. The fresh copies are dropped microseconds
 * after they were made, so V8 frees them in its young generation; only what changed reaches the old
 * generation. Without this, every poll of a 100,000-backend table moved a whole new snapshot (~40 MB
 * of objects) into the old generation and left the previous one there as garbage.
 *
 * Consequence for every reader of a snapshot: objects are shared between consecutive snapshots, so
 * they are never modified after the read (the types are readonly).
 */
import { ZERO_STATS } from './codec.js';
import type { IpvsStats, RealServer, Tunnel, VirtualServer } from './types.js';

export function sameStats(a: IpvsStats, b: IpvsStats): boolean {
  return (
    a === b ||
    (a.conns === b.conns &&
      a.inPkts === b.inPkts &&
      a.outPkts === b.outPkts &&
      a.inBytes === b.inBytes &&
      a.outBytes === b.outBytes &&
      a.cps === b.cps &&
      a.inPps === b.inPps &&
      a.outPps === b.outPps &&
      a.inBps === b.inBps &&
      a.outBps === b.outBps)
  );
}

function sameTunnel(a: Tunnel | null, b: Tunnel | null): boolean {
  if (a === b) return true;
  if (a === null || b === null) return false;
  return a.type === b.type && a.port === b.port && a.flags.length === b.flags.length && a.flags.every((f, i) => f === b.flags[i]);
}

export function sameRealServer(a: RealServer, b: RealServer): boolean {
  return (
    a === b ||
    (a.address === b.address &&
      a.port === b.port &&
      a.addressFamily === b.addressFamily &&
      a.forward === b.forward &&
      a.weight === b.weight &&
      a.upperThreshold === b.upperThreshold &&
      a.lowerThreshold === b.lowerThreshold &&
      a.activeConns === b.activeConns &&
      a.inactiveConns === b.inactiveConns &&
      a.persistentConns === b.persistentConns &&
      sameTunnel(a.tunnel, b.tunnel) &&
      sameStats(a.stats, b.stats))
  );
}

/** Every field but the destinations. */
function sameVirtualServerFields(a: VirtualServer, b: VirtualServer): boolean {
  return (
    a.key === b.key &&
    a.family === b.family &&
    a.protocol === b.protocol &&
    a.address === b.address &&
    a.port === b.port &&
    a.fwmark === b.fwmark &&
    a.scheduler === b.scheduler &&
    a.flagBits === b.flagBits &&
    a.persistent === b.persistent &&
    a.timeout === b.timeout &&
    a.netmask === b.netmask &&
    a.pe === b.pe &&
    sameStats(a.stats, b.stats)
  );
}

/**
 * A fresh real server that is kept is a copy (its counters too), so the decoder's object literals
 * only ever make objects that die young. V8 pretenures an allocation site whose objects tend to
 * survive: had the first read's real servers (all kept) come straight from the decoder, every later
 * decode would be allocated in the old generation, unchanged or not — at 100,000 real servers,
 * ~12 MB of old-generation garbage per read instead of ~0.5 MB.
 */
function keep(rs: RealServer): RealServer {
  return { ...rs, stats: keepStats(rs.stats) };
}

function keepStats(stats: IpvsStats): IpvsStats {
  return stats === ZERO_STATS ? stats : { ...stats };
}

/**
 * `rs` as the snapshot keeps it next to `before`, the previous read's real server of the same
 * address and port (or undefined): `before` itself when nothing differs, else a kept copy that
 * shares `before`'s counters when those did not move.
 */
export function reuseRealServer(before: RealServer | undefined, rs: RealServer): RealServer {
  if (before === undefined) return keep(rs);
  if (sameRealServer(before, rs)) return before;
  return sameStats(before.stats, rs.stats) ? { ...rs, stats: before.stats } : keep(rs);
}

/**
 * Real servers of `next` (sorted, as the reader sorts them), each replaced by its equal in `previous`
 * when there is one; the previous array itself when every element was reused and none was added.
 */
export function reuseRealServers(previous: readonly RealServer[] | undefined, next: readonly RealServer[]): readonly RealServer[] {
  if (previous === undefined) return next.map(keep);
  if (previous.length === 0) return next.length === 0 ? previous : next.map(keep);
  const out: RealServer[] = new Array<RealServer>(next.length);
  let all = previous.length === next.length;
  let byKey: Map<string, RealServer> | null = null;
  for (let i = 0; i < next.length; i++) {
    const rs = next[i] as RealServer;
    // Both lists are sorted the same way, so an unchanged set lines up index by index; a key lookup
    // is built only when it does not (a real server added or removed).
    let before = previous[i];
    if (before === undefined || before.address !== rs.address || before.port !== rs.port) {
      byKey ??= new Map(previous.map((p) => [`${p.address}|${p.port}`, p]));
      before = byKey.get(`${rs.address}|${rs.port}`);
      all = false;
    }
    const kept = reuseRealServer(before, rs);
    if (kept !== before) all = false;
    out[i] = kept;
  }
  return all ? previous : out;
}

/**
 * `next` with every part equal to `previous`'s replaced by `previous`'s object; `previous` itself
 * when nothing differs.
 */
export function reuseUnchanged(previous: VirtualServer | undefined, next: VirtualServer): VirtualServer {
  return withDestinations(previous, next, reuseRealServers(previous?.destinations, next.destinations));
}

/**
 * `next`'s settings and counters with `destinations` (already shared with `previous`'s where
 * unchanged): `previous` itself when nothing differs, else a new virtual server sharing
 * `previous`'s counters when those did not move.
 */
export function withDestinations(previous: VirtualServer | undefined, next: VirtualServer, destinations: readonly RealServer[]): VirtualServer {
  if (previous === undefined) return { ...next, stats: keepStats(next.stats), destinations };
  if (destinations === previous.destinations && sameVirtualServerFields(previous, next)) return previous;
  return {
    ...next,
    stats: sameStats(previous.stats, next.stats) ? previous.stats : keepStats(next.stats),
    destinations,
  };
}
