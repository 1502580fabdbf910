/**
 * One poll's iptables read: the instantiated legacy tables from <proc-root>/net/ip{,6}_tables_names,
 * the nf_tables table list from the caller (src/nftables/tables.ts), then each planned `*-save` tool
 * (run-save.ts) and the backend decision (backend.ts). A failed tool makes that backend and family
 * `failed`, never the whole read.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SentinelError, toSentinelError } from '../errors/index.js';
import type { AddressFamily } from '../ipvs/types.js';
import { FAMILIES, decideBackend, parseTablesNames, planReads, tablesNamesFile } from './backend.js';
import { runSave, type RunSaveOptions } from './run-save.js';
import type { BackendRead, FamilyReads, IptablesBackend, IptablesObservation, NftTableRef, SaveResult, SaveTool } from './types.js';

export interface ReadIptablesOptions extends RunSaveOptions {
  /** Default "/proc". */
  procRoot?: string;
  /** The nf_tables tables (NFT_MSG_GETTABLE dump); null when nf_tables is not loaded, so nothing may ask it. */
  nftTables: readonly NftTableRef[] | null;
  /** The tool runner; tests pass a stand-in. Default runSave. */
  run?: (tool: SaveTool, options: RunSaveOptions) => Promise<SaveResult>;
}

function errnoOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

async function readTablesNames(procRoot: string, family: AddressFamily): Promise<{ names: string[] | null; problem: string | null; error: SentinelError | null }> {
  const path = join(procRoot, tablesNamesFile(family));
  try {
    return { names: parseTablesNames(await readFile(path, 'utf8')), problem: null, error: null };
  } catch (error) {
    // ENOENT: ip_tables / ip6_tables is not loaded, so no legacy table can exist.
    if (errnoOf(error) === 'ENOENT') return { names: [], problem: null, error: null };
    const e = new SentinelError('PROC_UNREADABLE', `read ${path}`, `cannot list the legacy tables (the file is mode 0440 root): ${String(error)}`, { cause: error });
    return { names: null, problem: e.toLine(), error: e };
  }
}

/** Read every backend and family the kernel holds tables for, and decide the host's backend. */
export async function readIptables(options: ReadIptablesOptions): Promise<IptablesObservation> {
  const procRoot = options.procRoot ?? '/proc';
  const run = options.run ?? runSave;
  const [v4, v6] = await Promise.all(FAMILIES.map((f) => readTablesNames(procRoot, f)));
  const names = { inet: v4?.names ?? null, inet6: v6?.names ?? null };
  const nameErrors = { inet: v4?.error ?? null, inet6: v6?.error ?? null };
  const problems = [v4?.problem, v6?.problem].filter((p): p is string => typeof p === 'string');

  const plan = planReads({ legacyTableNames: names, nftTables: options.nftTables });
  const reads = await Promise.all(
    plan.map(async (p): Promise<[IptablesBackend, AddressFamily, BackendRead]> => {
      if (!p.run) {
        const error = p.backend === 'legacy' ? nameErrors[p.family] : null;
        return [p.backend, p.family, error !== null && p.unreadable ? { state: 'failed', error } : { state: 'absent', reason: p.reason }];
      }
      try {
        return [p.backend, p.family, { state: 'read', result: await run(p.tool, options) }];
      } catch (error) {
        return [p.backend, p.family, { state: 'failed', error: toSentinelError(error, 'IPTABLES_SAVE_FAILED', `run ${p.tool}`) }];
      }
    }),
  );
  const byBackend = (backend: IptablesBackend): FamilyReads => {
    const entry = (family: AddressFamily): BackendRead => reads.find(([b, f]) => b === backend && f === family)?.[2] ?? { state: 'absent', reason: 'not planned' };
    return { inet: entry('inet'), inet6: entry('inet6') };
  };
  const legacy = byBackend('legacy');
  const nft = byBackend('nft');
  return { legacyTableNames: names, legacy, nft, decision: decideBackend({ legacy, nft }), problems };
}
