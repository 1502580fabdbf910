/**
 * Reads the whole IPVS table over generic netlink: one GET_SERVICE dump, one GET_DEST dump per
 * service, GET_INFO and GET_CONFIG (docs/ipvs-netlink.md §3). The socket is injected, so
 * the same code runs against libnl in production and against recorded datagrams in tests.
 *
 * IPVS never sets NLM_F_DUMP_INTR, so consistency is checked here: the service list is dumped
 * again after the destinations, and a changed list means the table moved under us — retry.
 */
import { SentinelError } from '../errors/index.js';
import { ERRNO, NetlinkError } from '../netlink/errors.js';
import { ByteList } from '../netlink/byte-list.js';
import type { GenericNetlinkSocket } from '../netlink/libnl.js';
import {
  encodeRequest,
  messageStatus,
  NLM_F_ACK,
  NLM_F_DUMP,
  NLM_F_DUMP_INTR,
  NLM_F_REQUEST,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_NOOP,
  NLMSG_OVERRUN,
  parseGenl,
  parseMessages,
  type GenlMessage,
} from '../netlink/message.js';
import { addressSortKey, compareSortKeys } from '../util/sort-key.js';
import { reuseUnchanged } from './reuse.js';
import { decodeDestMessage, decodeInfo, decodeServiceMessage, decodeTimeouts, serviceKeyOfMessage } from './codec.js';
import { realServerKey } from './identity.js';
import { IPVS_CMD, IPVS_CMD_ATTR, IPVS_GENL_NAME, IPVS_GENL_VERSION } from './constants.js';
import type { IpvsInfo, IpvsSnapshot, IpvsTimeouts, RealServer, VirtualServer } from './types.js';

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
}

/** Upper bound on datagrams for one request: far above any real table, so a looping peer cannot hang us. */
const MAX_DATAGRAMS_PER_REQUEST = 1_000_000;

export class IpvsReader {
  private socket: GenericNetlinkSocket | null = null;
  private familyId: number | null = null;
  private seq = 0;
  /** The last consistent read's virtual servers by key: what the next read shares unchanged parts with. */
  private previous = new Map<string, VirtualServer>();
  /** The NEW_SERVICE payloads of the current read, one buffer reused from read to read. */
  private readonly serviceMessages = new ByteList();
  private readonly maxAttempts: number;
  private readonly yieldEvery: number;
  private readonly monotonicMs: () => number;
  private readonly now: () => Date;

  constructor(private readonly options: IpvsReaderOptions) {
    this.maxAttempts = options.maxAttempts ?? 4;
    this.yieldEvery = options.yieldEvery ?? 256;
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
    // The service list is kept as the kernel's bytes and each service decoded just before its
    // destinations are dumped: nothing decoded has to live through the whole read.
    const serviceMessages = this.serviceMessages;
    serviceMessages.clear();
    this.request(IPVS_CMD.GET_SERVICE, true, [], (m) => {
      if (m.cmd === IPVS_CMD.NEW_SERVICE) serviceMessages.push(m.attributes);
    });
    const services = new Map<string, VirtualServer>();
    let dumps = 0;
    for (let i = 0; i < serviceMessages.length; i++) {
      const { service, identity } = decodeServiceMessage(serviceMessages.at(i), unknown);
      if (services.has(service.key)) continue; // a dump may repeat an entry across batches
      const destinations = new Map<string, RealServer>();
      this.request(IPVS_CMD.GET_DEST, true, [{ type: IPVS_CMD_ATTR.SERVICE, nested: identity }], (m) => {
        if (m.cmd !== IPVS_CMD.NEW_DEST) return;
        const dest = decodeDestMessage(m.attributes, service.family, unknown);
        destinations.set(realServerKey(dest), dest);
      });
      // Parts unchanged since the previous read are that read's objects (reuse.ts): the fresh copies
      // die young, so a steady table adds nothing to the old generation per poll.
      const vs = reuseUnchanged(this.previous.get(service.key), { ...service, destinations: sortRealServers(destinations.values()) });
      services.set(vs.key, vs);
      if (++dumps % this.yieldEvery === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    const again = new Set<string>();
    this.request(IPVS_CMD.GET_SERVICE, true, [], (m) => {
      if (m.cmd === IPVS_CMD.NEW_SERVICE) again.add(serviceKeyOfMessage(m.attributes));
    });
    if (again.size !== services.size || [...services.keys()].some((k) => !again.has(k))) return null;
    this.previous = services;
    return {
      info,
      timeouts,
      services: [...services.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
      unknownAttributes: [...unknown].sort(),
    };
  }

  private getInfo(): IpvsInfo | null {
    let info: IpvsInfo | null = null;
    this.request(IPVS_CMD.GET_INFO, false, [], (m) => {
      if (m.cmd === IPVS_CMD.SET_INFO) info ??= decodeInfo(m.attributes);
    });
    return info;
  }

  private getTimeouts(): IpvsTimeouts | null {
    let timeouts: IpvsTimeouts | null = null;
    this.request(IPVS_CMD.GET_CONFIG, false, [], (m) => {
      if (m.cmd === IPVS_CMD.SET_CONFIG) timeouts ??= decodeTimeouts(m.attributes);
    });
    return timeouts;
  }

  /**
   * Send one request and hand each generic-netlink reply to `onReply` as it arrives: until
   * NLMSG_DONE for a dump, until the ACK for a doit request (sent with NLM_F_ACK). Messages of other
   * sequences are skipped. A reply's bytes live in the socket's receive buffer and are valid only
   * during the call: the decoders copy what they keep, so no datagram outlives its decoding.
   */
  private request(cmd: number, dump: boolean, attributes: Parameters<typeof encodeRequest>[0]['attributes'], onReply: (reply: GenlMessage) => void): void {
    const { socket, family } = this.ensureFamily();
    this.seq = (this.seq % 0xfffffffe) + 1;
    const seq = this.seq;
    const op = `${dump ? 'dump' : 'request'} IPVS command ${cmd}`;
    socket.send(
      encodeRequest({
        type: family,
        flags: NLM_F_REQUEST | (dump ? NLM_F_DUMP : NLM_F_ACK),
        seq,
        genl: { cmd, version: IPVS_GENL_VERSION },
        attributes,
      }),
    );
    for (let datagrams = 0; datagrams < MAX_DATAGRAMS_PER_REQUEST; datagrams++) {
      for (const message of parseMessages(socket.receive(), `reply to ${op}`)) {
        if (message.seq !== seq || message.pid !== socket.localPort) continue;
        if (message.flags & NLM_F_DUMP_INTR) {
          throw new NetlinkError('NETLINK_PROTOCOL', op, 'the dump was interrupted (NLM_F_DUMP_INTR)', { libnlCode: -33 });
        }
        switch (message.type) {
          case NLMSG_NOOP:
            continue;
          case NLMSG_OVERRUN:
            throw new NetlinkError('NETLINK_IO', op, 'the kernel reported a netlink overrun (data lost)', { errno: ERRNO.ENOBUFS });
          case NLMSG_ERROR: {
            const status = messageStatus(message, `reply to ${op}`);
            if (status === 0) return; // ACK
            throw kernelRefusal(op, -status);
          }
          case NLMSG_DONE:
            return;
          default:
            if (message.type === family) onReply(parseGenl(message, `reply to ${op}`));
        }
      }
    }
    throw new NetlinkError('NETLINK_PROTOCOL', op, `no end of reply after ${MAX_DATAGRAMS_PER_REQUEST} datagrams`, {});
  }
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

/** By address (IPv4 before IPv6, numerically), then port; each address parsed once. */
function sortRealServers(servers: Iterable<RealServer>): RealServer[] {
  return [...servers]
    .map((rs) => ({ rs, key: addressSortKey(rs.address) }))
    .sort((a, b) => compareSortKeys(a.key, b.key) || a.rs.port - b.rs.port)
    .map((x) => x.rs);
}
