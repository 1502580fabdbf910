/**
 * What the one-shot agent commands (`check`, and `migration` on this node) load after their flags:
 * the commands and the composition root. `npm run build` bundles this module into one file with
 * everything it reaches (scripts/bundle.mjs), but what the API and `serve` load on demand and the
 * modules whose classes the rest of the CLI shares: some 150 modules fewer to resolve, read and
 * instantiate before the verdict (issue 17).
 */
export { runCheck } from './check.js';
export { runMigration } from './migration.js';
export { checkDeps, createAgent, migrationDeps } from '../wiring.js';
