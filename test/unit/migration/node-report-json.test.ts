/** A node's report from another agent is hostile until checked: only the shape /migration writes counts. */
import { describe, expect, it } from 'vitest';
import { parseNodeReport } from '../../../src/migration/node-report-json.js';
import { renderMigrationJson } from '../../../src/migration/render.js';
import { buildMigrationReport } from '../../../src/migration/report.js';
import { migrationInput } from '../../support/migration-input.js';

const good = (): Record<string, unknown> => JSON.parse(renderMigrationJson(buildMigrationReport(migrationInput()))) as Record<string, unknown>;

describe('parseNodeReport', () => {
  it('accepts what /migration writes', () => {
    expect('report' in parseNodeReport(good())).toBe(true);
  });

  it.each([
    ['null', null, 'not a JSON object'],
    ['a list', [], 'not a JSON object'],
    ['another schema', { ...good(), schemaVersion: 2 }, 'not a node migration report of schema 1'],
    ['a cluster report', { ...good(), scope: 'cluster' }, 'not a node migration report of schema 1'],
    ['an unknown verdict', { ...good(), verdict: 'fine' }, 'verdict or phase unknown'],
    ['no summary', { ...good(), summary: { blocker: '1' } }, 'summary missing'],
    ['findings not a list', { ...good(), findings: {} }, 'findings is not a list (of at most 1000)'],
    ['too many findings', { ...good(), findings: new Array(1001).fill({}) }, 'findings is not a list (of at most 1000)'],
    ['a finding of another severity', { ...good(), findings: [{ ...(good().findings as object[])[0], severity: 'critical' }] }, 'findings[0].severity is not blocker, change or info'],
    ['a finding without evidence', { ...good(), findings: [{ ...(good().findings as object[])[0], evidence: 'x' }] }, 'findings[0].evidence is not a list of evidence'],
  ])('refuses %s', (_name, json, problem) => {
    expect(parseNodeReport(json)).toEqual({ problem });
  });
});
