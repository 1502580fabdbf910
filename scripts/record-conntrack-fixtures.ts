/**
 * Re-records the ctnetlink byte fixtures (test/fixtures/conntrack/*.json) from this machine's kernel,
 * in a throw-away network namespace (`unshare -n`, as root; needs the conntrack package): inserts UDP
 * entries of both families as IPVS leaves them for a Service flow (original destination the Service
 * IP, reply source the endpoint), TCP and ICMP entries beside them, reads them through a recording
 * socket — asking the kernel for UDP only, and plainly, as on a kernel before 5.6 — and writes
 * `conntrack -L` of the same state beside them (the tests' oracle).
 *
 *   npx tsx scripts/record-conntrack-fixtures.ts
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readUdpConntrack } from '../src/conntrack/reader.js';
import type { NetlinkRecording } from '../src/netlink/recording.js';
import { netfilterRecorder } from '../test/support/netfilter-recorder.js';

const REPO = join(fileURLToPath(import.meta.url), '..', '..');
const DIR = join(REPO, 'test', 'fixtures', 'conntrack');
/** The sequence number the recordings' requests carry; the tests read with the same one. */
export const RECORDED_SEQ = 4242;

if (process.env.RECORD_IN_NETNS !== '1') {
  const run = spawnSync('unshare', ['-n', process.execPath, '--import', 'tsx', fileURLToPath(import.meta.url)], {
    stdio: 'inherit',
    env: { ...process.env, RECORD_IN_NETNS: '1' },
  });
  process.exit(run.status ?? 1);
}

const conntrack = (args: string): string => execFileSync('sh', ['-c', `conntrack ${args} 2>/dev/null`], { encoding: 'utf8' });

/** One UDP flow to a Service address, DNATed to an endpoint (what IPVS with net.ipv4.vs.conntrack=1 leaves). */
function udp(client: string, sport: number, service: string, dport: number, endpoint: string, eport: number): void {
  conntrack(`-I -p udp -s ${client} -d ${service} --sport ${sport} --dport ${dport} -r ${endpoint} -q ${client} --reply-port-src ${eport} --reply-port-dst ${sport} -t 120 -u SEEN_REPLY`);
}

// kube-dns at 10.96.0.10:53: one flow to a live endpoint, two to a gone one; a node port flow.
udp('10.0.2.15', 40000, '10.96.0.10', 53, '10.244.1.7', 53);
udp('10.0.2.15', 40001, '10.96.0.10', 53, '10.244.2.9', 53);
udp('10.244.3.4', 51234, '10.96.0.10', 53, '10.244.2.9', 53);
udp('192.0.2.50', 33333, '10.0.2.15', 30053, '10.244.2.9', 5353);
// An un-NATed flow to the outside world (reply source = original destination).
udp('10.0.2.15', 45000, '198.51.100.53', 53, '198.51.100.53', 53);
// IPv6 kube-dns at fd00:96::a.
udp('fd00:244::3:4', 41000, 'fd00:96::a', 53, 'fd00:244::2:9', 53);
// TCP and ICMP beside them: what the filter keeps out.
for (let i = 0; i < 40; i++) conntrack(`-I -p tcp -s 10.0.2.15 -d 10.96.0.1 --sport ${20000 + i} --dport 443 -r 10.0.2.15 -q 10.0.2.15 --reply-port-src 6443 --reply-port-dst ${20000 + i} -t 3600 --state ESTABLISHED -u SEEN_REPLY,ASSURED`);
conntrack('-I -p icmp -s 10.0.2.15 -d 10.96.0.10 --icmp-type 8 --icmp-code 0 --icmp-id 77 -t 30');


function write(name: string, recording: NetlinkRecording): void {
  writeFileSync(join(DIR, name), JSON.stringify(recording, null, 2) + '\n');
  console.log(`recorded ${name}: ${recording.exchanges.length} exchanges, ${recording.exchanges.reduce((n, e) => n + e.replies.length, 0)} datagrams`);
}

const filtered = netfilterRecorder('UDP entries of both families asked with CTA_FILTER (udp only), beside 40 TCP and 1 ICMP entries');
const f = readUdpConntrack({ open: () => filtered, seq: RECORDED_SEQ });
console.log(`filtered: ${f.entries.length} UDP entries, ${f.stats.skipped} skipped, kernel filtered: ${f.stats.kernelFiltered}`);
write('udp-filtered.json', filtered.recording);

const plain = netfilterRecorder('Every entry of both families asked without a filter (as on a kernel before 5.6): 6 UDP, 40 TCP, 1 ICMP');
const p = readUdpConntrack({ open: () => plain, seq: RECORDED_SEQ, plain: true });
console.log(`plain: ${p.entries.length} UDP entries, ${p.stats.skipped} skipped`);
write('plain.json', plain.recording);

writeFileSync(join(DIR, 'conntrack-L.txt'), conntrack('-L -f ipv4 -p udp -o extended') + conntrack('-L -f ipv6 -p udp -o extended'));
console.log('wrote conntrack-L.txt');
