/**
 * The kernel modules IPVS mode needs: ip_vs, the configured scheduler's module and conntrack
 * (src/kmod/check.ts decides which, by kernel version; src/kmod/findings.ts words the fix).
 */
import { moduleFindings } from '../kmod/findings.js';
import type { PrerequisiteCheck } from './types.js';

export const KERNEL_MODULE_KINDS = ['module-missing'] as const;

export const kernelModulesCheck: PrerequisiteCheck<(typeof KERNEL_MODULE_KINDS)[number]> = {
  name: 'kernel-modules',
  kinds: KERNEL_MODULE_KINDS,
  prerequisite: true,
  health: {
    name: 'kernel-modules',
    order: 10,
    evaluate: ({ node }) => {
      if (node?.modules?.ok === true) return { ok: true, reason: null };
      const reason = !node?.modules ? (node?.readings.modules.error ?? 'not read yet') : node.modules.problems.join('; ') || 'a required kernel module is missing';
      return { ok: false, reason };
    },
  },
  evaluate: ({ node }) => (node.modules ? moduleFindings(node.modules, { schedulersInUse: node.schedulersInUse }) : []),
};
