/**
 * Edge: runs one of the backend's own `*-save` tools as a child process and stream-parses its stdout
 * (save-parser.ts). Read-only by construction: no `-t` (legacy would create the table and load
 * iptable_<name>), no `-w` (the save tools take no xtables lock and reject the option), a fixed
 * environment, a time bound after which the child is SIGKILLed, and a bound on the bytes read.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { SentinelError } from '../errors/index.js';
import type { AddressFamily } from '../ipvs/types.js';
import { SaveParser } from './save-parser.js';
import type { IptablesBackend, IptablesDump, SaveParserLimits, SaveResult, SaveTool } from './types.js';

export interface RunSaveOptions {
  /** Where the tools are (default /usr/sbin, where Debian's `iptables` package puts them); tests point it at stand-ins. */
  binDir?: string;
  /** Default 10 s; then SIGKILL (the tool holds no lock and writes nothing, so killing it is safe). */
  timeoutMs?: number;
  /** Bytes of stdout read before the child is killed (default 256 MiB: 10^5 rules are ~20 MB). */
  maxOutputBytes?: number;
  /** Bytes of stderr kept (default 16 KiB). */
  maxStderrBytes?: number;
  limits?: SaveParserLimits;
  /** Kills the child when aborted (agent shutdown). */
  signal?: AbortSignal;
}

const DEFAULTS = { binDir: '/usr/sbin', timeoutMs: 10_000, maxOutputBytes: 256 * 1024 * 1024, maxStderrBytes: 16 * 1024 };
// A fixed PATH and the C locale: the messages matched below come untranslated (libxtables prints through
// strerror), and nothing in the agent's environment (XTABLES_LIBDIR, a PATH with another modprobe) reaches the tool.
const CHILD_ENV = { LC_ALL: 'C', PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };
const MAX_WARNING_LINES = 20;

const TOOLS: Readonly<Record<IptablesBackend, Readonly<Record<AddressFamily, SaveTool>>>> = {
  legacy: { inet: 'iptables-legacy-save', inet6: 'ip6tables-legacy-save' },
  nft: { inet: 'iptables-nft-save', inet6: 'ip6tables-nft-save' },
};

/** The tool for a backend and family, by its explicit name: the container's `iptables-save` alternative says nothing about the host. */
export function saveTool(backend: IptablesBackend, family: AddressFamily): SaveTool {
  return TOOLS[backend][family];
}

function backendOf(tool: SaveTool): IptablesBackend {
  return tool.includes('-legacy-') ? 'legacy' : 'nft';
}

function argsFor(tool: SaveTool): string[] {
  // Never `-t`: iptables-legacy-save -t <table> instantiates that table and loads iptable_<table>
  // (net/ipv4/netfilter/ip_tables.c get_info → try_then_request_module); without it the tool only lists
  // /proc/net/ip_tables_names (iptables/iptables-save.c for_each_table). `-M /bin/false`: should a table
  // still fail to open, do_output's xtables_load_ko() runs /bin/false instead of modprobe. Never `-w`: the
  // save tools' getopt string ("bcdt:M:f:V") has none and they never call xtables_lock (iptables/iptables-save.c).
  return backendOf(tool) === 'legacy' ? ['-M', '/bin/false'] : [];
}

function capabilitiesFor(tool: SaveTool): string {
  // libiptc opens socket(AF_INET, SOCK_RAW, IPPROTO_RAW) and the kernel checks CAP_NET_ADMIN in do_ipt_get_ctl;
  // nf_tables dumps pass nfnetlink_rcv's netlink_net_capable(CAP_NET_ADMIN) (net/netfilter/nfnetlink.c).
  return backendOf(tool) === 'legacy' ? 'CAP_NET_ADMIN and CAP_NET_RAW' : 'CAP_NET_ADMIN';
}

// Printing a `-m set` match turns the set's kernel index into its name over a raw socket (iptables
// extensions/libxt_set.h get_version: socket(AF_INET, SOCK_RAW, IPPROTO_RAW), exit 1 "Can't open socket to
// ipset."), so both backends need CAP_NET_RAW once a rule matches an ipset — kube-proxy's IPVS rules all do.
const IPSET_SOCKET_REFUSED = /Can't open socket to ipset/;

function errnoOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

function stderrLines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

type Abort = { kind: 'timeout' } | { kind: 'too-large' } | { kind: 'invalid'; error: SentinelError } | { kind: 'aborted' };

/**
 * Run `tool` and parse its output. Resolves with the dump and the stderr warnings of a successful run;
 * rejects with a SentinelError: IPTABLES_UNAVAILABLE (missing binary), IPTABLES_PERMISSION_DENIED,
 * IPTABLES_SAVE_FAILED (exit code, signal, timeout), IPTABLES_SAVE_TOO_LARGE, IPTABLES_DUMP_INVALID.
 */
export function runSave(tool: SaveTool, options: RunSaveOptions = {}): Promise<SaveResult> {
  const binDir = options.binDir ?? DEFAULTS.binDir;
  const timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
  const maxOutputBytes = options.maxOutputBytes ?? DEFAULTS.maxOutputBytes;
  const maxStderrBytes = options.maxStderrBytes ?? DEFAULTS.maxStderrBytes;
  const path = join(binDir, tool);
  const op = `run ${path}`;

  return new Promise<SaveResult>((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new SentinelError('IPTABLES_SAVE_FAILED', op, `${tool} not started: the read was aborted`));
      return;
    }
    const parser = new SaveParser(options.limits);
    const stderr: Buffer[] = [];
    let stderrBytes = 0;
    let stdoutBytes = 0;
    let abort: Abort | null = null;
    let spawnError: unknown = null;
    let settled = false;

    const child = spawn(path, argsFor(tool), { env: CHILD_ENV, stdio: ['ignore', 'pipe', 'pipe'], shell: false });

    const kill = (why: Abort): void => {
      abort ??= why;
      child.kill('SIGKILL');
      // A grandchild holding the pipes must not delay 'close' past the kill.
      child.stdout.destroy();
      child.stderr.destroy();
    };
    const timer = setTimeout(() => kill({ kind: 'timeout' }), timeoutMs);
    const onAbort = (): void => kill({ kind: 'aborted' });
    options.signal?.addEventListener('abort', onAbort, { once: true });

    const settle = (outcome: { result: SaveResult } | { error: SentinelError }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if ('error' in outcome) reject(outcome.error);
      else resolve(outcome.result);
    };

    child.stdout.on('data', (chunk: Buffer) => {
      if (abort) return;
      stdoutBytes += chunk.length;
      if (stdoutBytes > maxOutputBytes) {
        kill({ kind: 'too-large' });
        return;
      }
      try {
        parser.push(chunk);
      } catch (error) {
        kill({ kind: 'invalid', error: error instanceof SentinelError ? error : new SentinelError('INTERNAL', op, String(error), { cause: error }) });
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderrBytes >= maxStderrBytes) return;
      const room = maxStderrBytes - stderrBytes;
      const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
      stderr.push(kept);
      stderrBytes += kept.length;
    });
    child.on('error', (error) => {
      spawnError = error;
      // A spawn failure emits 'error' and may never emit 'close'.
      if (child.pid === undefined) settle({ error: startError(tool, path, op, error) });
    });
    child.on('close', (code, signal) => {
      if (spawnError !== null) {
        settle({ error: startError(tool, path, op, spawnError) });
        return;
      }
      const lines = stderrLines(Buffer.concat(stderr).toString('utf8'));
      const firstProblem = lines.find((l) => !l.startsWith('#')) ?? lines[0] ?? '';
      if (abort) {
        settle({ error: abortError(tool, op, abort, timeoutMs, maxOutputBytes) });
        return;
      }
      if (code !== 0) {
        settle({ error: exitError(tool, op, code, signal, firstProblem) });
        return;
      }
      let dump: IptablesDump;
      try {
        dump = parser.end();
      } catch (error) {
        settle({ error: error instanceof SentinelError ? error : new SentinelError('INTERNAL', op, String(error), { cause: error }) });
        return;
      }
      // iptables-nft-save warns on stderr, exit 0, when legacy tables exist (iptables/nft-shared.c nft_check_xt_legacy).
      const legacyTablesPresent = dump.legacyTablesWarning || lines.some((l) => l.includes('iptables-legacy tables present'));
      settle({ result: { tool, dump, warnings: lines.slice(0, MAX_WARNING_LINES), legacyTablesPresent } });
    });
  });
}

function startError(tool: SaveTool, path: string, op: string, error: unknown): SentinelError {
  const errno = errnoOf(error);
  if (errno === 'ENOENT' || errno === 'EACCES') {
    const what = errno === 'ENOENT' ? 'does not exist' : 'is not executable';
    return new SentinelError('IPTABLES_UNAVAILABLE', op, `${path} ${what}: install the Debian \`iptables\` package (it ships ${tool} and the other *-save tools of both backends)`, { cause: error });
  }
  return new SentinelError('IPTABLES_SAVE_FAILED', op, `${tool} could not be started: ${String(error)}`, { cause: error });
}

function abortError(tool: SaveTool, op: string, abort: Abort, timeoutMs: number, maxOutputBytes: number): SentinelError {
  switch (abort.kind) {
    case 'timeout':
      return new SentinelError('IPTABLES_SAVE_FAILED', op, `${tool} did not finish within ${timeoutMs} ms and was killed`);
    case 'too-large':
      return new SentinelError('IPTABLES_SAVE_TOO_LARGE', op, `${tool} printed more than ${maxOutputBytes} bytes and was killed`);
    case 'aborted':
      return new SentinelError('IPTABLES_SAVE_FAILED', op, `${tool} was killed: the read was aborted`);
    case 'invalid':
      return abort.error;
  }
}

function exitError(tool: SaveTool, op: string, code: number | null, signal: NodeJS.Signals | null, firstLine: string): SentinelError {
  const said = firstLine === '' ? 'nothing on stderr' : `"${firstLine}"`;
  if (code === null) return new SentinelError('IPTABLES_SAVE_FAILED', op, `${tool} was killed by ${signal ?? 'a signal'}: ${said}`);
  // legacy: exit 1 "Cannot initialize: Permission denied (you must be root)"; nft: exit 4 "Could not fetch rule set generation id: Permission denied".
  if (IPSET_SOCKET_REFUSED.test(firstLine)) {
    return new SentinelError('IPTABLES_PERMISSION_DENIED', op, `${tool} exited with code ${code}: ${said}; printing rules that match an ipset (kube-proxy's do) needs CAP_NET_RAW, with either backend`);
  }
  if (/Permission denied|Operation not permitted/.test(firstLine)) {
    return new SentinelError('IPTABLES_PERMISSION_DENIED', op, `${tool} exited with code ${code}: ${said}; it needs ${capabilitiesFor(tool)} in the node's network namespace`);
  }
  const hint = /Protocol not supported/.test(firstLine) ? ' (the kernel has no nf_tables netlink support)' : '';
  return new SentinelError('IPTABLES_SAVE_FAILED', op, `${tool} exited with code ${code}: ${said}${hint}`);
}
