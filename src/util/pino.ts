/**
 * pino, as the agent loads it: `npm run build` bundles this module with esbuild (scripts/bundle.mjs)
 * without pino's transports. pino's index loads its worker-thread transport machinery
 * (thread-stream) and node:worker_threads eagerly, ~1.5 MB of RSS on Node 24, and the agent writes
 * its JSON lines synchronously to stdout or stderr, never through a transport: in the bundle,
 * `pino.transport()` throws, and `isMainThread` (read only for asynchronous destinations) is true.
 */
export { pino } from 'pino';
export type { Logger } from 'pino';
