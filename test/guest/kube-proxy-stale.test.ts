/**
 * kube-proxy-stale on the real kernel: `ipvs-sentinel serve` (offline, --cluster-state) beside a fake
 * kube-proxy (test/guest/fake-kube-proxy.mjs) whose healthz answers as kube-proxy's does. The table
 * is kube-proxy's for the fixture cluster; then kube-proxy goes stale (its /healthz 503) and a virtual
 * server is deleted behind its back, which it would have re-created on its next sync: kube-proxy-stale
 * is confirmed, leads the verdict and /healthz, and explains the missing virtual server. kube-proxy
 * syncs again (200, the virtual server back): both clear. Assertions parse what the guest recorded.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runInGuest, type GuestResult, requireOutput } from './harness.js';

interface Finding {
  kind: string;
  severity: string;
  virtualServer: string | null;
  confirmed: boolean;
  actual: unknown;
  explainedBy?: string;
}
interface Drift {
  status: string;
  reason: string | null;
  findings: Finding[];
}
interface LogLine {
  level: number;
  msg: string;
  kind?: string;
  [key: string]: unknown;
}

/** The netfilter checks need kube-proxy's ipsets and chains loaded; they are proven elsewhere (netfilter.test.ts). */
const SKIPPED_CHECKS = ['ipsets', 'iptables', 'iptables-leftovers'];
const DELETED_VS = 'TCP/10.96.120.15:80';

let guest: GuestResult;

beforeAll(async () => {
  if (!existsSync(join(REPO_ROOT, 'dist', 'cli', 'main.js'))) throw new Error('run `npm run build` first: the guest runs dist/');
  guest = await runInGuest({
    timeoutMs: 300_000,
    script: `
set -u
A=http://127.0.0.1:9742
# until_ SECONDS CMD...: poll every 0.5 s; 1 when the time runs out
until_() { local end=$(( $(date +%s) + $1 )); shift; until "$@"; do [ "$(date +%s)" -ge "$end" ] && return 1; sleep 0.5; done; }
drift() { curl -s -m 10 "$A/drift"; }

# worker-1 of the fixture, with kube-proxy's modules, sysctls and table.
WORKER1_TABLE="$OUT/table.ipvsadm" WORKER1_HEALTH_FILE=/run/kube-proxy-health . test/guest/worker-1.sh
until_ 60 curl -s -o /dev/null http://127.0.0.1:10256/healthz || { echo "fake kube-proxy did not start" >&2; exit 1; }

"$NODE" bin/ipvs-sentinel.js serve --cluster-state test/fixtures/cluster/kubeadm-ipv4.yaml --node-name worker-1 \\
  --poll-interval 1s --grace 3s --listen 127.0.0.1:9742 --skip-checks=${SKIPPED_CHECKS.join(',')} > "$OUT/agent.log" 2> "$OUT/agent.stderr" &
healthy() { [ "$(curl -s -o /dev/null -w '%{http_code}' "$A/healthz")" = 200 ]; }
until_ 120 healthy || { echo "agent never healthy" >&2; curl -s "$A/healthz?verbose" >&2; exit 1; }
curl -s "$A/healthz?verbose" > "$OUT/healthz-fresh.txt"

# kube-proxy stops syncing; a virtual server it would re-create is deleted.
echo stale > /run/kube-proxy-health
ipvsadm -D -t ${DELETED_VS.slice(4)}
explained() { drift | jq -e '[.findings[] | select(.explainedBy == "kube-proxy-stale" and .confirmed)] | length > 0' >/dev/null; }
until_ 60 explained || echo "never explained" >&2
drift > "$OUT/drift-stale.json"
curl -s -o "$OUT/healthz-stale.txt" -w '%{http_code}' "$A/healthz?verbose" > "$OUT/healthz-stale.code"
curl -s "$A/ipvs?format=text" > "$OUT/ipvs-stale.txt"

# kube-proxy syncs again: the virtual server is back, its healthz 200.
grep -F -e '${DELETED_VS.slice(4)}' "$OUT/table.ipvsadm" > /run/restore.ipvsadm
ipvsadm -R < /run/restore.ipvsadm
echo fresh > /run/kube-proxy-health
until_ 60 healthy || echo "never healthy again" >&2
drift > "$OUT/drift-fresh.json"
curl -s "$A/healthz?verbose" > "$OUT/healthz-fresh-again.txt"
true
`,
  });
  if (guest.exitCode !== 0) throw new Error(`guest failed (${guest.exitCode}):\n${guest.stderr}\n${guest.console.slice(-4000)}`);
});

const out = (name: string): string => requireOutput(guest, name);
const drift = (name: string): Drift => JSON.parse(out(name)) as Drift;

describe('kube-proxy-stale on the real kernel', () => {
  it('a fresh kube-proxy: kube-proxy-sync passes, first of the /healthz lines', () => {
    expect(out('healthz-fresh.txt').split('\n')[0]).toBe('[+]kube-proxy-sync ok');
    expect(guest.stderr).not.toMatch(/never/);
  });

  it("its /healthz 503: kube-proxy-stale confirmed with kube-proxy's answer as evidence, leading the verdict", () => {
    const report = drift('drift-stale.json');
    expect(report.status).toBe('drift');
    expect(report.reason).toMatch(/^kube-proxy is not syncing \(kube-proxy-stale\), which explains 1 other confirmed finding; /);
    const [first] = report.findings;
    expect(first).toMatchObject({ kind: 'kube-proxy-stale', severity: 'critical', confirmed: true });
    expect(first?.actual).toMatchObject({ healthz: { status: 503, nodeEligible: true }, sync: [{ ipFamily: null }] });
  });

  it('explains the virtual server kube-proxy would have re-created, in /drift and the annotated table', () => {
    const report = drift('drift-stale.json');
    const missing = report.findings.filter((f) => f.kind === 'missing-virtual-server');
    expect(missing.map((f) => [f.virtualServer, f.confirmed, f.explainedBy])).toEqual([[DELETED_VS, true, 'kube-proxy-stale']]);
    expect(report.findings.filter((f) => f.explainedBy !== undefined).map((f) => f.kind)).toEqual(['missing-virtual-server']);
  });

  it('/healthz answers 503, kube-proxy-sync failing first', () => {
    expect(out('healthz-stale.code')).toBe('503');
    const lines = out('healthz-stale.txt').split('\n');
    expect(lines[0]).toMatch(/^\[-\]kube-proxy-sync failed: kube-proxy is running but not applying Service and endpoint changes: kube-proxy's \/healthz answers 503/);
    expect(lines).toContain('[-]drift failed: 2 confirmed finding(s), 1 explained by kube-proxy-stale: kube-proxy-stale, missing-virtual-server');
  });

  it('kube-proxy syncing again clears it, and the agent logs both transitions', () => {
    expect(drift('drift-fresh.json').findings.filter((f) => f.severity !== 'info')).toEqual([]);
    expect(out('healthz-fresh-again.txt').split('\n')[0]).toBe('[+]kube-proxy-sync ok');
    const log = out('agent.log')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as LogLine);
    const transitions = log.filter((l) => l.kind === 'kube-proxy-stale').map((l) => l.msg.split(':')[0]);
    expect(transitions).toEqual(['drift confirmed', 'drift cleared']);
    expect(log.filter((l) => l.level >= 50)).toEqual([]);
  });
});
