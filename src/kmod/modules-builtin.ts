/**
 * Parser for /lib/modules/<release>/modules.builtin (written by kbuild, read by kmod's depmod):
 * one path per module compiled into the kernel, relative to the modules directory, e.g.
 * "kernel/net/netfilter/ipvs/ip_vs.ko". Pure: no I/O.
 *
 * kbuild only ever writes ".ko" there (built-in modules are not files, so nothing compresses them);
 * compressed suffixes are accepted anyway because some distribution tooling rewrites module lists.
 */
import { normaliseModuleName } from './proc-modules.js';

const MODULE_SUFFIX = /\.ko(?:\.(?:xz|zst|gz))?$/;

/** Normalised module name of a module path ("kernel/fs/binfmt_misc.ko.xz" → "binfmt_misc"), or null. */
export function moduleNameFromPath(path: string): string | null {
  const base = path.slice(path.lastIndexOf('/') + 1);
  if (!MODULE_SUFFIX.test(base)) return null;
  const name = base.replace(MODULE_SUFFIX, '');
  return name === '' ? null : normaliseModuleName(name);
}

/** The set of normalised names of built-in modules; blank lines and non-module lines are ignored. */
export function parseModulesBuiltin(text: string): Set<string> {
  const names = new Set<string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const name = moduleNameFromPath(line);
    if (name !== null) names.add(name);
  }
  return names;
}
