/**
 * module-missing findings and the operator's fix (modprobe line, /etc/modules-load.d/ipvs.conf).
 * Severities per docs/kube-proxy-rules.md §8: critical for ip_vs and conntrack, warning for the scheduler
 * module while no virtual server uses it (the kernel loads it on demand). Pure.
 */
import type { Finding } from '../drift/types.js';
import type { ModuleReport, ModuleStatus } from './types.js';

export interface ModuleFindingOptions {
  /** Schedulers of the live virtual servers; a live one proves its module and silences the warning. */
  schedulersInUse?: readonly string[] | null;
}

function isSchedulerModule(m: ModuleStatus): boolean {
  return m.name.startsWith('ip_vs_');
}

function isMissing(m: ModuleStatus): boolean {
  // builtin null with nothing loaded is "unknown" (a mount problem, reported in problems), not drift.
  return m.required && !m.loaded && m.builtin === false;
}

export function moduleFindings(report: ModuleReport, options: ModuleFindingOptions = {}): Finding[] {
  const findings: Finding[] = [];
  for (const m of report.modules) {
    if (!isMissing(m)) continue;
    const scheduler = isSchedulerModule(m) ? m.name.slice('ip_vs_'.length) : null;
    if (scheduler !== null && options.schedulersInUse?.includes(scheduler) === true) continue;
    const expected = { module: m.name, state: 'loaded or built in' };
    const actual = { module: m.name, loaded: m.loaded, builtin: m.builtin };
    const persist = `and add it to /etc/modules-load.d/ipvs.conf so it survives a reboot`;
    const message =
      scheduler !== null
        ? `Kernel module ${m.name} (IPVS scheduler ${scheduler}) is neither loaded nor built in; the kernel loads it when kube-proxy creates its first virtual server, and if that fails Services stay unprogrammed: run \`modprobe ${m.name}\` ${persist}.`
        : m.name === 'ip_vs'
          ? `Kernel module ip_vs is neither loaded nor built in, so kube-proxy cannot run in IPVS mode: run \`modprobe ip_vs\` ${persist}, then restart kube-proxy.`
          : `Kernel module ${m.name} (connection tracking) is neither loaded nor built in, so kube-proxy's SNAT of IPVS traffic cannot work: run \`modprobe ${m.name}\` ${persist}, then restart kube-proxy.`;
    findings.push({
      kind: 'module-missing',
      subject: m.name,
      severity: scheduler !== null ? 'warning' : 'critical',
      virtualServer: null,
      realServer: null,
      service: null,
      expected,
      actual,
      message,
      selfHealing: false,
    });
  }
  return findings;
}

/** `modprobe -a ip_vs ip_vs_rr nf_conntrack`: loads every named module now. */
export function modprobeCommand(names: readonly string[]): string {
  return `modprobe -a ${names.join(' ')}`;
}

/** Content of /etc/modules-load.d/ipvs.conf (systemd-modules-load reads one module per line at boot). */
export function modulesLoadConf(names: readonly string[]): string {
  return ['# /etc/modules-load.d/ipvs.conf: kernel modules for kube-proxy in IPVS mode, loaded at boot', ...names, ''].join('\n');
}

export interface ModuleRemedy {
  /** Required modules that are not present (missing or unknown). */
  missing: string[];
  /** One shell line loading the missing modules, or null when nothing is missing. */
  modprobe: string | null;
  /** The file to install so every required module is loaded at boot. */
  modulesLoadConf: string;
}

/** The fix for a report: load what is missing now, persist every required module. */
export function moduleRemedy(report: ModuleReport): ModuleRemedy {
  const required = report.modules.filter((m) => m.required);
  const missing = required.filter((m) => !m.loaded && m.builtin !== true).map((m) => m.name);
  return {
    missing,
    modprobe: missing.length === 0 ? null : modprobeCommand(missing),
    modulesLoadConf: modulesLoadConf(required.map((m) => m.name)),
  };
}
