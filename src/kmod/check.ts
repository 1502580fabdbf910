/**
 * The kernel-module verdict for kube-proxy's IPVS mode (docs/kube-proxy-rules.md §4.3). Pure: it works on
 * what readModuleInputs() read plus the runtime truths the caller probed.
 *
 * A module is present when it is loaded (/proc/modules) or built in (modules.builtin). A runtime
 * truth (the IPVS genetlink family resolves, /proc/net/ip_vs exists, a live virtual server uses the
 * scheduler) proves presence too; a present module that is not loaded must be built in.
 */
import type { ModuleReport, ModuleStatus } from './types.js';
import type { ProcModule } from './proc-modules.js';
import { kernelAtLeast, parseKernelRelease, type KernelVersion } from './kernel-release.js';

/** What the thin reader gathers from the node (see readModuleInputs). */
export interface ModuleFacts {
  /** Kernel release text, or null when osrelease could not be read. */
  release: string | null;
  /** Loaded modules; null when /proc/modules is absent (kernel without loadable modules) or unreadable. */
  loaded: readonly ProcModule[] | null;
  /**
   * true when /proc/modules exists but could not be read: then whether a module is loaded is
   * unknown, and nothing that could make the kernel load one may be asked. Absent means false.
   */
  loadedUnreadable?: boolean;
  /** Normalised names of built-in modules; null when modules.builtin could not be read. */
  builtin: ReadonlySet<string> | null;
  /** Whether <proc-root>/net/ip_vs exists (IPVS is in the kernel); null when not looked at. */
  procNetIpvs: boolean | null;
  /** Whether <proc-root>/sys/net/netfilter/nf_conntrack_max exists (conntrack is in the kernel); null when not looked at. */
  conntrackSysctls: boolean | null;
  /** Problems met while reading, carried into the report. */
  problems: readonly string[];
}

export interface ModuleCheckInput extends ModuleFacts {
  /** The effective IPVS scheduler (effectiveScheduler(config), "rr" by default). */
  scheduler: string;
  /** Runtime truth from the netlink reader: the IPVS generic-netlink family resolves; null when not probed. */
  ipvsFamilyResolves: boolean | null;
  /** Schedulers of the live virtual servers, when the IPVS table was read: a live one proves its module. */
  schedulersInUse?: readonly string[] | null;
}

/** Required module names for a kernel and scheduler, in the order an operator would load them. */
export function requiredModuleNames(kernel: KernelVersion | null, scheduler: string): string[] {
  return ['ip_vs', schedulerModule(scheduler), conntrackModule(kernel)];
}

export function schedulerModule(scheduler: string): string {
  return `ip_vs_${scheduler === '' ? 'rr' : scheduler}`;
}

/** nf_conntrack from 4.19 on (nf_conntrack_ipv4 was merged into it), nf_conntrack_ipv4 before. */
function conntrackModule(kernel: KernelVersion | null): string {
  return kernel === null || kernelAtLeast(kernel, 4, 19) ? 'nf_conntrack' : 'nf_conntrack_ipv4';
}

interface Advisory {
  name: string;
  /** Other names that satisfy it (older kernels, merged modules). */
  alternatives: string[];
  purpose: string;
}

const LEGACY_SCHEDULERS = ['rr', 'wrr', 'sh'];

const ADVISORY: Advisory[] = [
  { name: 'ip_set', alternatives: [], purpose: 'ipset core, holds kube-proxy\'s KUBE-* sets' },
  { name: 'ip_set_hash_ip', alternatives: [], purpose: 'ipset type hash:ip (KUBE-IPVS-IPS)' },
  { name: 'ip_set_hash_ipport', alternatives: [], purpose: 'ipset type hash:ip,port (KUBE-CLUSTER-IP and others)' },
  { name: 'ip_set_hash_ipportip', alternatives: [], purpose: 'ipset type hash:ip,port,ip (KUBE-LOOP-BACK)' },
  { name: 'ip_set_hash_ipportnet', alternatives: [], purpose: 'ipset type hash:ip,port,net (KUBE-LOAD-BALANCER-SOURCE-CIDR)' },
  { name: 'ip_set_bitmap_port', alternatives: [], purpose: 'ipset type bitmap:port (KUBE-NODE-PORT-*)' },
  { name: 'xt_set', alternatives: [], purpose: 'iptables match on ipsets (-m set)' },
  { name: 'xt_ipvs', alternatives: [], purpose: 'iptables match on IPVS properties (-m ipvs, KUBE-IPVS-OUT-FILTER)' },
  { name: 'xt_comment', alternatives: [], purpose: 'iptables comments on kube-proxy rules' },
  { name: 'xt_mark', alternatives: [], purpose: 'iptables MARK for masquerade (KUBE-MARK-MASQ)' },
  { name: 'xt_conntrack', alternatives: [], purpose: 'iptables conntrack match (KUBE-FORWARD)' },
  { name: 'xt_addrtype', alternatives: [], purpose: 'iptables addrtype match (dst-type LOCAL for NodePorts)' },
  { name: 'nf_nat', alternatives: ['nf_nat_ipv4'], purpose: 'NAT core for kube-proxy\'s SNAT' },
  { name: 'xt_MASQUERADE', alternatives: ['ipt_MASQUERADE'], purpose: 'MASQUERADE target (KUBE-POSTROUTING)' },
  { name: 'br_netfilter', alternatives: [], purpose: 'bridge traffic through iptables, needed by bridge CNIs only' },
];

type Presence =
  | { present: true; name: string; loaded: boolean; builtin: boolean | null; how: string }
  | { present: false; builtin: boolean | null; unknown: boolean };

export function checkModules(input: ModuleCheckInput): ModuleReport {
  const kernel = input.release === null ? null : parseKernelRelease(input.release);
  const loaded = input.loaded === null ? null : new Set(input.loaded.map((m) => m.name));
  const problems = [...input.problems];
  const modules: ModuleStatus[] = [];

  /** First of `names` that is loaded, else built in, else proven by `proof`; `disproved`: a probe says it is absent. */
  const lookup = (names: string[], proof: string | null, disproved: boolean): Presence => {
    for (const name of names) {
      if (loaded?.has(name) === true) return { present: true, name, loaded: true, builtin: input.builtin?.has(name) ?? null, how: 'loaded' };
    }
    for (const name of names) {
      if (input.builtin?.has(name) === true) return { present: true, name, loaded: false, builtin: true, how: 'built in' };
    }
    // Present but not in /proc/modules means built in, whatever modules.builtin says.
    const first = names[0] ?? '';
    if (proof !== null) return { present: true, name: first, loaded: false, builtin: true, how: `built in (${proof}, not in /proc/modules)` };
    // A runtime probe saying "absent" also rules out built in.
    if (disproved) return { present: false, builtin: false, unknown: false };
    return { present: false, builtin: input.builtin === null ? null : false, unknown: input.builtin === null };
  };

  const required = (name: string, alternatives: string[], purpose: string, proof: string | null, disproved: boolean): void => {
    const p = lookup([name, ...alternatives], proof, disproved);
    if (p.present) {
      modules.push({ name: p.name, loaded: p.loaded, builtin: p.builtin, required: true, reason: `${purpose}; ${p.how}` });
    } else if (p.unknown) {
      const reason = `${purpose}; unknown: not loaded and modules.builtin unreadable, mount /lib/modules`;
      modules.push({ name, loaded: false, builtin: null, required: true, reason });
      problems.push(`${name}: unknown, not loaded and modules.builtin unreadable — mount /lib/modules`);
    } else {
      const reason = `${purpose}; missing: neither loaded nor built in, run \`modprobe ${name}\``;
      modules.push({ name, loaded: false, builtin: p.builtin, required: true, reason });
      problems.push(`${name} is missing: neither loaded nor built in (modprobe ${name})`);
    }
  };

  const ipvsProof = input.ipvsFamilyResolves === true ? 'IPVS netlink family resolves' : input.procNetIpvs === true ? '/proc/net/ip_vs exists' : null;
  const ipvsDisproved = input.ipvsFamilyResolves === false || input.procNetIpvs === false;
  required('ip_vs', [], 'IPVS core, kube-proxy programs its virtual servers through it', ipvsProof, ipvsDisproved);

  const sched = input.scheduler === '' ? 'rr' : input.scheduler;
  const schedName = schedulerModule(sched);
  const schedProof = input.schedulersInUse?.includes(sched) === true ? `a live virtual server uses ${sched}` : null;
  required(schedName, [], `IPVS scheduler ${sched} of every kube-proxy virtual server (the kernel loads it on first use)`, schedProof, false);

  const ctName = conntrackModule(kernel);
  const ctAlternatives = ctName === 'nf_conntrack' ? ['nf_conntrack_ipv4'] : ['nf_conntrack'];
  const ctPurpose =
    ctName === 'nf_conntrack'
      ? 'connection tracking for the SNAT of IPVS traffic (net.ipv4.vs.conntrack=1)'
      : 'IPv4 connection tracking for the SNAT of IPVS traffic (kernels before 4.19; RHEL 8.3+ 4.18 kernels merged it into nf_conntrack)';
  const ctProof = input.conntrackSysctls === true ? '/proc/sys/net/netfilter/nf_conntrack_max exists' : null;
  required(ctName, ctAlternatives, ctPurpose, ctProof, input.conntrackSysctls === false);

  const advisory = (item: Advisory): void => {
    const p = lookup([item.name, ...item.alternatives], null, false);
    if (p.present) {
      modules.push({ name: p.name, loaded: p.loaded, builtin: p.builtin, required: false, reason: `${item.purpose}; ${p.how}` });
      return;
    }
    const state = p.unknown ? 'not loaded, built-in status unknown (mount /lib/modules)' : 'not loaded (advisory; usually loaded on first use)';
    modules.push({ name: item.name, loaded: false, builtin: p.builtin, required: false, reason: `${item.purpose}; ${state}` });
  };
  for (const s of LEGACY_SCHEDULERS) {
    if (s !== sched) advisory({ name: schedulerModule(s), alternatives: [], purpose: `IPVS scheduler ${s}, required by kube-proxy up to v1.26` });
  }
  ADVISORY.forEach(advisory);

  if (input.loaded === null && input.builtin === null) {
    problems.push('neither /proc/modules nor modules.builtin could be read: module presence is only known from runtime probes');
  }

  const ok = modules.every((m) => !m.required || m.loaded || m.builtin === true);
  return { release: input.release, modules, ipvsFamilyResolves: input.ipvsFamilyResolves, ok, problems };
}
