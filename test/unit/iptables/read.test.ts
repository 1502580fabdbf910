/** readIptables with a fake proc root and a stand-in tool runner: what runs, what each backend and family ends as. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SentinelError } from '../../../src/errors/index.js';
import { readIptables } from '../../../src/iptables/read.js';
import { parseSave } from '../../../src/iptables/save-parser.js';
import type { SaveResult, SaveTool } from '../../../src/iptables/types.js';
import { fixture } from './dump-json.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function procRoot(files: Record<string, string | null>): string {
  const root = mkdtempSync(join(tmpdir(), 'iptables-proc-'));
  dirs.push(root);
  mkdirSync(join(root, 'net'));
  for (const [name, content] of Object.entries(files)) {
    // null: a directory where the file should be, so reading it fails (EISDIR) as an unreadable file would.
    if (content === null) mkdirSync(join(root, 'net', name));
    else writeFileSync(join(root, 'net', name), content);
  }
  return root;
}

const CAPTURE: Record<SaveTool, string> = {
  'iptables-legacy-save': 'legacy-ipvs.save',
  'ip6tables-legacy-save': 'legacy-ipvs6.save',
  'iptables-nft-save': 'nft-ipvs.save',
  'ip6tables-nft-save': 'nft-ipvs6.save',
};

function standInRunner(fail: Partial<Record<SaveTool, SentinelError>> = {}): { run: (tool: SaveTool) => Promise<SaveResult>; ran: SaveTool[] } {
  const ran: SaveTool[] = [];
  return {
    ran,
    run: (tool) => {
      ran.push(tool);
      const error = fail[tool];
      if (error) return Promise.reject(error);
      return Promise.resolve({ tool, dump: parseSave(fixture(CAPTURE[tool])), warnings: [], legacyTablesPresent: false });
    },
  };
}

describe('readIptables', () => {
  it('runs only the tools whose backend holds a table of their family, and decides from what they print', async () => {
    const { run, ran } = standInRunner();
    const observation = await readIptables({ procRoot: procRoot({ ip_tables_names: 'nat\nfilter\nmangle\n' }), nftTables: [{ family: 'ip6', name: 'nat', use: 6 }], run });
    expect(ran.sort()).toEqual(['ip6tables-nft-save', 'iptables-legacy-save']);
    expect(observation.legacyTableNames).toEqual({ inet: ['nat', 'filter', 'mangle'], inet6: [] });
    expect(observation.legacy.inet.state).toBe('read');
    expect(observation.legacy.inet6).toEqual({ state: 'absent', reason: 'no legacy ip6tables table exists' });
    expect(observation.nft.inet).toEqual({ state: 'absent', reason: 'no nf_tables ip filter/nat/mangle/raw/security table exists' });
    expect(observation.nft.inet6.state).toBe('read');
    expect(observation.decision).toMatchObject({ expected: 'nft', reason: 'kubelet-hint-nft', ipvsChains: { legacy: true, nft: true }, uncertain: false });
    expect(observation.problems).toEqual([]);
  });

  it('runs nothing when no backend holds a table (nf_tables not loaded, no legacy table)', async () => {
    const { run, ran } = standInRunner();
    const observation = await readIptables({ procRoot: procRoot({ ip_tables_names: '', ip6_tables_names: '' }), nftTables: null, run });
    expect(ran).toEqual([]);
    expect(observation.nft.inet).toEqual({ state: 'absent', reason: 'nf_tables is not loaded' });
  });

  it('keeps a failed tool to its backend and family', async () => {
    const denied = new SentinelError('IPTABLES_PERMISSION_DENIED', 'run iptables-legacy-save', 'no CAP_NET_RAW');
    const { run } = standInRunner({ 'iptables-legacy-save': denied });
    const observation = await readIptables({ procRoot: procRoot({ ip_tables_names: 'filter\n' }), nftTables: [{ family: 'ip', name: 'filter', use: 9 }], run });
    expect(observation.legacy.inet).toEqual({ state: 'failed', error: denied });
    expect(observation.nft.inet.state).toBe('read');
    expect(observation.decision).toMatchObject({ expected: 'nft', uncertain: true });
  });

  it('wraps anything else a runner throws in IPTABLES_SAVE_FAILED', async () => {
    const observation = await readIptables({ procRoot: procRoot({ ip_tables_names: 'filter\n' }), nftTables: null, run: () => Promise.reject(new Error('boom')) });
    expect(observation.legacy.inet).toMatchObject({ state: 'failed', error: { code: 'IPTABLES_SAVE_FAILED', message: 'boom' } });
  });

  it('reports an unreadable tables_names file as a failed legacy read and does not run the tool', async () => {
    const { run, ran } = standInRunner();
    const observation = await readIptables({ procRoot: procRoot({ ip_tables_names: null }), nftTables: [], run });
    expect(ran).toEqual([]);
    expect(observation.legacyTableNames.inet).toBeNull();
    expect(observation.legacy.inet).toMatchObject({ state: 'failed', error: { code: 'PROC_UNREADABLE' } });
    expect(observation.problems).toHaveLength(1);
    expect(observation.decision.uncertain).toBe(true);
  });
});
