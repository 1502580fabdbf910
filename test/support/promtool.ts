/**
 * The real Prometheus tools (Debian's `prometheus` package, installed by scripts/ensure-deps.sh):
 * promtool run on files, and the alert rules of manifests/monitoring/ as the plain rule file
 * Prometheus loads — the PrometheusRule's spec.groups, which is all the Operator hands it.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { REPO_ROOT } from '../guest/harness.js';

export const PROMTOOL = 'promtool';
export const PROMETHEUS = 'prometheus';
export const RULES_MANIFEST = join(REPO_ROOT, 'manifests', 'monitoring', 'prometheusrule.yaml');

export interface AlertingRule {
  alert: string;
  expr: string;
  for?: string;
  keep_firing_for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
export interface RuleGroup {
  name: string;
  rules: AlertingRule[];
}

export interface ToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs promtool; a missing binary throws with the way to install it rather than skipping. */
export function promtool(args: string[], options: { cwd?: string; input?: string } = {}): ToolResult {
  const r = spawnSync(PROMTOOL, args, { cwd: options.cwd, input: options.input, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw new Error(`${PROMTOOL} ${args.join(' ')}: ${r.error.message} (install it: bash scripts/ensure-deps.sh)`);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The PrometheusRule's groups, as in the manifest. */
export function ruleGroups(): RuleGroup[] {
  const object = parse(readFileSync(RULES_MANIFEST, 'utf8')) as { kind: string; spec: { groups: RuleGroup[] } };
  if (object.kind !== 'PrometheusRule') throw new Error(`${RULES_MANIFEST} is a ${object.kind}`);
  return object.spec.groups;
}

/** A Prometheus rule file (`groups:`) of these groups. */
export function ruleFileText(groups: RuleGroup[]): string {
  return stringify({ groups }, { lineWidth: 0 });
}

/** Prometheus's duration notation ("90s", "5m", "1h30m") in seconds. */
export function durationSeconds(text: string): number {
  const units: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };
  const parts = [...text.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) throw new Error(`not a Prometheus duration: ${text}`);
  return parts.reduce((sum, p) => sum + Number(p[1]) * (units[p[2] ?? ''] ?? 0), 0);
}
