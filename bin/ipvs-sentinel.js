#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (npm run build).

// First, before anything is loaded: a SIGUSR1 listener. Without one, SIGUSR1 makes Node open its
// inspector on 127.0.0.1:9229 — in the node's network namespace, for a root process holding
// CAP_NET_ADMIN — where any local process could attach. A listener keeps Node from doing so on
// Node 20 and 24 alike (test/unit/cli/serve-process.test.ts); Node 20 has no --disable-sigusr1. It is
// never removed: without a listener left, SIGUSR1 would kill the process.
process.on('SIGUSR1', () => {});

// V8's compile cache (Node >= 22.1; Node 20 has no enableCompileCache and compiles every start):
// the modules' bytecode kept beside them, so a command started in an incident does not compile the
// CLI again (issue 17). Beside the code, not in the world-writable /tmp: whoever could write the
// cache could write the code. Where it cannot be written (a read-only image), Node skips it.
const [{ enableCompileCache }, { fileURLToPath }] = await Promise.all([import('node:module'), import('node:url')]);
enableCompileCache?.(fileURLToPath(new globalThis.URL('../dist/.compile-cache', import.meta.url)));

// serve: V8's optimizing compilers off until the heap says the cluster is large (src/agent/tiering.ts).
(await import('../dist/agent/tiering.js')).startAdaptiveTiering(process.argv.slice(2));

// Then SIGTERM, SIGINT and SIGHUP are held while the rest loads (src/cli/early-signals.ts): serve
// takes them over, any other command gives them back to their default actions.
const { EarlySignals } = await import('../dist/cli/early-signals.js');
const early = new EarlySignals();

const { main } = await import('../dist/cli/main.js');
process.exitCode = await main(process.argv.slice(2), undefined, early);
// The exit code is final: whatever is still running (a start abandoned on SIGTERM, a stuck close)
// may not keep the process past a short grace. Unreferenced, so a clean end exits at once.
globalThis.setTimeout(() => process.exit(), 2_000).unref();
