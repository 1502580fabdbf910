/** The kernel-module verdict (docs/contract.md §1 and §3: `/modules`, `ipvs-sentinel modules`). */

export interface ModuleStatus {
  /** Normalised module name (`-` → `_`), e.g. "ip_vs", "nf_conntrack". */
  name: string;
  loaded: boolean;
  /** null when modules.builtin could not be read ("unknown, mount /lib/modules"). */
  builtin: boolean | null;
  /** Required modules fail the check when absent; advisory ones are only reported. */
  required: boolean;
  /** One line for a person: why this module matters, or what is wrong. */
  reason: string;
}

export interface ModuleReport {
  /** Kernel release from <proc-root>/sys/kernel/osrelease, or null when unreadable. */
  release: string | null;
  modules: ModuleStatus[];
  /** Runtime truth: whether the IPVS generic-netlink family resolves; null when not probed. */
  ipvsFamilyResolves: boolean | null;
  /** true when every required module is present (loaded or built in). */
  ok: boolean;
  /** Human-readable problems (missing modules, unreadable files), empty when all is well. */
  problems: string[];
}
