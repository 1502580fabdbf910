/**
 * `--expose-gc` changes V8's flag hash, and with it the code caches a process may use (src/agent/heap.ts
 * runtimeGc): `serve` sets it for its heap compaction, a one-shot command must not. Each case in a
 * child process, so that the flag is seen as the command leaves it.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const wiring = JSON.stringify(new URL('../../../src/wiring.ts', import.meta.url).href);
const flags = JSON.stringify(new URL('../../../src/cli/flags.ts', import.meta.url).href);
const state = new URL('../../fixtures/cluster/kubeadm-ipv4.yaml', import.meta.url).pathname;

/** Whether V8's gc extension is on after createAgent, for `serve` (no reader given) or a one-shot command (its reader given). */
function gcAfterCreateAgent(oneShot: boolean): string {
  const script = `
    import { runInNewContext } from 'node:vm';
    import { createAgent } from ${wiring};
    import { parseCommandLine } from ${flags};
    const { options } = parseCommandLine([${oneShot ? "'check'" : "'serve'"}, '--cluster-state', ${JSON.stringify(state)}, '--node-name', 'worker-1', '--log-level', 'error'], {});
    const reader = { read: async () => { throw new Error('not read'); }, close() {} };
    await createAgent(options, 'stderr', ${oneShot ? 'reader' : 'undefined'});
    console.log(typeof runInNewContext('typeof gc === "function" ? gc : undefined'));
    process.exit(0);
  `;
  return execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } }).trim();
}

describe('V8 gc for the heap compaction', () => {
  it('is turned on by serve, which compacts its heap after polls', () => {
    expect(gcAfterCreateAgent(false)).toBe('function');
  });

  it('is never turned on by a one-shot command, whose code caches it would cost', () => {
    expect(gcAfterCreateAgent(true)).toBe('undefined');
  });
});
