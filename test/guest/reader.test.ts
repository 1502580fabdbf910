/**
 * The netlink reader against the real Linux IPVS code: a Debian kernel under QEMU, tables
 * programmed with ipvsadm, and every attribute compared with what ipvsadm itself reports.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runInGuest, type GuestResult, requireOutput } from './harness.js';
import { mergeListings, parseSave } from './ipvsadm.js';

const CLI = 'bin/ipvs-sentinel.js';

interface SnapshotJson {
  node: string | null;
  readAt: string;
  durationMs: number;
  ipvs: { info: { version: string; connTableSize: number }; timeouts: { tcp: number; tcpFin: number; udp: number } };
  services: {
    key: string;
    family: string;
    protocol: string | null;
    address: string | null;
    port: number | null;
    fwmark: number | null;
    scheduler: string;
    persistent: boolean;
    timeout: number;
    netmask: number;
    flags: string[];
    pe: string | null;
    stats: Record<string, number>;
    destinations: {
      address: string;
      port: number;
      forward: string;
      weight: number;
      upperThreshold: number;
      lowerThreshold: number;
      activeConns: number;
      inactiveConns: number;
      persistentConns: number;
      tunnel: { type: string; port: number; flags: string[] } | null;
      stats: Record<string, number>;
    }[];
  }[];
}

let guest: GuestResult;

beforeAll(async () => {
  if (!existsSync(join(REPO_ROOT, 'dist', 'cli', 'main.js'))) throw new Error('run `npm run build` first: the guest runs dist/');
  guest = await runInGuest({
    timeoutMs: 420_000,
    script: `
set -u
guest_node_network
# 1. ip_vs not loaded: the kernel's on-demand loader cannot see the chroot, so IPVS stays absent.
"$NODE" ${CLI} ipvs > "$OUT/unloaded.stdout" 2> "$OUT/unloaded.stderr"; echo $? > "$OUT/unloaded.code"
# 2. The wide table.
source test/guest/tables/wide.sh
"$NODE" ${CLI} ipvs --output json > "$OUT/snapshot.json" 2> "$OUT/snapshot.stderr"; echo $? > "$OUT/snapshot.code"
"$NODE" ${CLI} ipvs > "$OUT/table.txt"
ipvsadm -Sn > "$OUT/save.txt"
ipvsadm -Ln --exact > "$OUT/list.txt"
ipvsadm -Ln --stats --exact > "$OUT/stats.txt"
ipvsadm -Ln --persistent-conn > "$OUT/persistent.txt"
ipvsadm -Ln --thresholds > "$OUT/thresholds.txt"
# 3. Without CAP_NET_ADMIN every IPVS command, reads included, is refused.
setpriv --bounding-set=-net_admin --inh-caps=-net_admin "$NODE" ${CLI} ipvs > "$OUT/noperm.stdout" 2> "$OUT/noperm.stderr"; echo $? > "$OUT/noperm.code"
# 4. Mutate the table while reading it.
( for i in $(seq 1 400); do
    ipvsadm -A -t 10.99.0.$((i % 50 + 1)):80 -s rr 2>/dev/null
    ipvsadm -a -t 10.99.0.$((i % 50 + 1)):80 -r 10.244.9.$((i % 7 + 1)):80 -m 2>/dev/null
    ipvsadm -D -t 10.99.0.$(((i + 25) % 50 + 1)):80 2>/dev/null
  done ) &
MUTATOR=$!
"$NODE" test/guest/mutate-while-reading.mjs 40 > "$OUT/mutation.json"
kill $MUTATOR 2>/dev/null; wait $MUTATOR 2>/dev/null
true
`,
  });
  if (guest.exitCode !== 0) throw new Error(`guest failed (${guest.exitCode}):\n${guest.stderr}\n${guest.console.slice(-4000)}`);
});

const out = (name: string): string => requireOutput(guest, name);

describe('reading the real kernel IPVS table', () => {
  it('reports IPVS unavailable with the modprobe remedy while ip_vs is not loaded', () => {
    expect(out('unloaded.code').trim()).toBe('2');
    expect(out('unloaded.stderr')).toMatch(/^ipvs-sentinel: IPVS_UNAVAILABLE \(resolve IPVS family\): .*modprobe ip_vs/);
    expect(out('unloaded.stderr')).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('reads every virtual and real server exactly as ipvsadm reports them', () => {
    expect(out('snapshot.code').trim()).toBe('0');
    expect(out('snapshot.stderr')).toBe('');
    const snapshot = JSON.parse(out('snapshot.json')) as SnapshotJson;
    const expected = parseSave(out('save.txt'));
    mergeListings(expected, out('list.txt'), out('stats.txt'), out('thresholds.txt'));

    expect(snapshot.services.map((s) => s.key).sort()).toEqual([...expected.keys()].sort());
    expect(snapshot.services.length).toBe(16);
    for (const vs of snapshot.services) {
      const want = expected.get(vs.key);
      if (!want) throw new Error(`unexpected ${vs.key}`);
      expect({ key: vs.key, scheduler: vs.scheduler, persistent: vs.persistent }).toEqual({ key: want.key, scheduler: want.scheduler, persistent: want.persistent });
      if (want.persistent) expect(vs.timeout, vs.key).toBe(want.timeout);
      if (want.netmask !== null) {
        const prefix = want.netmask.includes('.') ? want.netmask.split('.').reduce((n, o) => n + (Number(o).toString(2).match(/1/g)?.length ?? 0), 0) : Number(want.netmask);
        expect(vs.netmask, vs.key).toBe(prefix);
      }
      expect(vs.flags.filter((f) => f !== 'persistent' && f !== 'hashed' && f !== 'one-packet').sort(), vs.key).toEqual([...want.flags].sort());
      expect(vs.flags.includes('one-packet'), vs.key).toBe(want.onePacket);
      expect(vs.flags).toContain('hashed');
      expect(vs.pe, vs.key).toBe(want.pe);
      expect(
        [vs.stats.conns, vs.stats.inPkts, vs.stats.outPkts, vs.stats.inBytes, vs.stats.outBytes],
        `${vs.key} counters`,
      ).toEqual(want.counters);
      expect(vs.destinations.length, vs.key).toBe(want.dests.size);
      for (const rs of vs.destinations) {
        const d = want.dests.get(`${rs.address}|${rs.port}`);
        if (!d) throw new Error(`unexpected destination ${rs.address}:${rs.port} in ${vs.key}`);
        const forward = rs.forward === 'local' ? 'masq' : rs.forward; // ipvsadm -S writes Local as -m
        expect({ forward, weight: rs.weight, u: rs.upperThreshold, l: rs.lowerThreshold, tunnel: rs.tunnel }, `${vs.key} -> ${rs.address}`).toEqual({
          forward: d.forward,
          weight: d.weight,
          u: d.upperThreshold,
          l: d.lowerThreshold,
          tunnel: d.tunnel,
        });
        expect([rs.activeConns, rs.inactiveConns]).toEqual([d.activeConns, d.inactiveConns]);
        expect([rs.stats.conns, rs.stats.inPkts, rs.stats.outPkts, rs.stats.inBytes, rs.stats.outBytes]).toEqual(d.counters);
      }
    }
  });

  it('sees the real traffic through the VIP in its counters', () => {
    const snapshot = JSON.parse(out('snapshot.json')) as SnapshotJson;
    const vip = snapshot.services.find((s) => s.key === 'TCP/10.96.0.50:80');
    expect(vip?.stats.conns).toBe(7);
    expect(vip?.stats.inPkts).toBeGreaterThan(7);
    expect(vip?.stats.inBytes).toBeGreaterThan(0);
    // Kernel 6.1 keeps masq for a destination on a local address (older kernels switched to Local).
    expect(vip?.destinations[0]?.forward).toBe('masq');
    expect(vip?.destinations[0]?.stats.conns).toBe(7);
  });

  it('decodes the global timeouts, the version and the per-family details', () => {
    const snapshot = JSON.parse(out('snapshot.json')) as SnapshotJson;
    expect(snapshot.ipvs.timeouts).toEqual({ tcp: 901, tcpFin: 121, udp: 301 });
    expect(snapshot.ipvs.info.version).toBe('1.2.1');
    const fwm6 = snapshot.services.find((s) => s.key === 'FWM/4097/inet6');
    expect(fwm6).toMatchObject({ family: 'inet6', protocol: null, address: null, port: null, fwmark: 4097 });
    expect(fwm6?.destinations[0]).toMatchObject({ address: 'fd00:244::9', port: 80 });
    const v6 = snapshot.services.find((s) => s.key === 'TCP/[fd00::1]:443');
    expect(v6).toMatchObject({ netmask: 64, timeout: 3600, persistent: true });
    const sctp = snapshot.services.find((s) => s.key === 'SCTP/10.96.0.20:3868');
    expect(sctp?.protocol).toBe('SCTP');
    const persistentList = out('persistent.txt');
    for (const vs of snapshot.services) for (const rs of vs.destinations) expect(rs.persistentConns).toBeGreaterThanOrEqual(0);
    expect(persistentList).toContain('PersistConn');
  });

  it('prints a table listing the same virtual and real servers as ipvsadm -Ln', () => {
    const table = out('table.txt');
    const list = out('list.txt');
    const servers = (text: string): string[] =>
      text
        .split('\n')
        .filter((l) => /^(TCP|UDP|SCTP|FWM)\s/.test(l) || (l.startsWith('  -> ') && !l.includes('RemoteAddress')))
        .map((l) => l.trim().split(/\s+/).slice(0, 2).join(' '));
    expect(servers(table).sort()).toEqual(servers(list).sort());
  });

  it('says CAP_NET_ADMIN is missing when the process lacks it, without a stack trace', () => {
    expect(out('noperm.code').trim()).toBe('2');
    expect(out('noperm.stderr')).toMatch(/^ipvs-sentinel: IPVS_PERMISSION_DENIED .*CAP_NET_ADMIN/);
    expect(out('noperm.stderr').split('\n').filter((l) => l !== '')).toHaveLength(1);
  });

  it('gives a consistent table or a clean retry error while the table is mutated during the dump', () => {
    const results = JSON.parse(out('mutation.json')) as (
      | { ok: true; services: { key: string; dests: string[] }[] }
      | { ok: false; code: string; message: string }
    )[];
    expect(results).toHaveLength(40);
    const stable = JSON.parse(out('snapshot.json')) as SnapshotJson;
    let okCount = 0;
    for (const r of results) {
      if (!r.ok) {
        expect(r.code).toBe('IPVS_DUMP_RETRIES_EXHAUSTED');
        continue;
      }
      okCount++;
      const keys = r.services.map((s) => s.key);
      expect(new Set(keys).size).toBe(keys.length); // no service twice
      for (const s of r.services) expect(new Set(s.dests).size).toBe(s.dests.length);
      // Everything programmed before the mutation is there, unchanged.
      for (const vs of stable.services) {
        const seen = r.services.find((s) => s.key === vs.key);
        expect(seen?.dests.length, vs.key).toBe(vs.destinations.length);
      }
    }
    expect(okCount).toBeGreaterThan(0);
  });
});

