/**
 * iptables read + parse per poll on this machine's kernel, in throw-away network namespaces (`unshare -n`,
 * root): the real `*-save` tools through runSave/readIptables. Budget: ≤ 300 ms per poll at 10,000 Services.
 *   ipvs      kube-proxy's IPVS-mode rules (test/fixtures/iptables), both backends and families. IPVS mode
 *             keeps Services in ipsets, so its rules do not grow with them: this is 10,000 Services' worth.
 *   leftover  the same plus a 10,000-Service iptables-mode leftover (3 endpoints each, every 20th without
 *             endpoints): ~10^5 rules, ~40,000 chains, loaded into one backend at a time.
 * Prints medians of 7 runs: the tool alone (output to /dev/null), the parser alone on its captured output,
 * runSave (tool + streaming parse), and the whole readIptables poll. Figures, not assertions. Takes minutes:
 * iptables-nft-restore of the 10^5-rule leftover alone took 5 minutes on a busy host.
 * Usage: tsx bench/iptables-bench.ts   (re-runs itself inside `unshare -n` per scenario)
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { readIptables } from '../src/iptables/read.js';
import { runSave } from '../src/iptables/run-save.js';
import { parseSave } from '../src/iptables/save-parser.js';
import type { IptablesBackend, NftTableRef, SaveTool } from '../src/iptables/types.js';

const REPO_ROOT = resolve(fileURLToPath(import.meta.url), '..', '..');
const FIXTURES = join(REPO_ROOT, 'test/fixtures/iptables');
const SERVICES = 10_000;
const ENDPOINTS = 3;
const RUNS = 7;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** A deterministic kube-proxy-like chain hash: 16 characters of base32. */
function chainHash(seed: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let h = 2166136261;
  let out = '';
  for (let round = 0; out.length < 16; round++) {
    for (const c of `${seed}/${round}`) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
    for (let k = 0; k < 6 && out.length < 16; k++) out += alphabet[(h >>> (k * 5)) & 31];
  }
  return out;
}

/** An iptables-mode ruleset for `services` Services, as kube-proxy's iptables proxier writes it (pkg/proxy/iptables/proxier.go). */
export function iptablesModeLeftover(services: number): string {
  const natChains: string[] = [':KUBE-SERVICES - [0:0]', ':KUBE-NODEPORTS - [0:0]', ':KUBE-MARK-MASQ - [0:0]'];
  const natRules: string[] = ['-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000'];
  const filterRules: string[] = [];
  let endpoint = 0;
  for (let i = 0; i < services; i++) {
    const name = `ns-${i % 50}/svc-${i}:http`;
    const ip = `10.96.${(i >> 8) & 0xff}.${i & 0xff}`;
    if (i % 20 === 19) {
      filterRules.push(`-A KUBE-SERVICES -d ${ip}/32 -p tcp -m comment --comment "${name} has no endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable`);
      filterRules.push(`-A KUBE-EXTERNAL-SERVICES -p tcp -m comment --comment "${name} has no endpoints" -m addrtype --dst-type LOCAL -m tcp --dport ${30000 + (i % 2000)} -j REJECT --reject-with icmp-port-unreachable`);
      continue;
    }
    const svc = `KUBE-SVC-${chainHash(name)}`;
    natChains.push(`:${svc} - [0:0]`);
    natRules.push(`-A KUBE-SERVICES -d ${ip}/32 -p tcp -m comment --comment "${name} cluster IP" -m tcp --dport 80 -j ${svc}`);
    natRules.push(`-A ${svc} ! -s 10.244.0.0/16 -d ${ip}/32 -p tcp -m comment --comment "${name} cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ`);
    for (let e = 0; e < ENDPOINTS; e++) {
      const n = endpoint++;
      const ep = `10.${100 + (n >> 16)}.${(n >> 8) & 0xff}.${n & 0xff}`;
      const sep = `KUBE-SEP-${chainHash(`${name}/${ep}`)}`;
      natChains.push(`:${sep} - [0:0]`);
      const probability = e < ENDPOINTS - 1 ? ` -m statistic --mode random --probability ${(1 / (ENDPOINTS - e)).toFixed(11)}` : '';
      natRules.push(`-A ${svc} -m comment --comment "${name} -> ${ep}:8080"${probability} -j ${sep}`);
      natRules.push(`-A ${sep} -s ${ep}/32 -m comment --comment "${name}" -j KUBE-MARK-MASQ`);
      natRules.push(`-A ${sep} -p tcp -m comment --comment "${name}" -m tcp -j DNAT --to-destination ${ep}:8080`);
    }
  }
  natRules.push('-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS');
  return [
    '*nat',
    ...natChains,
    ...natRules,
    'COMMIT',
    '*filter',
    ':KUBE-SERVICES - [0:0]',
    ':KUBE-EXTERNAL-SERVICES - [0:0]',
    '-I INPUT 1 -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
    '-I FORWARD 1 -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
    '-I OUTPUT 1 -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    ...filterRules,
    'COMMIT',
    '',
  ].join('\n');
}

function nftTables(): NftTableRef[] {
  const out = spawnSync('nft', ['-j', 'list', 'tables'], { encoding: 'utf8' }).stdout;
  const parsed = JSON.parse(out) as { nftables: { table?: { family: string; name: string } }[] };
  return parsed.nftables.flatMap((o) => (o.table ? [{ family: o.table.family, name: o.table.name, use: 0 }] : []));
}

function restore(command: string, file: string): void {
  const result = spawnSync('sh', ['-c', `${command} < '${file}'`], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} < ${file}: ${result.stderr}`);
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

async function toolAlone(tool: SaveTool): Promise<number> {
  return time(() => promisify(execFile)('sh', ['-c', `/usr/sbin/${tool} > /dev/null`]));
}

/** Inside the namespace: load the scenario, then measure. Prints one JSON line. */
async function inside(scenario: string): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'iptables-bench-'));
  const rows: unknown[] = [];
  try {
    restore('ipset restore -exist', join(FIXTURES, 'ipvs-mode.sets'));
    const backends: IptablesBackend[] = ['legacy', 'nft'];
    const leftoverIn: IptablesBackend | null = scenario === 'leftover-legacy' ? 'legacy' : scenario === 'leftover-nft' ? 'nft' : null;
    let loadMs = 0;
    for (const b of leftoverIn ? [leftoverIn] : backends) {
      restore(`iptables-${b}-restore --noflush`, join(FIXTURES, 'kubelet.rules'));
      if (leftoverIn) {
        const file = join(work, 'leftover.rules');
        writeFileSync(file, iptablesModeLeftover(SERVICES));
        const start = performance.now();
        restore(`iptables-${b}-restore --noflush`, file);
        loadMs = performance.now() - start;
      }
      restore(`iptables-${b}-restore --noflush`, join(FIXTURES, 'ipvs-mode.rules'));
      if (!leftoverIn) {
        restore(`ip6tables-${b}-restore --noflush`, join(FIXTURES, 'kubelet6.rules'));
        restore(`ip6tables-${b}-restore --noflush`, join(FIXTURES, 'ipvs-mode6.rules'));
      }
    }
    const tools: SaveTool[] = leftoverIn ? [`iptables-${leftoverIn}-save`] : ['iptables-legacy-save', 'ip6tables-legacy-save', 'iptables-nft-save', 'ip6tables-nft-save'];
    for (const tool of tools) {
      const alone: number[] = [];
      const parsed: number[] = [];
      let lines = 0;
      let kept = 0;
      let perService = 0;
      for (let r = 0; r < RUNS; r++) {
        alone.push(await toolAlone(tool));
        parsed.push(
          await time(async () => {
            const { dump } = await runSave(tool);
            lines = dump.ruleLines;
            kept = [...dump.tables.values()].reduce((n, t) => n + t.rules.length, 0);
            perService = [...dump.tables.values()].reduce((n, t) => n + Object.values(t.perService.counts).reduce((a, b) => a + b, 0), 0);
          }),
        );
      }
      const { stdout: text } = await promisify(execFile)(`/usr/sbin/${tool}`, [], { maxBuffer: 512 * 1024 * 1024, encoding: 'utf8' });
      const parseOnly: number[] = [];
      for (let r = 0; r < RUNS; r++) parseOnly.push(await time(() => Promise.resolve(parseSave(text))));
      rows.push({ tool, ruleLines: lines, bytes: Buffer.byteLength(text), keptRules: kept, perServiceChains: perService, toolMs: median(alone), parseMs: median(parseOnly), runSaveMs: median(parsed) });
    }
    // The table list comes from the nf_tables netlink reader in the agent; `nft -j list tables` stands in
    // for it here and is slow with 10^5 rules (it fetches more than tables), so it stays out of the timing.
    const tables = nftTables();
    const polls: number[] = [];
    for (let r = 0; r < RUNS; r++) polls.push(await time(() => readIptables({ nftTables: tables })));
    process.stdout.write(JSON.stringify({ scenario, loadMs, rows, pollMs: median(polls) }) + '\n');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function outside(): Promise<void> {
  console.log(`iptables read + parse per poll (real *-save tools, unshare -n on this kernel; medians of ${RUNS}; budget ≤ 300 ms per poll)`);
  if (spawnSync('unshare', ['-n', 'true']).status !== 0) {
    console.log('  skipped: `unshare -n` needs root');
    return;
  }
  const lockDir = mkdtempSync(join(tmpdir(), 'iptables-bench-lock-'));
  try {
    for (const scenario of ['ipvs', 'leftover-legacy', 'leftover-nft']) {
      const { stdout } = await promisify(execFile)('unshare', ['-n', process.execPath, '--import', 'tsx', 'bench/iptables-bench.ts', '--inside', scenario], {
        cwd: REPO_ROOT,
        env: { ...process.env, XTABLES_LOCKFILE: join(lockDir, 'xtables.lock') },
        maxBuffer: 16 * 1024 * 1024,
        timeout: 900_000,
      });
      const result = JSON.parse(stdout) as {
        scenario: string;
        loadMs: number;
        pollMs: number;
        rows: { tool: string; ruleLines: number; bytes: number; keptRules: number; perServiceChains: number; toolMs: number; parseMs: number; runSaveMs: number }[];
      };
      const what = result.scenario === 'ipvs' ? `IPVS mode, ${SERVICES.toLocaleString('en')} Services (rules independent of Services), both backends and families` : `IPVS mode + ${SERVICES.toLocaleString('en')}-Service iptables-mode leftover in ${result.scenario.slice('leftover-'.length)} (restore ${(result.loadMs / 1000).toFixed(1)} s)`;
      console.log(`  ${what}`);
      console.log('    tool                    rule lines   output   kept   per-Service chains   tool alone   parse alone   runSave (tool + streaming parse)');
      for (const r of result.rows) {
        const cells = [
          r.tool.padEnd(22),
          String(r.ruleLines).padStart(11),
          `${(r.bytes / 1e6).toFixed(1)} MB`.padStart(8),
          String(r.keptRules).padStart(6),
          String(r.perServiceChains).padStart(20),
          `${r.toolMs.toFixed(0)} ms`.padStart(12),
          `${r.parseMs.toFixed(0)} ms`.padStart(13),
          `${r.runSaveMs.toFixed(0)} ms`.padStart(34),
        ];
        console.log(`    ${cells.join(' ')}`);
      }
      console.log(`    whole poll (readIptables, every planned tool): ${result.pollMs.toFixed(0)} ms`);
    }
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (process.argv[2] === '--inside') await inside(process.argv[3] ?? 'ipvs');
  else await outside();
}
