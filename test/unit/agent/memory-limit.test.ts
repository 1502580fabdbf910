import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryLimitWatch, parseCgroupLimit, readMemoryLimit } from '../../../src/agent/memory-limit.js';

const MiB = 2 ** 20;

describe('the cgroup memory limit', () => {
  it.each([
    ['536870912\n', 536870912],
    ['max\n', null],
    // cgroup v1 without a limit: PAGE_COUNTER_MAX pages of 4 KiB.
    ['9223372036854771712\n', null],
    ['0\n', null],
    ['-1\n', null],
    ['12abc\n', null],
    ['', null],
  ])('%j → %j', (text, want) => {
    expect(parseCgroupLimit(text)).toBe(want);
  });

  function cgroupRoot(files: Record<string, string>): string {
    const root = mkdtempSync(join(tmpdir(), 'cgroup-'));
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(join(root, path, '..'), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    return root;
  }

  it('reads cgroup v2 memory.max first, then cgroup v1, else none', () => {
    const v2 = cgroupRoot({ 'memory.max': '536870912\n', 'memory/memory.limit_in_bytes': '1073741824\n' });
    expect(readMemoryLimit(v2)).toEqual({ bytes: 512 * MiB, source: join(v2, 'memory.max') });
    const v1 = cgroupRoot({ 'memory/memory.limit_in_bytes': '1073741824\n' });
    expect(readMemoryLimit(v1)).toEqual({ bytes: 1024 * MiB, source: join(v1, 'memory/memory.limit_in_bytes') });
    expect(readMemoryLimit(cgroupRoot({ 'memory.max': 'max\n' }))).toBeNull();
    expect(readMemoryLimit(cgroupRoot({}))).toBeNull();
  });
});

describe('MemoryLimitWatch', () => {
  it('warns once when RSS nears the limit, says once when it is back under three quarters', () => {
    const lines: { level: string; fields: Record<string, unknown>; message: string }[] = [];
    const logger = {
      warn: (fields: object, message: string) => lines.push({ level: 'warn', fields: fields as Record<string, unknown>, message }),
      info: (fields: object, message: string) => lines.push({ level: 'info', fields: fields as Record<string, unknown>, message }),
    };
    let rss = 0;
    const watch = new MemoryLimitWatch({ bytes: 512 * MiB, source: '/sys/fs/cgroup/memory.max' }, logger, () => rss);
    for (const mb of [100, 400, 430, 440, 500, 420, 390, 380, 450]) {
      rss = mb * MiB;
      watch.afterPoll();
    }
    expect(lines.map((l) => `${l.level} ${String(l.fields.rssMb)}`)).toEqual(['warn 440', 'info 380', 'warn 450']);
    expect(lines[0]?.fields).toEqual({ rssMb: 440, limitMb: 512, share: 0.86, source: '/sys/fs/cgroup/memory.max' });
    expect(lines[0]?.message).toMatch(/86% of the container's memory limit.*resources\.limits\.memory/);
  });
});
