/**
 * `ipvs-sentinel serve` on the real kernel, end to end: the API stand-in (a process in the guest,
 * test/guest/standin-server.ts), a kube-proxy-like IPVS table and kube-proxy's metrics endpoint, the
 * agent from dist/, and curl — all inside one guest, which has only loopback. The guest script plays
 * kube-proxy and the API server's operator; a sampler records /healthz and /drift every half second
 * with the phase it was taken in, and every assertion is made here from those recordings.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { WireObject } from '../support/kube-api-standin.js';
import { imageNodeOptions } from '../../bench/agent-scale.js';
import { REPO_ROOT, runInGuest, STANDIN_KUBECONFIG, STANDIN_SERVER, type GuestResult, requireOutput } from './harness.js';

/**
 * The phases below change EndpointSlices and Services while the script reprograms only IPVS, as a
 * kube-proxy that never touched its ipsets and iptables chains would: the netfilter checks are left out
 * here (--skip-checks) and proven in netfilter.test.ts instead.
 */
const SKIPPED_CHECKS = ['ipsets', 'iptables', 'iptables-leftovers'];
/** The /healthz lines of the checks that run, in order. */
const HEALTH_LINES = ['kube-proxy-sync', 'kernel-modules', 'ipvs', 'kube-proxy-mode', 'cluster', 'drift'];
const GRACE_S = 10;
const POLL_S = 2;
/** How long the API server is down: beyond the 30 s the agent trusts a cut-off cache. */
const OUTAGE_S = 50;

interface Finding {
  kind: string;
  severity: string;
  virtualServer: string | null;
  realServer: string | null;
  service: { namespace: string; name: string; port: string } | null;
  confirmed: boolean;
  firstSeen: string;
  message: string;
}
interface Drift {
  status: string;
  reason: string | null;
  findings: Finding[];
}
interface Sample {
  t: number;
  phase: string;
  healthz: number;
  drift: Drift | null;
}
interface Snapshot {
  services: { key: string; service: { namespace: string; name: string; port: string } | null; destinations: { address: string; port: number; weight: number }[] }[];
}
interface LogLine {
  time: string;
  level: number;
  component?: string;
  resource?: string;
  msg: string;
  [key: string]: unknown;
}

// ---- the cluster changes, built from the fixture the stand-in serves ------------------------------

const fixture = parse(readFileSync(join(REPO_ROOT, 'test/fixtures/cluster/kubeadm-ipv4.yaml'), 'utf8')) as { items: WireObject[] };
function fixtureObject(kind: string, namespace: string, name: string): WireObject {
  const obj = fixture.items.find((o) => o.kind === kind && o.metadata.name === name && o.metadata.namespace === namespace);
  if (!obj) throw new Error(`fixture has no ${kind} ${namespace}/${name}`);
  return structuredClone(obj);
}
function withEndpoint(slice: WireObject, address: string, nodeName: string): WireObject {
  const endpoints = slice.endpoints as unknown[];
  endpoints.push({ addresses: [address], conditions: { ready: true, serving: true, terminating: false }, nodeName });
  return slice;
}

/** kube-dns scales up: one more CoreDNS pod on worker-1 (three virtual servers gain it). */
const LAG_OPS = [{ op: 'update', object: withEndpoint(fixtureObject('EndpointSlice', 'kube-system', 'kube-dns-x7wzq'), '10.244.1.5', 'worker-1') }];
const LAG_IPVSADM = ['-u 10.96.0.10:53 -r 10.244.1.5:53', '-t 10.96.0.10:53 -r 10.244.1.5:53', '-t 10.96.0.10:9153 -r 10.244.1.5:9153'];

/** During the outage: a second API server endpoint appears (kube-proxy, on another API connection, programs it). */
const OUTAGE_OPS = [{ op: 'update', object: withEndpoint(fixtureObject('EndpointSlice', 'default', 'kubernetes'), '192.168.56.12', 'cp-2') }];

/** While the API is down its history moves on and is compacted: every watch resumes into 410 Gone. */
const BOUNCE_OPS = [
  { op: 'stop' },
  { op: 'delete', kind: 'EndpointSlice', namespace: 'ingress', name: 'ingress-proxy-9vq2s' },
  {
    op: 'create',
    object: {
      kind: 'Service',
      metadata: { name: 'search', namespace: 'shop', labels: { app: 'search' } },
      spec: { type: 'ClusterIP', clusterIP: '10.96.99.9', clusterIPs: ['10.96.99.9'], ipFamilies: ['IPv4'], ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }], selector: { app: 'search' } },
    },
  },
  {
    op: 'create',
    object: {
      kind: 'EndpointSlice',
      metadata: { name: 'search-q8x2z', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'search' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.244.1.90'], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'worker-1' }],
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    },
  },
  { op: 'compact' },
  { op: 'start' },
];

const SCRIPT = `
set -u
A=http://127.0.0.1:9742
C=http://127.0.0.1:6444
now() { date +%s%3N; }
event() { printf '{"t":%s,"event":"%s"}\\n' "$(now)" "$1" >> "$OUT/events.jsonl"; }
phase() { echo "$1" > /run/phase; event "phase:$1"; }
# get NAME PATH [curl args]: the body to $OUT/NAME, the status code to $OUT/NAME.code
get() { local name=$1 path=$2; shift 2; curl -s -m 20 -o "$OUT/$name" -w '%{http_code}' "$@" "$A$path" > "$OUT/$name.code"; }
# until_ SECONDS CMD...: poll every 0.5 s; 1 when the time runs out
until_() { local end=$(( $(date +%s) + $1 )); shift; until "$@"; do [ "$(date +%s)" -ge "$end" ] && return 1; sleep 0.5; done; }
# hold_until T0 MS: wait until MS milliseconds have passed since T0 (an observation window, not a guess)
hold_until() { while [ $(( $(now) - $1 )) -lt "$2" ]; do sleep 0.5; done; }
drift() { curl -s -m 10 "$A/drift" | jq -c . 2>/dev/null; }
ops() { curl -s -m 20 -X POST --data-binary "@$JOB/$1" "$C/ops" >> "$OUT/ops.log"; echo >> "$OUT/ops.log"; }

# Start the API stand-in first: it takes a while to load under emulation.
t0=$(now)
"$NODE" ${STANDIN_SERVER.path} --port 6443 --control 6444 \\
  --fixture test/fixtures/cluster/kubeadm-ipv4.yaml --ready /run/standin-ready > "$OUT/standin.log" 2>&1 &

# worker-1 as the desired-state golden sees it, with kube-proxy's modules and sysctls.
WORKER1_TABLE="$OUT/table.ipvsadm" . test/guest/worker-1.sh

until_ 240 test -f /run/standin-ready || { echo "stand-in did not start" >&2; exit 1; }
echo $(( $(now) - t0 )) > "$OUT/standin-startup-ms"
until_ 60 curl -s -o /dev/null http://127.0.0.1:10249/proxyMode

# ---- the agent ----
cp "$JOB/kubeconfig" /run/kubeconfig
phase startup
ta=$(now)
NODE_OPTIONS='${imageNodeOptions()}' "$NODE" bin/ipvs-sentinel.js serve --kubeconfig /run/kubeconfig --node-name worker-1 --poll-interval ${POLL_S}s --grace ${GRACE_S}s \\
  --listen 127.0.0.1:9742 --kube-proxy-url http://127.0.0.1:10249 --skip-checks=${SKIPPED_CHECKS.join(',')} > "$OUT/agent.log" 2> "$OUT/agent.stderr" &
AGENT=$!
ready() { local c; c=$(curl -s -o /dev/null -w '%{http_code}' "$A/readyz"); echo "$c" >> "$OUT/readyz-startup"; [ "$c" = 200 ]; }
until_ 120 ready || { echo "agent never ready" >&2; cat "$OUT/agent.log" >&2; exit 1; }
echo $(( $(now) - ta )) > "$OUT/agent-ready-ms"
event ready

# The sampler: /healthz status and /drift, with the phase, every half second until told to stop.
( while [ ! -f /run/stop-sampler ]; do
    h=$(curl -s -m 10 -o /dev/null -w '%{http_code}' "$A/healthz"); d=$(drift); [ -n "$d" ] || d=null
    printf '{"t":%s,"phase":"%s","healthz":%s,"drift":%s}\\n' "$(now)" "$(cat /run/phase)" "$h" "$d" >> "$OUT/samples.jsonl"
    sleep 0.5
  done ) &
SAMPLER=$!

# ---- every route, on the clean table ----
phase routes
until_ 30 sh -c "curl -s $A/drift | jq -e '.status == \\"ok\\"' >/dev/null"
get livez /livez
get readyz /readyz
get healthz /healthz
get healthz-verbose '/healthz?verbose'
get healthz-json '/healthz?format=json'
get healthz-drift /healthz/drift
for c in ${SKIPPED_CHECKS.join(' ')}; do get "healthz-skipped-$c" "/healthz/$c"; done
get ipvs.json /ipvs
get ipvs.txt '/ipvs?format=text'
get ipvs-kube-dns.json '/ipvs?service=kube-system/kube-dns'
get drift.json /drift
get modules.json /modules
get metrics.txt /metrics
get post /drift -X POST -d x
get head /healthz -I
get nope /nope

# ---- kube-proxy lags the API: only pending findings ----
phase lag
event lag-change
ops lag-ops.json
# The /drift that showed the pending finding is kept: the sampler may well miss the short window
# before the reprogramming on a loaded machine, and catch the table half reprogrammed instead.
pending() { drift > "$OUT/drift-lag.json"; jq -e '[.findings[] | select(.realServer == "10.244.1.5:53" and .confirmed == false)] | length > 0' "$OUT/drift-lag.json" >/dev/null; }
# Wait as long as it takes the agent to notice (a loaded machine is slow): the grace clock starts at
# firstSeen, so the wait does not eat into the lag kube-proxy is allowed.
until_ 60 pending && event lag-pending-seen
get healthz-lag /healthz
sleep 1
for rs in ${LAG_IPVSADM.map((a) => `'${a}'`).join(' ')}; do ipvsadm -a $rs -m -w 1; done
event lag-reprogrammed
settled() { drift | jq -e '.status == "ok" and ([.findings[] | select(.severity != "info")] | length == 0)' >/dev/null; }
until_ 20 settled && event lag-settled
get ipvs-after-lag.json '/ipvs?service=kube-system/kube-dns'

# ---- real drift: a destination deleted behind kube-proxy's back ----
phase drift
event drift-injected
ipvsadm -d -t 10.96.0.10:53 -r 10.244.1.4:53
confirmed() { drift | jq -e '.status == "drift"' >/dev/null; }
until_ 40 confirmed && event drift-confirmed
get drift-confirmed.json /drift
get healthz-drift-verbose '/healthz?verbose'
get healthz-drift-plain /healthz
get metrics-drift.txt /metrics
get ipvs-drift.txt '/ipvs?format=text'
phase repair
ipvsadm -a -t 10.96.0.10:53 -r 10.244.1.4:53 -m -w 1
event repaired
healthy() { [ "$(curl -s -o /dev/null -w '%{http_code}' "$A/healthz")" = 200 ]; }
until_ 20 healthy && event drift-cleared
get healthz-repaired-verbose '/healthz?verbose'
get metrics-repaired.txt /metrics

# ---- the API server goes away for ${OUTAGE_S} s ----
phase outage
ops stop.json
t_stop=$(now)
event api-stopped
unknown() { drift | jq -e '.status == "unknown"' >/dev/null; }
until_ 60 unknown && event unknown-seen
get drift-outage.json /drift
get healthz-outage-verbose '/healthz?verbose'
get readyz-outage /readyz
get livez-outage /livez
# Meanwhile the cluster moves on and kube-proxy (on another API connection) follows.
ops outage-ops.json
ipvsadm -a -t 10.96.0.1:443 -r 192.168.56.12:6443 -m -w 1
event outage-change
hold_until $t_stop ${OUTAGE_S * 1000}
phase recovery
ops start.json
event api-started
recovered() { drift | jq -e '.status == "ok"' >/dev/null && healthy; }
until_ 90 recovered && event recovered
get healthz-recovered-verbose '/healthz?verbose'
get ipvs-recovered.json '/ipvs?service=default/kubernetes'

# ---- history compacted while the API was down: every watch gets 410 Gone and relists ----
phase bounce
event bounce
t_bounce=$(now)
ops bounce-ops.json
ipvsadm -d -t 10.96.77.7:80 -r 10.244.1.40:8080
ipvsadm -A -t 10.96.99.9:80 -s rr && ipvsadm -a -t 10.96.99.9:80 -r 10.244.1.90:8080 -m -w 1
ip addr add 10.96.99.9/32 dev kube-ipvs0
relisted() { [ "$(grep -c 'resourceVersion expired; relisting' "$OUT/agent.log")" -ge 4 ]; }
until_ 60 relisted && event relisted
searchKnown() { curl -s "$A/ipvs?service=shop/search" | jq -e '.services | length == 1' >/dev/null; }
until_ 30 searchKnown && event search-known
# Long enough that a cache that missed the changes would have confirmed drift by now.
hold_until $t_bounce ${(GRACE_S + 3 * POLL_S) * 1000}
get drift-bounce.json /drift
get ipvs-search.json '/ipvs?service=shop/search'
get ipvs-ingress.json '/ipvs?service=ingress/ingress-proxy'
get healthz-bounce /healthz
curl -s "$C/requests" > "$OUT/standin-requests.json"

# ---- SIGTERM ----
touch /run/stop-sampler; wait $SAMPLER
phase shutdown
ts=$(now)
kill -TERM $AGENT
wait $AGENT; echo $? > "$OUT/agent-exit-code"
echo $(( $(now) - ts )) > "$OUT/agent-exit-ms"
true
`;

let guest: GuestResult;
const out = (name: string): string => requireOutput(guest, name);
const code = (name: string): number => Number(out(`${name}.code`).trim());
const json = <T>(name: string): T => JSON.parse(out(name)) as T;
const jsonl = <T>(name: string): T[] =>
  out(name)
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
const samples = (phase: string): Sample[] => jsonl<Sample>('samples.jsonl').filter((s) => s.phase === phase);
const events = (): Map<string, number> => new Map(jsonl<{ t: number; event: string }>('events.jsonl').map((e) => [e.event, e.t]));
const eventAt = (name: string): number => {
  const t = events().get(name);
  if (t === undefined) throw new Error(`the guest never reached "${name}"; events: ${[...events().keys()].join(', ')}\n${guest.stderr}`);
  return t;
};
const logs = (): LogLine[] => jsonl<LogLine>('agent.log');
const confirmedOf = (s: Sample): Finding[] => (s.drift?.findings ?? []).filter((f) => f.confirmed && f.severity !== 'info');
/** Value of the first sample line of a metric family whose labels include every given pair. */
function metric(text: string, name: string, labels: Record<string, string> = {}): number | null {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return null;
}

beforeAll(async () => {
  if (!existsSync(join(REPO_ROOT, 'dist', 'cli', 'main.js'))) throw new Error('run `npm run build` first: the guest runs dist/');
  await STANDIN_SERVER.build();
  guest = await runInGuest({
    timeoutMs: 540_000,
    memoryMb: 2048,
    files: {
      kubeconfig: STANDIN_KUBECONFIG,
      'lag-ops.json': JSON.stringify(LAG_OPS),
      'outage-ops.json': JSON.stringify(OUTAGE_OPS),
      'bounce-ops.json': JSON.stringify(BOUNCE_OPS),
      'stop.json': JSON.stringify([{ op: 'stop' }]),
      'start.json': JSON.stringify([{ op: 'start' }]),
    },
    script: SCRIPT,
  });
  if (guest.exitCode !== 0) throw new Error(`guest failed (${guest.exitCode}):\n${guest.stderr}\n${guest.output('agent.log')?.slice(-4000) ?? ''}\n${guest.console.slice(-3000)}`);
  console.log(
    `guest ${Math.round(guest.durationMs / 1000)} s; stand-in up after ${out('standin-startup-ms').trim()} ms, agent ready after ${out('agent-ready-ms').trim()} ms; ` +
      `readyz during startup: ${out('readyz-startup').trim().split('\n').join(',')}`,
  );
});

describe('serve on the real kernel: routes', () => {
  it('becomes ready (503, then 200) once IPVS is read and the cache synced, and is clean on the table kube-proxy would program', () => {
    const seen = out('readyz-startup').trim().split('\n');
    expect(seen.at(-1)).toBe('200');
    expect(seen.slice(0, -1).every((c) => c === '503' || c === '000')).toBe(true);
    const drift = json<Drift>('drift.json');
    expect(drift.status).toBe('ok');
    expect(drift.findings.filter((f) => f.severity !== 'info')).toEqual([]);
  });

  it('runs with the image\'s NODE_OPTIONS: gc exposed, so the heap compaction after a poll is on (src/agent/heap.ts)', () => {
    expect(logs().filter((l) => /^heap compaction (off|failed)/.test(l.msg))).toEqual([]);
  });

  it('answers /livez, /readyz and /healthz in the Kubernetes style', () => {
    expect([code('livez'), out('livez')]).toEqual([200, 'ok']);
    expect([code('readyz'), out('readyz')]).toEqual([200, 'ok']);
    expect([code('healthz'), out('healthz')]).toEqual([200, 'ok']);
    expect(code('healthz-verbose')).toBe(200);
    expect(out('healthz-verbose')).toBe(HEALTH_LINES.map((c) => `[+]${c} ok\n`).join('') + 'healthz check passed\n');
    const hj = json<{ status: string; checks: { name: string; ok: boolean; reason: string | null }[] }>('healthz-json');
    expect(code('healthz-json')).toBe(200);
    expect(hj.status).toBe('ok');
    expect(hj.checks.map((c) => [c.name, c.ok, c.reason])).toEqual(HEALTH_LINES.map((n) => [n, true, null]));
    expect([code('healthz-drift'), out('healthz-drift')]).toEqual([200, 'ok']);
    // A check left out has no line at all (not one that passes).
    expect(SKIPPED_CHECKS.map((c) => code(`healthz-skipped-${c}`))).toEqual(SKIPPED_CHECKS.map(() => 404));
  });

  it('serves the live IPVS table as JSON, as annotated text, and filtered by Service', () => {
    expect(code('ipvs.json')).toBe(200);
    const snap = json<Snapshot>('ipvs.json');
    expect(snap.services).toHaveLength(19);
    const dnsTcp = snap.services.find((s) => s.key === 'TCP/10.96.0.10:53');
    expect(dnsTcp?.service).toEqual({ namespace: 'kube-system', name: 'kube-dns', port: 'dns-tcp' });
    expect(dnsTcp?.destinations.map((d) => `${d.address}:${d.port}`)).toEqual(['10.244.0.3:53', '10.244.1.4:53']);
    expect(code('ipvs.txt')).toBe(200);
    expect(out('ipvs.txt')).toMatch(/TCP\s+10\.96\.0\.10:53 rr.*# kube-system\/kube-dns:dns-tcp/);
    expect(code('ipvs-kube-dns.json')).toBe(200);
    expect(json<Snapshot>('ipvs-kube-dns.json').services.map((s) => s.key)).toEqual(['TCP/10.96.0.10:53', 'TCP/10.96.0.10:9153', 'UDP/10.96.0.10:53']);
  });

  it('serves /modules and /metrics with the contract families', () => {
    expect(code('modules.json')).toBe(200);
    const mods = json<{ modules: { name: string; loaded: boolean; required: boolean }[] }>('modules.json');
    expect(mods.modules.filter((m) => m.required).every((m) => m.loaded)).toBe(true);
    expect(code('metrics.txt')).toBe(200);
    const m = out('metrics.txt');
    expect(metric(m, 'ipvs_sentinel_virtual_servers')).toBe(19);
    expect(metric(m, 'ipvs_sentinel_cluster_synced')).toBe(1);
    expect(metric(m, 'ipvs_sentinel_kube_proxy_mode', { mode: 'ipvs' })).toBe(1);
    expect(metric(m, 'ipvs_sentinel_kernel_module_loaded', { module: 'ip_vs' })).toBe(1);
    expect(metric(m, 'ipvs_sentinel_read_duration_seconds_count', { source: 'netlink' })).toBeGreaterThanOrEqual(1);
    expect(metric(m, 'ipvs_sentinel_backend_weight', { local_address: '10.96.0.10', remote_address: '10.244.1.4', namespace: 'kube-system', service: 'kube-dns' })).toBe(1);
    expect(metric(m, 'ipvs_sentinel_connections_total', { local_address: '10.96.0.1', local_port: '443', namespace: 'default', service: 'kubernetes' })).not.toBeNull();
    expect(metric(m, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('refuses other methods with 405, answers HEAD without a body, and 404s unknown paths', () => {
    expect(code('post')).toBe(405);
    expect(code('head')).toBe(200);
    expect(out('head')).toMatch(/^HTTP\/1\.1 200/);
    expect(out('head')).not.toMatch(/\r\n\r\n./);
    expect(code('nope')).toBe(404);
  });
});

describe('serve on the real kernel: the grace period', () => {
  it('shows only pending findings while kube-proxy lags an EndpointSlice change, and /healthz stays 200', () => {
    const lag = samples('lag');
    // How many samples fit in the phase depends on the machine's speed; the assertions below need one
    // (and the pending set can only match if a sample caught the lag).
    expect(lag.length).toBeGreaterThan(0);
    expect(lag.every((s) => s.healthz === 200)).toBe(true);
    expect(lag.flatMap(confirmedOf)).toEqual([]);
    // The agent did see the change before kube-proxy (the script) caught up: the three additions of the
    // one EndpointSlice update, all pending at once, and /healthz still 200.
    expect(eventAt('lag-pending-seen')).toBeLessThan(eventAt('lag-reprogrammed'));
    const lagAdditions = ['missing-real-server UDP/10.96.0.10:53 10.244.1.5:53', 'missing-real-server TCP/10.96.0.10:53 10.244.1.5:53', 'missing-real-server TCP/10.96.0.10:9153 10.244.1.5:9153'];
    const seen = json<Drift>('drift-lag.json');
    expect(seen.status).toBe('ok');
    const seenNew = seen.findings.filter((f) => f.severity !== 'info');
    expect(seenNew.every((f) => !f.confirmed)).toBe(true);
    expect(new Set(seenNew.map((f) => `${f.kind} ${f.virtualServer} ${f.realServer}`))).toEqual(new Set(lagAdditions));
    expect(code('healthz-lag')).toBe(200);
    // The sampler's view of the phase: whatever it caught (pending, half reprogrammed) is part of the change.
    const sampled = lag.flatMap((s) => s.drift?.findings ?? []).filter((f) => f.severity !== 'info');
    expect(sampled.map((f) => `${f.kind} ${f.virtualServer} ${f.realServer}`).filter((k) => !lagAdditions.includes(k))).toEqual([]);
    expect(eventAt('lag-settled')).toBeGreaterThan(eventAt('lag-reprogrammed'));
    const dns = json<Snapshot>('ipvs-after-lag.json').services.find((s) => s.key === 'UDP/10.96.0.10:53');
    expect(dns?.destinations.map((d) => d.address)).toEqual(['10.244.0.3', '10.244.1.4', '10.244.1.5']);
  });

  it('confirms a destination deleted behind kube-proxy only after the grace, then fails /healthz and shows it in metrics', () => {
    const injected = eventAt('drift-injected');
    const confirmedAt = eventAt('drift-confirmed');
    expect(confirmedAt - injected).toBeGreaterThanOrEqual(GRACE_S * 1000);
    expect(confirmedAt - injected).toBeLessThan((GRACE_S + 4 * POLL_S + 10) * 1000);
    const before = samples('drift').filter((s) => s.t < injected + GRACE_S * 1000 - 500);
    expect(before.flatMap(confirmedOf)).toEqual([]);
    // Evidence of the pending phase: a sample between the injection and the confirmation (a window of
    // at least the grace; samples right before the grace ends may be missing on a loaded machine).
    const pendingWindow = samples('drift').filter((s) => s.t >= injected && s.t < confirmedAt);
    expect(pendingWindow.some((s) => s.drift?.findings.some((f) => f.kind === 'missing-real-server' && !f.confirmed))).toBe(true);

    const drift = json<Drift>('drift-confirmed.json');
    expect(drift.status).toBe('drift');
    const found = drift.findings.filter((f) => f.confirmed && f.severity !== 'info');
    expect(found.map((f) => [f.kind, f.severity, f.virtualServer, f.realServer, f.service?.name])).toEqual([
      ['missing-real-server', 'warning', 'TCP/10.96.0.10:53', '10.244.1.4:53', 'kube-dns'],
    ]);
    expect(code('healthz-drift-plain')).toBe(503);
    expect(code('healthz-drift-verbose')).toBe(503);
    expect(out('healthz-drift-verbose')).toMatch(/^\[-\]drift failed: 1 confirmed finding\(s\): missing-real-server$/m);
    expect(out('healthz-drift-verbose')).toContain('[+]cluster ok');
    const m = out('metrics-drift.txt');
    expect(metric(m, 'ipvs_sentinel_drift_findings', { kind: 'missing-real-server', severity: 'warning', confirmed: 'true' })).toBe(1);
    expect(metric(m, 'ipvs_sentinel_drift_detected_total', { kind: 'missing-real-server' })).toBe(1);
    expect(out('ipvs-drift.txt')).toContain('10.244.1.4:53');
  });

  it('clears once the destination is back: /healthz 200, no confirmed finding in metrics', () => {
    expect(eventAt('drift-cleared')).toBeGreaterThan(eventAt('repaired'));
    expect(eventAt('drift-cleared') - eventAt('repaired')).toBeLessThan(4 * POLL_S * 1000 + 5000);
    expect(code('healthz-repaired-verbose')).toBe(200);
    const m = out('metrics-repaired.txt');
    expect(metric(m, 'ipvs_sentinel_drift_findings', { kind: 'missing-real-server', confirmed: 'true' }) ?? 0).toBe(0);
    expect(metric(m, 'ipvs_sentinel_drift_detected_total', { kind: 'missing-real-server' })).toBe(1);
    const cleared = logs().filter((l) => l.msg === 'drift cleared: missing-real-server');
    expect(cleared).toHaveLength(1);
    expect(logs().filter((l) => l.level === 40 && l.msg.startsWith('drift confirmed:'))).toHaveLength(1);
  });
});

describe('serve on the real kernel: the API server away', () => {
  it(`goes unknown (not drift) after 30 s without the API, with /healthz failing only the cluster check`, () => {
    const stopped = eventAt('api-stopped');
    const unknownAt = eventAt('unknown-seen');
    expect(unknownAt - stopped).toBeGreaterThanOrEqual(30_000);
    expect(unknownAt - stopped).toBeLessThan(50_000);
    const d = json<Drift>('drift-outage.json');
    expect(d.status).toBe('unknown');
    expect(d.reason).toMatch(/Kubernetes API has been unreachable for \d+ s/);
    expect(code('healthz-outage-verbose')).toBe(503);
    expect(out('healthz-outage-verbose')).toMatch(/^\[-\]cluster failed: the Kubernetes API has been unreachable/m);
    expect(out('healthz-outage-verbose')).toContain('[+]drift ok');
    expect(out('healthz-outage-verbose')).toContain('[+]ipvs ok');
    expect(code('livez-outage')).toBe(200);
    expect(code('readyz-outage')).toBe(200); // ready means "has synced once": an outage must not pull the pod from its Service
  });

  it('never confirms drift while the API is away, though the table changed under a stale cache', () => {
    const outage = [...samples('outage'), ...samples('recovery')];
    expect(outage.flatMap(confirmedOf)).toEqual([]);
    // Samples taken while the API was away (their number depends on the machine's speed; there must be some).
    const away = outage.filter((s) => s.t > eventAt('unknown-seen') && s.t < eventAt('api-started'));
    expect(away.length).toBeGreaterThan(0);
    expect(away.every((s) => s.drift?.status === 'unknown')).toBe(true);
  });

  it('recovers when the API returns, without restarting the agent, with the change made while it was away', () => {
    const restartedAfter = eventAt('recovered') - eventAt('api-started');
    expect(restartedAfter).toBeLessThan(60_000); // bounded by the 30 s (+20 %) reconnect backoff and a poll
    expect(code('healthz-recovered-verbose')).toBe(200);
    const api = json<Snapshot>('ipvs-recovered.json').services.find((s) => s.key === 'TCP/10.96.0.1:443');
    expect(api?.destinations.map((d) => d.address)).toEqual(['192.168.56.10', '192.168.56.12']);
    const recovered = logs().filter((l) => l.msg === 'cluster watch recovered');
    expect(new Set(recovered.map((l) => l.resource))).toEqual(new Set(['service', 'endpointslice', 'node', 'configmap']));
    // One process throughout: the pid of the first and the last log line agree.
    const all = logs();
    expect(all.at(-1)?.pid).toBe(all[0]?.pid);
  });

  it('relists after 410 Gone when its resourceVersion was compacted away, and sees what changed meanwhile', () => {
    const bounce = eventAt('bounce');
    const expired = logs().filter((l) => l.msg === 'resourceVersion expired; relisting' && Date.parse(l.time) >= bounce - 1000);
    expect(new Set(expired.map((l) => l.resource))).toEqual(new Set(['service', 'endpointslice', 'node', 'configmap']));
    const requests = json<{ at: number; method: string; path: string; query: Record<string, string> }[]>('standin-requests.json');
    const relists = requests.filter((r) => r.at >= bounce - 1000 && r.query.watch === undefined);
    expect(new Set(relists.map((r) => r.path))).toEqual(
      new Set(['/api/v1/services', '/apis/discovery.k8s.io/v1/endpointslices', '/api/v1/nodes', '/api/v1/namespaces/kube-system/configmaps']),
    );
    // The relisted cache is right: the new Service is known, the deleted EndpointSlice is gone, and
    // after more than the grace no finding was ever confirmed.
    expect(samples('bounce').flatMap(confirmedOf)).toEqual([]);
    const d = json<Drift>('drift-bounce.json');
    expect(d.status).toBe('ok');
    expect(d.findings.filter((f) => f.severity !== 'info')).toEqual([]);
    expect(code('healthz-bounce')).toBe(200);
    const search = json<Snapshot>('ipvs-search.json').services;
    expect(search.map((s) => [s.key, s.service, s.destinations.map((x) => `${x.address}:${x.port}`)])).toEqual([
      ['TCP/10.96.99.9:80', { namespace: 'shop', name: 'search', port: 'http' }, ['10.244.1.90:8080']],
    ]);
    expect(json<Snapshot>('ipvs-ingress.json').services.map((s) => [s.key, s.destinations.length])).toEqual([['TCP/10.96.77.7:80', 0]]);
  });
});

describe('serve on the real kernel: shutdown', () => {
  it('exits 0 within a few seconds of SIGTERM', () => {
    expect(out('agent-exit-code').trim()).toBe('0');
    expect(Number(out('agent-exit-ms').trim())).toBeLessThan(6000);
    const last = logs().slice(-2).map((l) => l.msg);
    expect(last).toEqual(['shutting down', 'stopped']);
  });
});
