/**
 * The built CLI (`npm run build`, which `npm test` runs first) as the DaemonSet runs it — the
 * launcher bin/ipvs-sentinel.js with the image's NODE_OPTIONS — sent real signals and bad
 * --listen values. Every address here is on loopback, or TEST-NET-1 for "not this host's".
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { closeSync, constants, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { request } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { imageNodeOptions } from '../../../bench/agent-scale.js';
import { REPO_ROOT } from '../../guest/harness.js';

const BIN = join(REPO_ROOT, 'bin', 'ipvs-sentinel.js');
const FIXTURE = join(REPO_ROOT, 'test', 'fixtures', 'cluster', 'kubeadm-ipv4.yaml');
const SERVE = ['serve', '--node-name', 'worker-1', '--poll-interval', '1h', '--kube-proxy-url', 'http://127.0.0.1:1'];
const TIMEOUT = 30_000;

type Line = Record<string, unknown>;

interface Agent {
  child: ChildProcess;
  lines: Line[];
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The first log line `match` accepts; rejects if the process exits first. */
  logged(match: (line: Line) => boolean, what: string): Promise<Line>;
  /** Resolves once stderr matches `pattern`. */
  said(pattern: RegExp): Promise<void>;
}

const running: ChildProcess[] = [];
let dir = '';
beforeAll(() => {
  if (!existsSync(join(REPO_ROOT, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build`');
  dir = mkdtempSync(join(tmpdir(), 'ipvs-sentinel-serve-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  for (const child of running.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

function env(): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('IPVS_SENTINEL_')));
  return { ...clean, NODE_OPTIONS: imageNodeOptions() };
}

/**
 * Starts the CLI. `--inspect-port=0`: should the inspector open after all, it takes a free port
 * and still says so on stderr ("Debugger listening on ws://…") — nothing else on 9229 is disturbed.
 */
function run(args: string[], options: { uid?: number; gid?: number } = {}): Agent {
  const child = spawn(process.execPath, ['--inspect-port=0', BIN, ...args], { cwd: REPO_ROOT, env: env(), stdio: ['ignore', 'pipe', 'pipe'], ...options });
  running.push(child);
  const lines: Line[] = [];
  const waiters: { match: (line: Line) => boolean; resolve: (line: Line) => void }[] = [];
  let stdoutRest = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const parts = (stdoutRest + chunk.toString()).split('\n');
    stdoutRest = parts.pop() ?? '';
    for (const text of parts.filter(Boolean)) {
      const line = JSON.parse(text) as Line;
      lines.push(line);
      for (const w of waiters.filter((w) => w.match(line))) w.resolve(line);
    }
  });
  const stderrWaiters: { pattern: RegExp; resolve: () => void }[] = [];
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    for (const w of stderrWaiters.filter((w) => w.pattern.test(stderr))) w.resolve();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return {
    child,
    lines,
    stderr: () => stderr,
    exited,
    logged: (match, what) => {
      const seen = lines.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ match, resolve });
        void exited.then(({ code, signal }) => reject(new Error(`exited (code ${code}, signal ${signal}) before logging ${what}; stderr: ${stderr}`)));
      });
    },
    said: (pattern) => (pattern.test(stderr) ? Promise.resolve() : new Promise((resolve) => stderrWaiters.push({ pattern, resolve }))),
  };
}

const msg = (text: string | RegExp) => (line: Line) => (typeof text === 'string' ? line.msg === text : text.test(String(line.msg)));

function get(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

async function serving(agent: Agent): Promise<number> {
  const line = await agent.logged(msg('serving'), '"serving"');
  return Number(String(line.listen).split(':').at(-1));
}

describe('serve --listen failures: one coded line, exit 2', () => {
  let blocker: Server;
  let busy = 0;
  beforeAll(async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    busy = (blocker.address() as { port: number }).port;
  });
  afterAll(() => new Promise((resolve) => blocker.close(resolve)));

  /** Whether an unprivileged user may bind `port` here (net.ipv4.ip_unprivileged_port_start). */
  const privileged = (port: number) => port < Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8'));
  const asNobody = process.getuid?.() === 0 && privileged(80);

  it.each([
    ['a port in use', () => `127.0.0.1:${busy}`, /^ipvs-sentinel: LISTEN_FAILED \(listen on 127\.0\.0\.1:\d+\): 127\.0\.0\.1:\d+ is already in use \(EADDRINUSE\): .*choose another port with --listen$/],
    ['an address that is not this host’s', () => '192.0.2.1:9742', /^ipvs-sentinel: LISTEN_FAILED \(listen on 192\.0\.2\.1:9742\): 192\.0\.2\.1 is not an address of this host \(EADDRNOTAVAIL\): listen on one of its addresses/],
  ])('%s', async (_what, listen, line) => {
    const agent = run([...SERVE, '--cluster-state', FIXTURE, '--listen', listen()]);
    expect(await agent.exited).toEqual({ code: 2, signal: null });
    expect(agent.stderr().split('\n')).toEqual([expect.stringMatching(line) as unknown, '']);
  }, TIMEOUT);

  // Needs root to start a process as nobody, and port 80 privileged on this host.
  it.skipIf(!asNobody)('a privileged port as a user other than root', async () => {
    const agent = run([...SERVE, '--cluster-state', FIXTURE, '--listen', '127.0.0.1:80'], { uid: 65534, gid: 65534 });
    expect(await agent.exited).toEqual({ code: 2, signal: null });
    expect(agent.stderr().split('\n')).toEqual([
      expect.stringMatching(/^ipvs-sentinel: LISTEN_FAILED \(listen on 127\.0\.0\.1:80\): not allowed to listen on 127\.0\.0\.1:80 \(EACCES\): ports below 1024 need root or CAP_NET_BIND_SERVICE/) as unknown,
      '',
    ]);
  }, TIMEOUT);
});

/** The FIFO opened for writing once a reader has it open (ENXIO before), without blocking this process. */
async function openWhenRead(fifo: string): Promise<number> {
  for (;;) {
    try {
      return openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENXIO') throw err;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

describe('serve and signals', () => {
  it('SIGHUP: one log line, still serving', async () => {
    const agent = run([...SERVE, '--cluster-state', FIXTURE, '--listen', '127.0.0.1:0']);
    const port = await serving(agent);
    agent.child.kill('SIGHUP');
    expect(await agent.logged((l) => l.signal === 'SIGHUP', 'the SIGHUP line')).toMatchObject({ level: 30, component: 'agent', msg: expect.stringMatching(/^SIGHUP: nothing to reload/) as unknown });
    expect(await get(port, '/livez')).toBe(200);
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toEqual({ code: 0, signal: null });
  }, TIMEOUT);

  it('SIGUSR1: one log line, and no inspector opens', async () => {
    const agent = run([...SERVE, '--cluster-state', FIXTURE, '--listen', '127.0.0.1:0']);
    const port = await serving(agent);
    agent.child.kill('SIGUSR1');
    // Node says "Debugger listening on ws://…" on stderr when the inspector opens; the log line comes from the same signal.
    const outcome = await Promise.race([agent.logged((l) => l.signal === 'SIGUSR1', 'the SIGUSR1 line').then(() => 'logged'), agent.said(/Debugger listening/).then(() => 'inspector opened')]);
    expect(outcome).toBe('logged');
    expect(await get(port, '/livez')).toBe(200);
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toEqual({ code: 0, signal: null });
    expect(agent.stderr()).not.toMatch(/Debugger listening/);
    expect(agent.lines.find((l) => l.signal === 'SIGUSR1')).toMatchObject({ level: 40, msg: expect.stringMatching(/^SIGUSR1 ignored/) as unknown });
  }, TIMEOUT);

  it.each(['SIGTERM', 'SIGINT'] as const)('%s while the state file is still being read: exit 0 with a log line (SIGHUP and SIGUSR1 before it harmless)', async (signal) => {
    // A FIFO holds the start in the read of --cluster-state until this test writes it.
    const fifo = join(dir, `state-${signal}.yaml`);
    execFileSync('mkfifo', [fifo]);
    const agent = run([...SERVE, '--cluster-state', fifo, '--listen', '127.0.0.1:0']);
    await agent.logged(msg('starting'), '"starting"');
    for (const early of ['SIGHUP', 'SIGUSR1'] as const) {
      agent.child.kill(early);
      await agent.logged((l) => l.signal === early, `the ${early} line`);
    }
    agent.child.kill(signal);
    expect(await agent.logged(msg('shutting down'), '"shutting down"')).toMatchObject({ signal, during: 'startup' });
    // Now let the read finish. The abandoned start opens the FIFO on libuv's thread pool, which a
    // loaded machine may not have run yet: a non-blocking open finds no reader (ENXIO) until it has.
    const fd = await openWhenRead(fifo);
    writeSync(fd, readFileSync(FIXTURE));
    closeSync(fd);
    expect(await agent.exited).toEqual({ code: 0, signal: null });
    expect(agent.lines.some(msg('serving'))).toBe(false);
    expect(agent.stderr()).toBe('');
  }, TIMEOUT);
});
