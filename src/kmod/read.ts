/**
 * Thin reader for the module check: <proc-root>/sys/kernel/osrelease, <proc-root>/modules,
 * <modules-dir>/<release>/modules.builtin, and the cheap runtime truths <proc-root>/net/ip_vs and
 * <proc-root>/sys/net/netfilter/nf_conntrack_max. Missing files are states, not crashes: a
 * container without /lib/modules gives builtin=null, a kernel without loadable-module support
 * (no /proc/modules) gives loaded=null.
 */
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SentinelError } from '../errors/index.js';
import type { ModuleFacts } from './check.js';
import { parseModulesBuiltin } from './modules-builtin.js';
import { parseProcModules } from './proc-modules.js';

export interface ModuleReadOptions {
  /** Default "/proc". */
  procRoot?: string;
  /** Default "/lib/modules". */
  modulesDir?: string;
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error).code) : undefined;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Read everything checkModules() needs except the caller's runtime truths (genetlink, scheduler). */
export async function readModuleInputs(options: ModuleReadOptions = {}): Promise<ModuleFacts> {
  const procRoot = options.procRoot ?? '/proc';
  const modulesDir = options.modulesDir ?? '/lib/modules';
  const problems: string[] = [];

  const osreleasePath = join(procRoot, 'sys/kernel/osrelease');
  let release: string;
  try {
    release = (await readFile(osreleasePath, 'utf8')).trim();
  } catch (error) {
    // Every procfs has it: without it --proc-root does not point at a procfs.
    throw new SentinelError('PROC_UNREADABLE', `read ${osreleasePath}`, `cannot read the kernel release: ${String(error)}`, { cause: error });
  }

  const modulesPath = join(procRoot, 'modules');
  let loaded: ModuleFacts['loaded'] = null;
  let loadedUnreadable = false;
  try {
    const parsed = parseProcModules(await readFile(modulesPath, 'utf8'));
    loaded = parsed.modules;
    if (parsed.malformed.length > 0) {
      problems.push(`${modulesPath}: ignored ${parsed.malformed.length} malformed line(s), first at line ${parsed.malformed[0]?.line}`);
    }
  } catch (error) {
    // ENOENT: the kernel has no loadable-module support, so every module present is built in.
    if (errorCode(error) !== 'ENOENT') {
      problems.push(`cannot read ${modulesPath}: ${String(error)}`);
      loadedUnreadable = true;
    }
  }

  const builtinPath = join(modulesDir, release, 'modules.builtin');
  let builtin: Set<string> | null = null;
  try {
    builtin = parseModulesBuiltin(await readFile(builtinPath, 'utf8'));
  } catch (error) {
    const why = errorCode(error) === 'ENOENT' ? 'not found' : String(error);
    problems.push(`${builtinPath} ${why}: built-in modules unknown, mount /lib/modules`);
  }

  const [procNetIpvs, conntrackSysctls] = await Promise.all([
    exists(join(procRoot, 'net/ip_vs')),
    exists(join(procRoot, 'sys/net/netfilter/nf_conntrack_max')),
  ]);

  return { release, loaded, loadedUnreadable, builtin, procNetIpvs, conntrackSysctls, problems };
}
