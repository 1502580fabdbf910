/** `ipvs-sentinel ipvs`: the live IPVS table, like `ipvsadm -Ln --stats`, or the snapshot JSON. */
import type { IpvsReader } from '../ipvs/reader.js';
import { stringifyJson } from '../render/json.js';
import { snapshotJson } from '../render/snapshot.js';
import { renderTable } from '../render/table.js';
import type { Options } from './flags.js';
import type { Io } from './io.js';

export async function runIpvs(options: Options, io: Io, reader: IpvsReader): Promise<number> {
  try {
    const snapshot = await reader.read();
    io.stdout(options.output === 'json' ? stringifyJson(snapshotJson(snapshot, { node: options.nodeName })) + '\n' : renderTable(snapshot));
    return 0;
  } finally {
    reader.close();
  }
}
