/**
 * The IPVS table against what kube-proxy should have programmed: virtual servers, their settings
 * and their real servers (src/drift/differ.ts). Its /healthz line says whether the table could be
 * read at all; what differs shows on the drift line.
 */
import { diffIpvs } from '../drift/differ.js';
import type { ComparisonCheck } from './types.js';

export const IPVS_KINDS = [
  'missing-virtual-server',
  'unexpected-virtual-server',
  'scheduler-mismatch',
  'persistence-mismatch',
  'netmask-mismatch',
  'missing-real-server',
  'unexpected-real-server',
  'weight-mismatch',
  'forward-method-mismatch',
  'terminating-real-server',
] as const;

export const ipvsCheck: ComparisonCheck<(typeof IPVS_KINDS)[number]> = {
  name: 'ipvs',
  kinds: IPVS_KINDS,
  prerequisite: false,
  health: {
    name: 'ipvs',
    order: 20,
    evaluate: ({ node }) => (node?.snapshot != null ? { ok: true, reason: null } : { ok: false, reason: node?.readings.netlink.error ?? 'not read yet' }),
  },
  evaluate: ({ desired, snapshot }) => diffIpvs(desired, snapshot),
};
