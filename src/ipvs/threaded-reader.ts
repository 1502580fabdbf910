/**
 * The IPVS table read in a worker thread (src/cli/ipvs-read-worker.ts), for the one-shot commands
 * (`check`, `migration`): the dump is mostly the kernel's time in the socket calls, spent on the
 * calling thread, so on the main thread it waits in line with everything else the command does
 * before its verdict — loading its modules, parsing --cluster-state, running the `*-save` tools.
 * Started first, it reads while they run (issue 17). The snapshot comes back packed
 * (snapshot-transfer.ts): a structured clone of its objects cost more than the diff. `serve` keeps
 * its in-process reader, whose reads share what did not change (reuse.ts).
 */
import * as nodeModule from 'node:module';
import { Worker } from 'node:worker_threads';
import { ERROR_CODES, SentinelError, type ErrorCode } from '../errors/index.js';
import { unpackSnapshot, type PackedSnapshot } from './snapshot-transfer.js';
import type { TableBase } from '../render/table.js';
import type { IpvsSnapshot } from './types.js';

export type WorkerRequest = { type: 'read'; id: number; table?: boolean } | { type: 'close' };
export type WorkerReply =
  | { id: number; packed: PackedSnapshot }
  | { id: number; error: { code: string; op: string; message: string } }
  /** After the snapshot, when the request asked for its plain table. */
  | { id: number; table: TableBase }
  | { id: number; tableError: string };

interface Pending {
  resolve(snapshot: IpvsSnapshot): void;
  reject(err: SentinelError): void;
}

const OP = 'read the IPVS table in a worker thread';

/**
 * The worker's environment: the process's, with V8's compile cache where the launcher put this
 * thread's (bin/ipvs-sentinel.js, `module.enableCompileCache`). That call enables the cache for
 * the thread that makes it only; a worker thread takes it from NODE_COMPILE_CACHE as it starts.
 * Node 20 has neither, and a process without a cache passes none.
 */
export function workerEnv(env: NodeJS.ProcessEnv = process.env, cacheDir = (nodeModule as { getCompileCacheDir?: () => string | undefined }).getCompileCacheDir?.()): NodeJS.ProcessEnv {
  return cacheDir === undefined ? env : { ...env, NODE_COMPILE_CACHE: cacheDir };
}

export interface ThreadedIpvsReaderOptions {
  /** The worker's module; tests give their own. */
  workerUrl?: URL;
  /** Start the first read at once, before anyone asks (default true): read() returns it first. */
  prefetch?: boolean;
  /**
   * Have the worker write each snapshot's plain table after posting it (default false), for
   * tableBase(): `check` prints the table, and its own thread has the desired state and the diff to
   * compute meanwhile, where the worker would idle.
   */
  table?: boolean;
}

export class ThreadedIpvsReader {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private prefetched: Promise<IpvsSnapshot> | null = null;
  private closed = false;
  private readonly workerUrl: URL;
  private readonly table: boolean;
  /** The plain tables on their way, by request. */
  private readonly tablesOwed = new Map<number, (table: TableBase | null) => void>();
  /** Each snapshot's plain table, when asked for: null once it cannot come. */
  private readonly tables = new WeakMap<IpvsSnapshot, Promise<TableBase | null>>();

  constructor(options: ThreadedIpvsReaderOptions = {}) {
    this.workerUrl = options.workerUrl ?? new URL('../cli/ipvs-read-worker.cjs', import.meta.url);
    this.table = options.table ?? false;
    if (options.prefetch ?? true) {
      this.prefetched = this.request();
      // Nobody may ever ask (the command failed first): its failure is then nobody's to report.
      this.prefetched.catch(() => undefined);
    }
  }

  read(): Promise<IpvsSnapshot> {
    if (this.closed) return Promise.reject(new SentinelError('INTERNAL', OP, 'the reader is closed'));
    const first = this.prefetched;
    this.prefetched = null;
    return first ?? this.request();
  }

  /**
   * The plain table of a snapshot read() gave (src/render/table.ts renderTableBase), written by the
   * worker; null when it was not asked for (the `table` option), the worker failed to write it, or
   * it is gone.
   */
  tableBase(snapshot: IpvsSnapshot): Promise<TableBase | null> {
    return this.tables.get(snapshot) ?? Promise.resolve(null);
  }

  /** Ends the worker once its read in flight (if any) is answered; never keeps the process alive. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.prefetched = null;
    this.settleTables();
    const worker = this.worker;
    if (worker === null) return;
    worker.postMessage({ type: 'close' } satisfies WorkerRequest);
    worker.unref();
  }

  private request(): Promise<IpvsSnapshot> {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise<IpvsSnapshot>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // Held by a read in flight only: an idle worker never keeps the process alive.
      worker.ref();
      worker.postMessage({ type: 'read', id, table: this.table } satisfies WorkerRequest);
    });
  }

  /** The worker, started again after one died (the next read then starts a new one). */
  private ensureWorker(): Worker {
    if (this.worker !== null) return this.worker;
    const worker = new Worker(this.workerUrl, { env: workerEnv() });
    worker.on('message', (reply: WorkerReply) => this.answer(reply));
    // A worker that throws outside a read, or exits: every read it owed fails with the reason.
    worker.on('error', (err: Error) => this.lost(worker, `the worker thread failed: ${err.message}`));
    worker.on('exit', (code) => this.lost(worker, `the worker thread exited (code ${code})`));
    this.worker = worker;
    return worker;
  }

  private answer(reply: WorkerReply): void {
    if ('table' in reply || 'tableError' in reply) {
      const settle = this.tablesOwed.get(reply.id);
      this.tablesOwed.delete(reply.id);
      this.unrefWhenIdle();
      // A table the worker could not write is written here instead (renderCheckBytes without a base).
      settle?.('table' in reply ? reply.table : null);
      return;
    }
    const pending = this.pending.get(reply.id);
    if (pending === undefined) return;
    this.pending.delete(reply.id);
    if (!('packed' in reply)) {
      this.unrefWhenIdle();
      pending.reject(new SentinelError(knownCode(reply.error.code), reply.error.op, reply.error.message));
      return;
    }
    let snapshot: IpvsSnapshot;
    try {
      snapshot = unpackSnapshot(reply.packed);
    } catch (err) {
      this.unrefWhenIdle();
      pending.reject(new SentinelError('INTERNAL', OP, `the worker's snapshot did not unpack: ${err instanceof Error ? err.message : String(err)}`));
      return;
    }
    // Its table follows; until it comes, the worker keeps the process alive for it (close() gives up on it).
    if (this.table && !this.closed) this.tables.set(snapshot, new Promise((resolve) => this.tablesOwed.set(reply.id, resolve)));
    this.unrefWhenIdle();
    pending.resolve(snapshot);
  }

  /** An idle worker, owing no read and no table, never keeps the process alive. */
  private unrefWhenIdle(): void {
    if (this.pending.size === 0 && this.tablesOwed.size === 0) this.worker?.unref();
  }

  /** Every table still owed comes as null: the command writes those itself. */
  private settleTables(): void {
    const owed = [...this.tablesOwed.values()];
    this.tablesOwed.clear();
    for (const settle of owed) settle(null);
  }

  private lost(worker: Worker, reason: string): void {
    if (this.worker !== worker) return;
    this.worker = null;
    const owed = [...this.pending.values()];
    this.pending.clear();
    for (const pending of owed) pending.reject(new SentinelError('INTERNAL', OP, reason));
    this.settleTables();
  }
}

function knownCode(code: string): ErrorCode {
  return Object.hasOwn(ERROR_CODES, code) ? (code as ErrorCode) : 'INTERNAL';
}
