/**
 * `ipvs-sentinel migration` on the real kernel, one boot: worker-1 of the kubeadm fixture programmed as
 * kube-proxy would (IPVS table, kube-ipvs0, ipsets, chains) reads as switchable with changes to review;
 * the same node carrying blockers — a NodePort Service with internalTrafficPolicy: Local and no local
 * endpoint, a foreign virtual server inside excludeCIDRs, a host process listening on a ClusterIP, a
 * non-rr scheduler, tuned IPVS timeouts, strict ARP — gives each finding with its evidence; and once
 * kube-proxy reports nftables mode, what IPVS mode left behind is the leftover finding.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { KUBEADM_STATE_JSON, kubeadmStateFiles, REPO_ROOT, runInGuest, type GuestResult, requireOutput } from './harness.js';

interface ReportJson {
  verdict: string;
  phase: string;
  headline: string;
  summary: { blocker: number; change: number; info: number };
  findings: { id: string; severity: string; evidence: { kind: string; ref: string; value: unknown; detail: string | null }[] }[];
  unknowns: { source: string; reason: string }[];
  kubeProxy: { detectLocalMode: string | null; clusterCIDRs: string[] | null };
}

let guest: GuestResult;

beforeAll(async () => {
  if (!existsSync(join(REPO_ROOT, 'dist', 'cli', 'migration.js'))) throw new Error('run `npm run build` first: the guest runs dist/');
  guest = await runInGuest({
    timeoutMs: 300_000,
    // The fixture as JSON (harness.ts kubeadmStateFiles says why); the blockers' file stays YAML, two documents.
    files: kubeadmStateFiles(),
    script: `
set -u
. test/guest/worker-1-interfaces.sh
modprobe -a nf_conntrack ip_vs ip_vs_rr ip_vs_lc ip_vs_wlc
# What kube-proxy sets at start (strictARP is on in the fake kube-proxy's /configz).
sysctl -qw net.ipv4.vs.conntrack=1 net.ipv4.vs.expire_nodest_conn=1 net.ipv4.vs.expire_quiescent_template=1 net.ipv4.ip_forward=1 net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
echo ipvs > /run/kube-proxy-mode
"$NODE" test/guest/fake-kube-proxy.mjs /run/kube-proxy-mode &
"$NODE" test/guest/program-desired.mjs test/fixtures/golden/desired/kubeadm-ipv4.json "$OUT/table.ipvsadm"
. test/guest/netfilter/node.sh
netfilter_modules
netfilter_load
for i in $(seq 1 300); do curl -s -o /dev/null http://127.0.0.1:10249/proxyMode && break; sleep 0.2; done

run() { name=$1; shift; "$NODE" bin/ipvs-sentinel.js migration --node-name worker-1 "$@" > "$OUT/$name.out" 2> "$OUT/$name.stderr"; echo $? > "$OUT/$name.code"; }
run clean --cluster-state "$JOB/${KUBEADM_STATE_JSON}" --output json
# shop/storefront (externalTrafficPolicy: Local) has its endpoints on worker-2 only: graded by the target.
run etp-old --cluster-state "$JOB/${KUBEADM_STATE_JSON}" --target-version v1.33.5 --output json
run etp-fixed --cluster-state "$JOB/${KUBEADM_STATE_JSON}" --target-version v1.33.6 --output json

# The blockers.
(cat test/fixtures/cluster/kubeadm-ipv4.yaml; echo ---; cat test/fixtures/cluster/migration-itp-local.yaml) > "$OUT/blockers.yaml"
ipvsadm -A -t 192.168.56.201:80 -s wlc
ipvsadm -E -t 10.96.77.7:80 -s lc
ipvsadm --set 7200 120 300
"$NODE" -e "require('net').createServer().listen(10153, '10.96.0.10')" &
LISTENER=$!
# 10.96.0.10:10153 in /proc/net/tcp, little endian: 0A00600A:27A9.
for i in $(seq 1 300); do grep -q '0A00600A:27A9' /proc/net/tcp && break; sleep 0.2; done
run blockers --cluster-state "$OUT/blockers.yaml" --output json
run blockers-md --cluster-state "$OUT/blockers.yaml" --output markdown
kill $LISTENER
ipvsadm -D -t 192.168.56.201:80; ipvsadm -E -t 10.96.77.7:80 -s rr; ipvsadm --set 900 120 300

# kube-proxy restarted in nftables mode without its cleanup (no modprobe in its image): everything stays.
echo nftables > /run/kube-proxy-mode
run leftovers --cluster-state "$JOB/${KUBEADM_STATE_JSON}" --output json
true
`,
  });
  if (guest.exitCode !== 0) throw new Error(`guest failed (${guest.exitCode}):\n${guest.stderr}\n${guest.console.slice(-4000)}`);
});

const out = (name: string): string => requireOutput(guest, name);
const report = (name: string): ReportJson => JSON.parse(out(`${name}.out`)) as ReportJson;
const finding = (r: ReportJson, id: string): ReportJson['findings'][number] => {
  const f = r.findings.find((x) => x.id === id);
  if (!f) throw new Error(`no ${id} in ${JSON.stringify(r.findings.map((x) => x.id))}`);
  return f;
};

describe('migration on the real kernel', () => {
  it('a node programmed as kube-proxy would: no blocker, nothing unread, exit 0 — NodePorts on docker0 and cni0 are the change to review', () => {
    const r = report('clean');
    expect(out('clean.code').trim(), out('clean.stderr')).toBe('0');
    expect(r.phase).toBe('pre-switch');
    expect(r.unknowns).toEqual([]);
    expect(r.summary.blocker).toBe(0);
    expect(r.verdict).toBe('ready-with-changes');
    expect(finding(r, 'nodeport-addresses-narrowed').evidence.map((e) => e.ref)).toEqual(['nodePortAddresses', 'cni0 10.244.1.1', 'docker0 172.17.0.1']);
  });

  it('the fake kube-proxy\'s cluster CIDR is a local-traffic detector: etp-local-fallback is graded by the version alone', () => {
    const clean = report('clean');
    expect(clean.kubeProxy).toMatchObject({ detectLocalMode: 'ClusterCIDR', clusterCIDRs: ['10.244.0.0/16'] });
    expect(clean.findings.map((f) => f.id)).not.toContain('local-detector-missing');
    // No kubernetes_build_info here and no --target-version: unknown, so a change to review.
    expect(finding(clean, 'etp-local-fallback')).toMatchObject({ severity: 'change', evidence: expect.arrayContaining([expect.objectContaining({ ref: 'kube-proxy version', value: null })]) as unknown });
    const old = report('etp-old');
    expect(out('etp-old.code').trim(), out('etp-old.stderr')).toBe('1');
    expect(finding(old, 'etp-local-fallback').severity).toBe('blocker');
    expect(old.findings.filter((f) => f.severity === 'blocker').map((f) => f.id)).toEqual(['etp-local-fallback']);
    const fixed = report('etp-fixed');
    expect(out('etp-fixed.code').trim(), out('etp-fixed.stderr')).toBe('0');
    expect(finding(fixed, 'etp-local-fallback').severity).toBe('info');
  });

  it('a node carrying blockers: each finding with its evidence, exit 1', () => {
    const r = report('blockers');
    expect(out('blockers.code').trim(), out('blockers.stderr')).toBe('1');
    expect(r.verdict).toBe('blocked');
    expect(r.headline).toMatch(/^BLOCKED: node worker-1 cannot switch to nftables mode now/);
    expect(finding(r, 'itp-local-fallback').evidence[0]).toMatchObject({ ref: 'TCP/10.96.140.20:80', value: { localEndpoints: 0, clusterEndpoints: 1 } });
    expect(finding(r, 'foreign-ipvs-virtual-server').evidence).toEqual([{ kind: 'virtual-server', ref: 'TCP/192.168.56.201:80', value: { scheduler: 'wlc', realServers: 0 }, detail: 'inside ipvs.excludeCIDRs 192.168.56.200/29' }]);
    expect(finding(r, 'vip-bound-socket').evidence).toEqual([expect.objectContaining({ kind: 'socket', ref: 'TCP 10.96.0.10:10153', detail: expect.stringContaining('kube-system/kube-dns') as string })]);
    expect(finding(r, 'ipvs-scheduler-not-rr').evidence.find((e) => e.ref === 'schedulers in use')?.value).toMatchObject({ lc: 1, wlc: 1 });
    expect(finding(r, 'ipvs-timeouts-tuned').evidence).toEqual([{ kind: 'kernel', ref: 'IPVS tcp timeout', value: 7200, detail: 'kernel default 900 s' }]);
    expect(finding(r, 'strict-arp-configured').evidence.map((e) => [e.ref, e.value])).toEqual([['ipvs.strictARP', true], ['net.ipv4.conf.all.arp_ignore', 1], ['net.ipv4.conf.all.arp_announce', 2]]);
    expect(out('blockers-md.out')).toContain('### blocker: `itp-local-fallback`');
  });

  it('after a switch without cleanup: ipvs-leftovers-after-switch with the table, kube-ipvs0, the ipsets and the chains', () => {
    const r = report('leftovers');
    expect(out('leftovers.code').trim(), out('leftovers.stderr')).toBe('1');
    expect(r.phase).toBe('post-switch');
    expect(r.findings.map((f) => f.id)).toEqual(['ipvs-leftovers-after-switch']);
    const kinds = new Set(finding(r, 'ipvs-leftovers-after-switch').evidence.map((e) => e.kind));
    expect([...kinds].sort()).toEqual(['interface', 'ipset', 'iptables-chain', 'virtual-server']);
  });
});
