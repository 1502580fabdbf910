// check's table on the real kernel's snapshot (issue 17): the plain table the worker thread writes
// beside the read (dist/cli/ipvs-read-worker.cjs, src/ipvs/threaded-reader.ts), finished with
// Service notes, marks on every real server and a missing real server's row per virtual server
// (src/render/table.ts finishTableBytes), is byte for byte the table written whole. Prints JSON.
import { ThreadedIpvsReader } from '../../dist/ipvs/threaded-reader.js';
import { finishTableBytes, renderTableBytes } from '../../dist/render/table.js';

const reader = new ThreadedIpvsReader({ table: true });
try {
  const snapshot = await reader.read();
  const base = await reader.tableBase(snapshot);
  const cases = {
    plain: {},
    annotated: {
      lookup: (key) => ({ namespace: 'kube-system', name: `svc-${key.length}`, port: 'dns' }),
      mark: (vsKey, rsKey) => (rsKey === null ? null : `<- weight-mismatch (${rsKey.length})`),
      missingRealServers: (vsKey) => [`10.250.0.${vsKey.length}:8080`],
    },
  };
  const results = { services: snapshot.services.length, base: base !== null };
  for (const [name, options] of Object.entries(cases)) {
    const finished = base && finishTableBytes(base, snapshot, options, 'Verdict: OK\n');
    results[name] = { finished: finished !== null, same: finished !== null && finished.equals(renderTableBytes(snapshot, options, 'Verdict: OK\n')) };
  }
  console.log(JSON.stringify(results));
} finally {
  reader.close();
}
