/**
 * The three parts of @kubernetes/client-node 1.4 the agent uses — KubeConfig (kubeconfig and
 * in-cluster auth), Watch (the watch protocol) and ListWatch (the informer) — imported from their
 * own modules instead of the package index. The index, and config.js through it, loads the whole
 * generated API (every model and API class, ~75 MB of RSS in a fresh Node); `npm run build` bundles
 * this module with esbuild (scripts/bundle.mjs) so the unused generated code is shaken
 * out and the agent loads only what these three classes reach. Types stay imported from the
 * package itself (erased at build).
 */
export { KubeConfig } from '@kubernetes/client-node/dist/config.js';
export { Watch } from '@kubernetes/client-node/dist/watch.js';
export { ListWatch } from '@kubernetes/client-node/dist/cache.js';
