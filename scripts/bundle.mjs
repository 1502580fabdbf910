// `npm run build`, after tsc: replaces some of tsc's modules by esbuild bundles of just what they
// reach, with a few imports replaced by stand-ins; every other package stays an ordinary import from
// node_modules.
// - dist/cluster/client-node.js (three re-exports from @kubernetes/client-node's own modules), so
//   the agent never loads client-node's generated API (src/cluster/client-node.ts says why).
// - dist/agent/prom-client.js (five of prom-client's lib/ modules), without @opentelemetry/api
//   (src/agent/prom-client.ts says why).
// - dist/util/pino.js, without pino's transports (src/util/pino.ts says why).
// - dist/netlink/koffi.cjs, koffi's entry without its downloader's crypto, https and zlib (below says why).
// - dist/util/yaml-package.cjs, the yaml package in one file (below says why).
// - dist/cli/ipvs-command.js, the `ipvs` command in one module (below says why).
// - dist/cli/ipvs-read-worker.cjs, the IPVS read's worker thread as one CommonJS file, in place of
//   tsc's dist/cli/ipvs-read-worker.js (below says why).
import { build } from 'esbuild';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What every bundle made here is: for Node 20 and later, warnings only, licences kept inline. */
const NODE_BUNDLE = { bundle: true, platform: 'node', target: 'node20', logLevel: 'warning', legalComments: 'inline' };
/** Only this project's modules are bundled: a package, or one of Node's, stays an import. */
const PACKAGES_OUTSIDE = { name: 'packages-outside', setup: (b) => b.onResolve({ filter: /^[^./]/ }, (args) => ({ path: args.path, external: true })) };

const file = fileURLToPath(new URL('../dist/cluster/client-node.js', import.meta.url));
const promClientFile = fileURLToPath(new URL('../dist/agent/prom-client.js', import.meta.url));
const pinoFile = fileURLToPath(new URL('../dist/util/pino.js', import.meta.url));
const OWN = /^@kubernetes\/client-node(\/|$)/;

/**
 * Stand-ins with the names client-node uses: the generated API is left out, oidc_auth.js,
 * gcp_auth.js and azure_auth.js load their packages on first use, node:http comes through require
 * (src/util/node-http.ts says why).
 */
const STAND_INS = {
  './gen/index.js': `
    const absent = () => {
      throw new Error('KubeConfig.makeApiClient is not available: ipvs-sentinel bundles no generated API client (scripts/bundle.mjs)');
    };
    export const createConfiguration = absent;
    export class ServerConfiguration {
      constructor() {
        absent();
      }
    }
  `,
  './serializer.js': `
    // ListWatch passes its label and field selectors through serialize(s, 'string'): the identity.
    export const ObjectSerializer = {
      serialize(data, type) {
        if (type !== 'string') throw new Error('ObjectSerializer.serialize(' + type + ') is not bundled (scripts/bundle.mjs)');
        return data;
      },
    };
  `,
  'node:http': `
    import { createRequire } from 'node:module';
    const http = createRequire(import.meta.url)('node:http');
    export default http;
    export const STATUS_CODES = http.STATUS_CODES;
  `,
  'openid-client': `
    const load = () => import('openid-client');
    export const discovery = async (...args) => (await load()).discovery(...args);
    export const refreshTokenGrant = async (...args) => (await load()).refreshTokenGrant(...args);
  `,
  'jsonpath-plus': `
    import { createRequire } from 'node:module';
    const require = createRequire(import.meta.url);
    export const JSONPath = (...args) => require('jsonpath-plus').JSONPath(...args);
  `,
};

/**
 * Replaces `target` (tsc's output) by an esbuild bundle of what it reaches, resolved by `plugin`;
 * `commonJs` when the bundled package is CommonJS, whose require() of Node's own modules then needs
 * a require in the ES module.
 */
function bundleInPlace(target, plugin, { commonJs = false } = {}) {
  return build({
    entryPoints: [target],
    outfile: target,
    allowOverwrite: true,
    ...NODE_BUNDLE,
    format: 'esm',
    ...(commonJs ? { banner: { js: "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);" } } : {}),
    plugins: [plugin],
  });
}

await bundleInPlace(file, {
  name: 'only-client-node',
  setup(b) {
    // Auth providers an in-cluster agent never uses load their packages on first use only:
    // openid-client (OIDC) brings jose and oauth4webapi, jsonpath-plus (gcp/azure providers) vm.
    // The stand-ins' own imports of those packages are the real ones, external.
    b.onResolve({ filter: /^(openid-client|jsonpath-plus|node:http)$/ }, (args) =>
      args.namespace === 'stand-in' ? { path: args.path, external: true } : { path: args.path, namespace: 'stand-in' },
    );
    b.onLoad({ filter: /.*/, namespace: 'stand-in' }, (args) => ({ contents: STAND_INS[args.path], loader: 'js', resolveDir: dirname(file) }));
    // The generated API (every model class and API) is reached only through makeApiClient
    // (config.js) and ListWatch's selector serialisation (cache.js), neither of which the agent
    // uses for anything but strings: stand-ins keep all of it out of the agent.
    b.onResolve({ filter: /^\.\/(gen\/index|serializer)\.js$/ }, (args) =>
      /client-node\/dist\/(config|cache)\.js$/.test(args.importer) ? { path: args.path, namespace: 'stand-in' } : undefined,
    );
    // Bare imports other than client-node itself (node-fetch, js-yaml, openid-client, ...) stay external.
    b.onResolve({ filter: /^[^./]/ }, (args) => (OWN.test(args.path) ? undefined : { path: args.path, external: true }));
  },
});

/**
 * prom-client's CPU counter (lib/metrics/processCpuTotal.js) reads the active span only when
 * exemplars are enabled; the agent never enables them.
 */
const OPENTELEMETRY_STAND_IN = `
  const absent = () => {
    throw new Error('exemplars are not available: ipvs-sentinel bundles prom-client without @opentelemetry/api (scripts/bundle.mjs)');
  };
  export const trace = { getSpan: absent };
  export const context = { active: absent };
`;

await bundleInPlace(promClientFile, {
  name: 'only-prom-client',
  setup(b) {
    b.onResolve({ filter: /^@opentelemetry\/api$/ }, (args) => ({ path: args.path, namespace: 'stand-in' }));
    b.onLoad({ filter: /.*/, namespace: 'stand-in' }, () => ({ contents: OPENTELEMETRY_STAND_IN, loader: 'js' }));
    // Every package but prom-client itself stays external.
    b.onResolve({ filter: /^[^./]/ }, (args) => (/^prom-client(\/|$)/.test(args.path) ? undefined : { path: args.path, external: true }));
  },
}, { commonJs: true });

/** pino's transports (lib/transport.js, thread-stream) and the worker_threads its tools read. */
const PINO_STAND_INS = {
  './transport': `
    module.exports = function transport() {
      throw new Error('pino transports are not available: ipvs-sentinel bundles pino without them (scripts/bundle.mjs)');
    };
  `,
  // lib/tools.js reads isMainThread only for asynchronous destinations; the agent's are synchronous
  // and it never logs from a worker.
  worker_threads: `
    module.exports = { isMainThread: true };
  `,
};

await bundleInPlace(pinoFile, {
  name: 'pino-without-transports',
  setup(b) {
    b.onResolve({ filter: /^(\.\/lib\/transport|\.\/transport|worker_threads)$/ }, (args) =>
      /node_modules\/pino\/(pino|lib\/tools)\.js$/.test(args.importer) ? { path: args.path.replace('./lib/', './'), namespace: 'stand-in' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'stand-in' }, (args) => ({ contents: PINO_STAND_INS[args.path], loader: 'js' }));
  },
}, { commonJs: true });

/**
 * koffi's entry (node_modules/koffi/index.js) requires crypto, https and zlib when it loads, for the
 * prebuilt-binary downloader it carries (cnoke's tools.js) and never runs at run time: ~65 of Node's
 * own modules (TLS, HTTP, zlib) that every IPVS read paid for before its first request — most of
 * `ipvs-sentinel ipvs`'s start in the guest (issue 17). dist/netlink/koffi.cjs is that entry with
 * those three loaded on first use, its native module still required from node_modules; libnl.js
 * (the one module that loads koffi) requires it instead of the package.
 */
const koffiFile = fileURLToPath(new URL('../dist/netlink/koffi.cjs', import.meta.url));
const libnlFile = fileURLToPath(new URL('../dist/netlink/libnl.js', import.meta.url));
const KOFFI_ENTRY = fileURLToPath(new URL('../node_modules/koffi/index.js', import.meta.url));
await build({
  entryPoints: [KOFFI_ENTRY],
  outfile: koffiFile,
  ...NODE_BUNDLE,
  format: 'cjs',
  plugins: [
    {
      name: 'koffi-without-downloader',
      setup(b) {
        b.onResolve({ filter: /^(crypto|https|zlib)$/ }, (args) => (args.namespace === 'lazy' ? { path: `node:${args.path}`, external: true } : { path: args.path, namespace: 'lazy' }));
        b.onLoad({ filter: /.*/, namespace: 'lazy' }, (args) => ({
          contents: `let m; module.exports = new Proxy({}, { get: (_, key) => (m ??= require('node:${args.path}'))[key] });`,
          loader: 'js',
        }));
        // The prebuilt native modules, where the package keeps them, relative to the bundle.
        b.onResolve({ filter: /\.node$/ }, (args) => ({ path: `../../node_modules/koffi/${args.path.replace(/^\.\//, '')}`, external: true }));
      },
    },
  ],
});
/**
 * Has the one module that loads a package (tsc's output, `file`) load its bundle instead: `from`,
 * the package's require, becomes `to`. Either must be there exactly once (`to` when the file was
 * already rewritten), or the build fails: a second load, or none, would go unseen.
 */
async function requireBundleInstead(file, from, to) {
  const text = await readFile(file, 'utf8');
  if (text.split(from).length + text.split(to).length !== 3) throw new Error(`scripts/bundle.mjs: ${file} should load the package exactly once, as ${from}`);
  await writeFile(file, text.replace(from, to));
}

await requireBundleInstead(libnlFile, "require('koffi')", "require('./koffi.cjs')");

/**
 * The yaml package's Node entry (node_modules/yaml/dist/index.js, CommonJS, ~75 modules) as one file,
 * dist/util/yaml-package.cjs: every command that reads YAML (a YAML --cluster-state, kube-proxy's
 * ConfigMap, a kubeconfig) resolved, read and compiled those modules one by one before its first
 * value — in the guest, loading them was a fifth of a small `check` (issue 17). util/yaml.js, the one
 * module that loads the package, requires the bundle instead, by a path that holds from any
 * directory of dist/, as that module's code may sit in a bundle of dist/cli/.
 */
const yamlFile = fileURLToPath(new URL('../dist/util/yaml.js', import.meta.url));
await build({
  entryPoints: [fileURLToPath(new URL('../node_modules/yaml/dist/index.js', import.meta.url))],
  outfile: fileURLToPath(new URL('../dist/util/yaml-package.cjs', import.meta.url)),
  ...NODE_BUNDLE,
  format: 'cjs',
});
await requireBundleInstead(yamlFile, "createRequire(import.meta.url)('yaml')", "createRequire(import.meta.url)('../util/yaml-package.cjs')");

/**
 * The `ipvs` command (src/cli/ipvs-command.ts) as one module: the read, the decoder and the
 * renderers, ~20 modules, each resolved, read and instantiated on its own otherwise, before the
 * command's first request. The modules whose classes and state the rest of the process shares stay
 * their own (external): the errors (SentinelError, NetlinkError: instanceof decides exit codes and
 * retries) and libnl.js (the one module that loads koffi).
 */
const distFile = (m) => fileURLToPath(new URL(`../dist/${m}`, import.meta.url));
const SHARED = new Set(['errors/index.js', 'netlink/errors.js', 'netlink/libnl.js'].map(distFile));

/** Bundles `target` with this project's modules it reaches but those in `outside`, which stay imports of their files. */
function bundleCommand(target, name, outside) {
  return bundleInPlace(target, {
    name,
    setup(b) {
      b.onResolve({ filter: /^\./ }, (args) => {
        const resolved = join(args.resolveDir, args.path);
        if (!outside.has(resolved)) return undefined;
        const path = relative(dirname(target), resolved);
        return { path: path.startsWith('.') ? path : `./${path}`, external: true };
      });
      // Only this project's modules are bundled; a package or one of Node's stays an import.
      b.onResolve({ filter: /^[^./]/ }, (args) => ({ path: args.path, external: true }));
    },
  });
}

await bundleCommand(distFile('cli/ipvs-command.js'), 'ipvs-command', SHARED);

/**
 * The IPVS read's worker thread (src/cli/ipvs-read-worker.ts, which src/ipvs/threaded-reader.ts
 * starts for `check` and `migration`) as one CommonJS file. A worker whose entry is an ES module
 * first sets up Node's ES module loader in its thread and links its modules one by one: in the
 * guest, 150–200 ms more before the first read, the start of the path `check` waits on (issue 17).
 * Everything it reaches is inside, the errors and libnl.js too: a worker shares no class with the
 * main thread (a SentinelError crosses as its code, operation and message). koffi stays
 * dist/netlink/koffi.cjs, which libnl.js requires through createRequire(import.meta.url): here that
 * URL is libnl.js's own, as if it were still beside koffi.cjs.
 */
const workerEsm = distFile('cli/ipvs-read-worker.js');
const workerFile = distFile('cli/ipvs-read-worker.cjs');
await build({
  entryPoints: [workerEsm],
  outfile: workerFile,
  ...NODE_BUNDLE,
  format: 'cjs',
  define: { 'import.meta.url': '__libnlUrl' },
  banner: { js: "'use strict';\nconst __libnlUrl = require('node:url').pathToFileURL(require('node:path').join(__dirname, '../netlink/libnl.js')).href;" },
  plugins: [PACKAGES_OUTSIDE],
});
const worker = await readFile(workerFile, 'utf8');
if (worker.split('__libnlUrl').length !== 3 || !worker.includes('("./koffi.cjs")')) {
  throw new Error(`scripts/bundle.mjs: ${workerFile} should take import.meta.url once, for libnl.js's require of ./koffi.cjs`);
}
// The ES module the bundle was made from is not to be started by mistake.
await Promise.all(['', '.map', '.d.ts'].map((ext) => rm(`${workerEsm}${ext}`, { force: true })));

/**
 * The one-shot agent commands (src/cli/agent-command.ts: `check`, `migration` on this node) as one
 * module: the composition root, the agent, every check and source, ~150 modules (issue 17). Left
 * out, as their own files:
 * - the modules whose classes the rest of the CLI shares, as for `ipvs`;
 * - what these commands load on demand, the API's modules (without --cluster-state), together with
 *   everything those reach, so that no module is ever loaded twice, in the bundle and beside it;
 * - what only other commands run (serve's HTTP and Events, `migration --cluster`), never loaded here.
 */
const ON_DEMAND = ['cluster/kubeconfig.js', 'cluster/informers.js'].map(distFile);
const OTHER_COMMANDS = new Set(['events/create.js', 'agent/http.js', 'agent/auth/serving.js', 'cli/migration-cluster.js'].map(distFile));
const onDemand = await build({
  entryPoints: ON_DEMAND,
  bundle: true,
  write: false,
  metafile: true,
  outdir: 'unused',
  platform: 'node',
  format: 'esm',
  logLevel: 'warning',
  plugins: [PACKAGES_OUTSIDE],
});
const reachedOnDemand = Object.keys(onDemand.metafile.inputs).map((input) => join(process.cwd(), input));
await bundleCommand(distFile('cli/agent-command.js'), 'agent-command', new Set([...SHARED, ...OTHER_COMMANDS, ...reachedOnDemand]));
