/**
 * What the built `check` and `migration` load (`npm run build`, scripts/bundle.mjs; issue 17): the
 * agent in one module, and no module of this project ever twice — none bundled there is also
 * reachable from a file it imports (the shared errors and libnl, the API's modules it loads on demand).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dist = fileURLToPath(new URL('../../../dist/', import.meta.url));
const bundlePath = join(dist, 'cli/agent-command.js');

/** The project modules a built file imports, statically or on demand, as paths under dist/. */
function projectImports(file: string): string[] {
  const text = readFileSync(join(dist, file), 'utf8');
  // esbuild writes "…", tsc '…'.
  const specifiers = [...text.matchAll(/(?:^import [^;]*? from |^export [^;]*? from |\bimport\()(["'])(\.{1,2}\/[^"']+)\1/gm)].map((m) => m[2] as string);
  return specifiers.map((s) => relative(dist, join(dirname(join(dist, file)), s)));
}

/** Every project module loaded once `file` is, following imports from file to file. */
function reachable(file: string): Set<string> {
  const seen = new Set<string>();
  const todo = [file];
  for (let next = todo.pop(); next !== undefined; next = todo.pop()) {
    if (seen.has(next)) continue;
    seen.add(next);
    todo.push(...projectImports(next));
  }
  return seen;
}

describe('the built check and migration commands', () => {
  const text = readFileSync(bundlePath, 'utf8');
  const bundled = new Set([...text.matchAll(/^\/\/ dist\/(\S+\.js)$/gm)].map((m) => m[1] as string));

  it('carry the agent, its sources and checks in one module', () => {
    for (const module of ['wiring.js', 'agent/agent.js', 'cli/check.js', 'cli/migration.js', 'checks/registry.js', 'desired/compute.js', 'render/table.js', 'cluster/read-state-file.js']) {
      expect(bundled, module).toContain(module);
    }
    // The shared classes stay their own modules: instanceof decides exit codes and retries.
    expect(bundled).not.toContain('errors/index.js');
    expect(bundled).not.toContain('netlink/libnl.js');
    expect(projectImports('cli/agent-command.js')).toEqual(expect.arrayContaining(['errors/index.js', 'netlink/errors.js', 'netlink/libnl.js', 'cluster/kubeconfig.js', 'cluster/informers.js']));
  });

  it('never load a module twice: nothing bundled is reachable from what the bundle imports', () => {
    // What only other commands run stays out of the bundle and is never loaded with it: Events and the
    // NodeCondition (serve's, wiring.ts createAgent), serve's HTTP, `migration --cluster`.
    const otherCommands = new Set(['events/create.js', 'agent/http.js', 'agent/auth/serving.js', 'cli/migration-cluster.js']);
    const loadable = projectImports('cli/agent-command.js').filter((file) => !otherCommands.has(file));
    const beside = new Set(loadable.flatMap((file) => [...reachable(file)]));
    expect(beside.size).toBeGreaterThan(5);
    expect([...beside].filter((file) => bundled.has(file))).toEqual([]);
  });

  it('load no yaml package for a JSON state file: it is required on first use (src/util/yaml.ts)', () => {
    expect(text).not.toMatch(/^import [^;]* from "yaml";$/m);
  });
});

describe('the built yaml loader (dist/util/yaml.js)', () => {
  it('loads the yaml package from its one-file bundle, no module of node_modules/yaml, and parses with it', () => {
    // A kubeconfig's parser and a kube-proxy configuration, as src/cluster/kubeconfig.ts and src/node/kube-proxy.ts use it.
    const script = `
      const { loadYaml } = await import(${JSON.stringify(new URL('../../../dist/util/yaml.js', import.meta.url).href)});
      const yaml = loadYaml();
      const tokens = Array.from(new yaml.Parser().parse('a: [1, 2]\\n'));
      const value = yaml.parse('mode: ipvs\\nipvs:\\n  scheduler: rr\\n');
      const { createRequire } = await import('node:module');
      const loaded = Object.keys(createRequire(import.meta.url).cache);
      console.log(JSON.stringify({ types: tokens.map((t) => t.type), value, loaded, same: loadYaml() === yaml }));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    const { types, value, loaded, same } = JSON.parse(out) as { types: string[]; value: unknown; loaded: string[]; same: boolean };
    expect(types).toEqual(['document']);
    expect(value).toEqual({ mode: 'ipvs', ipvs: { scheduler: 'rr' } });
    expect(same).toBe(true);
    expect(loaded).toEqual([join(dist, 'util/yaml-package.cjs')]);
  });
});
