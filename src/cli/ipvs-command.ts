/**
 * What `ipvs-sentinel ipvs` loads after its flags: the command and the live reader. `npm run build`
 * bundles this module into one file with everything it reaches (scripts/bundle.mjs) but the modules
 * whose classes the rest of the CLI shares (the errors, libnl): ~20 modules fewer to resolve, read
 * and instantiate before the first request (issue 17).
 */
export { runIpvs } from './ipvs.js';
export { createIpvsReader } from '../ipvs/live-reader.js';
export { packSnapshot } from '../ipvs/snapshot-transfer.js';
export { renderTableBase, tableBaseMessage } from '../render/table.js';
