/**
 * The worker thread of src/ipvs/threaded-reader.ts: this network namespace's IPVS table read with
 * the `ipvs` command's reader (bundled in ./ipvs-command.js), one read per request, the snapshot
 * posted back packed (src/ipvs/snapshot-transfer.ts), its arrays transferred. A SentinelError
 * crosses as its code, operation and message (a class does not survive the structured clone).
 * Asked for it, the worker then writes the snapshot's plain table (renderTableBase) and posts it
 * too, while the command's thread computes what to compare it with.
 */
import { parentPort } from 'node:worker_threads';
import { SentinelError } from '../errors/index.js';
import type { IpvsSnapshot } from '../ipvs/types.js';
import { createIpvsReader, packSnapshot, renderTableBase, tableBaseMessage } from './ipvs-command.js';
import type { WorkerReply, WorkerRequest } from '../ipvs/threaded-reader.js';

const port = parentPort;
if (port === null) throw new Error('src/cli/ipvs-read-worker.ts runs only as a worker thread (src/ipvs/threaded-reader.ts)');

// Read once per process, as the `ipvs` command does: nothing kept for a next read.
const reader = createIpvsReader({ reuse: false });
// Requests are served one at a time, in order: one socket, one dump at a time.
let queue = Promise.resolve();

port.on('message', (request: WorkerRequest) => {
  if (request.type === 'close') {
    queue = queue.then(() => {
      reader.close();
      port.close();
    });
    return;
  }
  queue = queue.then(async () => {
    let snapshot: IpvsSnapshot;
    try {
      snapshot = await reader.read();
      const packed = packSnapshot(snapshot);
      port.postMessage({ id: request.id, packed } satisfies WorkerReply, [packed.numbers.buffer, packed.counters.buffer]);
    } catch (err) {
      const error =
        err instanceof SentinelError
          ? { code: err.code, op: err.op, message: err.message }
          : { code: 'INTERNAL', op: 'read the IPVS table', message: err instanceof Error ? (err.stack ?? err.message) : String(err) };
      port.postMessage({ id: request.id, error } satisfies WorkerReply);
      return;
    }
    if (!request.table) return;
    try {
      const { base, transfer } = tableBaseMessage(renderTableBase(snapshot));
      port.postMessage({ id: request.id, table: base } satisfies WorkerReply, transfer);
    } catch (err) {
      port.postMessage({ id: request.id, tableError: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies WorkerReply);
    }
  });
});
