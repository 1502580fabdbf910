/**
 * Which connections the agent's HTTP server keeps, so that the kubelet's probes and Prometheus'
 * scrapes get in whatever else on the node's network holds sockets open.
 *
 * Node's own bounds do not give that: `server.maxConnections` refuses the newcomer, whoever holds
 * the slots (about 260 sockets that sent nothing refused every probe), and its `headersTimeout`
 * is checked on an interval. So the server keeps its own book:
 *
 * - A connection is *idle* while it waits for a complete request head: from connect, and again once
 *   every response it asked for is written. An idle connection has a deadline — `headersTimeoutMs`
 *   from connect, `keepAliveTimeoutMs` after a response — past which its socket is destroyed.
 *   Bytes that trickle in do not extend it (a slow request line is not a request).
 * - Each client address holds at most `maxConnectionsPerClient`, the server at most
 *   `maxConnections`. A connection over either bound takes the place of the oldest idle one — of
 *   its own address for the per-address bound, of the address holding the most for the overall
 *   bound — and is refused only when all of those are in a request. A probe that connects and
 *   sends its request at once is therefore never kept out by idle sockets, even from the same
 *   address (the kubelet probes from the node IP, which every hostNetwork process shares).
 */
import type { Socket } from 'node:net';

export interface ConnectionLimits {
  maxConnections: number;
  maxConnectionsPerClient: number;
  /** From connect to a complete request head. */
  headersTimeoutMs: number;
  /** From the last response written to the next complete request head. */
  keepAliveTimeoutMs: number;
}

type LogFn = (obj: object, msg?: string) => void;

export interface ConnectionBookOptions {
  limits: ConnectionLimits;
  logger: { warn: LogFn; debug: LogFn };
  /** Milliseconds on a monotonic clock, for spacing the warnings. */
  monotonicMs?: () => number;
  /** At most one warning per this many milliseconds while the bounds are being hit. */
  warnIntervalMs?: number;
}

interface Connection {
  readonly socket: Socket;
  readonly client: string;
  /** Requests whose head arrived and whose response is not finished (pipelining makes it > 1). */
  requests: number;
  deadline: NodeJS.Timeout | null;
}

/** What happened since the last warning. */
interface Pressure {
  evicted: number;
  refused: number;
  timedOut: number;
}

/** The client a socket counts against: its address, IPv4-mapped IPv6 written as IPv4. */
export function clientOf(remoteAddress: string | undefined): string | null {
  if (!remoteAddress) return null;
  const lower = remoteAddress.toLowerCase();
  return lower.startsWith('::ffff:') && lower.includes('.') ? lower.slice('::ffff:'.length) : lower;
}

export class ConnectionBook {
  private readonly connections = new Map<Socket, Connection>();
  /** Per client, its connections oldest first (a Set keeps insertion order). */
  private readonly byClient = new Map<string, Set<Connection>>();
  private readonly monotonicMs: () => number;
  private readonly warnIntervalMs: number;
  private pressure: Pressure = { evicted: 0, refused: 0, timedOut: 0 };
  private lastWarning: number | null = null;

  constructor(private readonly options: ConnectionBookOptions) {
    this.monotonicMs = options.monotonicMs ?? (() => performance.now());
    this.warnIntervalMs = options.warnIntervalMs ?? 60_000;
  }

  get size(): number {
    return this.connections.size;
  }

  /** A new socket: keep it (evicting an idle one if a bound is reached) or destroy it. */
  admit(socket: Socket): void {
    const client = clientOf(socket.remoteAddress);
    if (client === null || socket.destroyed) {
      socket.destroy();
      return;
    }
    const { maxConnections, maxConnectionsPerClient } = this.options.limits;
    const own = this.byClient.get(client);
    if ((own?.size ?? 0) >= maxConnectionsPerClient) {
      if (!this.evictOldestIdle(own, client, 'per-client')) return this.refuse(socket, client, 'per-client');
    } else if (this.connections.size >= maxConnections) {
      if (!this.evictOldestIdle(this.busiestWithIdle(), client, 'overall')) return this.refuse(socket, client, 'overall');
    }
    const connection: Connection = { socket, client, requests: 0, deadline: null };
    this.connections.set(socket, connection);
    const set = own ?? new Set<Connection>();
    set.add(connection);
    this.byClient.set(client, set);
    socket.once('close', () => this.forget(connection));
    this.idleUntil(connection, this.options.limits.headersTimeoutMs, 'no request head');
  }

  /** A request head arrived on the socket: it is no longer idle. */
  requestStarted(socket: Socket): void {
    const connection = this.connections.get(socket);
    if (!connection) return;
    connection.requests++;
    this.clearDeadline(connection);
  }

  /** A response on the socket is finished (or abandoned): idle again once none is left. */
  requestEnded(socket: Socket): void {
    const connection = this.connections.get(socket);
    if (!connection) return;
    connection.requests = Math.max(0, connection.requests - 1);
    if (connection.requests === 0 && !socket.destroyed) this.idleUntil(connection, this.options.limits.keepAliveTimeoutMs, 'keep-alive idle');
  }

  private idleUntil(connection: Connection, ms: number, reason: string): void {
    this.clearDeadline(connection);
    connection.deadline = setTimeout(() => {
      connection.deadline = null;
      if (connection.requests > 0) return;
      this.options.logger.debug({ client: connection.client, reason, bytesRead: connection.socket.bytesRead }, 'idle connection closed');
      if (reason === 'no request head') this.note('timedOut', connection.client);
      this.drop(connection);
    }, ms);
    connection.deadline.unref();
  }

  private clearDeadline(connection: Connection): void {
    if (connection.deadline) clearTimeout(connection.deadline);
    connection.deadline = null;
  }

  /** Destroys the oldest connection of `set` that is not in a request; false when there is none. */
  private evictOldestIdle(set: Set<Connection> | undefined, newcomer: string, bound: string): boolean {
    for (const connection of set ?? []) {
      if (connection.requests > 0) continue;
      this.options.logger.debug({ client: connection.client, for: newcomer, bound }, 'idle connection evicted');
      this.note('evicted', connection.client);
      this.drop(connection);
      return true;
    }
    return false;
  }

  /** The connections of the client holding the most among those with an idle one. */
  private busiestWithIdle(): Set<Connection> | undefined {
    let busiest: Set<Connection> | undefined;
    for (const set of this.byClient.values()) {
      if (busiest !== undefined && set.size <= busiest.size) continue;
      for (const c of set) {
        if (c.requests === 0) {
          busiest = set;
          break;
        }
      }
    }
    return busiest;
  }

  private refuse(socket: Socket, client: string, bound: string): void {
    this.options.logger.debug({ client, bound }, 'connection refused');
    this.note('refused', client);
    socket.destroy();
  }

  private drop(connection: Connection): void {
    this.forget(connection);
    connection.socket.destroy();
  }

  private forget(connection: Connection): void {
    this.clearDeadline(connection);
    if (this.connections.get(connection.socket) !== connection) return;
    this.connections.delete(connection.socket);
    const set = this.byClient.get(connection.client);
    set?.delete(connection);
    if (set?.size === 0) this.byClient.delete(connection.client);
  }

  /** One warning when the bounds start being hit, then at most one per interval with the counts since. */
  private note(what: keyof Pressure, client: string): void {
    this.pressure[what]++;
    const now = this.monotonicMs();
    if (this.lastWarning !== null && now - this.lastWarning < this.warnIntervalMs) return;
    this.lastWarning = now;
    const { maxConnections, maxConnectionsPerClient } = this.options.limits;
    this.options.logger.warn(
      { ...this.pressure, client, connections: this.connections.size, clients: this.byClient.size, maxConnections, maxConnectionsPerClient },
      'HTTP connections over their bounds: idle connections closed or new ones refused (a client that holds sockets open without requests)',
    );
    this.pressure = { evicted: 0, refused: 0, timedOut: 0 };
  }
}
