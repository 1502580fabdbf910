/** `ipvs-sentinel ipvs`: the live IPVS table, like `ipvsadm -Ln --stats`, or the snapshot JSON. */
import type { IpvsReader } from '../ipvs/reader.js';
import { snapshotJsonPieces } from '../render/snapshot-json.js';
import { renderTable } from '../render/table.js';
import type { Options } from './flags.js';
import type { Io } from './io.js';

export async function runIpvs(options: Options, io: Io, reader: IpvsReader): Promise<number> {
  try {
    const snapshot = await reader.read();
    if (options.output !== 'json') {
      io.stdout(renderTable(snapshot));
      return 0;
    }
    // Indented: this output is read by people (and by jq, which does not mind). Written piece by
    // piece as it is rendered: at 50,000 real servers it is 35 MB, which as one string costs more
    // to join, decode and encode again than to render.
    for (const piece of snapshotJsonPieces(snapshot, { node: options.nodeName, pretty: true })) {
      if (io.stdoutBytes) io.stdoutBytes(piece);
      else io.stdout(piece.toString('utf8'));
    }
    return 0;
  } finally {
    reader.close();
  }
}
