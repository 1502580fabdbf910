/**
 * `ipvs-sentinel check` and `modules` on the real kernel: a table programmed exactly as kube-proxy
 * would for the kubeadm fixture cluster (with its ipsets and iptables chains, test/guest/netfilter/)
 * gives status ok; each drift kind injected with ipvsadm, ip or sysctl gives exactly that finding,
 * nothing else. Modules loaded one by one change the module verdict, and an ip_vs reload resetting
 * net.ipv4.vs.conntrack is caught.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { KUBEADM_STATE_JSON, kubeadmStateFiles, REPO_ROOT, runInGuest, type GuestResult, requireOutput } from './harness.js';

interface DriftJson {
  status: string;
  reason: string | null;
  findings: {
    kind: string;
    severity: string;
    virtualServer: string | null;
    realServer: string | null;
    service: { namespace: string; name: string } | null;
    actual?: unknown;
    confirmed: boolean;
    message: string;
  }[];
}

const CHECK_ARGS = '--node-name worker-1 --grace 0s';
/** Scenarios whose table verdict is kept too: a missing real server's row, a real server's mark. */
const TABLE_TOO = ['delete-destination', 'zero-weight'];
/** The table verdict reads the fixture's YAML, as a person would pass it; the JSON verdicts its JSON (harness.ts kubeadmStateFiles says why). */
const CHECK_YAML = `"$NODE" bin/ipvs-sentinel.js check --cluster-state test/fixtures/cluster/kubeadm-ipv4.yaml ${CHECK_ARGS}`;
const CHECK = `"$NODE" bin/ipvs-sentinel.js check --cluster-state "$JOB/${KUBEADM_STATE_JSON}" ${CHECK_ARGS}`;

/** Each scenario: a name, the commands that inject it, the commands that undo it. */
const INJECTIONS: [string, string, string][] = [
  ['delete-destination', 'ipvsadm -d -t 10.96.0.10:53 -r 10.244.1.4:53', 'ipvsadm -a -t 10.96.0.10:53 -r 10.244.1.4:53 -m -w 1'],
  ['stale-destination', 'ipvsadm -a -t 10.96.88.8:80 -r 10.244.2.99:9090 -m -w 1', 'ipvsadm -d -t 10.96.88.8:80 -r 10.244.2.99:9090'],
  // The chroot's kernel cannot autoload schedulers: load wrr by hand first.
  ['scheduler', 'modprobe ip_vs_wrr && ipvsadm -E -t 10.96.77.7:80 -s wrr', 'ipvsadm -E -t 10.96.77.7:80 -s rr'],
  ['drop-persistence', 'ipvsadm -E -t 10.96.33.3:8080 -s rr', 'ipvsadm -E -t 10.96.33.3:8080 -s rr -p 3600'],
  ['zero-weight', 'ipvsadm -e -t 10.96.0.1:443 -r 192.168.56.10:6443 -m -w 0', 'ipvsadm -e -t 10.96.0.1:443 -r 192.168.56.10:6443 -m -w 1'],
  ['delete-virtual-server', 'ipvsadm -D -t 10.96.120.15:80', 'ipvsadm -A -t 10.96.120.15:80 -s rr && ipvsadm -a -t 10.96.120.15:80 -r 10.244.1.21:8080 -m -w 1'],
  ['deleted-service-left-behind', 'ipvsadm -A -t 10.96.200.1:80 -s rr && ipvsadm -a -t 10.96.200.1:80 -r 10.244.1.99:80 -m -w 1', 'ipvsadm -D -t 10.96.200.1:80'],
  ['foreign-service', 'ipvsadm -A -f 4097 -s rr', 'ipvsadm -D -f 4097'],
  ['foreign-in-exclude-cidrs', 'ipvsadm -A -t 192.168.56.201:80 -s wlc', 'ipvsadm -D -t 192.168.56.201:80'],
  ['kube-ipvs0-address', 'ip addr del 10.96.33.3/32 dev kube-ipvs0', 'ip addr add 10.96.33.3/32 dev kube-ipvs0'],
  // worker-2's InternalIP on worker-1's kube-ipvs0, as an externalIP equal to it would put it there (kubernetes#127410).
  ['vip-shadows-node-ip', 'ip addr add 192.168.56.12/32 dev kube-ipvs0', 'ip addr del 192.168.56.12/32 dev kube-ipvs0'],
  ['proxy-mode', 'echo iptables > /run/kube-proxy-mode', 'echo ipvs > /run/kube-proxy-mode'],
];

const EXPECTED: Record<string, { kind: string; severity: string; virtualServer?: string | null; realServer?: string | null; service?: string }> = {
  'delete-destination': { kind: 'missing-real-server', severity: 'warning', virtualServer: 'TCP/10.96.0.10:53', realServer: '10.244.1.4:53', service: 'kube-system/kube-dns' },
  'stale-destination': { kind: 'unexpected-real-server', severity: 'warning', virtualServer: 'TCP/10.96.88.8:80', realServer: '10.244.2.99:9090', service: 'shop/catalog' },
  scheduler: { kind: 'scheduler-mismatch', severity: 'warning', virtualServer: 'TCP/10.96.77.7:80', service: 'ingress/ingress-proxy' },
  'drop-persistence': { kind: 'persistence-mismatch', severity: 'warning', virtualServer: 'TCP/10.96.33.3:8080', service: 'shop/cart' },
  'zero-weight': { kind: 'weight-mismatch', severity: 'critical', virtualServer: 'TCP/10.96.0.1:443', realServer: '192.168.56.10:6443', service: 'default/kubernetes' },
  'delete-virtual-server': { kind: 'missing-virtual-server', severity: 'critical', virtualServer: 'TCP/10.96.120.15:80', service: 'shop/web' },
  'deleted-service-left-behind': { kind: 'unexpected-virtual-server', severity: 'warning', virtualServer: 'TCP/10.96.200.1:80' },
  'foreign-service': { kind: 'unexpected-virtual-server', severity: 'warning', virtualServer: 'FWM/4097/inet' },
  'kube-ipvs0-address': { kind: 'kube-ipvs0-address-missing', severity: 'critical' },
  'proxy-mode': { kind: 'proxy-mode-mismatch', severity: 'critical' },
};

let guest: GuestResult;

beforeAll(async () => {
  if (!existsSync(join(REPO_ROOT, 'dist', 'cli', 'main.js'))) throw new Error('run `npm run build` first: the guest runs dist/');
  const scenarios = INJECTIONS.map(
    ([name, inject, undo]) => `
${inject}
${CHECK} --output json > "$OUT/drift-${name}.json" 2> "$OUT/drift-${name}.stderr"; echo $? > "$OUT/drift-${name}.code"
${TABLE_TOO.includes(name) ? `${CHECK} > "$OUT/drift-${name}.txt" 2>&1` : ''}
${undo}`,
  ).join('\n');
  guest = await runInGuest({
    timeoutMs: 540_000,
    files: kubeadmStateFiles(),
    script: `
set -u
# The worker-1 node of the fixture: its interfaces as the desired-state golden assumes them.
. test/guest/worker-1-interfaces.sh

# Modules one by one: the verdict follows.
M='"$NODE" bin/ipvs-sentinel.js modules --output json --scheduler rr'
m() { eval "$M" > "$OUT/modules-$1.json" 2> "$OUT/modules-$1.stderr"; echo $? > "$OUT/modules-$1.code"; }
m none
modprobe nf_conntrack; m conntrack
modprobe ip_vs; m ip_vs
modprobe ip_vs_rr; m ip_vs_rr
"$NODE" bin/ipvs-sentinel.js modules > "$OUT/modules-table.txt"

# What kube-proxy sets at start.
sysctl -qw net.ipv4.vs.conntrack=1 net.ipv4.vs.expire_nodest_conn=1 net.ipv4.vs.expire_quiescent_template=1 net.ipv4.ip_forward=1 net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
echo ipvs > /run/kube-proxy-mode
"$NODE" test/guest/fake-kube-proxy.mjs /run/kube-proxy-mode &
"$NODE" test/guest/program-desired.mjs test/fixtures/golden/desired/kubeadm-ipv4.json "$OUT/table.ipvsadm"
# kube-proxy's ipsets and iptables chains for worker-1, so the netfilter checks see a clean node too
# (after the module steps above: these modules pull in nf_conntrack).
. test/guest/netfilter/node.sh
netfilter_modules
netfilter_load
# Node starts slowly under emulation: wait for the fake kube-proxy's metrics port (a minute at most), or say so.
for i in $(seq 1 300); do curl -s -o /dev/null http://127.0.0.1:10249/proxyMode && break; sleep 0.2; done
curl -s -o /dev/null http://127.0.0.1:10249/proxyMode || echo "fake kube-proxy did not start" >&2

${CHECK_YAML} > "$OUT/clean.txt" 2> "$OUT/clean.stderr"; echo $? > "$OUT/clean.code"
${CHECK} --output json > "$OUT/clean.json"
"$NODE" test/guest/table-base.mjs > "$OUT/table-base.json" 2>&1
${scenarios}

# ip_vs reloaded: its sysctls return to kernel defaults (vs.conntrack=0) while the table is recreated.
ipvsadm -C; modprobe -r $(awk '/^ip_vs_/ {print $1}' /proc/modules) ip_vs; modprobe -a ip_vs ip_vs_rr
cat /proc/sys/net/ipv4/vs/conntrack > "$OUT/conntrack-after-reload"
"$NODE" test/guest/program-desired.mjs test/fixtures/golden/desired/kubeadm-ipv4.json /dev/null 2>/dev/null || ipvsadm -R < "$OUT/table.ipvsadm"
${CHECK} --output json > "$OUT/drift-reload.json"; echo $? > "$OUT/drift-reload.code"
true
`,
  });
  if (guest.exitCode !== 0) throw new Error(`guest failed (${guest.exitCode}):\n${guest.stderr}\n${guest.console.slice(-4000)}`);
});

const out = (name: string): string => requireOutput(guest, name);

describe('check on the real kernel', () => {
  it('says ok, exit 0, for the table kube-proxy would program', () => {
    expect(out('clean.code').trim(), out('clean.txt') + out('clean.stderr')).toBe('0');
    const report = JSON.parse(out('clean.json')) as DriftJson;
    expect(report.status).toBe('ok');
    expect(report.findings.filter((f) => f.severity !== 'info')).toEqual([]);
    expect(out('clean.txt')).toContain('Verdict: OK');
    expect(out('clean.txt')).toMatch(/TCP\s+10\.96\.0\.10:53 rr.*# kube-system\/kube-dns:dns-tcp/);
  });

  it('prints the table the worker thread wrote beside the read, finished with its notes (issue 17)', () => {
    const { services, ...result } = JSON.parse(out('table-base.json')) as { services: number };
    expect(result).toEqual({ base: true, plain: { finished: true, same: true }, annotated: { finished: true, same: true } });
    expect(services).toBeGreaterThan(10);
    // The missing real server's row, and a mark at the end of a real server's line, in the table check printed.
    expect(out('drift-delete-destination.txt')).toMatch(/^ {2}-> 10\.244\.1\.4:53 +\(absent\) +<- missing real server$/m);
    expect(out('drift-delete-destination.txt')).toMatch(/^TCP +10\.96\.0\.10:53 rr .*# kube-system\/kube-dns:dns-tcp$/m);
    expect(out('drift-zero-weight.txt')).toMatch(/^ {2}-> 192\.168\.56\.10:6443 +Masq +0 .* {2}<- weight-mismatch$/m);
  });

  it.each(Object.entries(EXPECTED))('finds exactly the injected drift: %s', (name, want) => {
    const report = JSON.parse(out(`drift-${name}.json`)) as DriftJson;
    const relevant = report.findings.filter((f) => f.severity !== 'info');
    expect(relevant.map((f) => f.kind), JSON.stringify(report.findings, null, 1)).toEqual([want.kind]);
    const f = relevant[0];
    expect(f?.severity).toBe(want.severity);
    expect(f?.confirmed).toBe(true);
    if (want.virtualServer !== undefined) expect(f?.virtualServer).toBe(want.virtualServer);
    if (want.realServer !== undefined) expect(f?.realServer).toBe(want.realServer);
    if (want.service !== undefined) expect(f?.service && `${f.service.namespace}/${f.service.name}`).toBe(want.service);
    expect(f?.message.length).toBeGreaterThan(20);
    expect(report.status).toBe('drift');
    expect(out(`drift-${name}.code`).trim()).toBe('1');
  });

  it('finds another Node\'s address bound to kube-ipvs0: critical vip-shadows-node-ip, besides the unexpected address', () => {
    const report = JSON.parse(out('drift-vip-shadows-node-ip.json')) as DriftJson;
    const relevant = report.findings.filter((f) => f.severity !== 'info');
    expect(relevant.map((f) => f.kind).sort(), JSON.stringify(report.findings, null, 1)).toEqual(['kube-ipvs0-address-unexpected', 'vip-shadows-node-ip']);
    const shadow = relevant.find((f) => f.kind === 'vip-shadows-node-ip');
    expect(shadow).toMatchObject({ severity: 'critical', confirmed: true, service: null, actual: { address: '192.168.56.12', node: 'worker-2', addressType: 'InternalIP' } });
    expect(shadow?.message).toContain('InternalIP of node worker-2');
    expect(report.status).toBe('drift');
    expect(out('drift-vip-shadows-node-ip.code').trim()).toBe('1');
  });

  it('leaves a foreign virtual server inside ipvs.excludeCIDRs alone (no drift)', () => {
    const report = JSON.parse(out('drift-foreign-in-exclude-cidrs.json')) as DriftJson;
    expect(report.status).toBe('ok');
    expect(report.findings.every((f) => f.severity === 'info')).toBe(true);
    expect(out('drift-foreign-in-exclude-cidrs.code').trim()).toBe('0');
  });

  it('catches net.ipv4.vs.conntrack reset to 0 by an ip_vs reload', () => {
    expect(out('conntrack-after-reload').trim()).toBe('0');
    const report = JSON.parse(out('drift-reload.json')) as DriftJson;
    const sysctl = report.findings.filter((f) => f.kind === 'sysctl-mismatch');
    expect(sysctl.length).toBeGreaterThanOrEqual(1);
    expect(sysctl.some((f) => f.severity === 'critical' && f.message.includes('net.ipv4.vs.conntrack'))).toBe(true);
    expect(out('drift-reload.code').trim()).toBe('1');
  });
});

describe('modules on the real kernel', () => {
  const report = (name: string): { modules: { name: string; loaded: boolean; builtin: boolean | null; required: boolean }[] } =>
    JSON.parse(out(`modules-${name}.json`)) as { modules: { name: string; loaded: boolean; builtin: boolean | null; required: boolean }[] };
  const loaded = (name: string, module: string): boolean | undefined => report(name).modules.find((m) => m.name === module)?.loaded;

  it('fails while required modules are missing and passes once they are loaded', () => {
    expect(['none', 'conntrack', 'ip_vs', 'ip_vs_rr'].map((n) => out(`modules-${n}.code`).trim())).toEqual(['1', '1', '1', '0']);
    expect([loaded('none', 'ip_vs'), loaded('none', 'nf_conntrack'), loaded('none', 'ip_vs_rr')]).toEqual([false, false, false]);
    expect([loaded('conntrack', 'nf_conntrack'), loaded('conntrack', 'ip_vs')]).toEqual([true, false]);
    expect([loaded('ip_vs', 'ip_vs'), loaded('ip_vs', 'ip_vs_rr')]).toEqual([true, false]);
    expect(loaded('ip_vs_rr', 'ip_vs_rr')).toBe(true);
    expect(report('ip_vs_rr').modules.filter((m) => m.required).map((m) => m.name).sort()).toEqual(['ip_vs', 'ip_vs_rr', 'nf_conntrack']);
    expect(report('none').modules.find((m) => m.name === 'ip_vs')?.builtin).toBe(false); // modules.builtin was read
  });

  it('prints the table with every module and its state', () => {
    expect(out('modules-table.txt')).toMatch(/^ip_vs\s+yes\s+yes\s+no\s+/m);
    expect(out('modules-table.txt')).toContain('OK: every required module is loaded or built in.');
  });
});
