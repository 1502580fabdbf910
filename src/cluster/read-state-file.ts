/** Reading the `--cluster-state FILE` (docs/contract.md §2); parsing is the pure parseClusterState(). */
import { readFile } from 'node:fs/promises';
import { SentinelError } from '../errors/index.js';
import type { ClusterSnapshot } from './model.js';
import { parseClusterState } from './state-file.js';

/** Read and parse a cluster-state file; FILE_UNREADABLE when it cannot be read. */
export async function readClusterStateFile(path: string): Promise<ClusterSnapshot> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new SentinelError('FILE_UNREADABLE', 'read cluster state', `cannot read ${path}: ${reason}`, { cause });
  }
  return parseClusterState(text, path);
}
