/**
 * The Prometheus Operator's PrometheusRules (monitoring.coreos.com/v1: spec.groups[].rules[] with
 * `alert` or `record` and `expr`) whose expressions read IPVS series — node_exporter's ipvs
 * collector (node_ipvs_*) or this agent's (ipvs_sentinel_*) — as evidence for ipvs-monitoring-dark:
 * these go flat after the switch. Pure: the listed objects in, evidence out; anything malformed is
 * skipped and counted.
 */
import type { Evidence } from './types.js';

/** Metric name prefixes that stop moving when the node has no IPVS table any more. */
export const IPVS_METRIC_PREFIXES = ['node_ipvs_', 'ipvs_sentinel_'] as const;

/** An expression is shown up to this many characters. */
const EXPR_SHOWN = 200;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

/** The rules on IPVS series, as evidence ("monitoring/ipvs-sentinel: alert IPVSSentinelDown"), and how many objects or rules were malformed. */
export function ipvsAlertRules(items: readonly unknown[]): { evidence: Evidence[]; malformed: number } {
  const evidence: Evidence[] = [];
  let malformed = 0;
  for (const item of items) {
    const meta = isObject(item) && isObject(item.metadata) ? item.metadata : null;
    const spec = isObject(item) && isObject(item.spec) ? item.spec : null;
    const name = meta ? str(meta.name) : null;
    if (!name || !spec || !Array.isArray(spec.groups)) {
      malformed++;
      continue;
    }
    const where = `${str(meta?.namespace) ?? ''}/${name}`;
    for (const group of spec.groups) {
      if (!isObject(group) || !Array.isArray(group.rules)) {
        malformed++;
        continue;
      }
      for (const rule of group.rules) {
        const expr = isObject(rule) ? (str(rule.expr) ?? (typeof rule.expr === 'number' ? String(rule.expr) : null)) : null;
        if (!isObject(rule) || expr === null) {
          malformed++;
          continue;
        }
        const metrics = IPVS_METRIC_PREFIXES.filter((p) => expr.includes(p));
        if (metrics.length === 0) continue;
        const alert = str(rule.alert);
        const record = str(rule.record);
        const label = alert !== null ? `alert ${alert}` : record !== null ? `record ${record}` : 'rule';
        evidence.push({ kind: 'alert-rule', ref: `${where}: ${label}`, value: expr.length > EXPR_SHOWN ? `${expr.slice(0, EXPR_SHOWN)}…` : expr, detail: `reads ${metrics.map((m) => `${m}*`).join(' and ')}, flat after the switch` });
      }
    }
  }
  return { evidence, malformed };
}
