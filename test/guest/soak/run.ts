/**
 * The churn soak on the real kernel: in one guest, the API stand-in (test/guest/standin-server.ts)
 * changed continuously by test/guest/soak/churn.mjs, a kube-proxy stand-in
 * (test/guest/soak/kube-proxy-standin.mjs) reprogramming IPVS and kube-ipvs0 from the same API with
 * kube-proxy's lag, and the agent from dist/ watching both. A sampler records /drift and the agent's
 * RSS every few seconds; when the churn stops the run waits for the table to settle, and the figures
 * are computed here from the recordings (analyseSoak), for `npm run soak` and test/guest/soak.test.ts.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { imageNodeOptions } from '../../../bench/agent-scale.js';
import { REPO_ROOT, runInGuest, STANDIN_KUBECONFIG, STANDIN_SERVER, type GuestResult } from '../harness.js';

export interface SoakOptions {
  durationS: number;
  seed: number;
  /** The agent's --grace. */
  graceS: number;
  /** The agent's --poll-interval. */
  pollS: number;
  /** kube-proxy's sync period: the stand-in syncs every random 1..lagS seconds (below the grace, with a margin). */
  lagS: number;
  sampleS: number;
  maxServices: number;
  /** Mean pause between two changes. */
  changeIntervalMs: number;
}

export const SOAK_DEFAULTS: Omit<SoakOptions, 'durationS'> = {
  seed: 1,
  // The agent's default grace; kube-proxy's lag plus a sync (2.5 s under emulation) and a poll stay well below it.
  graceS: 30,
  pollS: 3,
  lagS: 10,
  sampleS: 2,
  maxServices: 150,
  changeIntervalMs: 400,
};

/** The netfilter checks are left out: the kube-proxy stand-in programs IPVS only (netfilter.test.ts proves those checks). */
const SKIPPED_CHECKS = 'ipsets,iptables,iptables-leftovers';

/** The node the agent and kube-proxy run on; eth0 holds its InternalIP (guest_node_network). */
const INIT_OPS = [
  {
    op: 'create',
    object: {
      kind: 'Node',
      metadata: { name: 'worker-1', labels: { 'kubernetes.io/hostname': 'worker-1' } },
      status: { addresses: [{ type: 'InternalIP', address: '10.0.0.10' }, { type: 'Hostname', address: 'worker-1' }] },
      spec: { podCIDR: '10.244.1.0/24' },
    },
  },
];

function script(o: SoakOptions): string {
  return `
set -u
A=http://127.0.0.1:9742
C=http://127.0.0.1:6444
now() { date +%s%3N; }
event() { printf '{"t":%s,"event":"%s"}\\n' "$(now)" "$1" >> "$OUT/events.jsonl"; }
until_() { local end=$(( $(date +%s) + $1 )); shift; until "$@"; do [ "$(date +%s)" -ge "$end" ] && return 1; sleep 0.5; done; }

# The API stand-in first: it takes a while to load under emulation.
"$NODE" ${STANDIN_SERVER.path} --port 6443 --control 6444 --ready /run/standin-ready > "$OUT/standin.log" 2>&1 &

guest_node_network 10.0.0.10/24
ip link add kube-ipvs0 type dummy
modprobe -a nf_conntrack ip_vs ip_vs_rr
sysctl -qw net.ipv4.vs.conntrack=1 net.ipv4.vs.expire_nodest_conn=1 net.ipv4.vs.expire_quiescent_template=1 net.ipv4.ip_forward=1 net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
echo ipvs > /run/kube-proxy-mode
"$NODE" test/guest/fake-kube-proxy.mjs /run/kube-proxy-mode &

until_ 240 test -f /run/standin-ready || { echo "stand-in did not start" >&2; cat "$OUT/standin.log" >&2; exit 1; }
curl -s -m 20 -X POST --data-binary "@$JOB/init-ops.json" "$C/ops" > /dev/null
until_ 60 curl -s -o /dev/null http://127.0.0.1:10249/proxyMode

NODE_OPTIONS='${imageNodeOptions()}' "$NODE" bin/ipvs-sentinel.js serve --kubeconfig "$JOB/kubeconfig" --node-name worker-1 \\
  --poll-interval ${o.pollS}s --grace ${o.graceS}s --listen 127.0.0.1:9742 --kube-proxy-url http://127.0.0.1:10249 \\
  --skip-checks=${SKIPPED_CHECKS} > "$OUT/agent.log" 2> "$OUT/agent.stderr" &
AGENT=$!
ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' "$A/readyz")" = 200 ]; }
until_ 120 ready || { echo "agent never ready" >&2; cat "$OUT/agent.log" >&2; exit 1; }
event ready

"$NODE" test/guest/soak/kube-proxy-standin.mjs --node worker-1 --lag-s ${o.lagS} --seed ${o.seed} --log "$OUT/syncs.jsonl" 2> "$OUT/kube-proxy.stderr" &
KUBE_PROXY=$!

# A sample: the time, the agent's RSS and heap in use (/metrics) and its /drift, as one JSON line.
sample() {
  local d m r h
  d=$(curl -s -m 10 "$A/drift" | jq -c . 2>/dev/null); [ -n "$d" ] || d=null
  m=$(curl -s -m 10 "$A/metrics")
  r=$(awk '$1 == "process_resident_memory_bytes" { print $2 }' <<< "$m"); [ -n "$r" ] || r=null
  h=$(awk '$1 == "nodejs_heap_size_used_bytes" { print $2 }' <<< "$m"); [ -n "$h" ] || h=null
  printf '{"t":%s,"rss":%s,"heapUsed":%s,"drift":%s}\\n' "$(now)" "$r" "$h" "$d" >> "$OUT/samples.jsonl"
}
# The sampler: every ${o.sampleS} s until told to stop.
( while [ ! -f /run/stop-sampler ]; do sample; sleep ${o.sampleS}; done ) &
SAMPLER=$!

event churn-start
"$NODE" test/guest/soak/churn.mjs --seed ${o.seed} --duration-s ${o.durationS} --max-services ${o.maxServices} \\
  --interval-ms ${o.changeIntervalMs} --stats "$OUT/churn.json" 2> "$OUT/churn.stderr"
event churn-end

# The churn has stopped: within kube-proxy's lag and a poll the table matches and every pending finding is gone.
clean() { curl -s -m 10 "$A/drift" | jq -e '.status == "ok" and ([.findings[] | select(.severity != "info")] | length == 0)' > /dev/null; }
sleep ${o.pollS}
until_ ${o.lagS + o.graceS + 4 * o.pollS} clean && event settled
touch /run/stop-sampler; wait $SAMPLER
# The last sample, after the settling: a pending finding must be gone by then.
sample
curl -s -m 10 "$A/metrics" > "$OUT/metrics-final.txt"
kill -TERM $KUBE_PROXY; wait $KUBE_PROXY
kill -TERM $AGENT; wait $AGENT; echo $? > "$OUT/agent-exit-code"
true
`;
}

/** Boots the guest and runs the soak; throws with the guest's output when the script itself failed. */
export async function runSoak(options: SoakOptions): Promise<GuestResult> {
  if (!existsSync(join(REPO_ROOT, 'dist', 'cli', 'main.js'))) throw new Error('run `npm run build` first: the guest runs dist/');
  await STANDIN_SERVER.build();
  const guest = await runInGuest({
    // Boot, stand-in and agent start-up, the churn, the settling and the shutdown, with room to spare.
    timeoutMs: (options.durationS + 420) * 1000,
    memoryMb: 2048,
    files: { kubeconfig: STANDIN_KUBECONFIG, 'init-ops.json': JSON.stringify(INIT_OPS) },
    script: script(options),
  });
  if (guest.exitCode !== 0) {
    throw new Error(`guest failed (${guest.exitCode}):\n${guest.stderr}\n${guest.output('agent.log')?.slice(-4000) ?? ''}\n${guest.console.slice(-3000)}`);
  }
  return guest;
}
