/**
 * Records the nftables chain-dump fixture from this machine's kernel, in a throw-away network
 * namespace (`unshare -n`, as root; needs the nftables and iptables packages): a default-drop
 * firewall as iptables-nft and as an nft `inet` table write it, kube-proxy's nftables-mode table and
 * a regular chain, read through a recording socket into test/fixtures/nftables/chains.json, with
 * `nft -j list chains` of the same state beside it (the test's oracle). Then
 * `UPDATE_GOLDEN=1 npx vitest run --project unit test/unit/nftables/chains.test.ts` refreshes the golden.
 *
 *   npx tsx scripts/record-nft-chains-fixture.ts
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readNftChains } from '../src/nftables/reader.js';
import { netfilterRecorder } from '../test/support/netfilter-recorder.js';

const REPO = join(fileURLToPath(import.meta.url), '..', '..');
const NFT_DIR = join(REPO, 'test', 'fixtures', 'nftables');

if (process.env.RECORD_IN_NETNS !== '1') {
  const run = spawnSync('unshare', ['-n', process.execPath, '--import', 'tsx', fileURLToPath(import.meta.url)], { stdio: 'inherit', env: { ...process.env, RECORD_IN_NETNS: '1' } });
  process.exit(run.status ?? 1);
}

const sh = (command: string): string => execFileSync('sh', ['-c', command], { encoding: 'utf8' });

sh(
  [
    // iptables-nft's filter table: INPUT drops by default, FORWARD accepts (its base chains in table ip filter).
    'iptables-nft -t filter -P INPUT DROP',
    'iptables-nft -t filter -N KUBE-FORWARD',
    'ip6tables-nft -t filter -P FORWARD DROP',
    // A host firewall in its own inet table: input drops, forward drops at another priority, output accepts.
    'nft add table inet firewalld',
    "nft add chain inet firewalld filter_INPUT '{ type filter hook input priority 10; policy drop; }'",
    "nft add chain inet firewalld filter_FORWARD '{ type filter hook forward priority 10; policy drop; }'",
    "nft add chain inet firewalld filter_OUTPUT '{ type filter hook output priority 10; policy accept; }'",
    'nft add chain inet firewalld filter_IN_public',
    // nftables-mode kube-proxy's own table: a filter base chain that accepts, a nat one, a regular one.
    'nft add table ip kube-proxy',
    "nft add chain ip kube-proxy filter-input '{ type filter hook input priority -110; policy accept; }'",
    "nft add chain ip kube-proxy nat-prerouting '{ type nat hook prerouting priority -100; }'",
    'nft add chain ip kube-proxy services',
  ].join(' && '),
);
const socket = netfilterRecorder('iptables-nft filter INPUT policy DROP and KUBE-FORWARD, ip6tables-nft FORWARD DROP, inet firewalld input/forward drop and output accept at priority 10 with a regular chain, ip kube-proxy filter-input accept at -110, nat-prerouting and services, in a fresh netns: seq 7000');
readNftChains({ open: () => socket, seq: 7000 });
const recording = socket.recording;
writeFileSync(join(NFT_DIR, 'chains.json'), JSON.stringify(recording, null, 2) + '\n');
writeFileSync(join(NFT_DIR, 'chains.nft.json'), sh('nft -j list chains'));
console.log(`recorded test/fixtures/nftables/chains.json: ${recording.exchanges.length} exchanges, ${recording.exchanges.reduce((n, e) => n + e.replies.length, 0)} datagrams`);
