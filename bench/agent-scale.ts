/**
 * The agent at scale (issue 5, "Scale"): `ipvs-sentinel serve` against the API stand-in holding a
 * synthetic cluster — 10,000 Services with 10 endpoints each (100,000 endpoints), then 100 — and the
 * IPVS table kube-proxy would program for it, in the real-IPVS guest. Reports the agent's RSS after
 * sync, one poll cycle's wall and CPU time, the read durations it records itself, and `/metrics` and
 * `/ipvs` latency (median of 5), with and without per-backend metrics. The guest runs under TCG
 * emulation, so the same figures are also taken natively on this machine with the kernel's netlink
 * replies answered in process (bench/agent-host.mjs, bench/scale-kernel.mjs): the guest shows the
 * real kernel path, the host the real speed.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT, runInGuest, STANDIN_KUBECONFIG } from '../test/guest/harness.js';

/** One agent run, as the guest script (and bench/agent-host.mjs) print it. */
export interface AgentScaleRow {
  where: 'guest' | 'host';
  services: number;
  realServers: number;
  backendMetrics: boolean;
  /** From the agent's start to /readyz 200 (client-node load, full list, first poll). */
  readyMs: number;
  rssMb: number;
  /** Peak RSS (VmHWM), e.g. during the initial list. */
  hwmMb: number;
  /** Host only: the highest RSS right after one of the timed polls (the agent idles between polls at about that). */
  rssMaxMb?: number;
  /** Wall time of one poll cycle: the checkedAt spacing minus the poll interval. */
  cycleMs: number;
  /** CPU time (user + system) per poll cycle. */
  cycleCpuMs: number;
  /** Host only: of which the heap collection after the poll (src/agent/heap.ts), and how many of the timed polls' collections were memory-reducing ones. */
  heapCpuMs?: number;
  reducing?: number;
  /** Mean of ipvs_sentinel_read_duration_seconds per source. */
  netlinkMs: number;
  clusterMs: number;
  metricsMs: number;
  metricsKb: number;
  ipvsMs: number;
  ipvsKb: number;
  driftStatus: string;
  driftFindings: number;
  /** Guest only: `ipvsadm -R` of the table. */
  loadMs?: number;
}

const POLL_S = 5;

/** NODE_OPTIONS as the image sets them (Dockerfile `ENV ... NODE_OPTIONS=...`): the agent is measured as deployed. */
export function imageNodeOptions(dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8')): string {
  const m = /^\s*NODE_OPTIONS=(?:"([^"\n]+)"|(\S+))\s*$/m.exec(dockerfile);
  const options = m?.[1] ?? m?.[2];
  if (!options) throw new Error('Dockerfile: no NODE_OPTIONS=... line in the runtime ENV');
  return options;
}

/** The runtime environment the image sets for the agent's process: NODE_OPTIONS and glibc's MALLOC_ARENA_MAX. */
export function imageRuntimeEnv(dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8')): { NODE_OPTIONS: string; MALLOC_ARENA_MAX: string } {
  const arenas = /^\s*(?:ENV\s+)?MALLOC_ARENA_MAX=(\d+)\b/m.exec(dockerfile)?.[1];
  if (!arenas) throw new Error('Dockerfile: no MALLOC_ARENA_MAX=... in the runtime ENV');
  return { NODE_OPTIONS: imageNodeOptions(dockerfile), MALLOC_ARENA_MAX: arenas };
}

const GUEST_SCRIPT = `
set -u
now() { date +%s%3N; }
until_() { local end=$(( $(date +%s) + $1 )); shift; until "$@"; do [ "$(date +%s)" -ge "$end" ] && return 1; sleep 0.5; done; }
median5() { sort -g | sed -n 3p; }
A=http://127.0.0.1:9742

modprobe -a dummy nf_conntrack ip_vs ip_vs_rr
ip link set lo up
ip link add eth0 type dummy; ip addr add 10.0.0.10/24 dev eth0; ip link set eth0 up
ip link add kube-ipvs0 type dummy
ip route add 10.128.0.0/9 dev eth0
sysctl -qw net.ipv4.vs.conntrack=1 net.ipv4.vs.expire_nodest_conn=1 net.ipv4.vs.expire_quiescent_template=1 net.ipv4.ip_forward=1 net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
echo ipvs > /run/kube-proxy-mode
"$NODE" test/guest/fake-kube-proxy.mjs /run/kube-proxy-mode &
cp "$JOB/kubeconfig" /run/kubeconfig
TICK=$(getconf CLK_TCK)
cpu_ms() { awk -v t="$TICK" '{ print int(($14 + $15) * 1000 / t) }' "/proc/$1/stat"; }
isready() { [ "$(curl -s -m 60 -o /dev/null -w '%{http_code}' "$A/readyz")" = 200 ]; }
checked_at() { curl -s -m 60 "$A/drift" | jq -r .checkedAt; }
# wait_polls N: until N more polls have completed; prints "<ms between the first and last> <cpu ms over them>"
wait_polls() {
  local pid=$1 n=$2 last first t0 c0 seen=0
  last=$(checked_at)
  until [ "$seen" -ge "$n" ]; do
    sleep 0.3
    local c; c=$(checked_at)
    if [ "$c" != "$last" ]; then
      if [ "$seen" -eq 0 ]; then t0=$(now); c0=$(cpu_ms "$pid"); fi
      seen=$((seen + 1)); last=$c
    fi
  done
  echo "$(( $(now) - t0 )) $(( $(cpu_ms "$pid") - c0 ))"
}
metric_mean_ms() { # FILE SOURCE
  awk -v s="source=\\"$2\\"" '$1 ~ /^ipvs_sentinel_read_duration_seconds_sum/ && index($1, s) { sum = $2 }
    $1 ~ /^ipvs_sentinel_read_duration_seconds_count/ && index($1, s) { n = $2 }
    END { if (n > 0) printf "%.1f", sum / n * 1000; else print 0 }' "$1"
}
latency() { # PATH -> "<median ms> <kB>"
  local i; for i in 1 2 3 4 5; do curl -s -m 120 -o /run/body -w '%{time_total}\\n' "$A$1"; done | median5 | awk '{ printf "%.1f ", $1 * 1000 }'
  echo "$(( $(stat -c %s /run/body) / 1024 ))"
}

measure() { # SERVICES BACKEND_METRICS LOAD_MS  (no process substitution: the guest has no /dev/fd)
  local n=$1 bm=$2 load=$3 t0 pid r
  t0=$(now)
  MALLOC_ARENA_MAX="$AGENT_MALLOC_ARENA_MAX" NODE_OPTIONS="$AGENT_NODE_OPTIONS" "$NODE" bin/ipvs-sentinel.js serve --kubeconfig /run/kubeconfig --node-name worker-1 --poll-interval ${POLL_S}s --grace 30s \\
    --listen 127.0.0.1:9742 --backend-metrics=$bm > "$OUT/agent-$n-$bm.log" 2>&1 &
  pid=$!
  until_ 900 isready || { echo "agent not ready ($n, $bm)" >&2; return 1; }
  local ready=$(( $(now) - t0 ))
  wait_polls $pid 1 > /dev/null
  r=$(wait_polls $pid 4); local span=\${r% *} cpu=\${r#* }
  local rss hwm
  rss=$(awk '/^VmRSS/ { print int($2 / 1024) }' /proc/$pid/status); hwm=$(awk '/^VmHWM/ { print int($2 / 1024) }' /proc/$pid/status)
  r=$(latency /metrics); local mms=\${r% *} mkb=\${r#* }; cp /run/body /run/metrics
  r=$(latency /ipvs); local ims=\${r% *} ikb=\${r#* }
  local drift; drift=$(curl -s "$A/drift" | jq -c '{status, n: ([.findings[] | select(.severity != "info")] | length)}')
  # 3 cycles between the first and the 4th completed poll, each = its work + the poll interval
  printf '{"where":"guest","services":%s,"realServers":%s,"backendMetrics":%s,"readyMs":%s,"rssMb":%s,"hwmMb":%s,"cycleMs":%s,"cycleCpuMs":%s,"netlinkMs":%s,"clusterMs":%s,"metricsMs":%s,"metricsKb":%s,"ipvsMs":%s,"ipvsKb":%s,"driftStatus":%s,"driftFindings":%s,"loadMs":%s}\\n' \\
    "$n" "$((n * 10))" "$bm" "$ready" "$rss" "$hwm" "$(( span / 3 - ${POLL_S} * 1000 ))" "$(( cpu / 3 ))" \\
    "$(metric_mean_ms /run/metrics netlink)" "$(metric_mean_ms /run/metrics cluster)" "$mms" "$mkb" "$ims" "$ikb" \\
    "$(echo "$drift" | jq .status)" "$(echo "$drift" | jq .n)" "$load" >> "$OUT/bench.jsonl"
  kill -TERM $pid; wait $pid
}

for n in 10000 100; do
  ipvsadm -C; ip addr flush dev kube-ipvs0
  rm -f /run/standin-ready
  "$NODE" node_modules/tsx/dist/cli.mjs test/guest/standin-server.ts --port 6443 --control 6444 --synthetic $n \\
    --table /run/table --addresses /run/addresses --ready /run/standin-ready > "$OUT/standin-$n.log" 2>&1 &
  standin=$!
  until_ 300 test -f /run/standin-ready || { echo "stand-in did not start" >&2; exit 1; }
  t0=$(now); ipvsadm -R < /run/table; load=$(( $(now) - t0 ))
  ip -batch /run/addresses
  ip link set kube-ipvs0 up
  measure $n true $load || exit 1
  measure $n false $load || exit 1
  kill $standin; wait $standin
done
true
`;

function printRows(rows: AgentScaleRow[]): void {
  const head = ['where', 'Services', 'backends', 'metrics/backend', 'ready', 'RSS', 'peak', 'cycle', 'cycle CPU', 'of it GC', 'netlink', 'cluster', '/metrics', '/ipvs', 'drift'];
  const lines = rows.map((r) => [
    r.where,
    String(r.services),
    String(r.realServers),
    r.backendMetrics ? 'on' : 'off',
    `${(r.readyMs / 1000).toFixed(1)} s`,
    r.rssMaxMb === undefined ? `${r.rssMb} MB` : `${r.rssMb} MB (max ${r.rssMaxMb})`,
    `${r.hwmMb} MB`,
    `${r.cycleMs} ms`,
    `${r.cycleCpuMs} ms`,
    r.heapCpuMs === undefined ? '' : `${r.heapCpuMs} ms`,
    `${r.netlinkMs} ms`,
    `${r.clusterMs} ms`,
    `${r.metricsMs} ms (${r.metricsKb} kB)`,
    `${r.ipvsMs} ms (${r.ipvsKb} kB)`,
    `${r.driftStatus}/${r.driftFindings}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  for (const l of [head, ...lines]) console.log(`  ${l.map((c, i) => c.padStart(widths[i] ?? 0)).join('  ')}`);
}

export async function runAgentScaleBench(): Promise<void> {
  console.log('Agent at scale: serve against the API stand-in, Services × 10 endpoints, matching IPVS table');
  console.log('  targets: RSS ≤ 200 MB at 10,000 Services, ≤ 80 MB at 100; /metrics and /ipvs ≤ 150 ms');
  const rows: AgentScaleRow[] = [];
  const runtimeEnv = imageRuntimeEnv();
  const nodeOptions = runtimeEnv.NODE_OPTIONS;
  console.log(`  the agent runs with NODE_OPTIONS=${nodeOptions} MALLOC_ARENA_MAX=${runtimeEnv.MALLOC_ARENA_MAX}, as in the image`);

  // Native: the same agent code and the same stand-in, the IPVS read answered in process with the
  // matching table (bench/scale-kernel.mjs), one backend in ten busy between polls.
  for (const services of [10_000, 100]) {
    for (const backendMetrics of [true, false]) {
      // As the launcher starts serve (bin/ipvs-sentinel.js): the optimizing compilers on only once the heap is large.
      const tiering = `--import=data:text/javascript,import{startAdaptiveTiering}from'${pathToFileURL(join(REPO_ROOT, 'dist', 'agent', 'tiering.js')).href}';startAdaptiveTiering(['serve'])`;
      const run = spawnSync(process.execPath, [tiering, join(REPO_ROOT, 'bench', 'agent-host.mjs'), String(services), String(backendMetrics)], {
        cwd: REPO_ROOT,
        env: { ...process.env, ...runtimeEnv },
        encoding: 'utf8',
        timeout: 600_000,
      });
      const line = run.stdout.trim().split('\n').at(-1);
      if (run.status !== 0 || !line) throw new Error(`host agent bench failed (${services}, ${backendMetrics}): ${run.stderr}`);
      rows.push(JSON.parse(line) as AgentScaleRow);
    }
  }

  printRows(rows);
  console.log('  (host: native speed, the netlink replies answered in process; guest rows follow)');

  const result = await runInGuest({ script: `AGENT_NODE_OPTIONS='${nodeOptions}'\nAGENT_MALLOC_ARENA_MAX='${runtimeEnv.MALLOC_ARENA_MAX}'\n${GUEST_SCRIPT}`, files: { kubeconfig: STANDIN_KUBECONFIG }, memoryMb: 6144, timeoutMs: 1_800_000 });
  const text = result.output('bench.jsonl');
  if (result.exitCode !== 0 || !text) throw new Error(`guest agent bench failed (${result.exitCode}): ${result.stderr}\n${result.console.slice(-2000)}`);
  rows.length = 0;
  for (const line of text.trim().split('\n')) rows.push(JSON.parse(line) as AgentScaleRow);
  printRows(rows);
  const loads = rows.filter((r) => r.loadMs !== undefined && r.backendMetrics);
  console.log(`  guest (TCG emulation): ipvsadm -R of the table took ${loads.map((r) => `${(Number(r.loadMs) / 1000).toFixed(1)} s at ${r.services}`).join(', ')}`);
  console.log(`  cycle = one poll's wall time (checkedAt spacing − the ${POLL_S} s interval); netlink/cluster = mean read_duration_seconds;`);
  console.log('  drift = status/non-info findings (ok/0: the table matches); host rows answer the netlink requests in process');
}
