/** `ipvs-sentinel ipvs`: the live IPVS table, like `ipvsadm -Ln --stats`, or the snapshot JSON. */
import type { IpvsReader } from '../ipvs/reader.js';
import { renderSnapshotJson } from '../render/snapshot-json.js';
import { renderTable } from '../render/table.js';
import type { Options } from './flags.js';
import type { Io } from './io.js';

export async function runIpvs(options: Options, io: Io, reader: IpvsReader): Promise<number> {
  try {
    const snapshot = await reader.read();
    // Indented: this output is read by people (and by jq, which does not mind).
    io.stdout(options.output === 'json' ? renderSnapshotJson(snapshot, { node: options.nodeName, pretty: true }) : renderTable(snapshot));
    return 0;
  } finally {
    reader.close();
  }
}
