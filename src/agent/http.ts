/**
 * The agent's HTTP edge: node:http, GET and HEAD only, bodies never read, timeouts and connection
 * bounds (src/agent/http-connections.ts), and no request — however malformed — takes the server
 * down. Every answer is computed from the AgentView at request time.
 */
import { renderMigration } from '../migration/render.js';
import type { MigrationReport } from '../migration/types.js';
import { lookup as dnsLookup } from 'node:dns/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP, type AddressInfo, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { SentinelError } from '../errors/index.js';
import { createServer } from '../util/node-http.js';
import { ConnectionBook } from './http-connections.js';
import { driftReportToJson } from '../drift/report.js';
import { driftTableMarks } from '../render/drift-marks.js';
import { stringifyJson } from '../render/json.js';
import { PiecePool } from '../render/pieces.js';
import { snapshotJsonPieces } from '../render/snapshot-json.js';
import { renderTable } from '../render/table.js';
import type { AgentView, HealthCheck } from './view.js';
import type { RequestGate } from './auth/gate.js';
import { createHttpsServer, type ServingTls } from './tls.js';

type LogFn = (obj: object, msg?: string) => void;
/** The pino methods the server uses (a pino child logger fits). */
export interface HttpLogger {
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  debug: LogFn;
}

export interface HttpLimits {
  /** Concurrent connections; a new one over it takes the place of the busiest client's oldest idle one (http-connections.ts). */
  maxConnections?: number;
  /** Concurrent connections from one client address; a new one over it takes the place of that address's oldest idle one. */
  maxConnectionsPerClient?: number;
  /** From connect to a complete request head; an idle socket past it is destroyed. */
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** From a written response to the next complete request head on the same connection. */
  keepAliveTimeoutMs?: number;
  /** Request line plus headers, bytes (over it: 431). */
  maxHeaderSize?: number;
  maxRequestsPerSocket?: number;
  /** How long close() lets in-flight responses finish before cutting connections. */
  closeGraceMs?: number;
  /** How long a streamed body (`/ipvs`, `/metrics`) waits for a client that takes no more bytes before cutting it. */
  sendStallMs?: number;
}

export const DEFAULT_HTTP_LIMITS: Required<HttpLimits> = {
  maxConnections: 256,
  maxConnectionsPerClient: 16,
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxHeaderSize: 16_384,
  maxRequestsPerSocket: 1_000,
  closeGraceMs: 2_000,
  sendStallMs: 30_000,
};

export interface HttpServerOptions {
  host: string;
  port: number;
  view: AgentView;
  metrics: { contentType: string; exposition(pool?: PiecePool): Promise<Iterable<Uint8Array>> };
  logger: HttpLogger;
  limits?: HttpLimits;
  /** Resolves a host name of --listen to an address (dns.lookup, as server.listen does); tests pass their own. */
  lookup?: (host: string) => Promise<string>;
  /** --auth=kube: who may read which route (src/agent/auth/gate.ts); none: every route is open. */
  gate?: RequestGate;
  /** Serve HTTPS with this certificate, following its reloads (src/agent/tls.ts). */
  tls?: ServingTls;
  /** /migration: the last poll's migration report (src/migration/reporter.ts), null before the first poll; absent: 404. */
  migration?: () => Promise<MigrationReport> | null;
}

export interface HttpServerHandle {
  address: { host: string; port: number };
  /** Sockets the server holds open (half-open ones included). */
  connections(): Promise<number>;
  close(): Promise<void>;
}

const JSON_TYPE = 'application/json';
const TEXT_TYPE = 'text/plain; charset=utf-8';

interface Reply {
  status: number;
  contentType: string;
  /**
   * Text, or pieces rendered as they are iterated: written one by one as the socket drains
   * (chunked, no content-length), so a body of tens of megabytes is never held whole.
   */
  body: string | Iterable<Uint8Array>;
  headers?: Record<string, string>;
}

const text = (status: number, body: string): Reply => ({ status, contentType: TEXT_TYPE, body });
const json = (status: number, value: unknown): Reply => ({ status, contentType: JSON_TYPE, body: `${stringifyJson(value)}\n` });
const jsonError = (status: number, error: string, reason: string | null = null): Reply => json(status, { error, reason });

/** Kubernetes object names: a DNS-1123 label for the namespace and the Service. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Request target → path and query, without URL's protocol-relative surprises ("//x") and never throwing. */
function parseTarget(raw: string): { path: string; query: URLSearchParams } | null {
  let target = raw;
  if (!target.startsWith('/')) {
    // absolute-form ("GET http://host/ipvs"): keep its path; anything else (authority, "*") has no route
    if (!/^https?:\/\//i.test(target)) return null;
    const afterScheme = target.indexOf('/', target.indexOf('//') + 2);
    target = afterScheme < 0 ? '/' : target.slice(afterScheme);
  }
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  return { path, query: new URLSearchParams(q < 0 ? '' : target.slice(q + 1)) };
}

/** One line per check as kube-apiserver prints them (k8s.io/apiserver/pkg/server/healthz). */
function healthLines(checks: readonly HealthCheck[]): string {
  return checks.map((c) => (c.ok ? `[+]${c.name} ok\n` : `[-]${c.name} failed: ${oneLine(c.reason ?? 'failed')}\n`)).join('');
}

function oneLine(s: string): string {
  return s.replace(/\s*[\r\n]+\s*/g, ' ');
}

function healthz(view: AgentView, query: URLSearchParams): Reply {
  const checks = view.health();
  const ok = checks.every((c) => c.ok);
  const status = ok ? 200 : 503;
  const format = query.get('format');
  if (format === 'json') return json(status, { status: ok ? 'ok' : 'failed', checks: checks.map((c) => ({ name: c.name, ok: c.ok, reason: c.reason })) });
  if (format !== null && format !== 'text') return text(400, `unknown format "${oneLine(format)}": use json or text\n`);
  // Like kube-apiserver: "ok" when passing and not verbose; a failure always lists the checks.
  if (ok && !query.has('verbose')) return text(200, 'ok');
  return text(status, `${healthLines(checks)}healthz check ${ok ? 'passed' : 'failed'}\n`);
}

/** `/healthz/<check>`, as kube-apiserver serves single checks. */
function singleCheck(view: AgentView, name: string): Reply | null {
  // The lines of the checks this agent runs (a check left out with --skip-checks has none: 404).
  const check = view.health().find((c) => c.name === name);
  if (!check) return null;
  return check.ok ? text(200, 'ok') : text(503, `internal server error: ${oneLine(check.reason ?? 'failed')}\n`);
}

/** `?pretty`, `?pretty=true`, `?pretty=false` as kube-apiserver reads them (Go's strconv.ParseBool); undefined when malformed. */
function prettyParam(query: URLSearchParams): boolean | undefined {
  const value = query.get('pretty');
  if (value === null) return false;
  if (['', '1', 't', 'T', 'true', 'TRUE', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(value)) return false;
  return undefined;
}

function ipvs(view: AgentView, query: URLSearchParams, pool: PiecePool): Reply {
  const format = query.get('format') ?? 'json';
  if (format !== 'json' && format !== 'text') return jsonError(400, `unknown format "${oneLine(format)}"`, 'use json or text');
  const asText = format === 'text';
  const pretty = prettyParam(query);
  if (pretty === undefined) return jsonError(400, `malformed pretty "${oneLine(query.get('pretty') ?? '')}"`, 'use pretty, pretty=true or pretty=false');
  const service = query.get('service') ?? undefined;
  if (service !== undefined) {
    const [ns, name, extra] = service.split('/');
    if (extra !== undefined || !ns || !name || !DNS_LABEL.test(ns) || !DNS_LABEL.test(name)) {
      const message = `malformed service "${oneLine(service)}": expected NAMESPACE/NAME`;
      return asText ? text(400, `${message}\n`) : jsonError(400, message);
    }
  }
  const snapshot = view.snapshot();
  if (snapshot === null) {
    const reason = view.ready().reason;
    return asText ? text(503, `no IPVS snapshot yet${reason ? `: ${oneLine(reason)}` : ''}\n`) : jsonError(503, 'no IPVS snapshot yet', reason);
  }
  if (!asText) return { status: 200, contentType: JSON_TYPE, body: snapshotJsonPieces(snapshot, { node: view.node, lookup: view.lookup, service, pretty, pool }) };
  const marks = driftTableMarks(view.drift());
  const table = renderTable(snapshot, { lookup: view.lookup, mark: marks.mark, missingRealServers: marks.missingRealServers, service });
  const footer = marks.footer(new Set(snapshot.services.map((vs) => vs.key)), service);
  return text(200, footer.length > 0 ? `${table}\nNot in the table:\n${footer.map((l) => `  ${l}`).join('\n')}\n` : table);
}

function modules(view: AgentView): Reply {
  const report = view.modules();
  if (report === null) return jsonError(503, 'kernel modules not read yet', view.ready().reason);
  return json(200, {
    release: report.release,
    modules: report.modules.map((m) => ({ name: m.name, loaded: m.loaded, builtin: m.builtin, required: m.required, reason: m.reason })),
    ok: report.ok,
    ipvsFamilyResolves: report.ipvsFamilyResolves,
    problems: report.problems,
  });
}

/** What one server's requests share. */
interface Context {
  options: HttpServerOptions;
  limits: Required<HttpLimits>;
  /** Buffers of streamed bodies, given back once written: a large body needs no fresh memory per request. */
  pool: PiecePool;
}

async function route({ options, pool }: Context, path: string, query: URLSearchParams): Promise<Reply> {
  const { view } = options;
  switch (path) {
    case '/livez':
      return view.live() ? text(200, 'ok') : text(503, 'agent loop not alive\n');
    case '/readyz': {
      const r = view.ready();
      return r.ready ? text(200, 'ok') : text(503, `not ready: ${oneLine(r.reason ?? 'starting')}\n`);
    }
    case '/healthz':
      return healthz(view, query);
    case '/ipvs':
      return ipvs(view, query, pool);
    case '/drift':
      return json(200, driftReportToJson(view.drift()));
    case '/modules':
      return modules(view);
    case '/migration':
      return migration(options.migration, query);
    case '/metrics':
      return { status: 200, contentType: options.metrics.contentType, body: await options.metrics.exposition(pool) };
    default:
      if (path.startsWith('/healthz/')) return singleCheck(view, path.slice('/healthz/'.length)) ?? text(404, 'not found\n');
      return text(404, 'not found\n');
  }
}

/** The migration report as JSON (default) or ?output=markdown for a change ticket; 503 before the first poll. */
async function migration(report: HttpServerOptions['migration'], query: URLSearchParams): Promise<Reply> {
  const pending = report?.();
  if (!report) return text(404, 'not found\n');
  if (!pending) return text(503, 'not ready: the first poll has not completed\n');
  const output = query.get('output') ?? 'json';
  if (output !== 'json' && output !== 'markdown' && output !== 'table') return text(400, 'output takes json, markdown or table\n');
  return { status: 200, contentType: output === 'json' ? JSON_TYPE : TEXT_TYPE, body: renderMigration(await pending, output) };
}

/** The gate's 401 / 403 / 503, in the agent's error body; null when the request may go on. */
async function refused(gate: RequestGate | undefined, req: IncomingMessage, path: string): Promise<Reply | null> {
  if (!gate) return null;
  const decision = await gate.check({ path, method: req.method ?? 'GET', authorization: req.headers.authorization });
  if (decision.allowed) return null;
  const reply = jsonError(decision.status, decision.error, decision.reason);
  return decision.status === 401 ? { ...reply, headers: { 'www-authenticate': 'Bearer realm="ipvs-sentinel"' } } : reply;
}

/** The TCP socket the book admitted: over TLS a request's socket wraps it (the TLSSocket's _parent). */
function tcpSocket(socket: Socket): Socket {
  return (socket as Socket & { _parent?: Socket | null })._parent ?? socket;
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

async function send(req: IncomingMessage, res: ServerResponse, reply: Reply, ctx: Context): Promise<void> {
  res.statusCode = reply.status;
  res.setHeader('content-type', reply.contentType);
  res.setHeader('cache-control', 'no-store');
  res.setHeader('x-content-type-options', 'nosniff');
  for (const [k, v] of Object.entries(reply.headers ?? {})) res.setHeader(k, v);
  if (typeof reply.body === 'string') {
    const body = Buffer.from(reply.body, 'utf8');
    res.setHeader('content-length', body.length);
    if (req.method === 'HEAD') res.end();
    else res.end(body);
  } else if (req.method === 'HEAD') res.end(); // the pieces are never rendered
  else await writePieces(res, reply.body, ctx);
}

/**
 * Writes pieces as the socket takes them: rendering waits for the client, so only a few pieces are
 * in memory at once, and each goes back to the pool once written. A client that takes nothing for
 * `sendStallMs` is cut off rather than left holding the snapshot it is being sent.
 */
async function writePieces(res: ServerResponse, pieces: Iterable<Uint8Array>, { pool, limits }: Context): Promise<void> {
  for (const piece of pieces) {
    if (res.destroyed) return; // the client went away (or stalled): stop rendering
    const written = res.write(piece, (err) => {
      if (!err) pool.give(piece);
    });
    if (!written) await drained(res, limits.sendStallMs);
  }
  if (!res.destroyed) res.end();
}

function drained(res: ServerResponse, stallMs: number): Promise<void> {
  if (res.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const stalled = setTimeout(() => {
      res.destroy();
      done();
    }, stallMs);
    function done(): void {
      clearTimeout(stalled);
      res.off('drain', done);
      res.off('close', done);
      resolve();
    }
    res.on('drain', done);
    res.on('close', done);
  });
}

async function handle(ctx: Context, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { options } = ctx;
  const started = process.hrtime.bigint();
  // The body is never read: answer, then close the connection instead of draining what the client sends.
  if (hasBody(req)) res.shouldKeepAlive = false;
  const target = parseTarget(req.url ?? '');
  let reply: Reply;
  if (target === null) reply = text(400, 'bad request target\n');
  else if (req.method !== 'GET' && req.method !== 'HEAD') reply = { ...text(405, 'method not allowed\n'), headers: { allow: 'GET, HEAD' } };
  else {
    try {
      const denied = await refused(options.gate, req, target.path);
      reply = denied ?? (await route(ctx, target.path, target.query));
    } catch (err) {
      options.logger.error({ err, method: req.method, path: target.path }, 'request handler failed');
      reply = text(500, 'internal server error\n');
    }
  }
  try {
    await send(req, res, reply, ctx);
  } catch (err) {
    // A body rendered while it is sent failed part way: a 500 if nothing went out yet, else the
    // only honest signal left is a cut connection (the client sees an incomplete chunked body).
    options.logger.error({ err, method: req.method, path: target?.path ?? null }, 'response failed');
    if (res.headersSent) res.destroy();
    else send(req, res, text(500, 'internal server error\n'), ctx).catch(() => res.destroy());
    return;
  }
  options.logger.debug({ method: req.method, path: target?.path ?? null, status: reply.status, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'request');
}

/**
 * A parse error, a header timeout, an oversized header: answer like Node would, then destroy the
 * socket. Ending it is not enough: node:http allows half-open sockets, so a peer that never closes
 * its side would keep the socket, and its place among the connections, for as long as it likes.
 * (A peer that does not even take the answer is destroyed by its idle deadline.)
 */
function onClientError(logger: HttpLogger, err: Error & { code?: string }, socket: Duplex): void {
  logger.debug({ code: err.code, err: err.message }, 'bad HTTP request');
  if (!socket.writable || err.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, () => socket.destroy());
}

/** `host:port`, IPv6 in brackets, as --listen takes it. */
function hostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Why --listen failed and what to do, one line (LISTEN_FAILED); the errno is named. */
export function listenFailed(err: unknown, host: string, port: number): SentinelError {
  const code = (err as { code?: unknown } | null)?.code;
  const where = hostPort(host, port);
  let message: string;
  switch (code) {
    case 'EADDRINUSE':
      message = `${where} is already in use (EADDRINUSE): another process (another ipvs-sentinel?) listens there; stop it or choose another port with --listen`;
      break;
    case 'EADDRNOTAVAIL':
      message = `${host} is not an address of this host (EADDRNOTAVAIL): listen on one of its addresses (the DaemonSet passes the node IP), on 0.0.0.0 or on [::]`;
      break;
    case 'EACCES':
    case 'EPERM':
      message = `not allowed to listen on ${where} (${code}): ports below 1024 need root or CAP_NET_BIND_SERVICE; use a port from 1024 up, such as the default 9742`;
      break;
    case 'ENOTFOUND':
    case 'EAI_NONAME':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
      message = `"${host}" does not resolve to an address (${code}): give --listen an IP address, such as 0.0.0.0:${port} or the node IP`;
      break;
    case 'EAFNOSUPPORT':
      message = `cannot listen on ${where} (EAFNOSUPPORT): this host has no IPv6; listen on an IPv4 address such as 0.0.0.0:${port}`;
      break;
    default: {
      const reason = err instanceof Error ? err.message : String(err);
      message = `cannot listen on ${where}: ${reason.replace(/\s*[\r\n]+\s*/g, ' ')}`;
    }
  }
  return new SentinelError('LISTEN_FAILED', `listen on ${where}`, message, { cause: err });
}

async function listen(server: ReturnType<typeof createServer>, options: HttpServerOptions): Promise<void> {
  try {
    const address = isIP(options.host) !== 0 ? options.host : await (options.lookup ?? defaultLookup)(options.host);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, address, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    throw listenFailed(err, options.host, options.port);
  }
}

async function defaultLookup(host: string): Promise<string> {
  return (await dnsLookup(host)).address;
}

export async function startHttpServer(options: HttpServerOptions): Promise<HttpServerHandle> {
  const limits = { ...DEFAULT_HTTP_LIMITS, ...options.limits };
  const serverOptions = {
    // A second line behind the book's own deadline, which is a timer per connection; Node's is only
    // checked every connectionsCheckingInterval.
    headersTimeout: Math.min(limits.requestTimeoutMs, 2 * limits.headersTimeoutMs),
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    maxHeaderSize: limits.maxHeaderSize,
    connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
  };
  const { tls } = options;
  // The handshake counts against the same deadline as a request head: the book cuts an idle socket either way.
  const server = tls ? createHttpsServer({ ...serverOptions, ...tls.current(), handshakeTimeout: limits.headersTimeoutMs }) : createServer(serverOptions);
  const unsubscribe = tls?.subscribe((pair) => (server as ReturnType<typeof createHttpsServer>).setSecureContext(pair));
  const ctx: Context = { options, limits, pool: new PiecePool() };
  // No server.maxConnections: it refuses the newcomer whoever holds the places; the book decides.
  const book = new ConnectionBook({ limits, logger: options.logger });
  server.maxRequestsPerSocket = limits.maxRequestsPerSocket;
  server.on('connection', (socket: Socket) => book.admit(socket));
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = tcpSocket(req.socket);
    book.requestStarted(socket);
    res.once('close', () => book.requestEnded(socket));
    handle(ctx, req, res).catch((err: unknown) => {
      // Only reachable if sending itself failed; the socket is unusable then.
      options.logger.error({ err }, 'could not answer a request');
      res.destroy();
    });
  });
  server.on('clientError', (err: Error, socket: Duplex) => onClientError(options.logger, err, socket));

  try {
    await listen(server, options);
  } catch (err) {
    unsubscribe?.();
    throw err;
  }
  server.on('error', (err) => options.logger.error({ err }, 'HTTP server error'));
  const addr = server.address() as AddressInfo;
  options.logger.info({ host: addr.address, port: addr.port, tls: tls !== undefined, auth: options.gate !== undefined, limits: { maxConnections: limits.maxConnections, maxConnectionsPerClient: limits.maxConnectionsPerClient } }, 'HTTP server listening');

  return {
    address: { host: addr.address, port: addr.port },
    connections: () => new Promise<number>((resolve, reject) => server.getConnections((err, count) => (err ? reject(err) : resolve(count)))),
    close: () =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), limits.closeGraceMs);
        force.unref();
        unsubscribe?.();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
