/**
 * Go `time.Duration` text, the form kubectl, kube-proxy's config (metav1.Duration) and our flags use:
 * "500ms", "2s", "1m30s", "0s", "1h0m0s". parseDuration mirrors Go's time.ParseDuration,
 * formatDuration mirrors Duration.String(), so a value read from /configz prints back unchanged.
 */

const NS_PER_MS = 1_000_000n;
/** Go's Duration is an int64 of nanoseconds. */
const MAX_NS = (1n << 63n) - 1n;

/** A Map: the unit is the caller's text, and "1constructor" must not find Object.prototype's. */
const UNIT_NS = new Map<string, bigint>([
  ['ns', 1n],
  ['us', 1_000n],
  ['\u00b5s', 1_000n], // µ MICRO SIGN, what Go prints
  ['\u03bcs', 1_000n], // μ GREEK SMALL LETTER MU, also accepted by Go
  ['ms', 1_000_000n],
  ['s', 1_000_000_000n],
  ['m', 60_000_000_000n],
  ['h', 3_600_000_000_000n],
]);

const COMPONENT = /^(\d*)(?:\.(\d*))?([a-zµμ]+)/u;

/**
 * Parse a Go duration ("1m30s", "1.5h", "-2s", "0") into milliseconds (fractional below 1 ms).
 * Returns null for anything Go would reject: missing unit, unknown unit, empty text, overflow.
 */
export function parseDuration(text: string): number | null {
  let rest = text;
  let negative = false;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    negative = rest.startsWith('-');
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') return null;
  let total = 0n;
  while (rest !== '') {
    const match = COMPONENT.exec(rest);
    if (match === null) return null;
    const [whole, intDigits = '', fracDigits, unitText = ''] = match;
    if (intDigits === '' && (fracDigits === undefined || fracDigits === '')) return null;
    const unit = UNIT_NS.get(unitText);
    if (unit === undefined) return null;
    let value = BigInt(intDigits === '' ? '0' : intDigits) * unit;
    if (fracDigits !== undefined && fracDigits !== '') {
      value += (BigInt(fracDigits) * unit) / 10n ** BigInt(fracDigits.length);
    }
    total += value;
    if (total > MAX_NS) return null;
    rest = rest.slice(whole.length);
  }
  const ms = nsToMs(total);
  return negative && ms !== 0 ? -ms : ms;
}

function nsToMs(ns: bigint): number {
  const whole = ns / NS_PER_MS;
  const frac = ns % NS_PER_MS;
  return Number(whole) + Number(frac) / 1e6;
}

/** Format milliseconds the way Go's Duration.String() does: 0 → "0s", 90000 → "1m30s", 3600000 → "1h0m0s". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) throw new RangeError(`formatDuration: not a finite number: ${ms}`);
  // Whole milliseconds and the fraction apart: |ms| * 1e6 as one double is inexact past 2^53 ns (~104 days).
  const abs = Math.abs(ms);
  const whole = Math.trunc(abs);
  let ns = BigInt(whole) * NS_PER_MS + BigInt(Math.round((abs - whole) * 1e6));
  const negative = ms < 0 && ns !== 0n;
  let out: string;
  if (ns === 0n) return '0s';
  if (ns < 1_000_000_000n) {
    if (ns < 1_000n) out = `${ns}ns`;
    else if (ns < 1_000_000n) out = `${fraction(ns, 3)}\u00b5s`;
    else out = `${fraction(ns, 6)}ms`;
  } else {
    const seconds = fraction(ns % 60_000_000_000n, 9);
    ns /= 60_000_000_000n;
    const minutes = ns % 60n;
    const hours = ns / 60n;
    out = hours > 0n ? `${hours}h${minutes}m${seconds}s` : ns > 0n ? `${minutes}m${seconds}s` : `${seconds}s`;
  }
  return negative ? `-${out}` : out;
}

/** `value` scaled down by 10^precision, fraction printed without trailing zeros (Go's fmtFrac + fmtInt). */
function fraction(value: bigint, precision: number): string {
  const scale = 10n ** BigInt(precision);
  const whole = value / scale;
  const frac = value % scale;
  if (frac === 0n) return whole.toString();
  const digits = frac.toString().padStart(precision, '0').replace(/0+$/, '');
  return `${whole}.${digits}`;
}
