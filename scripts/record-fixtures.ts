/**
 * Re-records the netlink byte fixtures from the real kernel: boots the IPVS guest, programs each
 * scenario's table, reads it through a recording socket and writes test/fixtures/netlink/*.json.
 * Then `UPDATE_GOLDEN=1 npx vitest run test/unit/ipvs/replay.test.ts` refreshes the golden snapshots.
 *
 *   npm run build && npx tsx scripts/record-fixtures.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, runInGuest } from '../test/guest/harness.js';

const SCENARIOS: Record<string, { description: string; setup: string }> = {
  empty: { description: 'ip_vs loaded, no virtual servers', setup: 'modprobe ip_vs' },
  wide: {
    description: 'test/guest/tables/wide.sh: TCP/UDP/SCTP, IPv4/IPv6, fwmark v4/v6, persistence, sh/mh flags, tunnels, traffic',
    setup: 'source test/guest/tables/wide.sh',
  },
  'many-services': {
    description: '120 virtual servers × 2 real servers: dumps spanning several datagrams',
    setup: `modprobe -a ip_vs ip_vs_rr
{ for i in $(seq 1 120); do a=10.100.$((i / 250)).$((i % 250 + 1)); echo "-A -t $a:80 -s rr";
  for j in 1 2; do echo "-a -t $a:80 -r 10.244.$j.$((i % 250 + 1)):8080 -m -w $j"; done; done; } | ipvsadm -R`,
  },
};

const script = ['guest_node_network'];
for (const [name, s] of Object.entries(SCENARIOS)) {
  script.push(`ipvsadm -C 2>/dev/null || true`, s.setup, `"$NODE" test/guest/record.mjs '${s.description}' > "$OUT/${name}.json"`);
}
const result = await runInGuest({ script: script.join('\n'), timeoutMs: 600_000 });
if (result.exitCode !== 0) {
  console.error(result.stderr, result.console.slice(-3000));
  process.exit(1);
}
const dir = join(REPO_ROOT, 'test', 'fixtures', 'netlink');
mkdirSync(dir, { recursive: true });
for (const name of Object.keys(SCENARIOS)) {
  const text = result.output(`${name}.json`);
  if (!text) throw new Error(`no recording for ${name}`);
  writeFileSync(join(dir, `${name}.json`), text);
  console.log(`recorded test/fixtures/netlink/${name}.json`);
}
