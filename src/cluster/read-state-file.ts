/**
 * Reading the `--cluster-state FILE` (README "State files"): the file is read in 1 MiB chunks, each
 * decoded (state-file-bytes.ts) and handed to the parser (state-file.ts) before the next is read,
 * so neither the file's bytes nor its text are ever held whole. A regular file over the size limit
 * is refused before anything is read; anything else (a pipe, /dev/stdin) is refused once it passes it.
 */
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { SentinelError } from '../errors/index.js';
import type { ClusterSnapshot } from './model.js';
import { StateFileDecoder, takeDecoded } from './state-file-bytes.js';
import { ClusterStateParser } from './state-file.js';
import { sizeText, STATE_FILE_LIMITS, stateInvalid } from './state-file-pieces.js';

/**
 * 1 MiB: each read is a round trip through libuv's thread pool. In 64 KiB reads, a 9 MiB file's
 * reads waited 0.4–0.5 s in the emulated guest, against 0.1 s in 1 MiB reads (issue 17); the
 * parser's memory still follows the largest object, not the chunk.
 */
const CHUNK_BYTES = 1024 * 1024;

function unreadable(path: string, cause: unknown): SentinelError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new SentinelError('FILE_UNREADABLE', 'read cluster state', `cannot read ${path}: ${reason}`, { cause });
}

function tooLarge(path: string, size: number | null): SentinelError {
  const what = size === null ? `is larger than ${sizeText(STATE_FILE_LIMITS.fileBytes)}` : `is ${sizeText(size)}`;
  return stateInvalid(
    `${path} ${what}; a cluster-state file may be at most ${sizeText(STATE_FILE_LIMITS.fileBytes)} (kubectl's JSON of 25,000 Services and their EndpointSlices of 10 endpoints is 200 MiB): dump it as YAML, less than half the size, and only services, endpointslices, nodes and the kube-system/kube-proxy ConfigMap`,
  );
}

/** Read and parse a cluster-state file; FILE_UNREADABLE when it cannot be read, CLUSTER_STATE_INVALID when it is not one. */
export async function readClusterStateFile(path: string): Promise<ClusterSnapshot> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (cause) {
    throw unreadable(path, cause);
  }
  try {
    let stat;
    try {
      stat = await handle.stat();
    } catch (cause) {
      throw unreadable(path, cause);
    }
    if (stat.isFile() && stat.size > STATE_FILE_LIMITS.fileBytes) throw tooLarge(path, stat.size);
    const decoder = new StateFileDecoder(path);
    const parser = new ClusterStateParser(path);
    const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    for (let total = 0; ; ) {
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(buffer, 0, CHUNK_BYTES, null));
      } catch (cause) {
        throw unreadable(path, cause);
      }
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > STATE_FILE_LIMITS.fileBytes) throw tooLarge(path, null);
      takeDecoded(parser, decoder.decode(buffer.subarray(0, bytesRead)));
    }
    takeDecoded(parser, decoder.end());
    return parser.end();
  } finally {
    await handle.close().catch(() => undefined);
  }
}
