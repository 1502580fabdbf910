/**
 * stale-udp-conntrack on the real kernel: node worker-1 of the kubeadm fixture cluster with its IPVS
 * table (program-desired.mjs) and kube-proxy's sysctls (net.ipv4.vs.conntrack=1, so IPVS's DNAT is
 * written into the conntrack entry's reply tuple), and one nft rule on ct state standing in for
 * kube-proxy's nat rules, without which conntrack ignores the namespace's packets. Two UDP flows from the node to kube-dns's ClusterIP
 * 10.96.0.10:53, which rr sends one to each CoreDNS endpoint (10.244.0.3, 10.244.1.4). Then 10.244.1.4
 * is removed from IPVS and from the API (its EndpointSlice endpoint deleted) while its conntrack entry
 * lives: `check` names the Service, the entry and the dead endpoint — and only that entry; the
 * `conntrack -D` kube-proxy would run clears it.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tupleText } from '../../src/conntrack/codec.js';
import { readUdpConntrack } from '../../src/conntrack/reader.js';
import { ReplaySocket, type NetlinkRecording } from '../../src/netlink/recording.js';
import { REPO_ROOT, runInGuest, type GuestResult, requireOutput } from './harness.js';

interface FindingJson {
  kind: string;
  severity: string;
  /** kind|||subject: the Service port, the entry and the dead endpoint. */
  id: string;
  service: { namespace: string; name: string; port: string } | null;
  actual: { endpoint: string; original: { src: string; dst: string; srcPort: number; dstPort: number }; virtualServer: string } | null;
  confirmed: boolean;
  message: string;
}
interface DriftJson {
  status: string;
  findings: FindingJson[];
}

const GONE = '10.244.1.4';
const CLUSTER = join(REPO_ROOT, 'test', 'fixtures', 'cluster', 'kubeadm-ipv4.yaml');

/** The kubeadm cluster with CoreDNS pod coredns-668d6bf9bc-m9qzt (10.244.1.4) gone from kube-dns's EndpointSlice. */
function withoutGoneEndpoint(): string {
  const text = readFileSync(CLUSTER, 'utf8');
  const cut = text.replace(/ {2}- addresses:\n {4}- 10\.244\.1\.4\n(?: {4}.*\n)+?(?= {2}kind: EndpointSlice)/, '');
  if (cut === text || cut.includes(`- ${GONE}\n`)) throw new Error(`the fixture no longer holds ${GONE} where this test cuts it`);
  return cut;
}

const CHECK = `"$NODE" bin/ipvs-sentinel.js check --node-name worker-1 --grace 0s --output json`;

const SCRIPT = `
set -u
check() { ${CHECK} --cluster-state "$2" > "$OUT/$1.json" 2> "$OUT/$1.stderr"; echo $? > "$OUT/$1.code"; }
. test/guest/worker-1-interfaces.sh
# nf_conntrack_netlink as kube-proxy's conntrack cleanup leaves it loaded.
modprobe -a nf_conntrack nf_conntrack_netlink ip_vs ip_vs_rr
sysctl -qw net.ipv4.vs.conntrack=1 net.ipv4.vs.expire_nodest_conn=1 net.ipv4.vs.expire_quiescent_template=1 net.ipv4.ip_forward=1 net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
# The unreplied UDP timeout is 30 s; the emulated guest needs longer between the flow and the checks.
sysctl -qw net.netfilter.nf_conntrack_udp_timeout=900 net.netfilter.nf_conntrack_udp_timeout_stream=900
echo ipvs > /run/kube-proxy-mode
"$NODE" test/guest/fake-kube-proxy.mjs /run/kube-proxy-mode &
"$NODE" test/guest/program-desired.mjs test/fixtures/golden/desired/kubeadm-ipv4.json /dev/null
for i in $(seq 1 300); do curl -s -o /dev/null http://127.0.0.1:10249/proxyMode && break; sleep 0.2; done

# Conntrack sees a network namespace's packets only once something there needs it (nf_ct_netns_get):
# on a node, kube-proxy's nat rules. Here one nft rule matching on ct state does the same.
modprobe -a nf_tables nft_ct
nft add table ip conntrack-on
nft 'add chain ip conntrack-on out { type filter hook output priority 0; }'
nft add rule ip conntrack-on out ct state new counter

# Two DNS queries from fixed source ports: rr gives one to each endpoint.
"$NODE" -e "
const dgram = require('node:dgram');
(async () => {
  for (const port of [40053, 40054]) {
    const s = dgram.createSocket('udp4');
    await new Promise((r) => s.bind(port, '10.244.1.1', r));
    await new Promise((r) => s.send('q', 53, '10.96.0.10', r));
    s.close();
  }
})();
" 2> "$OUT/send.stderr"
conntrack -L -p udp -o extended > "$OUT/flows.txt" 2>/dev/null
ipvsadm -Lnc > "$OUT/ipvs-connections.txt" 2>&1
"$NODE" test/guest/conntrack-record.mjs "two UDP flows from the node to kube-dns 10.96.0.10:53 through IPVS (rr, masq, net.ipv4.vs.conntrack=1), one DNATed to each CoreDNS endpoint" > "$OUT/recording.json" 2> "$OUT/recording.stderr"
check both-serving test/fixtures/cluster/kubeadm-ipv4.yaml

# The endpoint goes from IPVS and the API; its conntrack entry stays. With expire_nodest_conn=1 a
# 5.9+ kernel expires the deleted destination's IPVS connections and, through them, their conntrack
# entries (ip_vs_expire_nodest_conn_flush); with it off — kernels before 5.9 until the next packet,
# nodes that never set it — the entry outlives the endpoint, which is the case to find.
sysctl -qw net.ipv4.vs.expire_nodest_conn=0
ipvsadm -d -u 10.96.0.10:53 -r ${GONE}:53
check gone "$JOB/gone.yaml"
conntrack -L -p udp -o extended > "$OUT/flows-gone.txt" 2>/dev/null

# What kube-proxy's cleanup deletes (pkg/proxy/conntrack/cleanup.go), with the tool.
conntrack -D -p udp --orig-dst 10.96.0.10 --orig-port-dst 53 --reply-src ${GONE} > "$OUT/delete.txt" 2>&1
check cleared "$JOB/gone.yaml"
true
`;

let guest: GuestResult;
const out = (name: string): string => requireOutput(guest, name);
const stale = (name: string): FindingJson[] => (JSON.parse(out(`${name}.json`)) as DriftJson).findings.filter((f) => f.kind === 'stale-udp-conntrack');

/** `conntrack -L -o extended` lines to kube-dns's ClusterIP: source port → reply source. */
function flows(name: string): Map<number, string> {
  const byPort = new Map<number, string>();
  for (const line of out(name).split('\n')) {
    const fields = [...line.matchAll(/(src|dst|sport|dport)=(\S+)/g)].map((m) => m[2] ?? '');
    if (fields.length !== 8 || fields[1] !== '10.96.0.10' || fields[3] !== '53') continue;
    byPort.set(Number(fields[2]), fields[4] ?? '');
  }
  return byPort;
}

beforeAll(async () => {
  if (!existsSync(join(REPO_ROOT, 'dist', 'cli', 'main.js'))) throw new Error('run `npm run build` first: the guest runs dist/');
  guest = await runInGuest({ timeoutMs: 280_000, script: SCRIPT, files: { 'gone.yaml': withoutGoneEndpoint() } });
  if (guest.exitCode !== 0) throw new Error(`guest failed (${guest.exitCode}):\n${guest.stderr}\n${guest.console.slice(-4000)}`);
});

describe('stale-udp-conntrack on the real kernel', () => {
  it('sees the two flows IPVS DNATed to the two CoreDNS endpoints, and nothing stale while both serve', () => {
    const why = [out('flows.txt'), out('ipvs-connections.txt'), out('send.stderr')].join('\n---\n');
    expect([...flows('flows.txt').entries()].sort(), why).toEqual([
      [40053, expect.stringMatching(/^10\.244\.(0\.3|1\.4)$/)],
      [40054, expect.stringMatching(/^10\.244\.(0\.3|1\.4)$/)],
    ]);
    expect(new Set(flows('flows.txt').values())).toEqual(new Set(['10.244.0.3', GONE]));
    expect(stale('both-serving'), out('both-serving.stderr')).toEqual([]);
  });

  it('reads the same UDP entries as conntrack -L, IPVS\'s DNAT in their reply tuples (the recording replayed; RECORD_FIXTURES=1 keeps it)', () => {
    const recording = JSON.parse(out('recording.json')) as NetlinkRecording;
    if (process.env.RECORD_FIXTURES === '1') writeFileSync(join(REPO_ROOT, 'test', 'fixtures', 'conntrack', 'guest-ipvs.json'), JSON.stringify(recording, null, 2) + '\n');
    const socket = new ReplaySocket(recording);
    const read = readUdpConntrack({ open: () => socket, seq: 4242 });
    expect(read.stats.kernelFiltered).toBe(true);
    const listed = out('flows.txt')
      .split('\n')
      .filter((l) => l.includes('udp'))
      .map((l) => [...l.matchAll(/(src|dst|sport|dport)=(\S+)/g)].map((m) => m[0]).join(' '))
      .sort();
    expect(read.entries.map((e) => `${tupleText(e.original)} ${tupleText(e.reply)}`).sort()).toEqual(listed);
  });

  it('names the Service, the entry and the dead endpoint once the endpoint is gone from IPVS and the API', () => {
    const gonePort = [...flows('flows-gone.txt').entries()].find(([, replySrc]) => replySrc === GONE)?.[0];
    expect(gonePort, out('flows-gone.txt')).toBeDefined();
    const found = stale('gone');
    expect(found, out('gone.stderr')).toHaveLength(1);
    expect(found[0]).toMatchObject({
      severity: 'warning',
      confirmed: true,
      service: { namespace: 'kube-system', name: 'kube-dns', port: 'dns' },
      id: `stale-udp-conntrack|||kube-system/kube-dns:dns udp src=10.244.1.1 dst=10.96.0.10 sport=${gonePort} dport=53 -> ${GONE}:53`,
      actual: { endpoint: `${GONE}:53`, virtualServer: 'UDP/10.96.0.10:53', original: { src: '10.244.1.1', dst: '10.96.0.10', srcPort: gonePort, dstPort: 53 } },
    });
    expect(found[0]?.message).toContain(`conntrack -D -p udp --orig-dst 10.96.0.10 --orig-port-dst 53 --reply-src ${GONE}`);
  });

  it('clears once the entry is deleted as kube-proxy deletes it', () => {
    expect(out('delete.txt')).toContain('1 flow entries have been deleted');
    expect(stale('cleared'), out('cleared.stderr')).toEqual([]);
  });
});
