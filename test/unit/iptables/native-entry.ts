/**
 * Run by native.test.ts inside a throw-away network namespace (`unshare -n`) after it loaded a fixture
 * ruleset: reads the namespace's iptables state `reads` times with the real tools, and prints one JSON
 * line — the legacy table names and nft tables before and after, and the last observation.
 * Usage: node --import tsx test/unit/iptables/native-entry.ts <reads>
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readIptables } from '../../../src/iptables/read.js';
import type { BackendRead, NftTableRef } from '../../../src/iptables/types.js';
import { dumpJson } from './dump-json.js';

const reads = Number(process.argv[2] ?? '10');

/** The nf_tables tables, as src/nftables/tables.ts would list them (here through the nft tool; `use` is not shown by it). */
function nftTables(): NftTableRef[] {
  const parsed = JSON.parse(execFileSync('nft', ['-j', 'list', 'tables'], { encoding: 'utf8' })) as { nftables: { table?: { family: string; name: string } }[] };
  return parsed.nftables.flatMap((o) => (o.table ? [{ family: o.table.family, name: o.table.name, use: 0 }] : []));
}

function legacyNames(): { inet: string; inet6: string } {
  return { inet: readFileSync('/proc/net/ip_tables_names', 'utf8'), inet6: readFileSync('/proc/net/ip6_tables_names', 'utf8') };
}

function summary(read: BackendRead): unknown {
  switch (read.state) {
    case 'absent':
      return { state: 'absent', reason: read.reason };
    case 'failed':
      return { state: 'failed', code: read.error.code, message: read.error.message };
    case 'read':
      return { state: 'read', tool: read.result.tool, legacyTablesPresent: read.result.legacyTablesPresent, warnings: read.result.warnings, model: JSON.parse(dumpJson(read.result.dump, { withGenerator: false })) as unknown };
  }
}

const before = { legacy: legacyNames(), nft: nftTables() };
let observation = await readIptables({ nftTables: before.nft });
for (let i = 1; i < reads; i++) observation = await readIptables({ nftTables: nftTables() });
const after = { legacy: legacyNames(), nft: nftTables() };

process.stdout.write(
  JSON.stringify({
    before,
    after,
    legacyTableNames: observation.legacyTableNames,
    reads: {
      legacy: { inet: summary(observation.legacy.inet), inet6: summary(observation.legacy.inet6) },
      nft: { inet: summary(observation.nft.inet), inet6: summary(observation.nft.inet6) },
    },
    decision: observation.decision,
    problems: observation.problems,
  }) + '\n',
);
