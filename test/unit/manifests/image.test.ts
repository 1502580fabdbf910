import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { imageNodeOptions, imageRuntimeEnv } from '../../../bench/agent-scale.js';

describe('the image', () => {
  it('sets the NODE_OPTIONS the scale bench runs the agent with', () => {
    expect(imageNodeOptions()).toBe('--max-semi-space-size=4 --v8-pool-size=2');
    expect(imageNodeOptions('ENV NODE_ENV=production \\\n    NODE_OPTIONS=--jitless\n')).toBe('--jitless');
    expect(() => imageNodeOptions('FROM node:24\nENV NODE_ENV=production\n')).toThrow(/NODE_OPTIONS/);
  });

  it('sets two malloc arenas, which the benches pass to the agent too', () => {
    expect(imageRuntimeEnv()).toEqual({ NODE_OPTIONS: '--max-semi-space-size=4 --v8-pool-size=2', MALLOC_ARENA_MAX: '2' });
    expect(imageRuntimeEnv('ENV MALLOC_ARENA_MAX=4 \\\n    NODE_OPTIONS=--jitless\n').MALLOC_ARENA_MAX).toBe('4');
    expect(() => imageRuntimeEnv('ENV NODE_OPTIONS=--jitless\n')).toThrow(/MALLOC_ARENA_MAX/);
  });

  it('installs libnl and iptables (both backends\' *-save tools) in the runtime stage, without recommends: no nftables, no ipset', () => {
    const dockerfile = readFileSync(new URL('../../../Dockerfile', import.meta.url), 'utf8');
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    const installs = [...runtime.matchAll(/apt-get install ([^\n\\&]+)/g)].map((m) => m[1]?.trim().split(/\s+/) ?? []);
    expect(installs).toHaveLength(1);
    const words = installs[0] ?? [];
    expect(words).toContain('--no-install-recommends');
    expect(words.filter((w) => !w.startsWith('-')).sort()).toEqual(['iptables', 'libnl-3-200', 'libnl-genl-3-200']);
  });

  it('runs the agent as the entrypoint, so NODE_OPTIONS applies to serve', () => {
    const dockerfile = readFileSync(new URL('../../../Dockerfile', import.meta.url), 'utf8');
    expect(dockerfile).toMatch(/^ENTRYPOINT \["ipvs-sentinel"\]$/m);
  });
});
