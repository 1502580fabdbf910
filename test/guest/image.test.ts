/**
 * The container image against the real Linux IPVS code: scripts/image-build.sh builds the
 * Dockerfile for real (buildah, chroot isolation) and leaves the image mounted; the real-IPVS guest
 * sees that mount through its 9p view of this machine's root and chroots into it, so the image's
 * own node, libnl, iptables tools and agent run against a real kernel, as the DaemonSet runs them:
 * uid 0, bounding set NET_ADMIN and NET_RAW only, no_new_privs, a read-only root, and /lib/modules
 * mounted read-only. With kube-proxy-like netfilter state loaded (its ipsets, its IPVS-mode rules in
 * iptables-nft, a stale copy of one of its chains in a legacy table), the image's *-save tools and
 * the agent's own reads (test/guest/image-reads.mjs) must work with exactly those two capabilities,
 * and be refused with a clear permission error when either is missing.
 *
 * Cold (no stand-in bases cached) the build takes about 3 minutes here, warm well under one.
 * IPVS_SENTINEL_IMAGE_TEST=0 skips it.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runInGuest, type GuestResult, requireOutput } from './harness.js';

const run = promisify(execFile);
const enabled = process.env.IPVS_SENTINEL_IMAGE_TEST !== '0';

interface ModulesJson {
  release: string;
  modules: { name: string; loaded: boolean; builtin: boolean | null; required: boolean; reason: string }[];
}
interface SnapshotJson {
  services: { key: string; scheduler: string; destinations: { address: string; port: number; forward: string; weight: number }[] }[];
}
interface Refused {
  ok: false;
  code: string | null;
  line: string;
}
type BackendRead = { state: 'absent' } | { state: 'failed'; code: string; line: string } | { state: 'read'; tool: string; tables: string[]; sets: string[] };
/** What test/guest/image-reads.mjs prints. */
interface ReadsJson {
  ipsets: { ok: true; names: string[]; clusterIp: string[] | null } | Refused;
  nftTables: { ok: true; tables: { family: string | number; name: string; use: number }[] } | Refused;
  iptables: { legacy: Record<'inet' | 'inet6', BackendRead>; nft: Record<'inet' | 'inet6', BackendRead>; expected: string; reason: string };
}

/** kube-proxy's sets as the guest loads them (the reviewed fixture its IPVS-mode rules were written against). */
const FIXTURES = 'test/fixtures/iptables';
const FIXTURE_SETS = readFileSync(join(REPO_ROOT, FIXTURES, 'ipvs-mode.sets'), 'utf8');
const SET_NAMES = [...FIXTURE_SETS.matchAll(/^create (\S+) /gm)].map((m) => m[1] ?? '');
const CLUSTER_IP_ENTRIES = [...FIXTURE_SETS.matchAll(/^add KUBE-CLUSTER-IP (\S+)$/gm)].map((m) => m[1] ?? '');
/** The capabilities each netfilter read runs with, as setpriv bounding-set additions: the DaemonSet's, and each one missing. */
const CAPS = { pod: ',+net_admin,+net_raw', noraw: ',+net_admin', noadmin: ',+net_raw' } as const;
type CapSet = keyof typeof CAPS;

let container: string | null = null;
let guest: GuestResult;
let buildLog = '';

const GUEST_SCRIPT = `
set -u
R="$IMAGE_ROOT"
guest_node_network
# The container's view: the image's root read-only (readOnlyRootFilesystem: nothing, not even
# /run/xtables.lock, can be created), the host's /proc, /sys, /dev, and /lib/modules read-only.
mkdir -p "$R/lib/modules"
mount --bind "$R" "$R"
mount -o remount,bind,ro "$R"
mount -t proc proc "$R/proc"
mount --rbind /sys "$R/sys"
mount --rbind /dev "$R/dev"
mount --bind /lib/modules "$R/lib/modules"
mount -o remount,bind,ro "$R/lib/modules"
# As the DaemonSet runs it: the image's environment, uid 0, only CAP_NET_ADMIN and CAP_NET_RAW, no_new_privs.
in_image() { chroot "$R" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin NODE_ENV=production "$@"; }
with_caps() { local caps=$1; shift; in_image setpriv --bounding-set=-all$caps --inh-caps=-all --no-new-privs "$@"; }
as_pod() { with_caps '${CAPS.pod}' "$@"; }
in_image node --version > "$OUT/node-version"
in_image readlink -f /usr/local/bin/ipvs-sentinel > "$OUT/entrypoint"
uname -r > "$OUT/release"

# Node starts slowly under emulation (every module file comes over 9p): independent runs go in parallel.
as_pod ipvs-sentinel ipvs > "$OUT/unloaded.stdout" 2> "$OUT/unloaded.stderr" &
P1=$!
as_pod ipvs-sentinel modules --proc-root /proc --modules-dir /lib/modules --output json > "$OUT/modules-before.json" 2> "$OUT/modules-before.stderr" &
P2=$!
wait $P1; echo $? > "$OUT/unloaded.code"
wait $P2; echo $? > "$OUT/modules-before.code"

modprobe -a ip_vs ip_vs_rr nf_conntrack
ipvsadm -A -t 10.96.0.1:443 -s rr
ipvsadm -a -t 10.96.0.1:443 -r 10.244.0.5:6443 -m -w 1
ipvsadm -A -u 10.96.0.10:53 -s rr
ipvsadm -a -u 10.96.0.10:53 -r 10.244.1.7:53 -m -w 1
ipvsadm -a -u 10.96.0.10:53 -r 10.244.2.9:53 -m -w 0
ipvsadm -Sn > "$OUT/save.txt"

as_pod ipvs-sentinel ipvs --output json > "$OUT/ipvs.json" 2> "$OUT/ipvs.stderr" &
P1=$!
as_pod ipvs-sentinel modules --proc-root /proc --modules-dir /lib/modules --output json > "$OUT/modules.json" 2> "$OUT/modules.stderr" &
P2=$!
as_pod ipvs-sentinel modules --proc-root /proc --modules-dir /lib/modules > "$OUT/modules.txt" 2>&1 &
P4=$!
# Without CAP_NET_ADMIN even reading the table is refused: why the manifest adds it.
in_image setpriv --bounding-set=-all --inh-caps=-all --no-new-privs ipvs-sentinel ipvs > "$OUT/noperm.stdout" 2> "$OUT/noperm.stderr" &
P3=$!
wait $P1; echo $? > "$OUT/ipvs.code"
wait $P2; echo $? > "$OUT/modules.code"
wait $P3; echo $? > "$OUT/noperm.code"
wait $P4

# kube-proxy's netfilter state, every module by hand (nothing autoloads in the guest): its ipsets,
# kubelet's and kube-proxy's IPVS-mode rules in iptables-nft (the backend kubelet's hint names), and a
# stale copy of KUBE-IPVS-FILTER in a legacy filter table. iptable_nat is loaded, yet no legacy nat
# table exists: a read with -t nat would make one.
modprobe -a ip_set ip_set_hash_ip ip_set_hash_ipport ip_set_hash_ipportip ip_set_hash_ipportnet ip_set_bitmap_port \\
  nf_tables nft_compat nft_chain_nat xt_set xt_comment xt_addrtype xt_mark xt_conntrack xt_MASQUERADE xt_nat \\
  xt_tcpudp xt_physdev ipt_REJECT ip_tables iptable_filter iptable_nat || echo "netfilter modprobe failed" >&2
ipset restore -exist < ${FIXTURES}/ipvs-mode.sets || echo "ipset restore failed" >&2
iptables-nft-restore --noflush < ${FIXTURES}/kubelet.rules || echo "nft restore of kubelet.rules failed" >&2
iptables-nft-restore --noflush < ${FIXTURES}/ipvs-mode.rules || echo "nft restore of ipvs-mode.rules failed" >&2
printf '%s\\n' '*filter' ':KUBE-IPVS-FILTER - [0:0]' \\
  '-I INPUT 1 -m comment --comment "kubernetes ipvs access filter" -j KUBE-IPVS-FILTER' \\
  '-A KUBE-IPVS-FILTER -m set --match-set KUBE-CLUSTER-IP dst,dst -j RETURN' 'COMMIT' |
  iptables-legacy-restore --noflush || echo "legacy restore failed" >&2
node_state() { cat /proc/net/ip_tables_names; echo --; nft list tables; echo --; awk '{print $1}' /proc/modules | sort; }
node_state > "$OUT/state-before"

# The agent's own reads from the image's dist/, and the image's own save tools: with the DaemonSet's
# two capabilities, and with each one missing.
reads() { with_caps "$2" node --input-type=module < test/guest/image-reads.mjs > "$OUT/reads-$1.json" 2> "$OUT/reads-$1.stderr"; echo $? > "$OUT/reads-$1.code"; }
saves() {
  for tool in iptables-nft-save iptables-legacy-save; do
    with_caps "$2" /usr/sbin/$tool > "$OUT/$tool-$1.stdout" 2> "$OUT/$tool-$1.stderr"; echo $? > "$OUT/$tool-$1.code"
  done
}
reads pod '${CAPS.pod}' &
P5=$!
reads noraw '${CAPS.noraw}' &
P6=$!
reads noadmin '${CAPS.noadmin}' &
P7=$!
saves pod '${CAPS.pod}'
saves noraw '${CAPS.noraw}'
saves noadmin '${CAPS.noadmin}'
as_pod grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb):' /proc/self/status > "$OUT/caps.txt"
as_pod touch /probe 2> "$OUT/rofs.stderr"; echo $? > "$OUT/rofs.code"
# What taking the xtables lock looks like on this root: a list command, which takes it, cannot.
as_pod iptables-legacy -S INPUT > /dev/null 2> "$OUT/lock.stderr"; echo $? > "$OUT/lock.code"
wait $P5 $P6 $P7
node_state > "$OUT/state-after"
true
`;

beforeAll(async () => {
  if (!enabled) return;
  const dir = mkdtempSync(join(tmpdir(), 'ipvs-image-test-'));
  const keep = join(dir, 'mounted');
  try {
    const build = await run('bash', ['scripts/image-build.sh', '--keep-mounted', keep], { cwd: REPO_ROOT, timeout: 540_000, maxBuffer: 32 * 1024 * 1024 });
    buildLog = build.stdout + build.stderr;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`scripts/image-build.sh failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
  const [ctr, mountPoint] = readFileSync(keep, 'utf8').trim().split(' ');
  rmSync(dir, { recursive: true, force: true });
  if (!ctr || !mountPoint) throw new Error(`image-build.sh left no mounted container:\n${buildLog}`);
  container = ctr;
  guest = await runInGuest({ timeoutMs: 360_000, script: GUEST_SCRIPT, env: { IMAGE_ROOT: mountPoint } });
  if (guest.exitCode !== 0) throw new Error(`guest failed (${guest.exitCode}):\n${guest.stderr}\n${guest.console.slice(-4000)}`);
});

afterAll(() => {
  if (container) execFileSync('buildah', ['rm', container], { stdio: 'ignore' });
});

const out = (name: string): string => requireOutput(guest, name);
const reads = (caps: CapSet): ReadsJson => {
  expect(out(`reads-${caps}.stderr`)).toBe('');
  expect(out(`reads-${caps}.code`).trim()).toBe('0');
  return JSON.parse(out(`reads-${caps}.json`)) as ReadsJson;
};
const save = (tool: 'iptables-nft-save' | 'iptables-legacy-save', caps: CapSet): { code: number; stdout: string; stderr: string } => ({
  code: Number(out(`${tool}-${caps}.code`).trim()),
  stdout: out(`${tool}-${caps}.stdout`),
  stderr: out(`${tool}-${caps}.stderr`),
});
const sorted = (list: readonly string[]): string[] => [...list].sort();
/** The code and line of a refused read; null when it was not refused. */
function refusal(read: ReadsJson['ipsets'] | ReadsJson['nftTables'] | BackendRead): { code: string | null; line: string } | null {
  if ('ok' in read) return read.ok ? null : { code: read.code, line: read.line };
  return read.state === 'failed' ? { code: read.code, line: read.line } : null;
}

describe.skipIf(!enabled)('the container image on a real IPVS kernel', () => {
  it('was built from the Dockerfile and runs its own Node 24 through the ipvs-sentinel entrypoint', () => {
    expect(buildLog).toMatch(/in the image: ipvs-sentinel --help/);
    expect(buildLog).toMatch(/iptables-nft-save v1\.8\.\d+ \(nf_tables\): read an empty network namespace/);
    expect(buildLog).toMatch(/image localhost\/ipvs-sentinel:dev: \d+(\.\d+)? MB, \S+ compressed/);
    expect(out('node-version').trim()).toMatch(/^v24\./);
    expect(out('entrypoint').trim()).toBe('/opt/ipvs-sentinel/bin/ipvs-sentinel.js');
  });

  it('reports IPVS unavailable, and ip_vs missing, before the module is loaded', () => {
    expect(out('unloaded.code').trim()).toBe('2');
    expect(out('unloaded.stderr')).toMatch(/^ipvs-sentinel: IPVS_UNAVAILABLE \(resolve IPVS family\): .*modprobe ip_vs/);
    expect(out('modules-before.code').trim()).toBe('1');
    const before = JSON.parse(out('modules-before.json')) as ModulesJson;
    expect(before.modules.find((m) => m.name === 'ip_vs')).toMatchObject({ loaded: false, builtin: false, required: true });
  });

  it('runs with exactly CAP_NET_ADMIN and CAP_NET_RAW, on a read-only root', () => {
    // CAP_NET_ADMIN is bit 12, CAP_NET_RAW bit 13: 0x3000, and nothing inheritable or ambient.
    const caps = Object.fromEntries(out('caps.txt').trim().split('\n').map((l): [string, string] => [l.split(':')[0] ?? '', l.split(/:\s+/)[1] ?? '']));
    expect(caps).toEqual({ CapInh: '0000000000000000', CapPrm: '0000000000003000', CapEff: '0000000000003000', CapBnd: '0000000000003000', CapAmb: '0000000000000000' });
    expect(out('rofs.code').trim()).not.toBe('0');
    expect(out('rofs.stderr')).toMatch(/Read-only file system/);
  });

  it('reads the real IPVS table with the DaemonSet\'s capabilities', () => {
    expect(out('ipvs.stderr')).toBe('');
    expect(out('ipvs.code').trim()).toBe('0');
    const snapshot = JSON.parse(out('ipvs.json')) as SnapshotJson;
    const table = snapshot.services.map((vs) => ({
      key: vs.key,
      scheduler: vs.scheduler,
      destinations: vs.destinations.map((d) => `${d.address}:${d.port} ${d.forward} w${d.weight}`),
    }));
    expect(table).toEqual([
      { key: 'TCP/10.96.0.1:443', scheduler: 'rr', destinations: ['10.244.0.5:6443 masq w1'] },
      { key: 'UDP/10.96.0.10:53', scheduler: 'rr', destinations: ['10.244.1.7:53 masq w1', '10.244.2.9:53 masq w0'] },
    ]);
    expect(out('save.txt')).toContain('-A -t 10.96.0.1:443 -s rr');
  });

  it('is refused the IPVS table without CAP_NET_ADMIN', () => {
    expect(out('noperm.code').trim()).toBe('2');
    expect(out('noperm.stderr')).toMatch(/^ipvs-sentinel: IPVS_PERMISSION_DENIED /);
  });

  it("reads kube-proxy's ipsets and the nftables table list over netlink, with the DaemonSet's capabilities", () => {
    const r = reads('pod');
    if (!r.ipsets.ok || !r.nftTables.ok) throw new Error(JSON.stringify(r));
    expect(sorted(r.ipsets.names)).toEqual(sorted(SET_NAMES));
    expect(SET_NAMES).toHaveLength(34);
    expect(sorted(r.ipsets.clusterIp ?? [])).toEqual(sorted(CLUSTER_IP_ENTRIES));
    expect(sorted(r.nftTables.tables.map((t) => `${t.family} ${t.name}`))).toEqual(['ip filter', 'ip mangle', 'ip nat']);
  });

  it("runs the image's iptables-nft-save and iptables-legacy-save, which print kube-proxy's set matches, with the DaemonSet's capabilities", () => {
    const nft = save('iptables-nft-save', 'pod');
    expect(nft.code).toBe(0);
    expect(nft.stdout).toMatch(/^# Generated by iptables-nft-save v1\.8\.\d+ \(nf_tables\)/m);
    expect(nft.stdout).toContain('-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT');
    expect(nft.stdout).toContain('-A KUBE-POSTROUTING -m comment --comment "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose" -m set --match-set KUBE-LOOP-BACK dst,dst,src -j MASQUERADE');
    // The legacy table is seen from the nft side too, and said on stderr only.
    expect(nft.stderr).toMatch(/iptables-legacy tables present/);
    const legacy = save('iptables-legacy-save', 'pod');
    expect(legacy.stderr).toBe('');
    expect(legacy.code).toBe(0);
    expect([...legacy.stdout.matchAll(/^\*(\w+)$/gm)].map((m) => m[1])).toEqual(['filter']);
    expect(legacy.stdout).toContain('-A KUBE-IPVS-FILTER -m set --match-set KUBE-CLUSTER-IP dst,dst -j RETURN');
  });

  it("reads both backends through the agent's own iptables read, and decides nft from kubelet's hint", () => {
    const { iptables } = reads('pod');
    expect(iptables.legacy.inet).toEqual({ state: 'read', tool: 'iptables-legacy-save', tables: ['filter'], sets: ['KUBE-CLUSTER-IP'] });
    expect(iptables.nft.inet).toMatchObject({ state: 'read', tool: 'iptables-nft-save', tables: ['filter', 'mangle', 'nat'] });
    const nftSets = iptables.nft.inet.state === 'read' ? iptables.nft.inet.sets : [];
    expect(nftSets).toEqual(expect.arrayContaining(['KUBE-CLUSTER-IP', 'KUBE-LOOP-BACK', 'KUBE-IPVS-IPS', 'KUBE-NODE-PORT-TCP']));
    // No IPv6 table in either backend: nothing run for IPv6.
    expect(iptables.legacy.inet6).toEqual({ state: 'absent' });
    expect(iptables.nft.inet6).toEqual({ state: 'absent' });
    expect({ expected: iptables.expected, reason: iptables.reason }).toEqual({ expected: 'nft', reason: 'kubelet-hint-nft' });
  });

  it('takes no xtables lock: the save tools read on a root where the lock file cannot be made', () => {
    // iptables -S takes the lock (xtables_lock in iptables/xshared.c) and stops here; the save tools above never try.
    expect(out('lock.code').trim()).toBe('4');
    expect(out('lock.stderr')).toMatch(/can't open lock file \/run\/xtables\.lock: Read-only file system/);
    expect(save('iptables-legacy-save', 'pod').code).toBe(0);
    expect(save('iptables-nft-save', 'pod').code).toBe(0);
  });

  it('leaves the node as it found it: no legacy table made (iptable_nat is loaded), no nft table, no module', () => {
    expect(out('state-before').split('\n--\n')[0]?.trim()).toBe('filter');
    expect(out('state-after')).toBe(out('state-before'));
  });

  it('without CAP_NET_RAW: both save tools refused with a permission error naming it; ipsets and nft tables still read', () => {
    const nft = save('iptables-nft-save', 'noraw');
    expect(nft.code).toBe(1);
    expect(nft.stderr).toMatch(/Can't open socket to ipset\./);
    const legacy = save('iptables-legacy-save', 'noraw');
    expect(legacy.code).toBe(1);
    expect(legacy.stderr).toMatch(/Cannot initialize: Permission denied \(you must be root\)/);
    const r = reads('noraw');
    const refused = [r.iptables.legacy.inet, r.iptables.nft.inet].map(refusal);
    expect(refused.map((x) => x?.code)).toEqual(['IPTABLES_PERMISSION_DENIED', 'IPTABLES_PERMISSION_DENIED']);
    for (const x of refused) expect(x?.line).toMatch(/CAP_NET_RAW/);
    expect(r.ipsets.ok && sorted(r.ipsets.names)).toEqual(sorted(SET_NAMES));
    expect(r.nftTables.ok).toBe(true);
  });

  it('without CAP_NET_ADMIN: every netfilter read refused with a permission error naming it', () => {
    const nft = save('iptables-nft-save', 'noadmin');
    expect(nft.code).toBe(4);
    expect(nft.stderr).toMatch(/Could not fetch rule set generation id: Permission denied/);
    expect(save('iptables-legacy-save', 'noadmin')).toMatchObject({ code: 1, stdout: '' });
    const r = reads('noadmin');
    const refused = [r.ipsets, r.nftTables, r.iptables.legacy.inet].map(refusal);
    expect(refused.map((x) => x?.code)).toEqual(['IPSET_PERMISSION_DENIED', 'NFTABLES_PERMISSION_DENIED', 'IPTABLES_PERMISSION_DENIED']);
    for (const x of refused) expect(x?.line).toMatch(/CAP_NET_ADMIN/);
  });

  it('checks the kernel modules through the host /proc and the read-only /lib/modules mount', () => {
    expect(out('modules.stderr')).toBe('');
    expect(out('modules.code').trim()).toBe('0');
    const report = JSON.parse(out('modules.json')) as ModulesJson;
    expect(report.release).toBe(out('release').trim());
    const byName = new Map(report.modules.map((m) => [m.name, m]));
    expect(byName.get('ip_vs')).toMatchObject({ loaded: true, builtin: false, required: true });
    expect(byName.get('ip_vs_rr')).toMatchObject({ loaded: true, required: true });
    expect(byName.get('nf_conntrack')).toMatchObject({ loaded: true, required: true });
    // modules.builtin was readable, so no module's built-in state is unknown.
    expect(report.modules.filter((m) => m.builtin === null).map((m) => m.name)).toEqual([]);
    expect(out('modules.txt')).toMatch(/^ip_vs\s+yes\s+yes\s+no\b/m);
  });
});
