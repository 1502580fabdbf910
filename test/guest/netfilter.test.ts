/**
 * The netfilter checks on the real kernel: node worker-1 of the kubeadm fixture cluster with its
 * IPVS table (program-desired.mjs, as check.test.ts) and kube-proxy's ipsets and iptables chains
 * written by hand from kube-proxy's source (test/guest/netfilter/), restored into the nf_tables
 * backend beside kubelet's hint chains. `ipvs-sentinel check` finds nothing of the netfilter kinds on
 * that node; each difference injected alone gives exactly its finding, and its repair clears it.
 *
 * And the agent changes nothing while it looks: the kernel's on-demand module loading, which the
 * guest's chroot lacks (docs/real-ipvs-guest.md §2), is given back to it here, so a read that asks the
 * kernel for a module really loads it, as on a node — then `serve` polls many times, once on a node
 * where ip_set, nf_tables and the legacy tables are not loaded and once with everything loaded and
 * kube-proxy's chains in both backends, and /proc/modules and the table lists must not move.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { KUBEADM_STATE_JSON, kubeadmStateFiles, REPO_ROOT, runInGuest, type GuestResult, requireOutput } from './harness.js';

interface FindingJson {
  kind: string;
  severity: string;
  expected: Record<string, unknown> | null;
  actual: Record<string, unknown> | null;
  confirmed: boolean;
  message: string;
}
interface DriftJson {
  status: string;
  reason: string | null;
  findings: FindingJson[];
}
interface HealthJson {
  status: string;
  checks: { name: string; ok: boolean; reason: string | null }[];
}

const NETFILTER_KINDS = [
  'ipset-missing',
  'ipset-entry-missing',
  'ipset-entry-unexpected',
  'iptables-chain-missing',
  'iptables-jump-missing',
  'iptables-rule-missing',
  'iptables-backends-both',
  'stale-iptables-mode-rules',
  'stale-nftables-rules',
];

/** How many polls `serve` makes while the node is watched for changes. */
const POLLS = 20;

const NAT_JUMP = 'PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES';

/** Each difference: its name, the commands that inject it, the commands that repair it. */
const INJECTIONS: [string, string, string][] = [
  ['ipset-entry', 'ipset del KUBE-CLUSTER-IP 10.96.0.10,tcp:53', 'ipset add KUBE-CLUSTER-IP 10.96.0.10,tcp:53'],
  ['nat-jump', `iptables-nft -t nat -D ${NAT_JUMP}`, `iptables-nft -t nat -I ${NAT_JUMP.replace(' ', ' 1 ')}`],
  // A node switched from iptables mode: kubelet's chains, iptables mode's, then kube-proxy's IPVS-mode restore.
  // The repair is what kube-proxy --cleanup and a restart amount to: every chain gone, IPVS mode's restored.
  [
    'iptables-mode-leftovers',
    'netfilter_reset_nft && netfilter_restore_chains nft "$NETFILTER_DIR/kubeadm-ipv4-worker-1-iptables-mode.rules"',
    'netfilter_reset_nft && netfilter_restore_chains nft',
  ],
  ['nft-kube-proxy-table', 'nft add table ip kube-proxy', 'nft delete table ip kube-proxy'],
  // The same IPVS-mode chains in the legacy backend as well (kubelet's hint stays in nft).
  ['both-backends', 'netfilter_legacy_modules && netfilter_restore_kube_proxy legacy', 'netfilter_reset_legacy'],
];

/** The fixture as JSON (harness.ts kubeadmStateFiles says why). */
const STATE = `"$JOB/${KUBEADM_STATE_JSON}"`;
const CHECK = `"$NODE" bin/ipvs-sentinel.js check --cluster-state ${STATE} --node-name worker-1 --grace 0s --output json`;

const SCRIPT = `
set -u
. test/guest/netfilter/node.sh
check() { ${CHECK} > "$OUT/$1.json" 2> "$OUT/$1.stderr"; echo $? > "$OUT/$1.code"; }
# snap NAME: the loaded modules and every table list, as they are (nft asked only when nf_tables is loaded).
snap() {
  cat /proc/modules > "$OUT/$1.modules"
  {
    echo "ip_tables_names:"; cat /proc/net/ip_tables_names 2>/dev/null || echo "(absent)"
    echo "ip6_tables_names:"; cat /proc/net/ip6_tables_names 2>/dev/null || echo "(absent)"
    echo "nft:"; if grep -q '^nf_tables ' /proc/modules; then nft list tables; else echo "(nf_tables not loaded)"; fi
  } > "$OUT/$1.tables"
}
A=http://127.0.0.1:9742
polls() { curl -s "$A/metrics" | awk -v s="$1" '$1 == "ipvs_sentinel_read_duration_seconds_count{source=\\"" s "\\"}" {print $2}'; }
# serve_polls NAME: the agent as the DaemonSet runs it, for ${POLLS} polls, its views kept, then SIGTERM.
serve_polls() {
  "$NODE" bin/ipvs-sentinel.js serve --cluster-state ${STATE} --node-name worker-1 \\
    --listen 127.0.0.1:9742 --poll-interval 500ms --grace 0s > "$OUT/$1-agent.log" 2>&1 &
  local agent=$! i
  for i in $(seq 1 600); do [ "$(polls netlink)" -ge ${POLLS} ] 2>/dev/null && break; sleep 0.5; done
  curl -s "$A/healthz?format=json" > "$OUT/$1-healthz.json"
  curl -s "$A/drift" > "$OUT/$1-drift.json"
  curl -s "$A/metrics" > "$OUT/$1-metrics.txt"
  kill -TERM $agent; wait $agent; echo $? > "$OUT/$1-agent.code"
}

# worker-1 as the desired-state golden sees it, with kube-proxy's IPVS modules and sysctls.
. test/guest/worker-1.sh
for i in $(seq 1 300); do curl -s -o /dev/null http://127.0.0.1:10249/proxyMode && break; sleep 0.2; done

# The kernel's own module loading, through a helper that runs the chroot's modprobe: the path is the
# overlay root as test/guest/vm/init.sh mounts it, seen from outside the chroot, where the kernel's helper runs.
printf '#!/bin/busybox sh\\nexec /bin/busybox chroot /root-rw /sbin/modprobe "$@"\\n' > /run/guest-modprobe
chmod +x /run/guest-modprobe
echo /root-rw/run/guest-modprobe > /proc/sys/kernel/modprobe

# ---- a node without ip_set, nf_tables or legacy tables: the agent must load none of them ----
snap bare-before
serve_polls bare
check bare
snap bare-after
# The control: a read that asks the kernel (ipset's list) does load ip_set here.
ipset list -n > /dev/null 2>&1
snap bare-control

# ---- the node as kube-proxy leaves it ----
netfilter_modules
netfilter_load
check clean
${INJECTIONS.map(
  ([name, inject, repair]) => `
{ ${inject}; } || echo "injecting ${name} failed" >&2
check ${name}
{ ${repair}; } || echo "repairing ${name} failed" >&2
check ${name}-repaired`,
).join('\n')}

# ---- everything loaded, kube-proxy's chains in both backends: the agent must change nothing ----
netfilter_restore_kube_proxy legacy
snap loaded-before
serve_polls loaded
snap loaded-after
true
`;

let guest: GuestResult;
const out = (name: string): string => requireOutput(guest, name);
const report = (name: string): DriftJson => JSON.parse(out(`${name}.json`)) as DriftJson;
const netfilterFindings = (r: DriftJson): FindingJson[] => r.findings.filter((f) => NETFILTER_KINDS.includes(f.kind));
const loadedModules = (name: string): string[] =>
  out(`${name}.modules`)
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split(' ')[0] ?? '');
/** Value of a metric sample whose labels include every given pair, or null. */
function metric(text: string, name: string, labels: Record<string, string>): number | null {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return null;
}

beforeAll(async () => {
  if (!existsSync(join(REPO_ROOT, 'dist', 'cli', 'main.js'))) throw new Error('run `npm run build` first: the guest runs dist/');
  guest = await runInGuest({ timeoutMs: 580_000, files: kubeadmStateFiles(), script: SCRIPT });
  if (guest.exitCode !== 0) throw new Error(`guest failed (${guest.exitCode}):\n${guest.stderr}\n${guest.console.slice(-4000)}`);
});

describe('netfilter checks on the real kernel', () => {
  it('find nothing on the node as kube-proxy leaves it (sets, chains and jumps in nf_tables, kubelet\'s hint beside them)', () => {
    const clean = report('clean');
    expect(netfilterFindings(clean), out('clean.stderr')).toEqual([]);
    expect(clean.findings.filter((f) => f.severity !== 'info')).toEqual([]);
    expect(clean.status).toBe('ok');
    expect(out('clean.code').trim()).toBe('0');
  });

  it('find an entry removed from KUBE-CLUSTER-IP: ipset-entry-missing, critical, naming the set and the entry', () => {
    const found = netfilterFindings(report('ipset-entry'));
    expect(found.map((f) => f.kind), JSON.stringify(found, null, 1)).toEqual(['ipset-entry-missing']);
    expect(found[0]).toMatchObject({ severity: 'critical', confirmed: true, expected: { set: 'KUBE-CLUSTER-IP', entry: '10.96.0.10,tcp:53' } });
    expect(found[0]?.message).toContain('KUBE-CLUSTER-IP');
    expect(found[0]?.message).toContain('10.96.0.10,tcp:53');
    expect(report('ipset-entry').status).toBe('drift');
  });

  it('find the nat PREROUTING -> KUBE-SERVICES jump deleted: iptables-jump-missing, naming the chain and its target', () => {
    const found = netfilterFindings(report('nat-jump'));
    expect(found.map((f) => f.kind), JSON.stringify(found, null, 1)).toEqual(['iptables-jump-missing']);
    expect(found[0]).toMatchObject({ confirmed: true, expected: { table: 'nat', chain: 'PREROUTING', jump: 'KUBE-SERVICES' } });
    expect(found[0]?.severity).not.toBe('info');
    expect(found[0]?.message).toContain('PREROUTING');
    expect(found[0]?.message).toContain('KUBE-SERVICES');
    expect(report('nat-jump').status).toBe('drift');
  });

  it('find iptables mode\'s leftovers: stale-iptables-mode-rules only, critical for KUBE-EXTERNAL-SERVICES still jumped to from INPUT with its REJECT', () => {
    const found = netfilterFindings(report('iptables-mode-leftovers'));
    expect(new Set(found.map((f) => f.kind)), JSON.stringify(found, null, 1)).toEqual(new Set(['stale-iptables-mode-rules']));
    const external = found.filter((f) => f.actual?.chain === 'KUBE-EXTERNAL-SERVICES');
    expect(external).toHaveLength(1);
    expect(external[0]).toMatchObject({ severity: 'critical', actual: { table: 'filter', chain: 'KUBE-EXTERNAL-SERVICES' } });
    expect(external[0]?.actual?.jumpedFrom).toContain('INPUT');
    expect(external[0]?.message).toContain('KUBE-EXTERNAL-SERVICES');
    expect(external[0]?.message).toContain('REJECT');
    // The per-Service chains kube-proxy's IPVS restore unhooked are reported too, as mere garbage.
    expect(found.some((f) => f.severity === 'warning' && JSON.stringify(f.actual).includes('KUBE-SVC-'))).toBe(true);
    expect(report('iptables-mode-leftovers').status).toBe('drift');
  });

  it('find an nftables-mode table ip kube-proxy: stale-nftables-rules', () => {
    const found = netfilterFindings(report('nft-kube-proxy-table'));
    expect(found.map((f) => f.kind), JSON.stringify(found, null, 1)).toEqual(['stale-nftables-rules']);
    expect(found[0]).toMatchObject({ severity: 'warning', confirmed: true, actual: { family: 'ip', table: 'kube-proxy' } });
    expect(found[0]?.message).toContain('nft delete table ip kube-proxy');
  });

  it('find IPVS-mode chains in the legacy backend as well as nf_tables: iptables-backends-both, for each family', () => {
    const found = netfilterFindings(report('both-backends'));
    expect(found.map((f) => f.kind), JSON.stringify(found, null, 1)).toEqual(['iptables-backends-both', 'iptables-backends-both']);
    const text = JSON.stringify(found);
    for (const cmd of ['iptables-legacy', 'iptables-nft', 'ip6tables-legacy', 'ip6tables-nft']) expect(text).toContain(cmd);
  });

  it('ran every injection and repair', () => {
    expect(guest.stderr.split('\n').filter((l) => /^(injecting|repairing) .* failed$/.test(l))).toEqual([]);
  });

  it.each(INJECTIONS.map(([name]) => name))('clear once repaired: %s', (name) => {
    const repaired = report(`${name}-repaired`);
    expect(netfilterFindings(repaired), out(`${name}-repaired.stderr`)).toEqual([]);
    expect(repaired.status).toBe('ok');
    expect(out(`${name}-repaired.code`).trim()).toBe('0');
  });
});

describe('the agent changes nothing on the real kernel', () => {
  it(`loads no module and creates no table in ${POLLS} polls on a node without ip_set, nf_tables or legacy tables`, () => {
    expect(loadedModules('bare-before')).not.toContain('ip_set');
    expect(loadedModules('bare-before')).not.toContain('nf_tables');
    expect(loadedModules('bare-before')).not.toContain('ip_tables');
    expect(out('bare-after.modules')).toBe(out('bare-before.modules'));
    expect(out('bare-after.tables')).toBe(out('bare-before.tables'));
    expect(metric(out('bare-metrics.txt'), 'ipvs_sentinel_read_duration_seconds_count', { source: 'ipsets' })).toBeGreaterThanOrEqual(POLLS);
  });

  it('says why the sets are unknown there: the ipsets line fails with the reason, and no read failed', () => {
    const health = JSON.parse(out('bare-healthz.json')) as HealthJson;
    const ipsets = health.checks.find((c) => c.name === 'ipsets');
    expect(ipsets?.ok).toBe(false);
    expect(ipsets?.reason).toMatch(/^ip_set is neither loaded nor built in/);
    // A read refused by the kernel would be an error here, not the gate's reason.
    const m = out('bare-metrics.txt');
    for (const source of ['ipsets', 'netfilter']) expect(metric(m, 'ipvs_sentinel_read_errors_total', { source })).toBeNull();
    const drift = JSON.parse(out('bare-drift.json')) as DriftJson;
    expect(drift.findings.filter((f) => f.kind.startsWith('ipset-'))).toEqual([]);
    expect(out('bare-agent.code').trim()).toBe('0');
    // `check` says the same, and exits 1 for the failed line.
    expect(netfilterFindings(report('bare')).filter((f) => f.kind.startsWith('ipset-'))).toEqual([]);
    expect(out('bare.code').trim()).toBe('1');
  });

  it('would have seen a load: a read that asks the kernel for ip_set loads it in this guest', () => {
    expect(loadedModules('bare-after')).not.toContain('ip_set');
    expect(loadedModules('bare-control')).toContain('ip_set');
  });

  it(`leaves /proc/modules and every table list byte-identical over ${POLLS} polls with ipsets, nf_tables and legacy tables in use`, () => {
    expect(loadedModules('loaded-before')).toEqual(expect.arrayContaining(['ip_set', 'nf_tables', 'iptable_nat', 'ip6table_nat']));
    expect(out('loaded-before.tables')).toMatch(/^nat$/m);
    expect(out('loaded-after.modules')).toBe(out('loaded-before.modules'));
    expect(out('loaded-after.tables')).toBe(out('loaded-before.tables'));
    const m = out('loaded-metrics.txt');
    for (const source of ['ipsets', 'netfilter']) {
      expect(metric(m, 'ipvs_sentinel_read_duration_seconds_count', { source })).toBeGreaterThanOrEqual(POLLS);
      expect(metric(m, 'ipvs_sentinel_read_errors_total', { source })).toBeNull();
    }
    const health = JSON.parse(out('loaded-healthz.json')) as HealthJson;
    expect(health.checks.filter((c) => !c.ok && c.name !== 'drift')).toEqual([]);
    // What it saw there: the two backends, and nothing else of the netfilter kinds.
    const drift = JSON.parse(out('loaded-drift.json')) as DriftJson;
    expect(netfilterFindings(drift).map((f) => f.kind)).toEqual(['iptables-backends-both', 'iptables-backends-both']);
    expect(out('loaded-agent.code').trim()).toBe('0');
  });
});
