/**
 * The service list of one read, kept from the GET_SERVICE dump until each service's GET_DEST dump
 * (netlink runs one dump at a time on a socket, so the list is read whole first). A service the
 * kernel lists at the place and with the settings the last read saw is kept as that virtual server,
 * its counters read from the bytes (scan.ts), and the identity its GET_DEST request carries — a few
 * dozen bytes; any other as its message's bytes, decoded when its turn comes. Nothing decoded has
 * to live through the whole read, and a steady table's list is an eighth of its messages' bytes.
 */
import { ServiceScan } from './scan.js';
import type { IpvsStats, VirtualServer } from './types.js';

const INITIAL_BYTES = 16 * 1024;

export class ServiceList {
  /** The entries' bytes back to back in one buffer (no allocation per entry); entry i ends at ends[i]. */
  private bytes = new Uint8Array(INITIAL_BYTES);
  private readonly ends: number[] = [];
  /** The most bytes a read held since the buffer was made. */
  private peak = 0;
  private readonly lasts: (VirtualServer | undefined)[] = [];
  private readonly counters: (IpvsStats | undefined)[] = [];
  private readonly scan = new ServiceScan();

  get length(): number {
    return this.lasts.length;
  }

  /** Forgets the entries (and the virtual servers they hold); a buffer far larger than the last read needed is let go. */
  clear(): void {
    const held = this.held();
    this.peak = Math.max(this.peak, held);
    // The first read holds every message whole (~400 bytes a service), later ones mostly
    // identities (~50): a buffer kept for the first would stay resident for nothing.
    if (held > 0 && this.peak > 4 * held && this.bytes.byteLength > INITIAL_BYTES) {
      this.bytes = new Uint8Array(Math.max(INITIAL_BYTES, 2 * held));
      this.peak = held;
    }
    this.ends.length = 0;
    this.lasts.length = 0;
    this.counters.length = 0;
  }

  /**
   * Adds the NEW_SERVICE payload at [start, end) of `bytes` (`view` a DataView of the same buffer),
   * compared with `last`, the last read's virtual server at this place.
   */
  add(bytes: Uint8Array, view: DataView, start: number, end: number, last: VirtualServer | undefined): void {
    const scan = this.scan;
    if (last !== undefined && scan.scan(bytes, view, start, end) && scan.sameIdentity(last) && scan.sameSettings(last)) {
      this.lasts.push(last);
      this.counters.push(scan.counters.same(last.stats) ? last.stats : scan.counters.build(last.stats));
      const at = this.room(scan.writeIdentity(null, 0));
      this.ends.push(scan.writeIdentity(this.bytes, at));
    } else {
      this.lasts.push(undefined);
      this.counters.push(undefined);
      const at = this.room(end - start);
      this.bytes.set(bytes.subarray(start, end), at);
      this.ends.push(at + end - start);
    }
  }

  /** The last read's virtual server that entry `i` is (identity and settings unchanged), or undefined. */
  lastAt(i: number): VirtualServer | undefined {
    return this.lasts[i];
  }

  /** Entry `i`'s counters when lastAt(i) is defined: the last read's object when they did not move. */
  countersAt(i: number): IpvsStats | undefined {
    return this.counters[i];
  }

  /**
   * Entry `i`'s bytes, valid until the next add() or clear(): when lastAt(i) is defined, the
   * IPVS_CMD_ATTR_SERVICE nest of its GET_DEST request (ServiceScan.writeIdentity); else the
   * NEW_SERVICE payload, for decodeServiceMessage.
   */
  bytesAt(i: number): Uint8Array {
    return this.bytes.subarray(i === 0 ? 0 : (this.ends[i - 1] ?? 0), this.ends[i]);
  }

  private held(): number {
    return this.ends.at(-1) ?? 0;
  }

  /** The offset where `size` more bytes go, the buffer grown (doubled) when they do not fit. */
  private room(size: number): number {
    const at = this.held();
    if (at + size > this.bytes.byteLength) {
      const grown = new Uint8Array(Math.max(2 * this.bytes.byteLength, at + size));
      grown.set(this.bytes.subarray(0, at));
      this.bytes = grown;
    }
    return at;
  }
}
