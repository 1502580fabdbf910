/**
 * Reads the whole IPVS table over generic netlink: one GET_SERVICE dump, one GET_DEST dump per
 * service, GET_INFO and GET_CONFIG (docs/ipvs-netlink.md §3). The socket is injected, so
 * the same code runs against libnl in production and against recorded datagrams in tests.
 *
 * IPVS never sets NLM_F_DUMP_INTR, so consistency is checked here: the service list is dumped
 * again after the destinations, and a changed list means the table moved under us — retry.
 *
 * Consecutive reads share what did not change (reuse.ts), and what the kernel reports at the place
 * and as the last read saw it is recognised from its bytes without being decoded (scan.ts,
 * kernel-order.ts): at 100,000 real servers a read of a steady table makes almost nothing for the
 * garbage collector.
 */
import { SentinelError } from '../errors/index.js';
import { ERRNO, NetlinkError } from '../netlink/errors.js';
import { align4, type AttrSpec } from '../netlink/attributes.js';
import type { GenericNetlinkSocket } from '../netlink/libnl.js';
import {
  encodeRequest,
  GENL_HDRLEN,
  messageStatus,
  NLM_F_ACK,
  NLM_F_DUMP,
  NLM_F_DUMP_INTR,
  NLM_F_REQUEST,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_HDRLEN,
  NLMSG_NOOP,
  NLMSG_OVERRUN,
  parseGenl,
  parseMessages,
  type NlMessage,
} from '../netlink/message.js';
import { reuseRealServer, withDestinations } from './reuse.js';
import { decodeDestMessage, decodeInfo, decodeServiceMessage, decodeTimeouts, serviceKeyOfMessage } from './codec.js';
import { DestinationMatch, LastRead, sortByKey } from './kernel-order.js';
import { DestScan, ServiceScan } from './scan.js';
import { ServiceList } from './service-list.js';
import { IPVS_CMD, IPVS_CMD_ATTR, IPVS_GENL_NAME, IPVS_GENL_VERSION } from './constants.js';
import type { AddressFamily, IpvsInfo, IpvsSnapshot, IpvsTimeouts, RealServer, VirtualServer } from './types.js';

export interface IpvsReaderOptions {
  /** Opens a connected generic-netlink socket (libnl in production, a replay in tests). */
  open: () => GenericNetlinkSocket;
  /** Monotonic milliseconds, for durationMs. */
  monotonicMs?: () => number;
  /** Wall clock, for readAt. */
  now?: () => Date;
  /** Whole-table attempts before giving up on a table that keeps changing or overflowing. */
  maxAttempts?: number;
  /** Give the event loop a turn after this many destination dumps (HTTP stays responsive). */
  yieldEvery?: number;
  /**
   * Whether reads share what did not change with the last (default true). False for a process that
   * reads once (the `ipvs` command): nothing is kept for a next read — no copies of what a read
   * would keep (reuse.ts), no kernel order (kernel-order.ts) — and every read is a first read. The
   * snapshot is the same either way.
   */
  reuse?: boolean;
}

/** Upper bound on datagrams for one request: far above any real table, so a looping peer cannot hang us. */
const MAX_DATAGRAMS_PER_REQUEST = 1_000_000;
/** Requests are cut from chunks of this size: one allocation per few hundred requests, not one each. */
const REQUEST_CHUNK_BYTES = 16 * 1024;

/**
 * One generic-netlink reply of the family, handed over where it lies: its command, and its
 * attributes at [start, end) of `bytes`, the whole buffer the datagram was received in (`view` is
 * a DataView of the same buffer). Valid only during the call: the socket reuses its receive buffer.
 */
type ReplyHandler = (cmd: number, bytes: Uint8Array, view: DataView, start: number, end: number) => void;

/** A request's attributes: specs to encode, or an IPVS_CMD_ATTR_SERVICE nest already encoded (ServiceList). */
type RequestAttributes = readonly AttrSpec[] | Uint8Array;

export class IpvsReader {
  private socket: GenericNetlinkSocket | null = null;
  private familyId: number | null = null;
  private seq = 0;
  /** What the last consistent read saw: what the next one shares unchanged parts with. */
  private last = new LastRead();
  /** The service list of the current read, its buffers reused from read to read. */
  private readonly serviceList = new ServiceList();
  private readonly serviceScan = new ServiceScan();
  private readonly destScan = new DestScan();
  private readonly match = new DestinationMatch();
  /** The GET_DEST dump being read: its virtual server's family and the read's unknown attributes. */
  private dumpFamily: AddressFamily = 'inet';
  private dumpUnknown = new Set<string>();
  private readonly datagramBuffer = new WholeBuffer();
  /** The service list's buffer, for scanning its entries in place. */
  private readonly listBuffer = new WholeBuffer();
  private requestChunk = new Uint8Array(0);
  private requestUsed = 0;
  private readonly maxAttempts: number;
  private readonly yieldEvery: number;
  private readonly reuse: boolean;
  private readonly monotonicMs: () => number;
  private readonly now: () => Date;

  constructor(private readonly options: IpvsReaderOptions) {
    this.maxAttempts = options.maxAttempts ?? 4;
    this.yieldEvery = options.yieldEvery ?? 256;
    this.reuse = options.reuse ?? true;
    this.monotonicMs = options.monotonicMs ?? (() => performance.now());
    this.now = options.now ?? (() => new Date());
  }

  /** Whether the IPVS family resolves right now (the "runtime truth" of the module check). */
  familyResolves(): boolean {
    try {
      this.ensureFamily();
      return true;
    } catch (err) {
      if (err instanceof SentinelError && err.code === 'IPVS_UNAVAILABLE') return false;
      throw err;
    }
  }

  async read(): Promise<IpvsSnapshot> {
    const started = this.monotonicMs();
    const readAt = this.now();
    let lastRetryable: NetlinkError | null = null;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      try {
        const result = await this.readOnce();
        if (result) {
          return { readAt, durationMs: Math.round((this.monotonicMs() - started) * 1000) / 1000, ...result };
        }
        lastRetryable = new NetlinkError('IPVS_DUMP_RETRIES_EXHAUSTED', 'dump IPVS table', 'the service list changed while destinations were read', {});
      } catch (err) {
        // Start the next attempt (or the next read) from a fresh socket: a failed request can leave
        // a dump half read on this one (later dumps get EBUSY, docs/ipvs-netlink.md §3.7), and ENOENT means the family
        // id went stale because ip_vs was reloaded, so it must be resolved again.
        this.reset();
        if (!(err instanceof NetlinkError) || (err.errno !== ERRNO.ENOENT && !err.retryable)) throw err;
        lastRetryable = err;
      }
    }
    throw new SentinelError(
      'IPVS_DUMP_RETRIES_EXHAUSTED',
      'dump IPVS table',
      `no consistent IPVS table after ${this.maxAttempts} attempts: ${lastRetryable?.message ?? 'unknown cause'}`,
      { cause: lastRetryable },
    );
  }

  close(): void {
    this.reset();
  }

  private reset(): void {
    this.socket?.close();
    this.socket = null;
    this.familyId = null;
  }

  private ensureFamily(): { socket: GenericNetlinkSocket; family: number } {
    if (!this.socket) this.socket = this.options.open();
    if (this.familyId === null) {
      const id = this.socket.resolveFamily(IPVS_GENL_NAME);
      if (id === null) {
        this.reset();
        throw ipvsUnavailable();
      }
      this.familyId = id;
    }
    return { socket: this.socket, family: this.familyId };
  }

  /** One pass over the table; null when the service list changed during the pass. */
  private async readOnce(): Promise<Omit<IpvsSnapshot, 'readAt' | 'durationMs'> | null> {
    const unknown = new Set<string>();
    const info = this.getInfo();
    const timeouts = this.getTimeouts();
    const last = this.last;
    const list = this.serviceList;
    list.clear();
    this.request(IPVS_CMD.GET_SERVICE, true, [], (cmd, bytes, view, start, end) => {
      if (cmd === IPVS_CMD.NEW_SERVICE) list.add(bytes, view, start, end, last.services[list.length]);
    });
    const byKey = new Map<string, VirtualServer>();
    const inKernelOrder: VirtualServer[] = [];
    const kernelOrder = new Map<string, readonly RealServer[]>();
    let dumps = 0;
    let allKnown = true;
    for (let i = 0; i < list.length; i++) {
      const known = list.lastAt(i);
      let vs: VirtualServer;
      if (known !== undefined) {
        // Listed where and as the last read saw it: its settings are that virtual server's.
        const seen = byKey.get(known.key);
        if (seen !== undefined) {
          inKernelOrder.push(seen); // a dump may repeat an entry across batches
          continue;
        }
        const stats = list.countersAt(i) ?? known.stats;
        const destinations = this.readDestinations(known, list.bytesAt(i), known, unknown, kernelOrder);
        vs = destinations === known.destinations && stats === known.stats ? known : { ...known, stats, destinations };
      } else {
        allKnown = false;
        const { service, request } = this.newService(list.bytesAt(i), unknown);
        const seen = byKey.get(service.key);
        if (seen !== undefined) {
          inKernelOrder.push(seen);
          continue;
        }
        const previous = last.byKey.get(service.key);
        const destinations = this.readDestinations(service, request, previous, unknown, kernelOrder);
        vs = this.reuse ? withDestinations(previous, service, destinations) : { ...service, destinations };
      }
      byKey.set(vs.key, vs);
      inKernelOrder.push(vs);
      if (++dumps % this.yieldEvery === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    // The list holds the last read's virtual servers: let them go with it.
    list.clear();
    if (!this.sameServiceList(inKernelOrder, byKey)) return null;
    // Every service listed where and as the last read saw it: the last read's sorted order holds.
    let services: VirtualServer[];
    let places: Int32Array;
    if (allKnown && inKernelOrder.length === last.services.length) {
      services = last.sortLike(inKernelOrder);
      places = last.places;
    } else {
      ({ sorted: services, places } = sortByKey(inKernelOrder));
    }
    if (this.reuse) this.last = new LastRead(byKey, inKernelOrder, kernelOrder, places, services.length);
    return { info, timeouts, services, unknownAttributes: [...unknown].sort() };
  }

  /**
   * The virtual server of the NEW_SERVICE payload `message` (not in the last read) and the
   * IPVS_CMD_ATTR_SERVICE nest of its GET_DEST request. On the scanner's path both come from its
   * bytes: ServiceScan.build, what decodeServiceMessage makes of them, without the attribute objects
   * (decodeServiceMessage was 0.4 s of the `ipvs` command's CPU profile at 5,000 × 10 in the guest,
   * issue 17), and
   * ServiceScan.writeIdentity, what encoding the decoder's identity gives. Off it, the decoder reads
   * the message and records what it does not know.
   */
  private newService(message: Uint8Array, unknown: Set<string>): { service: VirtualServer; request: RequestAttributes } {
    const scan = this.serviceScan;
    const start = message.byteOffset;
    const { bytes, view } = this.listBuffer.of(message);
    if (scan.scan(bytes, view, start, start + message.byteLength)) {
      const request = new Uint8Array(scan.writeIdentity(null, 0));
      scan.writeIdentity(request, 0);
      return { service: scan.build() ?? decodeServiceMessage(message, unknown).service, request };
    }
    const { service, identity } = decodeServiceMessage(message, unknown);
    return { service, request: [{ type: IPVS_CMD_ATTR.SERVICE, nested: identity }] };
  }

  /**
   * The consistency re-dump: whether it lists the same services as the first dump. While it names
   * each service as the first dump named it at the same place, no key is made; from the first that
   * differs on, the keys are compared as sets.
   */
  private sameServiceList(first: readonly VirtualServer[], byKey: ReadonlyMap<string, VirtualServer>): boolean {
    const scan = this.serviceScan;
    let n = 0;
    let again: Set<string> | null = null;
    this.request(IPVS_CMD.GET_SERVICE, true, [], (cmd, bytes, view, start, end) => {
      if (cmd !== IPVS_CMD.NEW_SERVICE) return;
      const there = first[n];
      if (again === null && there !== undefined && scan.scan(bytes, view, start, end) && scan.sameIdentity(there)) {
        n++;
        return;
      }
      again ??= new Set(first.slice(0, n).map((vs) => vs.key));
      again.add(serviceKeyOfMessage(bytes.subarray(start, end)));
    });
    if (again === null && n === first.length) return true;
    const keys: Set<string> = again ?? new Set(first.slice(0, n).map((vs) => vs.key));
    return keys.size === byKey.size && [...byKey.keys()].every((k) => keys.has(k));
  }

  /**
   * One GET_DEST dump: the real servers of `service` (its last read `previous`), sorted, sharing
   * what did not change with that read. A message that says what the last read's real server at the
   * same place said is recognised from its bytes and never decoded.
   */
  private readDestinations(
    service: VirtualServer,
    identity: RequestAttributes,
    previous: VirtualServer | undefined,
    unknown: Set<string>,
    kernelOrder: Map<string, readonly RealServer[]>,
  ): readonly RealServer[] {
    this.match.begin(previous, this.last);
    this.dumpFamily = service.family;
    this.dumpUnknown = unknown;
    this.request(IPVS_CMD.GET_DEST, true, identity, this.onDest);
    return this.reuse ? this.match.finish(service.key, kernelOrder) : this.match.finishOnce();
  }

  /** One NEW_DEST reply of the dump readDestinations() runs (a bound method: no closure per dump). */
  private readonly onDest: ReplyHandler = (cmd, bytes, view, start, end) => {
    if (cmd !== IPVS_CMD.NEW_DEST) return;
    const match = this.match;
    const scan = this.destScan;
    const before = match.expectedNext();
    if (scan.scan(bytes, view, start, end, this.dumpFamily)) {
      if (before === undefined || !scan.sameIdentity(before)) {
        match.add(scan.build(), false);
        return;
      }
      const sameStats = scan.counters.same(before.stats);
      if (sameStats && scan.sameSettings(before)) match.add(before, true);
      else match.add(scan.build(sameStats ? before.stats : scan.counters.build(before.stats), before.address), true);
      return;
    }
    const rs = decodeDestMessage(bytes.subarray(start, end), this.dumpFamily, this.dumpUnknown);
    const samePlace = before !== undefined && before.address === rs.address && before.port === rs.port;
    match.add(samePlace ? reuseRealServer(before, rs) : rs, samePlace);
  };

  private getInfo(): IpvsInfo | null {
    let info: IpvsInfo | null = null;
    this.request(IPVS_CMD.GET_INFO, false, [], (cmd, bytes, _view, start, end) => {
      if (cmd === IPVS_CMD.SET_INFO) info ??= decodeInfo(bytes.subarray(start, end));
    });
    return info;
  }

  private getTimeouts(): IpvsTimeouts | null {
    let timeouts: IpvsTimeouts | null = null;
    this.request(IPVS_CMD.GET_CONFIG, false, [], (cmd, bytes, _view, start, end) => {
      if (cmd === IPVS_CMD.SET_CONFIG) timeouts ??= decodeTimeouts(bytes.subarray(start, end));
    });
    return timeouts;
  }

  /**
   * Send one request and hand each generic-netlink reply to `onReply` as it arrives: until
   * NLMSG_DONE for a dump, until the ACK for a doit request (sent with NLM_F_ACK). Messages of other
   * sequences are skipped. A reply's bytes live in the socket's receive buffer and are valid only
   * during the call: the decoders copy what they keep, so no datagram outlives its decoding. The
   * datagram is walked in place — what parseMessages and parseGenl check, in their order, with
   * their error texts — so a message costs no object.
   */
  private request(cmd: number, dump: boolean, attributes: RequestAttributes, onReply: ReplyHandler): void {
    const { socket, family } = this.ensureFamily();
    this.seq = (this.seq % 0xfffffffe) + 1;
    const seq = this.seq;
    const flags = NLM_F_REQUEST | (dump ? NLM_F_DUMP : NLM_F_ACK);
    socket.send(
      attributes instanceof Uint8Array
        ? this.encodedRequest(family, flags, seq, cmd, attributes)
        : encodeRequest({ type: family, flags, seq, genl: { cmd, version: IPVS_GENL_VERSION }, attributes }),
    );
    for (let datagrams = 0; datagrams < MAX_DATAGRAMS_PER_REQUEST; datagrams++) {
      const datagram = socket.receive();
      const { bytes, view } = this.datagramBuffer.of(datagram);
      const start = datagram.byteOffset;
      const end = start + datagram.byteLength;
      for (let offset = start; offset + NLMSG_HDRLEN <= end; offset += align4(view.getUint32(offset, true))) {
        const len = view.getUint32(offset, true);
        // parseMessages' check, made on the whole datagram before any message of it is handled.
        if (len < NLMSG_HDRLEN || offset + len > end) parseMessages(datagram, `reply to ${operation(cmd, dump)}`);
      }
      for (let offset = start; offset + NLMSG_HDRLEN <= end; offset += align4(view.getUint32(offset, true))) {
        const len = view.getUint32(offset, true);
        const type = view.getUint16(offset + 4, true);
        if (view.getUint32(offset + 8, true) !== seq || view.getUint32(offset + 12, true) !== socket.localPort) continue;
        if (view.getUint16(offset + 6, true) & NLM_F_DUMP_INTR) {
          throw new NetlinkError('NETLINK_PROTOCOL', operation(cmd, dump), 'the dump was interrupted (NLM_F_DUMP_INTR)', { libnlCode: -33 });
        }
        switch (type) {
          case NLMSG_NOOP:
            continue;
          case NLMSG_OVERRUN:
            throw new NetlinkError('NETLINK_IO', operation(cmd, dump), 'the kernel reported a netlink overrun (data lost)', { errno: ERRNO.ENOBUFS });
          case NLMSG_ERROR: {
            const status = messageStatus(messageAt(bytes, view, offset, len), `reply to ${operation(cmd, dump)}`);
            if (status === 0) return; // ACK
            throw kernelRefusal(operation(cmd, dump), -status);
          }
          case NLMSG_DONE:
            return;
          default:
            if (type !== family) continue;
            if (len - NLMSG_HDRLEN < GENL_HDRLEN) parseGenl(messageAt(bytes, view, offset, len), `reply to ${operation(cmd, dump)}`);
            onReply(bytes[offset + NLMSG_HDRLEN] ?? 0, bytes, view, offset + NLMSG_HDRLEN + GENL_HDRLEN, offset + len);
        }
      }
    }
    throw new NetlinkError('NETLINK_PROTOCOL', operation(cmd, dump), `no end of reply after ${MAX_DATAGRAMS_PER_REQUEST} datagrams`, {});
  }

  /**
   * A request carrying the already-encoded `attributes`: byte for byte what encodeRequest makes of
   * the same attributes. Cut from a chunk shared with the next requests (each keeps its own bytes).
   */
  private encodedRequest(family: number, flags: number, seq: number, cmd: number, attributes: Uint8Array): Uint8Array {
    const len = NLMSG_HDRLEN + GENL_HDRLEN + attributes.byteLength;
    if (this.requestUsed + len > this.requestChunk.byteLength) {
      this.requestChunk = new Uint8Array(Math.max(REQUEST_CHUNK_BYTES, len));
      this.requestUsed = 0;
    }
    const out = this.requestChunk.subarray(this.requestUsed, this.requestUsed + len);
    this.requestUsed += align4(len);
    writeU32(out, 0, len);
    writeU16(out, 4, family);
    writeU16(out, 6, flags);
    writeU32(out, 8, seq);
    out[NLMSG_HDRLEN] = cmd;
    out[NLMSG_HDRLEN + 1] = IPVS_GENL_VERSION;
    out.set(attributes, NLMSG_HDRLEN + GENL_HDRLEN);
    return out;
  }
}

/** Host-order (little-endian on every target we ship) integers into a header. */
function writeU16(out: Uint8Array, offset: number, value: number): void {
  out[offset] = value & 0xff;
  out[offset + 1] = (value >>> 8) & 0xff;
}

function writeU32(out: Uint8Array, offset: number, value: number): void {
  writeU16(out, offset, value & 0xffff);
  writeU16(out, offset + 2, value >>> 16);
}

/** How errors name a request. */
function operation(cmd: number, dump: boolean): string {
  return `${dump ? 'dump' : 'request'} IPVS command ${cmd}`;
}

/**
 * A Uint8Array and a DataView of the whole ArrayBuffer some bytes live in, made once per buffer: the
 * libnl socket receives every datagram into one buffer, so reading a datagram at its offsets costs
 * no view of its own.
 */
class WholeBuffer {
  bytes: Uint8Array = new Uint8Array(0);
  view: DataView = new DataView(this.bytes.buffer);

  of(bytes: Uint8Array): this {
    if (bytes.buffer !== this.bytes.buffer) {
      this.bytes = new Uint8Array(bytes.buffer);
      this.view = new DataView(bytes.buffer);
    }
    return this;
  }
}

/** The message at `offset` of `bytes` as parseMessages would have made it (for the rare paths that need one). */
function messageAt(bytes: Uint8Array, view: DataView, offset: number, len: number): NlMessage {
  return {
    type: view.getUint16(offset + 4, true),
    flags: view.getUint16(offset + 6, true),
    seq: view.getUint32(offset + 8, true),
    pid: view.getUint32(offset + 12, true),
    payload: bytes.subarray(offset + NLMSG_HDRLEN, offset + len),
  };
}

/** ip_vs is not loaded: the same error whether netlink or /proc/net/ip_vs said so. */
export function ipvsUnavailable(): SentinelError {
  return new SentinelError(
    'IPVS_UNAVAILABLE',
    'resolve IPVS family',
    'the kernel has no IPVS generic-netlink family: the ip_vs module is not loaded. Run `modprobe ip_vs` and add it to /etc/modules-load.d/ipvs.conf',
  );
}

function kernelRefusal(op: string, errno: number): NetlinkError {
  if (errno === ERRNO.EPERM) {
    return new NetlinkError(
      'IPVS_PERMISSION_DENIED',
      op,
      'the kernel refused the IPVS netlink command (EPERM): every IPVS command, reads included, needs CAP_NET_ADMIN in the initial user namespace — run as root or grant NET_ADMIN (no user-namespaced pod), with hostNetwork',
      { errno },
    );
  }
  return new NetlinkError('NETLINK_PROTOCOL', op, `the kernel answered errno ${errno} (${ERRNO_NAMES.get(errno) ?? 'unknown'})`, { errno });
}

const ERRNO_NAMES = new Map<number, string>(Object.entries(ERRNO).map(([name, n]) => [n, name]));
