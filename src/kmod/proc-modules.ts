/**
 * Parser for /proc/modules (kernel/module/procfs.c `m_show`), one line per loaded module:
 *
 *   ip_vs 188416 11 ip_vs_rr,ip_vs_sh,ip_vs_wrr, Live 0xffffffffc0d3e000
 *   nvidia 56799232 10 nvidia_modeset, Live 0x0000000000000000 (POE)
 *
 * name, size in bytes, reference count ("-" without CONFIG_MODULE_UNLOAD), users each followed by a
 * comma ("-" when none; "[permanent]," for modules that cannot be unloaded), state
 * (Live/Loading/Unloading), load address (zeros when kptr_restrict hides it) and optional taint flags.
 * Pure: no I/O.
 */

export type ModuleState = 'Live' | 'Loading' | 'Unloading';

export interface ProcModule {
  /** Normalised name (`-` → `_`). */
  name: string;
  size: number;
  /** null when the kernel prints "-" (no module unloading support). */
  refcount: number | null;
  /** Normalised names of the modules using this one; "[permanent]" is kept as is. */
  users: string[];
  state: ModuleState;
  /** Load address as printed ("0xffffffffc0d3e000"), or null when absent. */
  address: string | null;
  /** Taint flags without parentheses ("OE"), or null. */
  taints: string | null;
}

/** The kernel treats `-` and `_` in module names as the same character; we compare with `_`. */
export function normaliseModuleName(name: string): string {
  return name.replaceAll('-', '_');
}

const STATES = new Set<string>(['Live', 'Loading', 'Unloading']);

/**
 * Parse the text of /proc/modules. Lines that do not have the kernel's shape are returned in
 * `malformed` (with their 1-based line number) instead of being guessed at.
 */
export function parseProcModules(text: string): { modules: ProcModule[]; malformed: { line: number; text: string }[] } {
  const modules: ProcModule[] = [];
  const malformed: { line: number; text: string }[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '') return;
    const parsed = parseLine(line);
    if (parsed === null) malformed.push({ line: index + 1, text: raw });
    else modules.push(parsed);
  });
  return { modules, malformed };
}

function parseLine(line: string): ProcModule | null {
  const fields = line.split(/\s+/);
  const [name, sizeText, refText, usersText, state, address, taintText] = fields;
  if (name === undefined || sizeText === undefined || refText === undefined || usersText === undefined || state === undefined) {
    return null;
  }
  if (fields.length > 7 || !/^\d+$/.test(sizeText) || !STATES.has(state)) return null;
  if (refText !== '-' && !/^-?\d+$/.test(refText)) return null;
  if (address !== undefined && !/^0x[0-9a-f]+$/i.test(address)) return null;
  if (taintText !== undefined && !/^\([A-Z]+\)$/.test(taintText)) return null;
  const users = usersText === '-' ? [] : usersText.split(',').filter((u) => u !== '').map((u) => (u.startsWith('[') ? u : normaliseModuleName(u)));
  return {
    name: normaliseModuleName(name),
    size: Number(sizeText),
    refcount: refText === '-' ? null : Number(refText),
    users,
    state: state as ModuleState,
    address: address ?? null,
    taints: taintText === undefined ? null : taintText.slice(1, -1),
  };
}
