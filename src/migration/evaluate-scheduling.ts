/**
 * Backend choice: IPVS uses the node's ipvs.scheduler for every virtual server; nftables mode picks
 * uniformly at random per new connection (pkg/proxy/nftables/proxier.go writeServiceToEndpointRules,
 * `numgen random mod N`) and has no knob. rr and wrr (every weight is 1) behave alike; others do not.
 */
import { effectiveScheduler } from '../cluster/kube-proxy-config.js';
import { SVC_FLAG } from '../ipvs/flags.js';
import { evaluator, type InputWith } from './evaluator.js';
import { makeFinding } from './finding.js';
import type { Evidence, MigrationFinding } from './types.js';

/** Schedulers whose spread random selection matches when every weight is 1 (kube-proxy's). */
const ROUND_ROBIN_LIKE = new Set(['rr', 'wrr']);

export const schedulerEvaluator = evaluator({
  ids: ['ipvs-scheduler-not-rr', 'source-hash-stickiness-lost'],
  needs: ['config'],
  phase: 'pre-switch',
  evaluate: (input: InputWith<'config'>): MigrationFinding[] => {
    const scheduler = effectiveScheduler(input.config);
    const histogram = new Map<string, number>();
    for (const vs of input.snapshot?.services ?? []) histogram.set(vs.scheduler, (histogram.get(vs.scheduler) ?? 0) + 1);
    const others = [...histogram.keys()].filter((s) => !ROUND_ROBIN_LIKE.has(s)).sort();
    if (ROUND_ROBIN_LIKE.has(scheduler) && others.length === 0) return [];
    const evidence: Evidence[] = [{ kind: 'config-field', ref: 'ipvs.scheduler', value: input.config.scheduler, detail: `effective scheduler ${scheduler} (from ${input.configSource ?? 'defaults'})` }];
    if (histogram.size > 0) {
      evidence.push({ kind: 'virtual-server', ref: 'schedulers in use', value: Object.fromEntries([...histogram.entries()].sort(([a], [b]) => (a < b ? -1 : 1))), detail: null });
      const examples = (input.snapshot?.services ?? []).filter((vs) => !ROUND_ROBIN_LIKE.has(vs.scheduler)).slice(0, 5);
      for (const vs of examples) evidence.push({ kind: 'virtual-server', ref: vs.key, value: vs.scheduler, detail: null });
    }
    const findings = [
      makeFinding('ipvs-scheduler-not-rr', {
        message: `IPVS schedules with ${[...new Set([scheduler, ...others])].filter((s) => !ROUND_ROBIN_LIKE.has(s)).join(', ')} on this node; nftables mode picks backends at random.`,
        evidence,
      }),
    ];
    if (scheduler === 'sh' && input.desired) {
      const loose = input.desired.virtualServers.filter((vs) => (vs.flagBits & SVC_FLAG.persistent) === 0 && vs.realServers.length > 1);
      if (loose.length > 0) {
        findings.push(
          makeFinding('source-hash-stickiness-lost', {
            message: 'Source hashing keeps each client on one backend today; these Service ports have no sessionAffinity: ClientIP to keep that in nftables mode.',
            services: loose.map((vs) => vs.service),
            evidence: loose.map((vs) => ({ kind: 'virtual-server', ref: vs.key, value: { realServers: vs.realServers.length }, detail: null })),
          }),
        );
      }
    }
    return findings;
  },
});
