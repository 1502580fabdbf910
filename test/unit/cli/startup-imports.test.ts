/**
 * What `ipvs-sentinel ipvs` loads before it reads (issue 17): the modules its code imports
 * statically from the launcher's entry (src/cli/main.ts) and from the one the command imports on its
 * way (src/cli/ipvs-command.ts). Read from the sources, as Node resolves them: a dynamic import() is
 * loaded only when its command runs and is not followed.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../../src');

/** `import … from '…'`, `export … from '…'` and `import '…'`, not `import type` / `export type`. */
const STATIC_IMPORT = /^\s*(?:import|export)\s+(?!type\s)(?:[^;'"]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;

/** Every module (a src/ path, or a package or node: name) reached from `entries` by static imports. */
function staticClosure(entries: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const pending = entries.map((e) => join(SRC, e));
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    const name = relative(SRC, file);
    if (seen.has(name)) continue;
    seen.add(name);
    for (const [, specifier] of readFileSync(file, 'utf8').matchAll(STATIC_IMPORT)) {
      if (specifier === undefined) continue;
      if (specifier.startsWith('.')) pending.push(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
      else seen.add(specifier);
    }
  }
  return seen;
}

describe('ipvs-sentinel ipvs at start', () => {
  const loaded = staticClosure(['cli/main.ts', 'cli/early-signals.ts', 'cli/ipvs-command.ts']);

  it('follows imports (the walk finds the reader and the flags)', () => {
    expect(loaded).toContain('ipvs/reader.ts');
    expect(loaded).toContain('cli/flags.ts');
    expect(loaded).toContain('checks/names.ts');
  });

  it.each([
    ['the check registry and every check', 'checks/registry.ts'],
    ['yaml', 'yaml'],
    ['the composition root', 'wiring.ts'],
    ['pino', 'pino'],
    ['client-node', '@kubernetes/client-node'],
    ['kube-proxy\'s config', 'cluster/kube-proxy-config.ts'],
  ])('loads nothing of %s', (_what, module) => {
    expect(loaded).not.toContain(module);
  });
});
