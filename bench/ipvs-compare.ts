/**
 * Two trees' one-shot CLI in one guest run: `npm run bench ipvs-compare BASE [SERVICES] [ROUNDS]`
 * runs `ipvs --output json` and `check --grace 0s` of this checkout (head) and of the git revision
 * BASE, each with its own image's NODE_OPTIONS and its compile cache warmed as its image's build
 * warms it, in turn in every round (the first alternating), with `ipvsadm -Sn` between
 * (bench/ipvs-read.guest.mjs, COMPARE_TREE). The guest's speed moves by up to a third from one run
 * to the next, more than most single changes (issue 17): tree against tree in one run, round by
 * round, is the comparison that holds. Prints each tree's times and the per-round differences.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, runInGuest } from '../test/guest/harness.js';
import { imageNodeOptions } from './agent-scale.js';
import { median, NODE24, range, seconds, warmCompileCacheAsTheImage } from './ipvs-read.js';

interface Sample {
  what: 'ipvsadm' | 'cli-ipvs' | 'cli-check';
  tree?: 'base' | 'head';
  ms: number;
}

/** BASE's files at `.cache/ipvs-compare/SHA` (git archive: no worktree to clean up), built against this checkout's node_modules. */
function checkoutAndBuild(revision: string): { dir: string; sha: string } {
  const sha = execFileSync('git', ['rev-parse', '--verify', `${revision}^{commit}`], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  const dir = join(REPO_ROOT, '.cache', 'ipvs-compare', sha);
  if (!existsSync(join(dir, 'dist', 'cli', 'main.js'))) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    execFileSync('bash', ['-c', `git archive --format=tar ${sha} | tar -x -C "${dir}"`], { cwd: REPO_ROOT, stdio: 'inherit' });
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
    const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: dir, stdio: 'inherit' });
    if (build.status !== 0) throw new Error(`${revision} (${sha}) did not build in ${dir}`);
  }
  const lock = (root: string): string => readFileSync(join(root, 'package-lock.json'), 'utf8');
  if (lock(dir) !== lock(REPO_ROOT)) console.log(`  note: ${revision}'s package-lock.json differs from this checkout's; it runs with this checkout's node_modules`);
  return { dir, sha };
}

function describe(label: string, base: number[], head: number[], ipvsadm: number[]): void {
  const rounds = Math.min(base.length, head.length);
  const diffs = Array.from({ length: rounds }, (_, i) => (head[i] as number) - (base[i] as number));
  const faster = diffs.filter((d) => d < 0).length;
  console.log(`    ${label}`);
  for (const [tree, xs] of [
    ['base', base],
    ['head', head],
  ] as const) {
    console.log(`      ${tree} ${range(xs).padStart(15)} (median ${seconds(median(xs))})  ratio ${(median(xs) / median(ipvsadm)).toFixed(2)}× to ipvsadm -Sn (median ${seconds(median(ipvsadm))})`);
  }
  console.log(`      head − base by round: ${diffs.map((d) => `${d > 0 ? '+' : ''}${(d / 1000).toFixed(2)}`).join(' ')} s; head faster in ${faster} of ${rounds} (median difference ${(median(diffs) / 1000).toFixed(2)} s)`);
}

export async function runIpvsCompareBench(args: string[] = process.argv.slice(3)): Promise<void> {
  const [revision, servicesArg = '5000', roundsArg = '6'] = args;
  if (revision === undefined) throw new Error('usage: npm run bench ipvs-compare BASE [SERVICES] [ROUNDS] (BASE: a git revision, e.g. HEAD~3)');
  const services = Number(servicesArg);
  const rounds = Number(roundsArg);
  if (!(Number.isInteger(services) && services > 0 && Number.isInteger(rounds) && rounds > 0)) throw new Error(`SERVICES and ROUNDS must be positive integers, not ${servicesArg} and ${roundsArg}`);
  if (!existsSync(NODE24)) throw new Error(`the image's Node is missing (${NODE24}): npm run bench installs it`);
  const { dir, sha } = checkoutAndBuild(revision);
  warmCompileCacheAsTheImage(NODE24, dir);
  warmCompileCacheAsTheImage(NODE24);
  const baseOptions = imageNodeOptions(readFileSync(join(dir, 'Dockerfile'), 'utf8'));
  console.log(`IPVS CLI, ${revision} (${sha.slice(0, 12)}, base) against this checkout (head), ${services} × 10, ${rounds} rounds, one guest run (TCG emulation: compare only within it)`);
  console.log(`  NODE_OPTIONS: base "${baseOptions}", head "${imageNodeOptions()}"`);
  const before = loadavg();
  const result = await runInGuest({
    script: `modprobe -a ip_vs ip_vs_rr nf_conntrack && guest_node_network && COMPARE_TREE="${dir}" COMPARE_NODE_OPTIONS="${baseOptions}" IMAGE_NODE_OPTIONS="${imageNodeOptions()}" "${NODE24}" bench/ipvs-read.guest.mjs ${services} ${rounds} 25 > "$OUT/bench.json"`,
    memoryMb: 4096,
    timeoutMs: 1_800_000,
  });
  const after = loadavg();
  const text = result.output('bench.json');
  if (result.exitCode !== 0 || !text) throw new Error(`guest bench failed: ${result.stderr}\n${result.console.slice(-2000)}`);
  const { samples } = JSON.parse(text) as { samples: Sample[] };
  const of = (what: Sample['what'], tree?: Sample['tree']): number[] => samples.filter((s) => s.what === what && s.tree === tree).map((s) => s.ms);
  console.log(`  load: host ${before[0]?.toFixed(2)} before, ${after[0]?.toFixed(2)} after (1-min average)`);
  const ipvsadm = of('ipvsadm');
  describe('ipvs-sentinel ipvs --output json > /dev/null', of('cli-ipvs', 'base'), of('cli-ipvs', 'head'), ipvsadm);
  describe('ipvs-sentinel check --grace 0s > /dev/null', of('cli-check', 'base'), of('cli-check', 'head'), ipvsadm);
}
