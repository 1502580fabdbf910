/**
 * The container image against the real Linux IPVS code: scripts/image-build.sh builds the
 * Dockerfile for real (buildah, chroot isolation) and leaves the image mounted; the real-IPVS guest
 * sees that mount through its 9p view of this machine's root and chroots into it, so the image's
 * own node, libnl and agent run against a real kernel, with the capabilities the DaemonSet grants
 * (uid 0, bounding set NET_ADMIN only, no_new_privs) and /lib/modules mounted as the manifest does.
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

let container: string | null = null;
let guest: GuestResult;
let buildLog = '';

const GUEST_SCRIPT = `
set -u
R="$IMAGE_ROOT"
guest_node_network
# The container's view: the image's root, the host's /proc, /sys, /dev, /lib/modules read-only.
mount -t proc proc "$R/proc"
mount --rbind /sys "$R/sys"
mount --rbind /dev "$R/dev"
mkdir -p "$R/lib/modules"
mount --bind /lib/modules "$R/lib/modules"
mount -o remount,bind,ro "$R/lib/modules"
# As the DaemonSet runs it: the image's environment, uid 0, only CAP_NET_ADMIN, no_new_privs.
in_image() { chroot "$R" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin NODE_ENV=production "$@"; }
as_pod() { in_image setpriv --bounding-set=-all,+net_admin --inh-caps=-all --no-new-privs "$@"; }
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
  guest = await runInGuest({ timeoutMs: 300_000, script: GUEST_SCRIPT, env: { IMAGE_ROOT: mountPoint } });
  if (guest.exitCode !== 0) throw new Error(`guest failed (${guest.exitCode}):\n${guest.stderr}\n${guest.console.slice(-4000)}`);
});

afterAll(() => {
  if (container) execFileSync('buildah', ['rm', container], { stdio: 'ignore' });
});

const out = (name: string): string => requireOutput(guest, name);

describe.skipIf(!enabled)('the container image on a real IPVS kernel', () => {
  it('was built from the Dockerfile and runs its own Node 24 through the ipvs-sentinel entrypoint', () => {
    expect(buildLog).toMatch(/in the image: ipvs-sentinel --help/);
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

  it('reads the real IPVS table with CAP_NET_ADMIN as its only capability', () => {
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
