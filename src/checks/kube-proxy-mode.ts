/** The mode kube-proxy really runs in (/proxyMode) against the mode its configuration declares. */
import { checkProxyMode } from '../node/kube-proxy.js';
import type { PrerequisiteCheck } from './types.js';

export const KUBE_PROXY_MODE_KINDS = ['proxy-mode-mismatch'] as const;

export const kubeProxyModeCheck: PrerequisiteCheck<(typeof KUBE_PROXY_MODE_KINDS)[number]> = {
  name: 'kube-proxy-mode',
  kinds: KUBE_PROXY_MODE_KINDS,
  prerequisite: true,
  health: {
    name: 'kube-proxy-mode',
    order: 30,
    evaluate: ({ report }) => {
      const mismatch = report.findings.find((f) => f.kind === 'proxy-mode-mismatch' && f.confirmed && f.severity !== 'info');
      return mismatch ? { ok: false, reason: mismatch.message } : { ok: true, reason: null };
    },
  },
  evaluate: ({ node, cluster }) => checkProxyMode({ runningMode: node.runningMode, configuredMode: cluster.configuredMode }),
};
