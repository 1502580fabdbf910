/**
 * kube-proxy configuration fields nftables mode reads from elsewhere or not at all
 * (cmd/kube-proxy/app/server_linux.go createProxier: the IPVS proxier takes iptables.masqueradeBit
 * and the ipvs section, the nftables proxier nftables.masqueradeBit and neither of the others).
 */
import { evaluator, type InputWith } from './evaluator.js';
import { makeFinding, plural } from './finding.js';
import type { Evidence, MigrationFinding } from './types.js';

/** Defaults are a guess, not kube-proxy's configuration: nothing set in them is the operator's. */
function configured(input: InputWith<'config'>): boolean {
  return input.configSource !== null && input.configSource !== 'defaults';
}

export const masqueradeBitEvaluator = evaluator({
  ids: ['masquerade-bit-moves'],
  needs: ['config'],
  phase: 'pre-switch',
  evaluate: (input: InputWith<'config'>): MigrationFinding[] => {
    const { iptablesMasqueradeBit: ipvsBit, nftablesMasqueradeBit: nftBit } = input.config;
    if (!configured(input) || ipvsBit === nftBit) return [];
    return [
      makeFinding('masquerade-bit-moves', {
        message: `IPVS mode masquerades with bit ${ipvsBit} (iptables.masqueradeBit); nftables mode will use bit ${nftBit} (nftables.masqueradeBit).`,
        evidence: [
          { kind: 'config-field', ref: 'iptables.masqueradeBit', value: ipvsBit, detail: 'used by IPVS mode' },
          { kind: 'config-field', ref: 'nftables.masqueradeBit', value: nftBit, detail: 'used by nftables mode' },
        ],
      }),
    ];
  },
});

export const ipvsConfigEvaluator = evaluator({
  ids: ['ipvs-config-ignored'],
  needs: ['config'],
  phase: 'pre-switch',
  evaluate: (input: InputWith<'config'>): MigrationFinding[] => {
    if (!configured(input)) return [];
    const c = input.config;
    const set: [string, Evidence['value']][] = [];
    if (c.scheduler !== '') set.push(['ipvs.scheduler', c.scheduler]);
    if (c.excludeCIDRs.length > 0) set.push(['ipvs.excludeCIDRs', c.excludeCIDRs]);
    if (c.strictARP) set.push(['ipvs.strictARP', true]);
    if (c.tcpTimeoutSeconds > 0) set.push(['ipvs.tcpTimeout', c.tcpTimeoutSeconds]);
    if (c.tcpFinTimeoutSeconds > 0) set.push(['ipvs.tcpFinTimeout', c.tcpFinTimeoutSeconds]);
    if (c.udpTimeoutSeconds > 0) set.push(['ipvs.udpTimeout', c.udpTimeoutSeconds]);
    if (set.length === 0) return [];
    return [
      makeFinding('ipvs-config-ignored', {
        message: `${plural(set.length, 'ipvs.* field')} ${set.length === 1 ? 'is' : 'are'} set (${set.map(([field]) => field).join(', ')}); nftables mode ignores the ipvs section.`,
        evidence: set.map(([ref, value]) => ({ kind: 'config-field', ref, value, detail: `from ${input.configSource ?? 'defaults'}` })),
      }),
    ];
  },
});
