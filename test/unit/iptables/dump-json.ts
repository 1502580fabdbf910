/** Test helpers for the iptables reader: the captured fixtures, and a dump as golden JSON (Maps as objects, order kept). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IptablesDump } from '../../../src/iptables/types.js';
import { stringifyJson } from '../../../src/render/json.js';
import { REPO_ROOT } from '../../guest/harness.js';

export const FIXTURES = 'test/fixtures/iptables';

export function fixture(name: string): string {
  return readFileSync(join(REPO_ROOT, FIXTURES, name), 'utf8');
}

/** The dump as stable JSON for a golden file; `generator` left out when comparing backends. */
export function dumpJson(dump: IptablesDump, options: { withGenerator?: boolean } = {}): string {
  const plain = {
    ...(options.withGenerator === false ? {} : { generator: dump.generator }),
    ruleLines: dump.ruleLines,
    incompatibleTables: dump.incompatibleTables,
    legacyTablesWarning: dump.legacyTablesWarning,
    truncated: dump.truncated,
    malformedCount: dump.malformedCount,
    malformed: dump.malformed,
    tables: Object.fromEntries(
      [...dump.tables].map(([name, t]) => [
        name,
        {
          ruleCount: t.ruleCount,
          otherRules: t.otherRules,
          otherChains: t.otherChains,
          droppedRules: t.droppedRules,
          perService: t.perService,
          chains: [...t.chains.values()],
          rules: t.rules,
        },
      ]),
    ),
  };
  return stringifyJson(plain) + '\n';
}
