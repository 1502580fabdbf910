/**
 * The alert rules of manifests/monitoring/prometheusrule.yaml checked and unit-tested by the real
 * promtool: `promtool check rules` on the PrometheusRule's spec.groups, and `promtool test rules`
 * on test/fixtures/promtool/<alert>.test.yaml, one file per alert, each with three kinds of test
 * group — "fires after its for", "quiet on a healthy node", "resolves". Each kind is shown able to
 * fail: a mutant of the rule (no `for`, an expression true everywhere, `keep_firing_for`) must
 * fail that kind of group in the alert's file.
 */
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../guest/harness.js';
import { durationSeconds, promtool, ruleFileText, ruleGroups, type AlertingRule, type RuleGroup } from '../support/promtool.js';

const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'promtool');
const SUFFIX = '.test.yaml';

interface AlertTest {
  eval_time: string;
  alertname: string;
  exp_alerts: { exp_labels?: Record<string, string>; exp_annotations?: Record<string, string> }[];
}
interface TestGroup {
  name: string;
  interval: string;
  alert_rule_test?: AlertTest[];
}
interface TestFile {
  rule_files: string[];
  tests: TestGroup[];
}

const KINDS = ['fires after its for', 'quiet on a healthy node', 'resolves'] as const;
type Kind = (typeof KINDS)[number];
const kindOf = (group: TestGroup): Kind | null => KINDS.find((k) => group.name.startsWith(k)) ?? null;

const groups = ruleGroups();
const alerts = groups.flatMap((g) => g.rules);
const testFiles = readdirSync(FIXTURES).filter((f) => f.endsWith(SUFFIX));
const readTestFile = (alert: string): TestFile => parse(readFileSync(join(FIXTURES, `${alert}${SUFFIX}`), 'utf8')) as TestFile;

/** The names of the test groups promtool reports as failed ("  FAILED:\n    name: <group>,"). */
function failedGroups(output: string): string[] {
  return [...output.matchAll(/^\s+name: (.*),$/gm)].map((m) => m[1] ?? '');
}

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ipvs-sentinel-promtool-'));
  writeFileSync(join(dir, 'rules.yaml'), ruleFileText(groups));
  for (const f of testFiles) copyFileSync(join(FIXTURES, f), join(dir, f));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs one alert's test file against `rules` (the manifest's, or a mutant of them) in a folder of its own. */
function testRules(alert: string, rules: RuleGroup[] = groups): { code: number | null; output: string } {
  const own = mkdtempSync(join(dir, 'run-'));
  writeFileSync(join(own, 'rules.yaml'), ruleFileText(rules));
  copyFileSync(join(FIXTURES, `${alert}${SUFFIX}`), join(own, `${alert}${SUFFIX}`));
  const r = promtool(['test', 'rules', `${alert}${SUFFIX}`], { cwd: own });
  return { code: r.code, output: r.stdout + r.stderr };
}

function mutate(alert: string, change: (rule: AlertingRule) => AlertingRule): RuleGroup[] {
  return groups.map((g) => ({ ...g, rules: g.rules.map((r) => (r.alert === alert ? change({ ...r }) : r)) }));
}

describe('promtool check rules', () => {
  it('accepts the PrometheusRule as Prometheus loads it', () => {
    const r = promtool(['check', 'rules', 'rules.yaml'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`SUCCESS: ${alerts.length} rules found`);
    expect(r.code).toBe(0);
  });

  it('would reject a rule Prometheus cannot load', () => {
    writeFileSync(join(dir, 'broken.yaml'), ruleFileText(mutate('IPVSSentinelDown', (r) => ({ ...r, expr: 'up{job="ipvs-sentinel" == 0' }))));
    const r = promtool(['check', 'rules', 'broken.yaml'], { cwd: dir });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/IPVSSentinelDown|parse error/);
  });
});

describe('promtool test rules', () => {
  it('every alert has a test file and every test file an alert', () => {
    expect(testFiles.map((f) => f.slice(0, -SUFFIX.length)).sort()).toEqual(alerts.map((a) => a.alert).sort());
  });

  it.each(alerts.map((a) => [a.alert, a] as const))('%s: its file has every kind of group, about this alert only', (alert, rule) => {
    const file = readTestFile(alert);
    expect(file.rule_files).toEqual(['rules.yaml']);
    expect(new Set(file.tests.map(kindOf))).toEqual(new Set(KINDS));
    for (const group of file.tests) {
      const cases = group.alert_rule_test ?? [];
      expect(cases.length, group.name).toBeGreaterThan(0);
      expect(new Set(cases.map((c) => c.alertname)), group.name).toEqual(new Set([alert]));
      const times = cases.map((c) => durationSeconds(c.eval_time));
      const firing = cases.map((c) => c.exp_alerts.length > 0);
      if (kindOf(group) === 'quiet on a healthy node') {
        expect(firing, group.name).not.toContain(true);
        // Quiet for longer than the alert waits, or the test proves nothing.
        expect(Math.max(...times), group.name).toBeGreaterThan(durationSeconds(rule.for ?? '0s'));
      }
      if (kindOf(group) === 'fires after its for') {
        // Silent at one evaluation, firing at the next, never before the rule's `for`.
        const first = firing.indexOf(true);
        expect(first, group.name).toBeGreaterThan(0);
        expect(firing[first - 1], group.name).toBe(false);
        expect(times[first] ?? 0, group.name).toBeGreaterThanOrEqual(durationSeconds(rule.for ?? '0s'));
        expect((times[first] ?? 0) - (times[first - 1] ?? 0), group.name).toBeLessThanOrEqual(durationSeconds(group.interval));
      }
      if (kindOf(group) === 'resolves') {
        const first = firing.indexOf(true);
        expect(first, group.name).toBeGreaterThanOrEqual(0);
        expect(firing.slice(first + 1), group.name).toContain(false);
      }
      // Every firing alert is given with its labels and all of its annotations.
      for (const c of cases.flatMap((x) => x.exp_alerts)) {
        expect(Object.keys(c.exp_annotations ?? {}).sort(), group.name).toEqual(Object.keys(rule.annotations ?? {}).sort());
      }
    }
  });

  it.each(alerts.map((a) => [a.alert] as const))('%s: its unit tests pass', (alert) => {
    const { code, output } = testRules(alert);
    expect(output).toContain('SUCCESS');
    expect(failedGroups(output)).toEqual([]);
    expect(code).toBe(0);
  });

  const MUTANTS: [string, Kind, (rule: AlertingRule) => AlertingRule][] = [
    ['without its for', 'fires after its for', ({ for: _for, ...rule }) => rule],
    ['true on every node', 'quiet on a healthy node', (rule) => ({ ...rule, expr: 'vector(1)' })],
    ['never resolving', 'resolves', (rule) => ({ ...rule, keep_firing_for: '1h' })],
  ];
  const mutantCases = alerts.flatMap((a) => MUTANTS.map(([what, kind, change]) => [a.alert, what, kind, change] as const));
  it.each(mutantCases)('%s %s fails its "%s" tests', (alert, _what, kind, change) => {
    const { code, output } = testRules(alert, mutate(alert, change));
    expect(code).not.toBe(0);
    expect(failedGroups(output).map((name) => kindOf({ name, interval: '1m' }))).toContain(kind);
  });
});
