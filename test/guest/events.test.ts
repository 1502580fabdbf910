/**
 * Events and the IPVSConsistent NodeCondition on the real kernel (issue 14): the agent from dist/
 * with --node-condition against the API stand-in (test/guest/standin-server.ts, which serves
 * events.k8s.io/v1 and nodes/status through test/support/kube-api-events.ts), a real server deleted
 * behind kube-proxy's back and put back, twice, then the API refusing writes (403) and then away.
 * The guest script only acts and records; every assertion is made here from its recordings: the
 * stand-in's Events and Node after each phase, /livez answers during the bad phases, the agent's log.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { imageNodeOptions } from '../../bench/agent-scale.js';
import { REPO_ROOT, runInGuest, STANDIN_KUBECONFIG, STANDIN_SERVER, requireOutput, type GuestResult } from './harness.js';

/** The netfilter checks are proven in netfilter.test.ts; here only IPVS is reprogrammed. */
const SKIPPED_CHECKS = ['ipsets', 'iptables', 'iptables-leftovers'];
const DESTINATION = '-t 10.96.0.10:53 -r 10.244.1.4:53';

interface WireEvent {
  metadata: { name: string; namespace: string };
  eventTime: string;
  series?: { count: number; lastObservedTime: string };
  reportingController: string;
  reportingInstance: string;
  action: string;
  reason: string;
  regarding: { kind: string; name: string; namespace?: string; uid?: string };
  note?: string;
  type: string;
}
interface WireNode {
  metadata: { uid: string };
  status: { conditions?: { type: string; status: string; reason: string; message: string; lastTransitionTime: string }[] };
}
interface LogLine {
  time: string;
  level: number;
  component?: string;
  msg: string;
}

const SCRIPT = `
set -u
A=http://127.0.0.1:9742
C=http://127.0.0.1:6444
K=http://127.0.0.1:6443
now() { date +%s%3N; }
event() { printf '{"t":%s,"event":"%s"}\\n' "$(now)" "$1" >> "$OUT/events.jsonl"; }
until_() { local end=$(( $(date +%s) + $1 )); shift; until "$@"; do [ "$(date +%s)" -ge "$end" ] && return 1; sleep 0.5; done; }
need() { local what=$1; shift; until_ "$@" || { echo "never: $what" >&2; cat "$OUT/agent.log" >&2; exit 1; }; event "$what"; }
ops() { curl -s -m 20 -X POST --data "$1" "$C/ops" >> "$OUT/ops.log"; echo >> "$OUT/ops.log"; }
kevents() { curl -s -m 10 "$K/apis/events.k8s.io/v1/events"; }
# has REASON KIND [N]: at least N Events of that reason on an object of that kind
has() { kevents | jq -e --arg r "$1" --arg k "$2" --argjson n "\${3:-1}" '[.items[] | select(.reason == $r and .regarding.kind == $k)] | length >= $n' >/dev/null; }
series_is() { kevents | jq -e --arg r "$1" --argjson n "$2" '[.items[] | select(.reason == $r and .regarding.kind == "Node")][0].series.count == $n' >/dev/null; }
cond_is() { curl -s -m 10 "$K/api/v1/nodes/worker-1" | jq -e --arg s "$1" '[.status.conditions[]? | select(.type == "IPVSConsistent")][0].status == $s' >/dev/null; }
drift_is() { curl -s -m 10 "$A/drift" | jq -e --arg s "$1" '.status == $s' >/dev/null; }
snap() { kevents > "$OUT/events-$1.json"; curl -s -m 10 "$K/api/v1/nodes/worker-1" > "$OUT/node-$1.json"; }
# probe NAME: /livez's status code and time, while the API misbehaves
probe() { curl -s -m 5 -o /dev/null -w '%{http_code} %{time_total}\\n' "$A/livez" >> "$OUT/livez-$1"; }

"$NODE" ${STANDIN_SERVER.path} --port 6443 --control 6444 \\
  --fixture test/fixtures/cluster/kubeadm-ipv4.yaml --ready /run/standin-ready > "$OUT/standin.log" 2>&1 &

# worker-1 as the desired-state golden sees it, with kube-proxy's modules and sysctls (as agent.test.ts).
WORKER1_TABLE="$OUT/table.ipvsadm" . test/guest/worker-1.sh

until_ 240 test -f /run/standin-ready || { echo "stand-in did not start" >&2; cat "$OUT/standin.log" >&2; exit 1; }
until_ 60 curl -s -o /dev/null http://127.0.0.1:10249/proxyMode

cp "$JOB/kubeconfig" /run/kubeconfig
NODE_OPTIONS='${imageNodeOptions()}' "$NODE" bin/ipvs-sentinel.js serve --kubeconfig /run/kubeconfig --node-name worker-1 --poll-interval 1s --grace 2s \\
  --node-condition --listen 127.0.0.1:9742 --kube-proxy-url http://127.0.0.1:10249 --skip-checks=${SKIPPED_CHECKS.join(',')} > "$OUT/agent.log" 2> "$OUT/agent.stderr" &
AGENT=$!
ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' "$A/readyz")" = 200 ]; }
need ready 120 ready

# ---- clean: the condition True, no Event ----
need clean-ok 30 drift_is ok
need clean-condition 30 cond_is True
snap clean

# ---- drift confirmed ----
event drift-injected
ipvsadm -d ${DESTINATION}
need drift-confirmed 30 drift_is drift
need drift-events 30 has MissingRealServer Service
need drift-condition 30 cond_is False
snap drift

# ---- cleared ----
ipvsadm -a ${DESTINATION} -m -w 1
need cleared-ok 30 drift_is ok
need cleared-events 30 has IPVSDriftCleared Node
need cleared-condition 30 cond_is True
snap cleared

# ---- the same drift again: folded into the first Events' series ----
ipvsadm -d ${DESTINATION}
need again-confirmed 30 drift_is drift
need again-folded 30 series_is MissingRealServer 2
need again-condition 30 cond_is False
snap again

# ---- the API refuses writes (403): the repair's Events and condition are refused ----
ops '[{"op":"inject","status":403,"methods":["POST","PATCH"]}]'
event forbidden
ipvsadm -a ${DESTINATION} -m -w 1
need forbidden-ok 30 drift_is ok
for i in 1 2 3 4 5 6; do probe forbidden; sleep 0.5; done
snap forbidden
ops '[{"op":"heal"}]'
event healed
need healed-condition 60 cond_is True
snap healed

# ---- the API away: writes wait and are delivered when it is back ----
# Deleted first and stopped at once: confirmed while away, back long before the agent's 30 s of trust in its cache end.
ipvsadm -d ${DESTINATION}
ops '[{"op":"stop"}]'
event away
need away-confirmed 30 drift_is drift
for i in 1 2 3 4; do probe away; sleep 0.5; done
ops '[{"op":"start"}]'
event back
need back-condition 60 cond_is False
need back-folded 60 series_is MissingRealServer 3
snap back

kill -TERM $AGENT
wait $AGENT
true
`;

let guest: GuestResult;
const out = (name: string): string => requireOutput(guest, name);
const jsonl = <T>(name: string): T[] =>
  out(name)
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
const eventsAt = (phase: string): WireEvent[] => (JSON.parse(out(`events-${phase}.json`)) as { items: WireEvent[] }).items;
const nodeAt = (phase: string): WireNode => JSON.parse(out(`node-${phase}.json`)) as WireNode;
const conditionAt = (phase: string): { type: string; status: string; reason: string } | undefined => {
  const c = nodeAt(phase).status.conditions?.find((x) => x.type === 'IPVSConsistent');
  return c && { type: c.type, status: c.status, reason: c.reason };
};
const marks = (): Map<string, number> => new Map(jsonl<{ t: number; event: string }>('events.jsonl').map((e) => [e.event, e.t]));
const markAt = (name: string): number => {
  const t = marks().get(name);
  if (t === undefined) throw new Error(`the guest never reached "${name}"`);
  return t;
};
/** The events component's warnings and infos, with their time. */
const writeLines = (): { t: number; level: number; msg: string }[] =>
  jsonl<LogLine>('agent.log')
    .filter((l) => l.component === 'events' && l.level >= 30)
    .map((l) => ({ t: Date.parse(l.time), level: l.level, msg: l.msg }));
const between = (from: string, to: string): { level: number; msg: string }[] =>
  writeLines()
    .filter((l) => l.t >= markAt(from) && l.t < markAt(to))
    .map(({ level, msg }) => ({ level, msg }));
const summary = (events: WireEvent[]): string[] => events.map((e) => `${e.regarding.kind} ${e.regarding.namespace ?? ''}/${e.regarding.name} ${e.type} ${e.reason} ${e.series?.count ?? 1}`).sort();

beforeAll(async () => {
  if (!existsSync(join(REPO_ROOT, 'dist', 'events', 'reporter.js'))) throw new Error('run `npm run build` first: the guest runs dist/');
  await STANDIN_SERVER.build();
  guest = await runInGuest({ timeoutMs: 300_000, memoryMb: 2048, files: { kubeconfig: STANDIN_KUBECONFIG }, script: SCRIPT });
  if (guest.exitCode !== 0) throw new Error(`guest failed (${guest.exitCode}):\n${guest.output('events.jsonl') ?? ''}\n${guest.stderr}\n${guest.console.slice(-3000)}`);
  const start = markAt('ready');
  console.log(`guest ${Math.round(guest.durationMs / 1000)} s; after ready (s): ${[...marks()].map(([name, t]) => `${name} ${((t - start) / 1000).toFixed(1)}`).join(', ')}`);
});

describe('Events and the IPVSConsistent condition on the real kernel', () => {
  it('a clean node: the condition True, no Event', () => {
    expect(eventsAt('clean')).toEqual([]);
    expect(conditionAt('clean')).toEqual({ type: 'IPVSConsistent', status: 'True', reason: 'IPVSMatchesKubeProxy' });
  });

  it('drift confirmed: one Event of each reason on the Node and one on the Service, with the finding, the reporter and the uids; the condition False', () => {
    const events = eventsAt('drift');
    expect(summary(events)).toEqual([
      'Node /worker-1 Warning IPVSDriftConfirmed 1',
      'Node /worker-1 Warning MissingRealServer 1',
      'Service kube-system/kube-dns Warning MissingRealServer 1',
    ]);
    for (const e of events) {
      expect(e).toMatchObject({ reportingController: 'ipvs-sentinel', reportingInstance: 'ipvs-sentinel-worker-1', action: 'Confirmed' });
      expect(e.metadata.namespace).toBe(e.regarding.namespace ?? 'default');
      expect(e.regarding.uid).toMatch(/^[0-9a-f-]{36}$/);
    }
    expect(events.find((e) => e.regarding.kind === 'Node' && e.reason === 'MissingRealServer')?.regarding.uid).toBe(nodeAt('drift').metadata.uid);
    expect(events.find((e) => e.regarding.kind === 'Service')?.note).toMatch(/10\.244\.1\.4:53/);
    expect(conditionAt('drift')).toEqual({ type: 'IPVSConsistent', status: 'False', reason: 'IPVSDriftConfirmed' });
  });

  it('cleared: its own Events on both objects, the verdict cleared on the Node; the condition True again', () => {
    expect(summary(eventsAt('cleared').filter((e) => e.action === 'Cleared'))).toEqual([
      'Node /worker-1 Normal IPVSDriftCleared 1',
      'Node /worker-1 Normal MissingRealServerCleared 1',
      'Service kube-system/kube-dns Normal MissingRealServerCleared 1',
    ]);
    expect(conditionAt('cleared')).toEqual({ type: 'IPVSConsistent', status: 'True', reason: 'IPVSMatchesKubeProxy' });
  });

  it('the same drift confirmed again is folded into the first Events’ series, not new Events', () => {
    const again = eventsAt('again');
    expect(summary(again.filter((e) => e.action === 'Confirmed'))).toEqual([
      'Node /worker-1 Warning IPVSDriftConfirmed 2',
      'Node /worker-1 Warning MissingRealServer 2',
      'Service kube-system/kube-dns Warning MissingRealServer 2',
    ]);
    const first = eventsAt('drift').map((e) => e.metadata.name).sort();
    expect(again.filter((e) => e.action === 'Confirmed').map((e) => e.metadata.name).sort()).toEqual(first);
  });

  it('403 from the API: nothing written, /livez answers throughout, one warning; writes resume after it (the condition True)', () => {
    expect(eventsAt('forbidden')).toEqual(eventsAt('again'));
    expect(conditionAt('forbidden')?.status).toBe('False');
    const livez = out('livez-forbidden').trim().split('\n');
    expect(livez.map((l) => l.split(' ')[0])).toEqual(livez.map(() => '200'));
    const lines = between('forbidden', 'healed-condition');
    expect(lines.filter((l) => l.level === 40)).toEqual([{ level: 40, msg: expect.stringMatching(/^Kubernetes writes \(Events, NodeCondition\) failing: HTTP 403/) as unknown }]);
    expect(conditionAt('healed')).toEqual({ type: 'IPVSConsistent', status: 'True', reason: 'IPVSMatchesKubeProxy' });
    expect(writeLines().some((l) => l.t >= markAt('healed') && l.msg === 'Kubernetes writes (Events, NodeCondition) succeed again')).toBe(true);
  });

  it('the API away: /livez answers, one warning, and what was queued is delivered when it is back', () => {
    const livez = out('livez-away').trim().split('\n');
    expect(livez.map((l) => l.split(' ')[0])).toEqual(livez.map(() => '200'));
    expect(between('away', 'back').filter((l) => l.level === 40)).toHaveLength(1);
    expect(conditionAt('back')?.status).toBe('False');
    expect(summary(eventsAt('back').filter((e) => e.action === 'Confirmed'))).toEqual([
      'Node /worker-1 Warning IPVSDriftConfirmed 3',
      'Node /worker-1 Warning MissingRealServer 3',
      'Service kube-system/kube-dns Warning MissingRealServer 3',
    ]);
  });
});
