/**
 * kube-ipvs0, the dummy device holding every address kube-proxy makes local (src/drift/kube-ipvs0.ts):
 * missing device or addresses, unexpected addresses, and addresses that are another Node's.
 */
import { diffKubeIpvs0 } from '../drift/kube-ipvs0.js';
import { kubeIpvs0Addresses } from '../node/kube-ipvs0.js';
import type { ComparisonCheck } from './types.js';

export const KUBE_IPVS0_KINDS = ['kube-ipvs0-missing', 'kube-ipvs0-address-missing', 'kube-ipvs0-address-unexpected', 'vip-shadows-node-ip'] as const;

export const kubeIpvs0Check: ComparisonCheck<(typeof KUBE_IPVS0_KINDS)[number]> = {
  name: 'kube-ipvs0',
  kinds: KUBE_IPVS0_KINDS,
  prerequisite: false,
  health: null,
  evaluate: ({ node, cluster, desired }) => {
    const interfaces = node.readings.interfaces.value;
    if (!interfaces) return [];
    const addresses = kubeIpvs0Addresses(interfaces);
    return diffKubeIpvs0(desired.kubeIpvs0Addresses, { present: addresses !== null, addresses: addresses ?? [] }, desired.families, {
      nodeAddresses: cluster.nodeAddresses ?? undefined,
      serviceOf: (address) => desired.virtualServers.find((vs) => vs.address === address)?.service ?? null,
    });
  },
};
