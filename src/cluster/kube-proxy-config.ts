/** kube-proxy's effective configuration, as far as IPVS mode depends on it (docs/kube-proxy-rules.md §5.1). */
export interface KubeProxyConfig {
  /** "ipvs", "iptables", "nftables"; "" means the platform default (iptables on Linux). */
  mode: string;
  /** ipvs.scheduler; "" means rr. */
  scheduler: string;
  syncPeriodSeconds: number;
  minSyncPeriodSeconds: number;
  excludeCIDRs: string[];
  nodePortAddresses: string[];
  strictARP: boolean;
  tcpTimeoutSeconds: number;
  tcpFinTimeoutSeconds: number;
  udpTimeoutSeconds: number;
  /** metricsBindAddress, e.g. "127.0.0.1:10249". */
  metricsBindAddress: string;
  /**
   * detectLocalMode: "ClusterCIDR", "NodeCIDR", "BridgeInterface", "InterfaceNamePrefix"; "" means
   * ClusterCIDR (cmd/kube-proxy/app/server_linux.go platformApplyDefaults).
   */
  detectLocalMode: string;
  /** clusterCIDR (comma-separated, v1alpha1 and the internal config before v1.31) or detectLocal.clusterCIDRs. */
  clusterCIDRs: string[];
  /** detectLocal.bridgeInterface and detectLocal.interfaceNamePrefix ("" when unset). */
  detectLocalBridgeInterface: string;
  detectLocalInterfaceNamePrefix: string;
  /** iptables.masqueradeBit (used by the iptables and IPVS proxiers) and nftables.masqueradeBit; both default to 14. */
  iptablesMasqueradeBit: number;
  nftablesMasqueradeBit: number;
}

export type KubeProxyConfigSource = 'configz' | 'configmap' | 'defaults';

export const KUBE_PROXY_DEFAULTS: KubeProxyConfig = {
  mode: '',
  scheduler: '',
  syncPeriodSeconds: 30,
  minSyncPeriodSeconds: 0,
  excludeCIDRs: [],
  nodePortAddresses: [],
  strictARP: false,
  tcpTimeoutSeconds: 0,
  tcpFinTimeoutSeconds: 0,
  udpTimeoutSeconds: 0,
  metricsBindAddress: '127.0.0.1:10249',
  detectLocalMode: '',
  clusterCIDRs: [],
  detectLocalBridgeInterface: '',
  detectLocalInterfaceNamePrefix: '',
  iptablesMasqueradeBit: 14,
  nftablesMasqueradeBit: 14,
};

/** The scheduler kube-proxy actually uses: ipvs.scheduler, empty → rr. */
export function effectiveScheduler(config: KubeProxyConfig): string {
  return config.scheduler === '' ? 'rr' : config.scheduler;
}

/** detectLocalMode as kube-proxy applies it: "" → ClusterCIDR (cmd/kube-proxy/app/server_linux.go platformApplyDefaults). */
export function effectiveDetectLocalMode(config: KubeProxyConfig): string {
  return config.detectLocalMode === '' ? 'ClusterCIDR' : config.detectLocalMode;
}
