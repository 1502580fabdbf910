/**
 * runSave against stand-in tools (shell scripts named like the real ones, in a temporary --bin-dir) that
 * print the captured output or the real tools' failures: arguments, environment, exit codes, bounds.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSave } from '../../../src/iptables/save-parser.js';
import { runSave, saveTool } from '../../../src/iptables/run-save.js';
import type { SaveTool } from '../../../src/iptables/types.js';
import { expectSentinelRejection } from '../../support/errors.js';
import { dumpJson, FIXTURES } from './dump-json.js';
import { REPO_ROOT } from '../../guest/harness.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A bin dir holding `tool` as a shell script with `body`; the script records its arguments and environment. */
function standIn(tool: SaveTool, body: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'iptables-standin-'));
  dirs.push(dir);
  const script = join(dir, tool);
  writeFileSync(script, `#!/bin/sh\nprintf '%s\\n' "$@" > '${dir}/args'\nenv > '${dir}/env'\n${body}\n`);
  chmodSync(script, 0o755);
  return dir;
}

const capture = (name: string): string => join(REPO_ROOT, FIXTURES, name);

describe('runSave', () => {
  it('parses what the tool prints, called with -M /bin/false and never -t or -w (legacy), in the C locale with a fixed PATH', async () => {
    const dir = standIn('iptables-legacy-save', `exec cat '${capture('legacy-ipvs.save')}'`);
    const result = await runSave('iptables-legacy-save', { binDir: dir });
    expect(dumpJson(result.dump)).toBe(dumpJson(parseSave(readFileSync(capture('legacy-ipvs.save'), 'utf8'))));
    expect(readFileSync(join(dir, 'args'), 'utf8')).toBe('-M\n/bin/false\n');
    const env = readFileSync(join(dir, 'env'), 'utf8').split('\n');
    expect(env).toContain('LC_ALL=C');
    expect(env).toContain('PATH=/usr/sbin:/usr/bin:/sbin:/bin');
    expect(env.some((l) => l.startsWith('HOME=') || l.startsWith('XTABLES_'))).toBe(false);
    expect(result).toMatchObject({ tool: 'iptables-legacy-save', warnings: [], legacyTablesPresent: false });
  });

  it('calls the nft tools with no argument at all', async () => {
    const dir = standIn('ip6tables-nft-save', `exec cat '${capture('nft-ipvs6.save')}'`);
    await runSave('ip6tables-nft-save', { binDir: dir });
    expect(readFileSync(join(dir, 'args'), 'utf8')).toBe('\n');
  });

  it("keeps iptables-nft-save's stderr warning of a successful run and reads it as legacy tables present", async () => {
    const dir = standIn('iptables-nft-save', `cat '${capture('nft-ipvs.save')}'\ncat '${capture('nft-legacy-present.stderr')}' >&2`);
    const result = await runSave('iptables-nft-save', { binDir: dir });
    expect(result.legacyTablesPresent).toBe(true);
    expect(result.warnings).toEqual(['# Warning: iptables-legacy tables present, use iptables-legacy-save to see them']);
  });

  it.each([
    // The real tools' words (iptables 1.8.9, capabilities dropped with setpriv).
    ['iptables-legacy-save', 1, 'iptables-save v1.8.9 (legacy): Cannot initialize: Permission denied (you must be root)', 'IPTABLES_PERMISSION_DENIED', /exited with code 1: .*Permission denied.*needs CAP_NET_ADMIN and CAP_NET_RAW/],
    ['ip6tables-legacy-save', 1, 'ip6tables-save v1.8.9 (legacy): Cannot initialize: Permission denied (you must be root)', 'IPTABLES_PERMISSION_DENIED', /CAP_NET_RAW/],
    ['iptables-nft-save', 4, 'iptables-nft-save v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)', 'IPTABLES_PERMISSION_DENIED', /exited with code 4: .*needs CAP_NET_ADMIN in/],
    ['iptables-nft-save', 1, "iptables-nft-save v1.8.9 (nf_tables): Can't open socket to ipset.", 'IPTABLES_PERMISSION_DENIED', /match an ipset \(kube-proxy's do\) needs CAP_NET_RAW, with either backend/],
    ['iptables-nft-save', 1, 'iptables-nft-save v1.8.9 (nf_tables): Failed to initialize nft: Protocol not supported', 'IPTABLES_SAVE_FAILED', /exited with code 1: "iptables-nft-save v1.8.9 \(nf_tables\): Failed to initialize nft: Protocol not supported" \(the kernel has no nf_tables netlink support\)/],
    ['iptables-legacy-save', 2, 'something else went wrong', 'IPTABLES_SAVE_FAILED', /iptables-legacy-save exited with code 2: "something else went wrong"/],
  ] as const)('%s exiting %i with "%s" → %s', async (tool, code, stderr, errorCode, message) => {
    const dir = standIn(tool, `cat >&2 <<'EOF'\n${stderr}\nEOF\nexit ${code}`);
    const error = await expectSentinelRejection(runSave(tool, { binDir: dir }), errorCode, message);
    if (tool === 'iptables-nft-save' && code === 4) expect(error.message).not.toMatch(/NET_RAW/);
  });

  it('names the Debian iptables package when the tool is missing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iptables-empty-'));
    dirs.push(dir);
    await expectSentinelRejection(runSave('iptables-nft-save', { binDir: dir }), 'IPTABLES_UNAVAILABLE', /iptables-nft-save does not exist: install the Debian `iptables` package/);
  });

  it('says so when the tool is not executable', async () => {
    const dir = standIn('iptables-nft-save', 'exit 0');
    chmodSync(join(dir, 'iptables-nft-save'), 0o644);
    await expectSentinelRejection(runSave('iptables-nft-save', { binDir: dir }), 'IPTABLES_UNAVAILABLE', /is not executable/);
  });

  it('kills a tool that does not finish in time (SIGKILL), even when a grandchild holds its output open', async () => {
    // The grandchild ends by itself a few seconds later; without the fix 'close' waits for it past the test's timeout.
    const dir = standIn('iptables-nft-save', 'sleep 8 &\nwait');
    await expectSentinelRejection(runSave('iptables-nft-save', { binDir: dir, timeoutMs: 200 }), 'IPTABLES_SAVE_FAILED', /did not finish within 200 ms and was killed/);
  });

  it('kills a tool that prints more than the output bound', async () => {
    const dir = standIn('iptables-legacy-save', "printf '*filter\\n:INPUT ACCEPT [0:0]\\n'\nexec yes -- '-A INPUT -j ACCEPT'");
    await expectSentinelRejection(runSave('iptables-legacy-save', { binDir: dir, maxOutputBytes: 64 * 1024 }), 'IPTABLES_SAVE_TOO_LARGE', /more than 65536 bytes/);
  });

  it.each([
    ['garbage', "exec yes 'no tables here'", /more than 1000 malformed lines/],
    ['a dump cut off inside a table (exit 0)', "printf '*nat\\n:PREROUTING ACCEPT [0:0]\\n'", /ends inside table nat/],
  ])('refuses %s with IPTABLES_DUMP_INVALID', async (_what, body, message) => {
    const dir = standIn('iptables-nft-save', body);
    await expectSentinelRejection(runSave('iptables-nft-save', { binDir: dir }), 'IPTABLES_DUMP_INVALID', message);
  });

  it('kills the tool when the read is aborted, and does not start one for an aborted read', async () => {
    const dir = standIn('iptables-nft-save', 'exec sleep 600');
    const controller = new AbortController();
    const pending = runSave('iptables-nft-save', { binDir: dir, signal: controller.signal });
    controller.abort();
    await expectSentinelRejection(pending, 'IPTABLES_SAVE_FAILED', /killed: the read was aborted/);
    await expectSentinelRejection(runSave('iptables-nft-save', { binDir: dir, signal: controller.signal }), 'IPTABLES_SAVE_FAILED', /not started/);
  });

  it('maps each backend and family to its tool by explicit name', () => {
    expect([saveTool('legacy', 'inet'), saveTool('legacy', 'inet6'), saveTool('nft', 'inet'), saveTool('nft', 'inet6')]).toEqual([
      'iptables-legacy-save',
      'ip6tables-legacy-save',
      'iptables-nft-save',
      'ip6tables-nft-save',
    ]);
  });
});
