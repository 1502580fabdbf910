/**
 * The yaml package, loaded on its first use: some eighty modules that a JSON --cluster-state, kube-proxy's
 * /configz and the API never need, which a one-shot `check` would otherwise resolve and load before its
 * verdict (issue 17). Its Node entry is CommonJS, so it is required synchronously where it is needed;
 * `npm run build` makes it one file, dist/util/yaml-package.cjs, and has the built module require that.
 */
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';

let yaml: typeof Yaml | null = null;

export function loadYaml(): typeof Yaml {
  return (yaml ??= createRequire(import.meta.url)('yaml') as typeof Yaml);
}
