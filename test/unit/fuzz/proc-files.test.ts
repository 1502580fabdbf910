/**
 * /proc and /sys text the node hands the agent: /proc/modules (src/kmod/proc-modules.ts),
 * modules.builtin (src/kmod/modules-builtin.ts), /proc/sys/kernel/osrelease (src/kmod/kernel-release.ts),
 * the /proc/sys values of src/node/sysctl.ts, /proc/net/ip{,6}_tables_names (src/iptables/backend.ts),
 * and their readers over a --proc-root holding anything. These parsers never throw: a line that does
 * not have the kernel's shape is reported or skipped. What the kernel prints reads back exactly; real
 * captures with bytes flipped, lines cut and joined still parse line by line; any text gives values
 * of the documented shape. (The iptables-save parser has its own properties in test/unit/iptables.)
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTablesNames } from '../../../src/iptables/backend.js';
import { kernelAtLeast, parseKernelRelease } from '../../../src/kmod/kernel-release.js';
import { moduleNameFromPath, parseModulesBuiltin } from '../../../src/kmod/modules-builtin.js';
import { parseProcModules, type ProcModule } from '../../../src/kmod/proc-modules.js';
import { readModuleInputs } from '../../../src/kmod/read.js';
import { checkSysctls, parseSysctlValue, readSysctls, SYSCTL_NAMES, sysctlStatus } from '../../../src/node/sysctl.js';
import { resolvesOrCoded } from './hostile.js';

const FIXTURES = join(import.meta.dirname, '../../fixtures/proc-modules');
const REAL = ['debian12-6.1-modules', 'ubuntu1804-4.15-conntrack-ipv4', 'centos7-3.10-no-ipvs', 'rhel8-4.18-merged-conntrack', 'flatcar-6.6-ko-xz'].map((name) => ({
  name,
  modules: readFileSync(join(FIXTURES, name, 'proc/modules'), 'utf8'),
}));

type Edit =
  | { kind: 'flip'; at: number; char: string }
  | { kind: 'cut'; at: number }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'insert'; at: number; text: string };

/** Text edits a truncated read, a bad copy or a hand-made --proc-root could make. */
const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), char: fc.constantFrom(' ', '\t', '\n', '\r', '-', ',', '(', ')', '[', ']', 'x', '0', '9', '\0', 'é', '\u2028') }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.string({ unit: 'binary', maxLength: 12 }) }),
);

function applyEdits(text: string, edits: readonly Edit[]): string {
  let out = text;
  for (const e of edits) {
    const at = e.at % Math.max(1, out.length);
    if (e.kind === 'flip') out = out.slice(0, at) + e.char + out.slice(at + 1);
    else if (e.kind === 'cut') out = out.slice(0, at);
    else if (e.kind === 'delete') out = out.slice(0, at) + out.slice(at + e.length);
    else out = out.slice(0, at) + e.text + out.slice(at);
  }
  return out;
}

const anyText = fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.array(fc.constantFrom('ip_vs', ' ', '\t', '\n', '-', ',', '0x', 'ff', '123', 'Live', 'Loading', '(OE)', '[permanent],', '.ko', '.ko.xz', '/', '#', '6.1.0', '-amd64', '+', '.'), { maxLength: 40 }).map((t) => t.join('')));
const nonBlankLines = (text: string): number => text.split('\n').filter((l) => l.trim() !== '').length;

// ---- /proc/modules ------------------------------------------------------------------------------

const moduleName = fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,20}$/);
interface ModuleSpec {
  name: string;
  size: number;
  refcount: number | null;
  users: string[];
  state: 'Live' | 'Loading' | 'Unloading';
  address: string;
  taints: string | null;
}

const procModule: fc.Arbitrary<ModuleSpec> = fc.record({
  name: moduleName,
  size: fc.nat({ max: 0xffffffff }),
  refcount: fc.option(fc.integer({ min: -1, max: 2 ** 31 - 1 })),
  users: fc.array(fc.oneof({ weight: 5, arbitrary: moduleName }, { weight: 1, arbitrary: fc.constant('[permanent]') }), { maxLength: 4 }),
  state: fc.constantFrom('Live' as const, 'Loading' as const, 'Unloading' as const),
  address: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((a) => `0x${a.toString(16).padStart(16, '0')}`),
  taints: fc.option(fc.stringMatching(/^[A-Z]{1,4}$/)),
});

/** The line kernel/module/procfs.c m_show prints for a module. */
function moduleLine(m: ModuleSpec): string {
  const users = m.users.length === 0 ? '-' : m.users.map((u) => `${u},`).join('');
  return `${m.name} ${m.size} ${m.refcount ?? '-'} ${users} ${m.state} ${m.address}${m.taints === null ? '' : ` (${m.taints})`}`;
}

function expectModuleShape(m: ProcModule): void {
  expect(m.name).not.toMatch(/[-\s]/);
  expect(m.name).not.toBe('');
  expect(m.size).toBeGreaterThanOrEqual(0);
  expect(['Live', 'Loading', 'Unloading']).toContain(m.state);
  for (const u of m.users) expect(u === '[permanent]' || (!u.includes('-') && u !== '' && !u.includes(','))).toBe(true);
  if (m.address !== null) expect(m.address).toMatch(/^0x[0-9a-f]+$/i);
}

describe('/proc/modules', () => {
  it('what m_show prints reads back, names with - read as _', () => {
    fc.assert(
      fc.property(fc.array(procModule, { maxLength: 8 }), fc.constantFrom('\n', '\r\n'), (modules, eol) => {
        const parsed = parseProcModules(modules.map(moduleLine).join(eol) + eol);
        const norm = (n: string): string => n.replaceAll('-', '_');
        expect(parsed).toEqual({
          modules: modules.map((m) => ({ ...m, name: norm(m.name), users: m.users.map((u) => (u.startsWith('[') ? u : norm(u))) })),
          malformed: [],
        });
      }),
      { numRuns: 300 },
    );
  });

  it('real captures edited anywhere, and any text: every non-blank line is a module of the kernel\'s shape or reported malformed with its number and text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.tuple(fc.constantFrom(...REAL), fc.array(edit, { minLength: 1, maxLength: 6 })).map(([r, edits]) => applyEdits(r.modules, edits)), anyText), (text) => {
        const { modules, malformed } = parseProcModules(text);
        expect(modules.length + malformed.length).toBe(nonBlankLines(text));
        const lines = text.split('\n');
        for (const bad of malformed) expect(lines[bad.line - 1]).toBe(bad.text);
        expect(malformed.map((b) => b.line)).toEqual([...malformed.map((b) => b.line)].sort((a, b) => a - b));
        modules.forEach(expectModuleShape);
      }),
      { numRuns: 400 },
    );
  });
});

// ---- modules.builtin ----------------------------------------------------------------------------

describe('modules.builtin', () => {
  it('the paths kbuild writes give their module names, - read as _', () => {
    const path = fc.tuple(fc.array(fc.stringMatching(/^[a-z0-9_-]{1,8}$/), { maxLength: 4 }), moduleName, fc.constantFrom('.ko', '.ko.xz', '.ko.zst', '.ko.gz'));
    fc.assert(
      fc.property(fc.array(path, { maxLength: 10 }), (paths) => {
        const text = paths.map(([dirs, name, suffix]) => ['kernel', ...dirs, `${name}${suffix}`].join('/')).join('\n');
        expect(parseModulesBuiltin(text)).toEqual(new Set(paths.map(([, name]) => name.replaceAll('-', '_'))));
      }),
      { numRuns: 300 },
    );
  });

  it('any text gives names without /, - or a .ko suffix, at most one per line; moduleNameFromPath agrees line by line', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const names = parseModulesBuiltin(text);
        expect(names.size).toBeLessThanOrEqual(nonBlankLines(text));
        for (const n of names) {
          expect(n).not.toBe('');
          expect(n).not.toMatch(/[/-]/);
        }
        for (const line of text.split('\n')) {
          const n = moduleNameFromPath(line.trim());
          if (n !== null && !line.trim().startsWith('#')) expect(names.has(n)).toBe(true);
        }
      }),
      { numRuns: 800 },
    );
  });
});

// ---- osrelease, /proc/sys values, ip_tables_names ------------------------------------------------

describe('one-value files', () => {
  it('osrelease: major.minor[.patch] and any suffix read back; any text is null or non-negative numbers', () => {
    const version = fc.tuple(fc.nat({ max: 99 }), fc.nat({ max: 999 }), fc.option(fc.nat({ max: 9999 })), fc.constantFrom('', '-56-amd64', '-553.el8_10.x86_64', '+', '-rc1', '.fc39'), fc.constantFrom('', '\n'));
    fc.assert(
      fc.property(version, anyText, ([major, minor, patch, suffix, eol], text) => {
        const release = `${major}.${minor}${patch === null ? '' : `.${patch}`}${suffix}`;
        expect(parseKernelRelease(release + eol)).toEqual({ release, major, minor, patch: patch ?? 0 });
        const v = parseKernelRelease(text);
        if (v === null) return;
        for (const n of [v.major, v.minor, v.patch]) expect(n >= 0).toBe(true);
        expect(kernelAtLeast(v, v.major, v.minor)).toBe(true);
        expect(v.release).toBe(text.trim());
      }),
      { numRuns: 500 },
    );
  });

  it('a /proc/sys integer reads back with any surrounding whitespace; anything that is not one integer is null', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }), fc.constantFrom('', '\n', ' \n', '\t'), anyText, (n, pad, text) => {
        expect(parseSysctlValue(`${n}${pad}`)).toBe(n);
        const v = parseSysctlValue(text);
        expect(v === null).toBe(!/^-?\d+$/.test(text.trim()));
      }),
      { numRuns: 500 },
    );
  });

  it('ip_tables_names: table names read back in order; any text gives only x_tables names', () => {
    const table = fc.stringMatching(/^[a-z0-9_]{1,32}$/);
    fc.assert(
      fc.property(fc.array(table, { maxLength: 6 }), anyText, (names, text) => {
        expect(parseTablesNames(names.map((n) => `${n}\n`).join(''))).toEqual(names);
        const parsed = parseTablesNames(text);
        expect(parsed.length).toBeLessThanOrEqual(nonBlankLines(text));
        for (const n of parsed) expect(n).toMatch(/^[a-z0-9_]{1,32}$/);
      }),
      { numRuns: 500 },
    );
  });
});

// ---- the readers over a --proc-root that holds anything ---------------------------------------------

/** The text as it reads back from a file: lone surrogates were written as U+FFFD. */
const asRead = (text: string): string => Buffer.from(text, 'utf8').toString('utf8');

describe('the readers over a --proc-root holding anything', () => {
  let root = '';
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'ipvs-sentinel-fuzz-proc-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('readModuleInputs and readSysctls give facts and problems, never a throw but PROC_UNREADABLE without osrelease; the sysctl judgement takes whatever they read', async () => {
    const content = fc.option(fc.oneof(anyText, fc.integer({ min: -5, max: 5 }).map((n) => `${n}\n`), fc.constantFrom(...REAL).map((r) => r.modules)), { freq: 5 });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.record({ osrelease: content, modules: content, builtin: content, values: fc.array(content, { minLength: SYSCTL_NAMES.length, maxLength: SYSCTL_NAMES.length }) }), fc.boolean(), async (files, strictARP) => {
        const procRoot = join(root, `run-${run++}`);
        const modulesDir = join(procRoot, 'lib-modules');
        const put = async (path: string, text: string | null): Promise<void> => {
          if (text === null) return;
          await mkdir(join(path, '..'), { recursive: true });
          await writeFile(path, text);
        };
        await put(join(procRoot, 'sys/kernel/osrelease'), files.osrelease);
        await put(join(procRoot, 'modules'), files.modules);
        // modules.builtin where the reader will look, when the release is a name that stays inside the run's directory.
        const release = files.osrelease === null ? '' : asRead(files.osrelease).trim();
        if (/^[\w.+-]+$/.test(release) && release !== '.' && release !== '..') await put(join(modulesDir, release, 'modules.builtin'), files.builtin);
        await Promise.all(SYSCTL_NAMES.map((name, i) => put(join(procRoot, 'sys', ...name.split('.')), files.values[i] ?? null)));

        const facts = await resolvesOrCoded(['PROC_UNREADABLE'], readModuleInputs({ procRoot, modulesDir }));
        expect(facts === undefined).toBe(files.osrelease === null);
        if (facts !== undefined) {
          expect(facts.release).toBe(asRead(files.osrelease ?? '').trim());
          facts.loaded?.forEach(expectModuleShape);
          expect(facts.problems.every((p) => typeof p === 'string')).toBe(true);
        }
        const sysctls = await readSysctls({ procRoot });
        SYSCTL_NAMES.forEach((name, i) => {
          const written = files.values[i] ?? null;
          expect(sysctls.values[name]).toBe(written === null ? null : parseSysctlValue(asRead(written)));
        });
        const options = { kernelRelease: files.osrelease, strictARP };
        const findings = checkSysctls(sysctls, options);
        for (const f of findings) expect(f.message).toContain(f.subject);
        expect(['ok', 'mismatch', 'ipvs-absent', 'incomplete']).toContain(sysctlStatus(sysctls, findings, options).state);
      }),
      { numRuns: 30 },
    );
  });
});
