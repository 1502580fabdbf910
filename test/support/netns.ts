/**
 * Native tests on this machine's own kernel in a throw-away network namespace: `unshare -n` (root
 * only) gives a namespace with no sets and no tables, a setup script fills it with the real ipset /
 * nft / iptables-nft tools, and test/support/netfilter-child.ts reads it with our readers from a
 * child Node process inside the namespace. Everything vanishes with the namespace.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../guest/harness.js';
import type { ChildOutput, ChildRequest } from './netfilter-child.js';

const TOOLS = ['unshare', 'ipset', 'nft', 'iptables-nft', 'setpriv'];

/** Why native netfilter tests cannot run here, or null when they can. */
export function netnsUnavailable(): string | null {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root (unshare -n needs CAP_SYS_ADMIN; CI runs as root)';
  for (const tool of TOOLS) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed (scripts/ensure-deps.sh installs ipset, nftables, iptables, util-linux)`;
  }
  const probe = spawnSync('unshare', ['-n', 'sh', '-c', 'ipset list -n && nft list tables'], { encoding: 'utf8' });
  if (probe.status !== 0) return `unshare -n with ipset and nftables failed: ${(probe.stderr || probe.error?.message || '').trim()}`;
  return null;
}

export interface NetnsRun {
  /** Shell run as root inside the namespace before the reader starts ($RESTORE is the restore file). */
  setup: string;
  /** `ipset restore` input, written to a file the setup can read as $RESTORE. */
  restore?: string;
  /** Prefix for the reader process, e.g. ['setpriv', '--bounding-set=-net_admin']. */
  wrap?: string[];
  request: ChildRequest;
}

export function runInNetns(run: NetnsRun): ChildOutput {
  const dir = mkdtempSync(join(tmpdir(), 'ipvs-sentinel-netns-'));
  try {
    const restore = join(dir, 'restore');
    writeFileSync(restore, run.restore ?? '');
    const reader = [...(run.wrap ?? []), process.execPath, '--import', 'tsx', join(REPO_ROOT, 'test', 'support', 'netfilter-child.ts'), JSON.stringify(run.request)];
    const quoted = reader.map((w) => `'${w.replaceAll("'", "'\\''")}'`).join(' ');
    const stdout = execFileSync('unshare', ['-n', 'sh', '-euc', `${run.setup}\nexec ${quoted}`], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: { ...process.env, RESTORE: restore, XTABLES_LOCKFILE: join(dir, 'xtables.lock') },
      maxBuffer: 512 * 1024 * 1024,
    });
    return JSON.parse(stdout) as ChildOutput;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
