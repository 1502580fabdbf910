/**
 * The one-shot commands' IPVS read in a worker thread (src/ipvs/threaded-reader.ts): the snapshot
 * and the reader's errors cross the thread boundary intact, a worker that dies fails the reads it
 * owed and the next read starts another, and neither an idle worker nor an abandoned read keeps the
 * process alive. The real worker (dist/cli/ipvs-read-worker.cjs, `npm run build`) reads this host's table.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { SentinelError } from '../../../src/errors/index.js';
import { ThreadedIpvsReader, workerEnv } from '../../../src/ipvs/threaded-reader.js';
import type * as TableModule from '../../../src/render/table.js';

/** A worker of the given body; `reply(request)` answers a read request. */
const worker = (body: string): URL =>
  new URL(`data:text/javascript,${encodeURIComponent(`import { parentPort } from 'node:worker_threads';\nlet reads = 0;\n${body}`)}`);

// Packed as the real worker packs (src/ipvs/snapshot-transfer.ts, built), its arrays transferred.
const TRANSFER = new URL('../../../dist/ipvs/snapshot-transfer.js', import.meta.url).href;
const SNAPSHOT_WORKER = worker(`
  const { packSnapshot } = await import(${JSON.stringify(TRANSFER)});
  const zero = { conns: 0n, inPkts: 0n, outPkts: 0n, inBytes: 0n, outBytes: 0n, cps: 0n, inPps: 0n, outPps: 0n, inBps: 0n, outBps: 0n };
  parentPort.on('message', (m) => {
    if (m.type === 'close') return parentPort.close();
    reads++;
    if (m.id === 2 && process.env.DIE_ON_SECOND === '1') process.exit(3);
    const packed = packSnapshot({
      readAt: new Date('2026-12-07T04:00:00Z'), durationMs: 1.5, info: { version: '1.2.1', connTableSize: 4096 }, timeouts: null,
      services: [{
        key: 'TCP/10.96.0.1:443', family: 'inet', protocol: 'TCP', address: '10.96.0.1', port: 443, fwmark: null, scheduler: 'rr',
        flagBits: 2, persistent: false, timeout: 0, netmask: 32, pe: null, stats: { ...zero, conns: 18446744073709551615n },
        destinations: [{ address: '10.0.0.10', addressFamily: 'inet', port: 6443, forward: 'masq', weight: 1, upperThreshold: 0,
          lowerThreshold: 0, activeConns: 2, inactiveConns: 0, persistentConns: 0, tunnel: null, stats: { ...zero, inBytes: 1n } }],
      }],
      unknownAttributes: ['read ' + reads],
    });
    parentPort.postMessage({ id: m.id, packed }, [packed.numbers.buffer, packed.counters.buffer]);
  });
`);

describe('ThreadedIpvsReader', () => {
  it('hands over the worker\'s snapshot as read: dates, 64-bit counters, nested real servers', async () => {
    const reader = new ThreadedIpvsReader({ workerUrl: SNAPSHOT_WORKER });
    try {
      const snapshot = await reader.read();
      expect(snapshot.readAt).toBeInstanceOf(Date);
      expect(snapshot.readAt.toISOString()).toBe('2026-12-07T04:00:00.000Z');
      expect(snapshot.services[0]?.stats.conns).toBe(18446744073709551615n);
      expect(snapshot.services[0]?.destinations).toMatchObject([{ address: '10.0.0.10', port: 6443, activeConns: 2, stats: { inBytes: 1n } }]);
      // The first read was started at construction; the next is a read of its own.
      expect(snapshot.unknownAttributes).toEqual(['read 1']);
      expect((await reader.read()).unknownAttributes).toEqual(['read 2']);
    } finally {
      reader.close();
    }
  });

  it.each([
    ['a known code keeps its code, operation and message', 'NETLINK_DECODE', 'NETLINK_DECODE', 'decode IPVS_CMD_NEW_DEST'],
    ['an unknown code becomes INTERNAL', 'NOT_A_CODE', 'INTERNAL', 'decode IPVS_CMD_NEW_DEST'],
  ])('rejects with the worker\'s SentinelError: %s', async (_name, sent, code, op) => {
    const reader = new ThreadedIpvsReader({
      workerUrl: worker(`parentPort.on('message', (m) => m.type === 'read' ? parentPort.postMessage({ id: m.id, error: { code: '${sent}', op: '${op}', message: 'attribute 3 truncated' } }) : parentPort.close());`),
    });
    try {
      const err = await reader.read().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SentinelError);
      expect(err).toMatchObject({ code, op, message: 'attribute 3 truncated' });
    } finally {
      reader.close();
    }
  });

  it('rejects a snapshot that does not unpack, and the process goes on', async () => {
    const reader = new ThreadedIpvsReader({
      workerUrl: worker(`parentPort.on('message', (m) => m.type === 'read' ? parentPort.postMessage({ id: m.id, packed: { services: 1, numbers: new Float64Array(2), counters: new BigUint64Array(0), text: '', tunnels: [] } }) : parentPort.close());`),
    });
    try {
      const err = await reader.read().catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'INTERNAL' });
      expect((err as SentinelError).message).toMatch(/^the worker's snapshot did not unpack: snapshot transfer: malformed: /);
    } finally {
      reader.close();
    }
  });

  it('fails the reads a dead worker owed, and the next read starts a new worker', async () => {
    process.env.DIE_ON_SECOND = '1';
    const reader = new ThreadedIpvsReader({ workerUrl: SNAPSHOT_WORKER });
    try {
      expect((await reader.read()).unknownAttributes).toEqual(['read 1']);
      const err = await reader.read().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SentinelError);
      expect(err).toMatchObject({ code: 'INTERNAL', message: 'the worker thread exited (code 3)' });
      // A new worker: its own first read (request id 3, not 2, so it lives).
      expect((await reader.read()).unknownAttributes).toEqual(['read 1']);
    } finally {
      delete process.env.DIE_ON_SECOND;
      reader.close();
    }
  });

  it('fails the read of a worker that throws before it answers', async () => {
    const reader = new ThreadedIpvsReader({ workerUrl: worker(`throw new Error('libnl-genl-3.so.200: cannot open shared object file');`) });
    try {
      const err = await reader.read().catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'INTERNAL', message: 'the worker thread failed: libnl-genl-3.so.200: cannot open shared object file' });
    } finally {
      reader.close();
    }
  });

  it('refuses a read once closed', async () => {
    const reader = new ThreadedIpvsReader({ workerUrl: SNAPSHOT_WORKER, prefetch: false });
    reader.close();
    await expect(reader.read()).rejects.toMatchObject({ code: 'INTERNAL', message: 'the reader is closed' });
  });

  it.each([
    ['a read in flight it abandons', `parentPort.on('message', () => {});`],
    ['a prefetched read that fails, never asked for', `parentPort.on('message', (m) => m.type === 'read' && parentPort.postMessage({ id: m.id, error: { code: 'IPVS_UNAVAILABLE', op: 'resolve IPVS family', message: 'no ip_vs' } }));`],
  ])('lets the process end after close(): %s', (_name, body) => {
    const script = `
      const { ThreadedIpvsReader } = await import(${JSON.stringify(new URL('../../../dist/ipvs/threaded-reader.js', import.meta.url).href)});
      const reader = new ThreadedIpvsReader({ workerUrl: new URL(${JSON.stringify(worker(body).href)}) });
      await new Promise((resolve) => setTimeout(resolve, 100));
      reader.close();
      process.on('unhandledRejection', (err) => { console.log('unhandled ' + err.message); process.exitCode = 9; });
      console.log('closed');
    `;
    // Bounded by the timeout: a process the worker held would be killed, and the call throw.
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(out).toBe('closed\n');
  });
});

// A worker that posts a snapshot, then, asked for it, its plain table as the real worker writes and
// posts it (src/render/table.ts, built), after TABLE_DELAY_MS; TABLE=error posts the error a failed render
// posts, TABLE=die exits first.
const TABLE = new URL('../../../dist/render/table.js', import.meta.url).href;
const TABLE_WORKER = worker(`
  const { packSnapshot } = await import(${JSON.stringify(TRANSFER)});
  const { renderTableBase, tableBaseMessage } = await import(${JSON.stringify(TABLE)});
  const zero = { conns: 0n, inPkts: 0n, outPkts: 0n, inBytes: 0n, outBytes: 0n, cps: 0n, inPps: 0n, outPps: 0n, inBps: 0n, outBps: 0n };
  const dest = (address) => ({ address, addressFamily: 'inet', port: 8080, forward: 'masq', weight: 1, upperThreshold: 0, lowerThreshold: 0, activeConns: 0, inactiveConns: 0, persistentConns: 0, tunnel: null, stats: zero });
  const snapshot = {
    readAt: new Date('2026-12-07T04:00:00Z'), durationMs: 1.5, info: { version: '1.2.1', connTableSize: 4096 }, timeouts: null, unknownAttributes: [],
    services: [{ key: 'TCP/10.96.0.1:80', family: 'inet', protocol: 'TCP', address: '10.96.0.1', port: 80, fwmark: null, scheduler: 'rr', flagBits: 2, persistent: false, timeout: 0, netmask: 32, pe: null, stats: zero, destinations: [dest('10.244.0.5'), dest('10.244.0.6')] }],
  };
  parentPort.on('message', (m) => {
    if (m.type === 'close') return parentPort.close();
    const packed = packSnapshot(snapshot);
    parentPort.postMessage({ id: m.id, packed }, [packed.numbers.buffer, packed.counters.buffer]);
    if (!m.table) return;
    if (process.env.TABLE === 'die') process.exit(4);
    setTimeout(() => {
      if (process.env.TABLE === 'error') return parentPort.postMessage({ id: m.id, tableError: 'RangeError: Invalid array length' });
      const { base, transfer } = tableBaseMessage(renderTableBase(snapshot));
      parentPort.postMessage({ id: m.id, table: base }, transfer);
    }, Number(process.env.TABLE_DELAY_MS ?? 0));
  });
`);

describe('the plain table the worker writes beside the read (check, issue 17)', () => {
  const withEnv = async (env: Record<string, string>, run: () => Promise<void>): Promise<void> => {
    Object.assign(process.env, env);
    try {
      await run();
    } finally {
      for (const name of Object.keys(env)) delete process.env[name];
    }
  };

  it('comes for each snapshot read, and finishes into the table check prints', async () => {
    const { finishTableBytes, renderTableBytes } = (await import(TABLE)) as typeof TableModule;
    const reader = new ThreadedIpvsReader({ workerUrl: TABLE_WORKER, table: true });
    try {
      const snapshot = await reader.read();
      const base = await reader.tableBase(snapshot);
      expect(base).not.toBeNull();
      const mark = (_vs: string, rs: string | null): string | null => (rs === '10.244.0.6:8080' ? '<- weight-mismatch' : null);
      const options = { lookup: () => ({ namespace: 'default', name: 'web', port: 'http' }), mark, missingRealServers: () => ['10.244.0.7:8080'] };
      expect(finishTableBytes(base!, snapshot, options, 'Verdict: DRIFT\n')?.toString()).toBe(renderTableBytes(snapshot, options, 'Verdict: DRIFT\n').toString());
      // Another read, another table; a snapshot it did not give has none.
      const next = await reader.read();
      expect(await reader.tableBase(next)).not.toBeNull();
      expect(await reader.tableBase({ ...snapshot })).toBeNull();
    } finally {
      reader.close();
    }
  });

  it('crosses threads whatever its size: a small one, in Node\'s shared pool of Buffers, copied; a large one transferred', async () => {
    const { renderTableBase, tableBaseMessage } = (await import(TABLE)) as typeof TableModule;
    const { snapshot, vs, rs } = await import('../../support/builders.js');
    for (const services of [1, 2000]) {
      const table = snapshot(Array.from({ length: services }, (_, i) => vs(`TCP/10.96.${i >> 8}.${i & 255}:80`, [rs('10.244.0.5:8080')])));
      const plain = renderTableBase(table);
      const text = Buffer.from(plain.bytes).toString('latin1');
      const { base, transfer } = tableBaseMessage(plain);
      const { port1, port2 } = new MessageChannel();
      try {
        const received = new Promise<TableModule.TableBase>((resolve) => port2.once('message', resolve));
        port1.postMessage(base, transfer);
        expect(Buffer.from((await received).bytes).toString('latin1')).toBe(text);
        // Transferred: the sender's view of the large one is gone; the small one was a copy.
        expect(plain.bytes.byteLength === 0).toBe(services === 2000);
      } finally {
        port1.close();
        port2.close();
      }
    }
  });

  it('is not written unless asked for', async () => {
    const reader = new ThreadedIpvsReader({ workerUrl: TABLE_WORKER });
    try {
      expect(await reader.tableBase(await reader.read())).toBeNull();
    } finally {
      reader.close();
    }
  });

  it.each([
    ['the worker could not write it', { TABLE: 'error' }],
    ['the worker died before it', { TABLE: 'die' }],
  ])('is null when %s: check writes the table itself', async (_name, env) => {
    await withEnv(env, async () => {
      const reader = new ThreadedIpvsReader({ workerUrl: TABLE_WORKER, table: true });
      try {
        expect(await reader.tableBase(await reader.read())).toBeNull();
      } finally {
        reader.close();
      }
    });
  });

  it('is null once the reader is closed, and a table still owed then does not keep the process alive', async () => {
    await withEnv({ TABLE_DELAY_MS: '60000' }, async () => {
      const reader = new ThreadedIpvsReader({ workerUrl: TABLE_WORKER, table: true });
      const owed = reader.tableBase(await reader.read());
      reader.close();
      expect(await owed).toBeNull();
    });
  });

  it('keeps the process alive while it is on its way', () => {
    // Awaited at the top level: were the worker unreferenced before the table came, the process would
    // end with the await unsettled (exit code 13) instead of printing it.
    const script = `
      const { ThreadedIpvsReader } = await import(${JSON.stringify(new URL('../../../dist/ipvs/threaded-reader.js', import.meta.url).href)});
      const reader = new ThreadedIpvsReader({ workerUrl: new URL(${JSON.stringify(TABLE_WORKER.href)}), table: true });
      const base = await reader.tableBase(await reader.read());
      console.log('lines ' + base.lineEnds.length);
      reader.close();
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, TABLE_DELAY_MS: '300' } });
    expect(out).toBe('lines 3\n');
  });
});

describe('the built worker (dist/cli/ipvs-read-worker.cjs)', () => {
  it('reads this network namespace\'s table with the `ipvs` command\'s reader', async () => {
    const reader = new ThreadedIpvsReader({ workerUrl: new URL('../../../dist/cli/ipvs-read-worker.cjs', import.meta.url) });
    try {
      if (existsSync('/proc/net/ip_vs')) {
        expect((await reader.read()).services).toBeInstanceOf(Array);
      } else {
        // No ip_vs here (the build machines): the reader's own SentinelError, across the thread.
        const err = await reader.read().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(SentinelError);
        expect(err).toMatchObject({ code: 'IPVS_UNAVAILABLE' });
      }
    } finally {
      reader.close();
    }
  });
});

describe('the worker and V8\'s compile cache', () => {
  it('passes the process\'s cache directory to the worker as NODE_COMPILE_CACHE, and nothing without one', () => {
    const env = { PATH: '/usr/bin', NODE_COMPILE_CACHE: undefined };
    expect(workerEnv(env, '/app/dist/.compile-cache')).toEqual({ PATH: '/usr/bin', NODE_COMPILE_CACHE: '/app/dist/.compile-cache' });
    expect(workerEnv(env, undefined)).toBe(env);
  });

  // Node ≥ 22.1 only: Node 20 has no compile cache.
  const hasCache = typeof (nodeModule as { enableCompileCache?: unknown }).enableCompileCache === 'function';
  it.skipIf(!hasCache)('the built worker compiles through the cache the launcher enabled (enableCompileCache covers only its own thread)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ipvs-compile-cache-'));
    try {
      const script = `
        const { enableCompileCache } = await import('node:module');
        enableCompileCache(${JSON.stringify(dir)});
        const { ThreadedIpvsReader } = await import(${JSON.stringify(new URL('../../../dist/ipvs/threaded-reader.js', import.meta.url).href)});
        const reader = new ThreadedIpvsReader({ workerUrl: new URL(${JSON.stringify(new URL('../../../dist/cli/ipvs-read-worker.cjs', import.meta.url).href)}) });
        await reader.read().catch(() => undefined);
        reader.close();
      `;
      // Node's own trace of its compile cache, on stderr: the files it compiled through it, and how.
      const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' } });
      expect(run.status).toBe(0);
      expect(run.stderr).toMatch(/V8 code cache for CommonJS \S*\/dist\/cli\/ipvs-read-worker\.cjs/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
