/**
 * The iptables reader on this machine's real kernel and the real Debian tools, each scenario in a
 * throw-away network namespace (`unshare -n`): the fixture rulesets are restored into the legacy and/or
 * nft backend, then native-entry.ts reads 20 times. Asserts the model, the backend decision, and that
 * reading changes nothing: /proc/net/ip{,6}_tables_names and the nft table list are the same after the
 * reads, and a namespace without legacy tables still has none.
 * This kernel has netfilter built in, so a module load cannot be observed here; the real-kernel guest
 * (Debian modules, nothing autoloaded) is where that is proven.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../guest/harness.js';
import { FIXTURES } from './dump-json.js';

const run = promisify(execFile);

/** Why the native scenarios cannot run here, or null. CI runs as root with ensure-deps' packages. */
function unavailable(): string | null {
  if (spawnSync('unshare', ['-n', 'true']).status !== 0) return 'cannot create a network namespace (`unshare -n` needs root)';
  const tools = ['/usr/sbin/iptables-legacy-restore', '/usr/sbin/iptables-nft-restore', '/usr/sbin/ipset', '/usr/sbin/nft', '/usr/bin/setpriv'];
  const missing = tools.filter((t) => !existsSync(t));
  if (missing.length > 0) return `missing ${missing.join(', ')}: install the Debian iptables, ipset and nftables packages`;
  return null;
}

interface Outcome {
  before: { legacy: { inet: string; inet6: string }; nft: { family: string; name: string }[] };
  after: Outcome['before'];
  legacyTableNames: { inet: string[] | null; inet6: string[] | null };
  reads: Record<'legacy' | 'nft', Record<'inet' | 'inet6', { state: string; code?: string; message?: string; legacyTablesPresent?: boolean; model?: { tables: Record<string, { chains: { name: string }[] }> } }>>;
  decision: { expected: string; reason: string; ipvsChains: { legacy: boolean; nft: boolean }; uncertain: boolean; legacyInstantiatedButUnused: boolean };
}

const lockDir = mkdtempSync(join(tmpdir(), 'iptables-native-'));
afterAll(() => rmSync(lockDir, { recursive: true, force: true }));

/** Restore `steps` ("legacy:kubelet.rules" …) in a new network namespace, then read there (optionally without CAP_NET_RAW). */
async function scenario(steps: string[], options: { dropNetRaw?: boolean } = {}): Promise<Outcome> {
  const load = steps.map((step) => {
    const [backend, file] = step.split(':') as [string, string];
    const family = file.includes('6') ? 'ip6tables' : 'iptables';
    return `${family}-${backend}-restore --noflush < ${FIXTURES}/${file}`;
  });
  const node = `${options.dropNetRaw ? 'setpriv --inh-caps=-net_raw --bounding-set=-net_raw ' : ''}${process.execPath} --import tsx test/unit/iptables/native-entry.ts 20`;
  const script = [`ipset restore -exist < ${FIXTURES}/ipvs-mode.sets`, ...load, `exec ${node}`].join('\n');
  // Restores take the xtables lock: a private lock file keeps them off the host's /run/xtables.lock.
  const { stdout } = await run('unshare', ['-n', 'sh', '-euc', script], { cwd: REPO_ROOT, env: { ...process.env, XTABLES_LOCKFILE: join(lockDir, 'xtables.lock') }, timeout: 120_000 });
  return JSON.parse(stdout) as Outcome;
}

function expectUnchanged(outcome: Outcome): void {
  expect(outcome.after).toEqual(outcome.before);
}

const tablesOf = (read: Outcome['reads']['legacy']['inet']): string[] => Object.keys(read.model?.tables ?? {}).sort();
const skip = unavailable();

describe.skipIf(skip !== null)(`iptables reader in a network namespace of this kernel${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('legacy only: reads both families with iptables-legacy-save, decides legacy, creates no nft table', async () => {
    const o = await scenario(['legacy:kubelet.rules', 'legacy:ipvs-mode.rules', 'legacy:kubelet6.rules', 'legacy:ipvs-mode6.rules']);
    expectUnchanged(o);
    expect(o.before.nft).toEqual([]);
    expect(o.legacyTableNames.inet?.sort()).toEqual(['filter', 'mangle', 'nat']);
    expect(o.reads.legacy.inet.state).toBe('read');
    expect(tablesOf(o.reads.legacy.inet6)).toEqual(['filter', 'mangle', 'nat']);
    expect(o.reads.nft.inet.state).toBe('absent');
    expect(o.decision).toMatchObject({ expected: 'legacy', reason: 'kubelet-hint-legacy', ipvsChains: { legacy: true, nft: false }, uncertain: false });
  }, 120_000);

  it('nft only: reads with iptables-nft-save, decides nft, and no legacy table appears', async () => {
    const o = await scenario(['nft:kubelet.rules', 'nft:ipvs-mode.rules', 'nft:kubelet6.rules', 'nft:ipvs-mode6.rules']);
    expectUnchanged(o);
    expect(o.after.legacy).toEqual({ inet: '', inet6: '' });
    expect(o.reads.legacy.inet).toMatchObject({ state: 'absent' });
    expect(o.reads.nft.inet).toMatchObject({ state: 'read', legacyTablesPresent: false });
    expect(o.reads.nft.inet.model?.tables.nat?.chains.map((c) => c.name)).toContain('KUBE-LOAD-BALANCER');
    expect(o.decision).toMatchObject({ expected: 'nft', reason: 'kubelet-hint-nft', ipvsChains: { legacy: false, nft: true } });
  }, 120_000);

  it('both: the IPVS chains in both backends (the caller reports iptables-backends-both), nft-save warns of the legacy tables', async () => {
    const o = await scenario(['nft:kubelet.rules', 'nft:ipvs-mode.rules', 'legacy:iptables-mode-leftovers.rules', 'legacy:ipvs-mode.rules']);
    expectUnchanged(o);
    expect(o.reads.nft.inet).toMatchObject({ state: 'read', legacyTablesPresent: true });
    expect(o.reads.legacy.inet.model?.tables.filter?.chains.map((c) => c.name)).toContain('KUBE-EXTERNAL-SERVICES');
    expect(o.decision).toMatchObject({ expected: 'nft', reason: 'kubelet-hint-nft', ipvsChains: { legacy: true, nft: true } });
  }, 120_000);

  it('nothing loaded: no tool runs and nothing is created, legacy or nft', async () => {
    const o = await scenario([]);
    expectUnchanged(o);
    expect(o.after).toEqual({ legacy: { inet: '', inet6: '' }, nft: [] });
    for (const backend of ['legacy', 'nft'] as const) for (const family of ['inet', 'inet6'] as const) expect(o.reads[backend][family].state).toBe('absent');
  }, 120_000);

  it('without CAP_NET_RAW: legacy is refused; nft too once a rule matches an ipset (libxt_set needs a raw socket), not before', async () => {
    const o = await scenario(['legacy:ipvs-mode.rules', 'nft:kubelet.rules', 'nft:kubelet6.rules', 'nft:ipvs-mode6.rules'], { dropNetRaw: true });
    expectUnchanged(o);
    expect(o.reads.legacy.inet).toMatchObject({ state: 'failed', code: 'IPTABLES_PERMISSION_DENIED' });
    expect(o.reads.legacy.inet.message).toMatch(/Permission denied.*CAP_NET_ADMIN and CAP_NET_RAW/);
    // IPv4 nft holds kubelet's chains only: read. IPv6 nft holds kube-proxy's -m set rules: refused.
    expect(o.reads.nft.inet.state).toBe('read');
    expect(o.reads.nft.inet6).toMatchObject({ state: 'failed', code: 'IPTABLES_PERMISSION_DENIED' });
    expect(o.reads.nft.inet6.message).toMatch(/Can't open socket to ipset.*needs CAP_NET_RAW, with either backend/);
    expect(o.decision).toMatchObject({ expected: 'nft', reason: 'kubelet-hint-nft', uncertain: true });
  }, 120_000);
});
