// `npm run build`, after tsc: replaces dist/cluster/client-node.js (three re-exports from
// @kubernetes/client-node's own modules) by an esbuild bundle of just what they reach, so the agent
// never loads client-node's generated API (src/cluster/client-node.ts says why). client-node's own
// modules are bundled; every other package stays an ordinary import from node_modules.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const file = fileURLToPath(new URL('../dist/cluster/client-node.js', import.meta.url));
const OWN = /^@kubernetes\/client-node(\/|$)/;

await build({
  entryPoints: [file],
  outfile: file,
  allowOverwrite: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
  legalComments: 'inline',
  plugins: [
    {
      name: 'only-client-node',
      setup(b) {
        // Bare imports other than client-node itself (node-fetch, js-yaml, openid-client, ...) stay external.
        b.onResolve({ filter: /^[^./]/ }, (args) => (OWN.test(args.path) ? undefined : { path: args.path, external: true }));
      },
    },
  ],
});
