/**
 * The composition root: the one place that builds the real edges (libnl, procfs, the Kubernetes
 * API, HTTP) and hands them to the core. Everything else receives what it needs as arguments.
 */
import { effectiveScheduler } from './cluster/kube-proxy-config.js';
import type { Options } from './cli/flags.js';
import type { ModulesDeps } from './cli/modules.js';
import { IpvsReader } from './ipvs/reader.js';
import { readModuleInputs } from './kmod/read.js';
import { openGenericNetlink } from './netlink/libnl.js';
import { resolveKubeProxyConfig } from './node/kube-proxy.js';
import { probeKubeProxy } from './node/kube-proxy-probe.js';

export function createIpvsReader(): IpvsReader {
  return new IpvsReader({ open: openGenericNetlink });
}

/**
 * Whether the IPVS family resolves — asked only when <proc-root>/net/ip_vs shows ip_vs is in the
 * kernel, because resolving the family name makes the kernel load ip_vs as a side effect (5.16+).
 */
export function probeIpvsFamily(options: Options, procNetIpvs: boolean | null): boolean | null {
  if (options.procRoot !== '/proc') return null; // a fixture or another host's /proc: this kernel is not that one
  if (procNetIpvs === false) return false;
  const reader = createIpvsReader();
  try {
    return reader.familyResolves();
  } catch {
    return null;
  } finally {
    reader.close();
  }
}

/** --scheduler, else kube-proxy's /configz, else rr. */
export async function schedulerFromKubeProxy(options: Options): Promise<string> {
  if (options.scheduler) return options.scheduler;
  const probe = await probeKubeProxy({ url: options.kubeProxyUrl });
  return effectiveScheduler(resolveKubeProxyConfig({ configz: probe.configz, configMapText: null }).config);
}

export function modulesDeps(options: Options): ModulesDeps {
  return {
    readFacts: () => readModuleInputs({ procRoot: options.procRoot, modulesDir: options.modulesDir }),
    ipvsFamilyResolves: (facts) => probeIpvsFamily(options, facts.procNetIpvs),
    scheduler: () => schedulerFromKubeProxy(options),
  };
}
