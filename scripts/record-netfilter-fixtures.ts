/**
 * Re-records the ipset and nftables byte fixtures from this machine's kernel, in a throw-away network
 * namespace (`unshare -n`, as root; needs the ipset, nftables and iptables packages): programs
 * kube-proxy's sets from test/fixtures/ipset/kube-proxy.restore (plus a set large enough to span
 * several messages, and a few nft tables), reads them through a recording socket and writes
 * test/fixtures/ipset/*.json with `ipset save` of the same state beside them (the tests' oracle),
 * and test/fixtures/nftables/tables.json with `nft list tables`. Then
 * `UPDATE_GOLDEN=1 npx vitest run --project unit test/unit/ipset test/unit/nftables` refreshes the goldens.
 *
 *   npx tsx scripts/record-netfilter-fixtures.ts
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readIpset, readIpsets } from '../src/ipset/reader.js';
import type { NetlinkRecording, RecordingSocket } from '../src/netlink/recording.js';
import { netfilterRecorder } from '../test/support/netfilter-recorder.js';
import { readNftTables } from '../src/nftables/reader.js';

const REPO = join(fileURLToPath(import.meta.url), '..', '..');
const IPSET_DIR = join(REPO, 'test', 'fixtures', 'ipset');
const NFT_DIR = join(REPO, 'test', 'fixtures', 'nftables');

if (process.env.RECORD_IN_NETNS !== '1') {
  const run = spawnSync('unshare', ['-n', process.execPath, '--import', 'tsx', fileURLToPath(import.meta.url)], {
    stdio: 'inherit',
    env: { ...process.env, RECORD_IN_NETNS: '1' },
  });
  process.exit(run.status ?? 1);
}

const sh = (command: string, input?: string): string => execFileSync('sh', ['-c', command], { encoding: 'utf8', ...(input === undefined ? {} : { input }) });


function write(path: string, recording: NetlinkRecording): void {
  writeFileSync(path, JSON.stringify(recording, null, 2) + '\n');
  console.log(`recorded ${path.slice(REPO.length + 1)}: ${recording.exchanges.length} exchanges, ${recording.exchanges.reduce((n, e) => n + e.replies.length, 0)} datagrams`);
}

// ---- kube-proxy's sets, both families, all five types, one rule referencing KUBE-CLUSTER-IP ------
sh('ipset restore', readFileSync(join(IPSET_DIR, 'kube-proxy.restore'), 'utf8'));
sh("iptables-nft -t nat -A POSTROUTING -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT");
{
  const socket = netfilterRecorder('test/fixtures/ipset/kube-proxy.restore (17 kube-proxy sets per family) in a fresh netns, KUBE-CLUSTER-IP referenced by one iptables-nft rule: full list seq 1000, headers-only seq 2000, KUBE-CLUSTER-IP seq 3000, KUBE-MISSING (ENOENT) seq 4000');
  const open = (): RecordingSocket => socket;
  readIpsets({ open, seq: 1000 });
  readIpsets({ open, seq: 2000, headersOnly: true });
  readIpset('KUBE-CLUSTER-IP', { open, seq: 3000 });
  readIpset('KUBE-MISSING', { open, seq: 4000 });
  write(join(IPSET_DIR, 'kube-proxy.json'), socket.recording);
  writeFileSync(join(IPSET_DIR, 'kube-proxy.save'), sh('ipset save'));
}

// ---- one large set per family, each spanning several messages ----------------------------------
sh('iptables-nft -t nat -F POSTROUTING && ipset destroy');
{
  const lines = ['create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536'];
  for (let i = 0; i < 1200; i++) lines.push(`add KUBE-CLUSTER-IP 10.96.${i >> 8}.${i & 0xff},${['tcp', 'udp', 'sctp'][i % 3]}:${80 + (i % 7)}`);
  lines.push('create KUBE-6-LOOP-BACK hash:ip,port,ip family inet6 hashsize 1024 maxelem 65536');
  for (let i = 0; i < 500; i++) lines.push(`add KUBE-6-LOOP-BACK fd00:10:244:${i >> 8}::${(i & 0xff).toString(16)},tcp:8080,fd00:10:244:${i >> 8}::${(i & 0xff).toString(16)}`);
  sh('ipset restore', lines.join('\n') + '\n');
  const socket = netfilterRecorder('1,200 KUBE-CLUSTER-IP and 500 KUBE-6-LOOP-BACK members in a fresh netns: sets continued over several messages, seq 5000');
  readIpsets({ open: () => socket, seq: 5000 });
  write(join(IPSET_DIR, 'large.json'), socket.recording);
  writeFileSync(join(IPSET_DIR, 'large.save'), sh('ipset save'));
}

// ---- nftables tables: iptables-nft's, and nftables-mode kube-proxy leftovers ---------------------
sh(
  [
    'iptables-nft -t nat -N KUBE-SERVICES',
    'iptables-nft -t nat -A PREROUTING -j KUBE-SERVICES',
    'iptables-nft -t filter -N KUBE-FORWARD',
    'ip6tables-nft -t nat -N KUBE-SERVICES',
    'nft add table ip kube-proxy',
    "nft add chain ip kube-proxy services '{ type nat hook prerouting priority -100; }'",
    'nft add table ip6 kube-proxy',
    'nft add table inet filter',
    'nft add table bridge br',
    'nft add table arp a',
    'nft add table netdev nd',
  ].join(' && '),
);
{
  const socket = netfilterRecorder('iptables-nft nat/filter (ip, ip6), nft tables ip/ip6 kube-proxy, inet filter, bridge br, arp a, netdev nd in a fresh netns: seq 6000');
  readNftTables({ open: () => socket, seq: 6000 });
  write(join(NFT_DIR, 'tables.json'), socket.recording);
  writeFileSync(join(NFT_DIR, 'tables.txt'), sh('nft list tables'));
}
