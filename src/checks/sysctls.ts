/** The sysctls kube-proxy sets once at start (net.ipv4.vs.*, ip_forward, strict ARP): src/node/sysctl.ts. */
import { checkSysctls } from '../node/sysctl.js';
import type { PrerequisiteCheck } from './types.js';

export const SYSCTL_KINDS = ['sysctl-mismatch'] as const;

export const sysctlsCheck: PrerequisiteCheck<(typeof SYSCTL_KINDS)[number]> = {
  name: 'sysctls',
  kinds: SYSCTL_KINDS,
  prerequisite: true,
  health: null,
  evaluate: ({ node, cluster }) => {
    const values = node.readings.sysctl.value;
    return values ? checkSysctls(values, { kernelRelease: node.readings.modules.value?.release ?? null, strictARP: cluster.strictARP }) : [];
  },
};
