/**
 * The checks' names, in the registry's order, for the command line (--skip-checks and its help):
 * plain strings, so that parsing flags loads no check — `ipvs-sentinel ipvs` runs none, and the
 * checks' modules (yaml's 72 files among them) cost it a fifth of its start (issue 17). The
 * registry's CHECKS is the source of truth; test/unit/checks/names.test.ts keeps this list equal.
 */
export const CHECK_NAMES: readonly string[] = [
  'kube-proxy-sync',
  'kernel-modules',
  'kube-proxy-mode',
  'ipvs',
  'sysctls',
  'kube-ipvs0',
  'ipsets',
  'iptables',
  'iptables-leftovers',
  'stale-udp-conntrack',
];
