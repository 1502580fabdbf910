/** `ipvs-sentinel modules`: the kernel-module check alone (exit 0 all required present, 1 missing, 2 error). */
import { checkModules } from '../kmod/check.js';
import { moduleRemedy } from '../kmod/findings.js';
import type { ModuleFacts } from '../kmod/check.js';
import type { ModuleReport } from '../kmod/types.js';
import { stringifyJson } from '../render/json.js';
import type { Options } from './flags.js';
import type { Io } from './io.js';

export interface ModulesDeps {
  readFacts(): Promise<ModuleFacts>;
  /** Whether the IPVS genetlink family resolves; null when not probed (never autoloads ip_vs). */
  ipvsFamilyResolves(facts: ModuleFacts): boolean | null;
  /** The effective scheduler: --scheduler, else kube-proxy's, else rr. */
  scheduler(): Promise<string>;
}

export function modulesJson(report: ModuleReport): Record<string, unknown> {
  return {
    release: report.release,
    modules: report.modules.map((m) => ({ name: m.name, loaded: m.loaded, builtin: m.builtin, required: m.required, reason: m.reason })),
  };
}

export function renderModulesTable(report: ModuleReport): string {
  const lines = [`Kernel ${report.release ?? 'unknown'}; IPVS generic-netlink family: ${report.ipvsFamilyResolves === null ? 'not probed' : report.ipvsFamilyResolves ? 'resolves' : 'absent'}`, ''];
  lines.push(`${'MODULE'.padEnd(26)}${'REQUIRED'.padEnd(10)}${'LOADED'.padEnd(8)}${'BUILT-IN'.padEnd(10)}REASON`);
  for (const m of report.modules) {
    const builtin = m.builtin === null ? 'unknown' : m.builtin ? 'yes' : 'no';
    lines.push(`${m.name.padEnd(26)}${(m.required ? 'yes' : 'advisory').padEnd(10)}${(m.loaded ? 'yes' : 'no').padEnd(8)}${builtin.padEnd(10)}${m.reason}`);
  }
  lines.push('');
  if (report.ok) lines.push('OK: every required module is loaded or built in.');
  else {
    lines.push('FAILED:');
    for (const p of report.problems) lines.push(`  - ${p}`);
    const remedy = moduleRemedy(report);
    if (remedy.modprobe) {
      lines.push('', `Load them now:      ${remedy.modprobe}`, 'Load them at boot:  /etc/modules-load.d/ipvs.conf containing', ...remedy.modulesLoadConf.trimEnd().split('\n').map((l) => `    ${l}`));
    }
  }
  return lines.join('\n') + '\n';
}

export async function runModules(options: Options, io: Io, deps: ModulesDeps): Promise<number> {
  const facts = await deps.readFacts();
  const report = checkModules({ ...facts, scheduler: await deps.scheduler(), ipvsFamilyResolves: deps.ipvsFamilyResolves(facts) });
  io.stdout(options.output === 'json' ? stringifyJson(modulesJson(report)) + '\n' : renderModulesTable(report));
  return report.ok ? 0 : 1;
}
