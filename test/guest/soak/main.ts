/**
 * `npm run soak [-- --duration 10m] [--seed N] [--grace 30s] [--lag 10s] [--max-services 150]`: the churn soak on the real
 * kernel (./run.ts), its figures printed (a --grace below --lag shows the soak catching confirmations); exits 1 when a finding was confirmed, a pending one never resolved, or the agent
 * logged an error. A benchmark, not a test: the 60-second version is test/guest/soak.test.ts.
 */
import { parseArgs } from 'node:util';
import { analyseSoak, formatFigures, soakFailures } from './analyse.js';
import { runSoak, SOAK_DEFAULTS, type SoakOptions } from './run.js';

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600 };

function seconds(text: string): number {
  const m = /^(\d+)(s|m|h)?$/.exec(text.trim());
  if (!m) throw new Error(`--duration ${text}: expected a whole number of seconds, minutes or hours (90s, 10m, 1h)`);
  return Number(m[1]) * (UNITS[m[2] ?? 's'] ?? 1);
}

function positive(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} ${text}: expected a whole number above 0`);
  return n;
}

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10m' },
    seed: { type: 'string', default: String(SOAK_DEFAULTS.seed) },
    grace: { type: 'string', default: `${SOAK_DEFAULTS.graceS}s` },
    lag: { type: 'string', default: `${SOAK_DEFAULTS.lagS}s` },
    'max-services': { type: 'string', default: String(SOAK_DEFAULTS.maxServices) },
  },
});
const options: SoakOptions = { ...SOAK_DEFAULTS, durationS: seconds(values.duration), seed: Number(values.seed), graceS: seconds(values.grace), lagS: seconds(values.lag), maxServices: positive('--max-services', values['max-services']) };
console.log(`booting the guest for a ${options.durationS} s churn soak…`);
const guest = await runSoak(options);
const figures = analyseSoak((name) => guest.output(name));
console.log(formatFigures(figures, options));
console.log(`  guest run: ${Math.round(guest.durationMs / 1000)} s`);
const failures = soakFailures(figures);
for (const f of failures) console.error(`FAIL: ${f}`);
process.exit(failures.length === 0 ? 0 : 1);
