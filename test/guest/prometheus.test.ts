/**
 * The alerts with the real Prometheus (Debian's 2.42) on the real kernel: in one guest, kube-proxy's
 * table for the kubeadm fixture's worker-1, the agent from dist/ (offline, --cluster-state), and a
 * Prometheus that scrapes it every second and evaluates the PrometheusRule's groups every second,
 * its TSDB on a tmpfs. A destination deleted behind kube-proxy's back must take
 * IPVSSentinelDriftConfirmed through pending to firing; putting it back must resolve it. The rules
 * are the manifest's with every `for` cut to FOR_S seconds — the only change — so the run takes
 * a minute rather than five (the real `for`s are proven by test/unit/promtool-rules.test.ts).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runInGuest, type GuestResult, requireOutput } from './harness.js';
import { ruleFileText, ruleGroups } from '../support/promtool.js';

const POLL_S = 2;
const GRACE_S = 4;
const FOR_S = 15;
const SKIPPED_CHECKS = ['ipsets', 'iptables', 'iptables-leftovers'];
const DRIFT = { virtualServer: '-t 10.96.0.10:53', realServer: '10.244.1.4:53' };

/** The manifest's rules with each `for` cut to FOR_S; nothing else differs. */
const TEST_RULES = ruleFileText(ruleGroups().map((g) => ({ ...g, rules: g.rules.map((r) => ({ ...r, for: `${FOR_S}s` })) })));

/**
 * Labels as the ServiceMonitor's relabeling sets them (job, node, pod; instance is the target). A
 * scrape took up to 5 s in the emulated guest on a loaded machine, and a failed one makes every
 * series stale and restarts each alert's `for`: the timeout is the whole interval, 10 s.
 */
const PROMETHEUS_CONFIG = `global:
  scrape_interval: 10s
  scrape_timeout: 10s
  evaluation_interval: 1s
rule_files: [/run/prometheus/rules.yaml]
scrape_configs:
  - job_name: ipvs-sentinel
    static_configs:
      - targets: ['127.0.0.1:9742']
        labels: {node: worker-1, pod: ipvs-sentinel-guest}
`;

const SCRIPT = `
set -u
A=http://127.0.0.1:9742
P=http://127.0.0.1:9090
now() { date +%s%3N; }
event() { printf '{"t":%s,"event":"%s"}\\n' "$(now)" "$1" >> "$OUT/events.jsonl"; }
phase() { echo "$1" > /run/phase; event "phase:$1"; }
until_() { local end=$(( $(date +%s) + $1 )); shift; until "$@"; do [ "$(date +%s)" -ge "$end" ] && return 1; sleep 0.5; done; }
hold_until() { while [ $(( $(now) - $1 )) -lt "$2" ]; do sleep 0.5; done; }
q() { curl -s -m 5 --data-urlencode "query=$1" "$P/api/v1/query" | jq -r '.data.result[0].value[1] // empty'; }
alert_state() { curl -s -m 5 "$P/api/v1/alerts" | jq -r --arg a "$1" '[.data.alerts[] | select(.labels.alertname == $a) | .state] | first // "none"'; }

# worker-1 of the fixture: its interfaces, kube-proxy's modules and sysctls, its IPVS table.
WORKER1_TABLE="$OUT/table.ipvsadm" . test/guest/worker-1.sh
until_ 60 curl -s -o /dev/null http://127.0.0.1:10249/proxyMode || { echo "fake kube-proxy did not start" >&2; exit 1; }

# Prometheus's TSDB and files on a tmpfs of their own: the guest's root is the host's, read-only.
mkdir -p /run/prometheus && mount -t tmpfs -o size=256m tmpfs /run/prometheus
cp "$JOB/prometheus.yml" "$JOB/rules.yaml" /run/prometheus/
promtool check config /run/prometheus/prometheus.yml > "$OUT/check-config.txt" 2>&1 || { cat "$OUT/check-config.txt" >&2; exit 1; }

phase startup
"$NODE" bin/ipvs-sentinel.js serve --cluster-state test/fixtures/cluster/kubeadm-ipv4.yaml --node-name worker-1 \\
  --poll-interval ${POLL_S}s --grace ${GRACE_S}s --listen 127.0.0.1:9742 --kube-proxy-url http://127.0.0.1:10249 \\
  --skip-checks=${SKIPPED_CHECKS.join(',')} > "$OUT/agent.log" 2> "$OUT/agent.stderr" &
AGENT=$!
prometheus --config.file=/run/prometheus/prometheus.yml --storage.tsdb.path=/run/prometheus/data \\
  --web.listen-address=127.0.0.1:9090 --log.format=json > "$OUT/prometheus.log" 2>&1 &
PROM=$!
ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' "$A/readyz")" = 200 ]; }
until_ 120 ready || { echo "agent never ready" >&2; cat "$OUT/agent.log" >&2; exit 1; }
event agent-ready
until_ 60 curl -sf -o /dev/null "$P/-/ready" || { echo "prometheus never ready" >&2; cat "$OUT/prometheus.log" >&2; exit 1; }
event prometheus-ready
scraped() { [ "$(q 'up{job="ipvs-sentinel"}')" = 1 ] && [ "$(q 'ipvs_sentinel_cluster_synced')" = 1 ]; }
until_ 60 scraped || { echo "prometheus never scraped the agent" >&2; curl -s "$P/api/v1/targets" >&2; exit 1; }
event scraped
curl -s -m 10 "$A/metrics" > "$OUT/metrics.txt"
promtool check metrics < "$OUT/metrics.txt" > "$OUT/check-metrics.txt" 2>&1; echo $? > "$OUT/check-metrics.code"

# The sampler: every alert Prometheus holds, with the phase, every second until told to stop.
( while [ ! -f /run/stop-sampler ]; do
    a=$(curl -s -m 5 "$P/api/v1/alerts" | jq -c '.data.alerts' 2>/dev/null); [ -n "$a" ] || a=null
    printf '{"t":%s,"phase":"%s","alerts":%s}\\n' "$(now)" "$(cat /run/phase)" "$a" >> "$OUT/samples.jsonl"
    sleep 1
  done ) &
SAMPLER=$!

# A healthy node for longer than any alert waits: nothing may even be pending.
phase healthy
t=$(now)
hold_until $t $(( (${FOR_S} + 5) * 1000 ))

phase drift
ipvsadm -d ${DRIFT.virtualServer} -r ${DRIFT.realServer}
event drift-injected
firing() { [ "$(alert_state IPVSSentinelDriftConfirmed)" = firing ]; }
until_ 90 firing && event drift-firing
curl -s -m 5 "$P/api/v1/alerts" > "$OUT/alerts-firing.json"
curl -s -m 5 "$P/api/v1/rules?type=alert" > "$OUT/rules-firing.json"

phase repair
ipvsadm -a ${DRIFT.virtualServer} -r ${DRIFT.realServer} -m -w 1
event repaired
gone() { [ "$(alert_state IPVSSentinelDriftConfirmed)" = none ]; }
until_ 60 gone && event drift-resolved
curl -s -m 5 "$P/api/v1/rules?type=alert" > "$OUT/rules-resolved.json"
t=$(now)
hold_until $t 3000
# How the scrapes went over the whole run, for the record.
curl -s -m 5 --data-urlencode 'query=count_over_time(up[10m])' "$P/api/v1/query" | jq -r '.data.result[0].value[1]' > "$OUT/scrapes"
curl -s -m 5 --data-urlencode 'query=count_over_time((up == 0)[10m:1s])' "$P/api/v1/query" | jq -r '.data.result[0].value[1] // 0' > "$OUT/failed-scrape-seconds"
curl -s -m 5 --data-urlencode 'query=max_over_time(scrape_duration_seconds[10m])' "$P/api/v1/query" | jq -r '.data.result[0].value[1]' > "$OUT/max-scrape-seconds"

touch /run/stop-sampler; wait $SAMPLER
kill -TERM $PROM $AGENT; wait $PROM $AGENT
true
`;

interface Alert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
  activeAt: string;
  value: string;
}
interface Sample {
  t: number;
  phase: string;
  alerts: Alert[] | null;
}
interface RulesResponse {
  data: { groups: { rules: { name: string; state: string; alerts: Alert[] }[] }[] };
}

let guest: GuestResult;
const out = (name: string): string => requireOutput(guest, name);
const jsonl = <T>(name: string): T[] =>
  out(name)
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
const samples = (phase: string): Sample[] => jsonl<Sample>('samples.jsonl').filter((s) => s.phase === phase);
const eventAt = (name: string): number => {
  const e = jsonl<{ t: number; event: string }>('events.jsonl').find((x) => x.event === name);
  if (!e) throw new Error(`the guest never reached "${name}"\n${guest.stderr}\n${guest.output('prometheus.log')?.slice(-3000) ?? ''}`);
  return e.t;
};
const drift = (s: Sample): Alert[] => (s.alerts ?? []).filter((a) => a.labels.alertname === 'IPVSSentinelDriftConfirmed');
const ruleState = (file: string, alert: string): string | undefined =>
  (JSON.parse(out(file)) as RulesResponse).data.groups.flatMap((g) => g.rules).find((r) => r.name === alert)?.state;

beforeAll(async () => {
  if (!existsSync(join(REPO_ROOT, 'dist', 'cli', 'main.js'))) throw new Error('run `npm run build` first: the guest runs dist/');
  guest = await runInGuest({ timeoutMs: 300_000, files: { 'prometheus.yml': PROMETHEUS_CONFIG, 'rules.yaml': TEST_RULES }, script: SCRIPT });
  if (guest.exitCode !== 0) throw new Error(`guest failed (${guest.exitCode}):\n${guest.stderr}\n${guest.output('agent.log')?.slice(-3000) ?? ''}\n${guest.console.slice(-3000)}`);
  const since = (name: string): string => `${((eventAt(name) - eventAt('drift-injected')) / 1000).toFixed(1)} s`;
  console.log(
    `guest ${Math.round(guest.durationMs / 1000)} s; scraped ${eventAt('scraped') - eventAt('phase:startup')} ms after the agent started; ` +
      `after the drift: firing ${since('drift-firing')}, resolved ${since('drift-resolved')}; ` +
      `${out('scrapes').trim()} scrapes, up == 0 for ${out('failed-scrape-seconds').trim()} s, the slowest ${out('max-scrape-seconds').trim()} s`,
  );
});

describe('the real Prometheus scraping the agent on the real kernel', () => {
  it('scrapes a /metrics that promtool check metrics passes (prom-client\'s _total gauges aside)', () => {
    const problems = out('check-metrics.txt').split('\n').filter((l) => l !== '' && !/^nodejs_active_\w+_total non-counter metrics should not have "_total" suffix$/.test(l));
    expect(problems).toEqual([]);
    expect(['0', '3']).toContain(out('check-metrics.code').trim());
    expect(out('metrics.txt')).toMatch(/^ipvs_sentinel_virtual_servers 19$/m);
  });

  it('holds no alert at all, not even pending, on a healthy node for longer than any alert waits', () => {
    const healthy = samples('healthy');
    expect(healthy.length).toBeGreaterThan(0);
    expect(healthy.at(-1)?.t ?? 0).toBeGreaterThanOrEqual(eventAt('phase:healthy') + FOR_S * 1000);
    expect(healthy.flatMap((s) => s.alerts ?? [null])).toEqual([]);
  });

  it('takes IPVSSentinelDriftConfirmed through pending to firing after an injected drift, with the finding\'s labels', () => {
    const pending = samples('drift').flatMap(drift).find((a) => a.state === 'pending');
    expect(pending, 'a sample caught the alert pending').toBeDefined();
    eventAt('drift-firing');
    // /api/v1/alerts as it was when the script saw the alert firing.
    const firing = (JSON.parse(out('alerts-firing.json')) as { data: { alerts: Alert[] } }).data.alerts.find((a) => a.labels.alertname === 'IPVSSentinelDriftConfirmed');
    expect(firing?.state).toBe('firing');
    // Active no earlier than the injection plus the agent's grace (less a second: the event is written
    // after ipvsadm returns), firing no earlier than its for after that.
    const activeAt = Date.parse(firing?.activeAt ?? '');
    expect(activeAt).toBeGreaterThanOrEqual(eventAt('drift-injected') + (GRACE_S - 1) * 1000);
    expect(eventAt('drift-firing')).toBeGreaterThanOrEqual(activeAt + FOR_S * 1000);
    expect(firing?.labels).toEqual({
      alertname: 'IPVSSentinelDriftConfirmed',
      instance: '127.0.0.1:9742',
      node: 'worker-1',
      pod: 'ipvs-sentinel-guest',
      kind: 'missing-real-server',
      severity: 'warning',
    });
    expect(firing?.annotations.summary).toBe('IPVS table on node worker-1 differs from the Kubernetes API (missing-real-server)');
    expect(firing?.annotations.description).toContain('`curl -s http://127.0.0.1:9742/drift`');
    expect(ruleState('rules-firing.json', 'IPVSSentinelDriftConfirmed')).toBe('firing');
    // The drift is the only thing wrong with the node.
    const others = samples('drift').flatMap((s) => (s.alerts ?? []).filter((a) => a.labels.alertname !== 'IPVSSentinelDriftConfirmed'));
    expect(others).toEqual([]);
  });

  it('resolves the alert once the destination is back, and nothing else fires', () => {
    expect(eventAt('drift-resolved')).toBeGreaterThan(eventAt('repaired'));
    expect(ruleState('rules-resolved.json', 'IPVSSentinelDriftConfirmed')).toBe('inactive');
    const after = samples('repair').filter((s) => s.t > eventAt('drift-resolved'));
    expect(after.length).toBeGreaterThan(0);
    expect(after.flatMap((s) => s.alerts ?? [null])).toEqual([]);
  });
});
