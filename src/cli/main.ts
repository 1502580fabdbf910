/** The `ipvs-sentinel` command line: parse flags, run one command, map errors to exit codes. */
import { readFileSync } from 'node:fs';
import { SentinelError } from '../errors/index.js';
import type { AgentBundle } from '../wiring.js';
import type * as AgentCommand from './agent-command.js';
import type { EarlySignals } from './early-signals.js';
import { parseCommandLine, usage, type Options, type ParsedCommandLine } from './flags.js';
import { processIo, type Io } from './io.js';

/** Exit code for "could not run" (bad flags, no IPVS access, unreadable input). */
export const EXIT_ERROR = 2;

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/**
 * `early`: the signals the launcher held while the CLI loaded; `serve` takes them over, every other
 * command gives them back to their default actions.
 */
export async function main(argv: readonly string[], io: Io = processIo, early?: EarlySignals): Promise<number> {
  let parsed: ParsedCommandLine;
  try {
    parsed = parseCommandLine(argv, io.env);
  } catch (err) {
    early?.release();
    return reportError(err, io);
  }
  if (parsed.command !== 'serve' || parsed.help || parsed.version) early?.release();
  if (parsed.version) {
    io.stdout(`ipvs-sentinel ${packageVersion()}\n`);
    return 0;
  }
  if (parsed.help || parsed.command === null) {
    io.stdout(usage());
    return parsed.help ? 0 : EXIT_ERROR;
  }
  try {
    // Each command loads only what it runs: `ipvs` is what a person types in an incident, and the
    // agent's client-node, pino and prom-client would cost it more than the read (issue 17).
    switch (parsed.command) {
      case 'ipvs': {
        const { runIpvs, createIpvsReader } = await import('./ipvs-command.js');
        return await runIpvs(parsed.options, io, createIpvsReader({ reuse: false }));
      }
      case 'modules': {
        const [{ runModules }, { modulesDeps }] = await Promise.all([import('./modules.js'), import('../wiring.js')]);
        return await runModules(parsed.options, io, modulesDeps(parsed.options));
      }
      case 'check': {
        // Its table is written in the reading thread too, when it is what check prints.
        const { command, bundle } = await startOneShotAgent(parsed.options, parsed.options.output === 'table');
        return await command.runCheck(parsed.options, io, command.checkDeps(bundle));
      }
      case 'migration': {
        if (parsed.options.cluster) {
          const [{ runClusterMigration }, { clusterMigrationDeps }] = await Promise.all([import('./migration-cluster.js'), import('../wiring.js')]);
          return await runClusterMigration(parsed.options, io, await clusterMigrationDeps(parsed.options));
        }
        const { command, bundle } = await startOneShotAgent(parsed.options);
        return await command.runMigration(parsed.options, io, await command.migrationDeps(parsed.options, bundle));
      }
      case 'serve': {
        const [{ runServe }, { serveDeps }] = await Promise.all([import('./serve.js'), import('../wiring.js')]);
        return await runServe(serveDeps(parsed.options, early));
      }
    }
  } catch (err) {
    return reportError(err, io);
  }
}

/**
 * The agent of `check` and `migration` on this node, logging on stderr (errors only, unless
 * --log-level asks for more). Its IPVS read starts first, in its own thread: the dump, mostly the
 * kernel's time, runs while the agent's modules load and --cluster-state is parsed
 * (src/ipvs/threaded-reader.ts; issue 17). Where the agent cannot be built (a bad --cluster-state),
 * the read is abandoned.
 */
async function startOneShotAgent(options: Options, table = false): Promise<{ command: typeof AgentCommand; bundle: AgentBundle }> {
  const { ThreadedIpvsReader } = await import('../ipvs/threaded-reader.js');
  const ipvs = new ThreadedIpvsReader({ table });
  try {
    const command = await import('./agent-command.js');
    const quiet = { ...options, logLevel: options.logLevel === 'info' ? 'error' : options.logLevel } as const;
    return { command, bundle: await command.createAgent(quiet, 'stderr', ipvs) };
  } catch (err) {
    ipvs.close();
    throw err;
  }
}

function reportError(err: unknown, io: Io): number {
  if (err instanceof SentinelError) {
    io.stderr(`ipvs-sentinel: ${err.toLine()}\n`);
  } else {
    const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
    io.stderr(`ipvs-sentinel: INTERNAL: ${text}\n`);
  }
  return EXIT_ERROR;
}
