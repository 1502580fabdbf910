/**
 * The soak's figures, computed from what the guest recorded (test/guest/soak/run.ts): the /drift and
 * memory samples (the last one taken after the table settled), the churn's and the kube-proxy stand-in's own logs, the agent's log and its last
 * /metrics. Pure: the recordings come in through `read`.
 */
import type { SoakOptions } from './run.js';

interface Finding {
  id: string;
  kind: string;
  severity: string;
  confirmed: boolean;
  firstSeen: string;
}
interface Sample {
  t: number;
  rss: number | null;
  heapUsed: number | null;
  drift: { status: string; findings: Finding[] } | null;
}
interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}
interface Sync {
  t: number;
  ms?: number;
  commands?: number;
  error?: string;
}

/** A memory series over the samples after the warm-up, in MiB; the slope by least squares. */
export interface MemoryFigures {
  warmUpS: number;
  samples: number;
  minMb: number;
  maxMb: number;
  slopeMbPerMin: number;
  /** The slope over the later half of those samples: once the churned cluster has stopped growing, a leak still shows here. */
  laterHalfSlopeMbPerMin: number;
}

export interface SoakFigures {
  churnS: number;
  changes: number;
  changeFailures: number;
  byAction: Record<string, number>;
  servicesAtEnd: number;
  syncs: number;
  syncErrors: string[];
  maxSyncMs: number;
  samples: number;
  /** Samples where /drift did not answer in time or said "unknown". */
  samplesWithoutVerdict: number;
  /** The agent's IPVS reads (ipvs_sentinel_read_duration_seconds_count). */
  polls: number;
  pendingSeen: number;
  pendingResolved: number;
  /** "<id> first seen <time>" of pending findings no later sample showed gone. */
  unresolved: string[];
  /**
   * The longest time from a pending finding's firstSeen to the first sample without it (an upper
   * bound: samples are seconds apart). One pending longer than the grace is confirmed at the next
   * poll, so "none confirmed" is what proves each resolved within the grace.
   */
  longestPendingS: number;
  /** Ids of confirmed findings in any sample. */
  confirmedSeen: string[];
  /** ipvs_sentinel_drift_detected_total summed: every confirmation, sampled or not. */
  confirmedTotal: number;
  settled: boolean;
  rss: MemoryFigures | null;
  heapUsed: MemoryFigures | null;
  errorLines: string[];
  warnings: Record<string, number>;
  agentExitCode: string;
}

const jsonl = <T>(text: string | null): T[] =>
  (text ?? '')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);

/** Sum of every sample line of a metric family in Prometheus text. */
function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** Least-squares slope of y over x. */
export function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  const sxy = points.reduce((a, p) => a + (p.x - mx) * (p.y - my), 0);
  const sxx = points.reduce((a, p) => a + (p.x - mx) ** 2, 0);
  return sxx === 0 ? 0 : sxy / sxx;
}

const significant = (f: Finding): boolean => f.severity !== 'info';

export function analyseSoak(read: (name: string) => string | null): SoakFigures {
  const events = new Map(jsonl<{ t: number; event: string }>(read('events.jsonl')).map((e) => [e.event, e.t]));
  const churnStart = events.get('churn-start') ?? 0;
  const churnEnd = events.get('churn-end') ?? churnStart;
  const churn = JSON.parse(read('churn.json') ?? '{}') as { changes?: number; failures?: number; byAction?: Record<string, number>; services?: number };
  const syncs = jsonl<Sync>(read('syncs.jsonl'));
  const samples = jsonl<Sample>(read('samples.jsonl'));
  const metrics = read('metrics-final.txt') ?? '';

  // A pending finding is one instance: its id and the firstSeen the agent gave it.
  const pending = new Map<string, { id: string; firstSeen: number; lastIndex: number }>();
  const confirmed = new Set<string>();
  samples.forEach((s, i) => {
    for (const f of (s.drift?.findings ?? []).filter(significant)) {
      if (f.confirmed) confirmed.add(f.id);
      else {
        const key = `${f.id} first seen ${f.firstSeen}`;
        pending.set(key, { id: f.id, firstSeen: Date.parse(f.firstSeen), lastIndex: i });
      }
    }
  });
  const unresolved: string[] = [];
  let longest = 0;
  for (const [key, p] of pending) {
    const gone = samples.slice(p.lastIndex + 1).find((s) => s.drift !== null && s.drift.status !== 'unknown');
    if (!gone) unresolved.push(key);
    else longest = Math.max(longest, gone.t - p.firstSeen);
  }

  const warmUpMs = Math.min(120_000, (churnEnd - churnStart) / 3);
  const afterWarmUp = samples.filter((s) => s.t >= churnStart + warmUpMs && s.t <= churnEnd);
  const memory = (value: (s: Sample) => number | null): MemoryFigures | null => {
    const points = afterWarmUp.flatMap((s) => {
      const v = value(s);
      return v === null ? [] : [{ x: (s.t - churnStart) / 60_000, y: v / 2 ** 20 }];
    });
    if (points.length === 0) return null;
    const ys = points.map((p) => p.y);
    const laterHalf = points.slice(Math.floor(points.length / 2));
    return { warmUpS: Math.round(warmUpMs / 1000), samples: points.length, minMb: Math.min(...ys), maxMb: Math.max(...ys), slopeMbPerMin: slope(points), laterHalfSlopeMbPerMin: slope(laterHalf) };
  };

  const logs: LogLine[] = [];
  const errorLines: string[] = [];
  for (const line of (read('agent.log') ?? '').split('\n')) {
    if (line.trim() === '') continue;
    try {
      logs.push(JSON.parse(line) as LogLine);
    } catch {
      errorLines.push(`not a log line: ${line.slice(0, 200)}`);
    }
  }
  for (const l of logs) if (l.level >= 50) errorLines.push(JSON.stringify(l).slice(0, 400));
  for (const line of (read('agent.stderr') ?? '').split('\n')) if (line.trim() !== '') errorLines.push(`stderr: ${line.slice(0, 200)}`);
  const warnings: Record<string, number> = {};
  for (const l of logs) if (l.level >= 40 && l.level < 50) warnings[l.msg] = (warnings[l.msg] ?? 0) + 1;

  return {
    churnS: Math.round((churnEnd - churnStart) / 1000),
    changes: churn.changes ?? 0,
    changeFailures: churn.failures ?? 0,
    byAction: churn.byAction ?? {},
    servicesAtEnd: churn.services ?? 0,
    syncs: syncs.length,
    syncErrors: syncs.flatMap((s) => (s.error === undefined ? [] : [s.error.split('\n')[0] ?? ''])),
    maxSyncMs: Math.max(0, ...syncs.map((s) => s.ms ?? 0)),
    samples: samples.length,
    samplesWithoutVerdict: samples.filter((s) => s.drift === null || s.drift.status === 'unknown').length,
    polls: metricSum(metrics, 'ipvs_sentinel_read_duration_seconds_count', { source: 'netlink' }),
    pendingSeen: pending.size,
    pendingResolved: pending.size - unresolved.length,
    unresolved,
    longestPendingS: Math.round(longest / 100) / 10,
    confirmedSeen: [...confirmed],
    confirmedTotal: metricSum(metrics, 'ipvs_sentinel_drift_detected_total'),
    settled: events.has('settled'),
    rss: memory((s) => s.rss),
    heapUsed: memory((s) => s.heapUsed ?? null),
    errorLines,
    warnings,
    agentExitCode: (read('agent-exit-code') ?? '').trim(),
  };
}

/** Why the soak failed; empty when it held. */
export function soakFailures(f: SoakFigures): string[] {
  const failures: string[] = [];
  if (f.confirmedSeen.length > 0 || f.confirmedTotal > 0) failures.push(`confirmed findings: ${f.confirmedTotal} (${f.confirmedSeen.join(', ')})`);
  if (f.unresolved.length > 0) failures.push(`pending findings not resolved: ${f.unresolved.join('; ')}`);
  if (!f.settled) failures.push('the table never settled clean after the churn stopped');
  if (f.errorLines.length > 0) failures.push(`error lines: ${f.errorLines.join('\n')}`);
  if (f.agentExitCode !== '0') failures.push(`the agent exited ${f.agentExitCode || '(unknown)'} on SIGTERM`);
  return failures;
}

function memoryLine(name: string, m: MemoryFigures | null): string {
  if (m === null) return `  ${name}: no samples after the warm-up`;
  return `  ${name} after ${m.warmUpS} s warm-up (${m.samples} samples): min ${m.minMb.toFixed(1)} MiB, max ${m.maxMb.toFixed(1)} MiB, slope ${m.slopeMbPerMin.toFixed(2)} MiB/min (later half ${m.laterHalfSlopeMbPerMin.toFixed(2)} MiB/min)`;
}

export function formatFigures(f: SoakFigures, o: SoakOptions): string {
  return [
    `churn soak: ${f.churnS} s of churn (seed ${o.seed}; agent --grace ${o.graceS}s --poll-interval ${o.pollS}s; kube-proxy stand-in sync every 1-${o.lagS} s)`,
    `  changes applied: ${f.changes} (${Object.entries(f.byAction).map(([k, v]) => `${k} ${v}`).join(', ')}); refused: ${f.changeFailures}; Services at the end: ${f.servicesAtEnd}`,
    `  kube-proxy stand-in syncs: ${f.syncs} (longest ${f.maxSyncMs} ms; failed: ${f.syncErrors.length})`,
    `  agent polls: ${f.polls}; /drift samples: ${f.samples} (${f.samplesWithoutVerdict} without a verdict)`,
    `  pending findings seen: ${f.pendingSeen}, resolved: ${f.pendingResolved}, longest pending: ${f.longestPendingS} s (grace ${o.graceS} s)`,
    `  confirmed findings: ${f.confirmedTotal} (in samples: ${f.confirmedSeen.length}); settled clean after the churn: ${f.settled ? 'yes' : 'no'}`,
    memoryLine('RSS', f.rss),
    memoryLine('heap used', f.heapUsed),
    `  error lines: ${f.errorLines.length}; warnings: ${Object.keys(f.warnings).length === 0 ? 'none' : Object.entries(f.warnings).map(([m, n]) => `${n}× ${m}`).join('; ')}`,
    ...f.errorLines.map((l) => `    ${l}`),
    ...f.syncErrors.slice(0, 5).map((e) => `  sync error: ${e}`),
  ].join('\n');
}
