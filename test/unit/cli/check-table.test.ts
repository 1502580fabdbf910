/**
 * `check`'s table from the plain table the reading thread wrote (src/cli/check.ts with
 * src/ipvs/threaded-reader.ts's tableBase, issue 17): the same bytes on stdout as the table written
 * whole, with the Service notes, a drift mark and a missing real server's row; asked for the very
 * snapshot the agent compared; and written whole when no base comes.
 */
import { describe, expect, it } from 'vitest';
import type { AgentLogger } from '../../../src/agent/agent.js';
import { runCheck } from '../../../src/cli/check.js';
import { parseCommandLine } from '../../../src/cli/flags.js';
import type { Io } from '../../../src/cli/io.js';
import type { IpvsSnapshot } from '../../../src/ipvs/types.js';
import { renderTableBase, type TableBase } from '../../../src/render/table.js';
import { rs, snapshot, vs } from '../../support/builders.js';
import { fakeAgent } from '../../support/fake-agent.js';

const quiet: AgentLogger = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

/** kube-dns's virtual server with a real server the cluster does not have, and without the one it has. */
const drifted = snapshot([vs('TCP/10.96.0.10:53', [rs('10.244.1.9:53'), rs('10.244.1.10:53', { weight: 0 })]), vs('TCP/10.96.0.1:443', [rs('192.168.56.10:6443')])]);

async function checkOutput(tableBase?: (s: IpvsSnapshot) => Promise<TableBase | null>): Promise<{ bytes: Buffer; code: number; agentSnapshot: IpvsSnapshot | null }> {
  const fake = fakeAgent({ logger: quiet, graceMs: 0, startsAt: '2026-12-08T01:00:00Z' });
  fake.setTable(drifted);
  const { agent } = fake;
  const chunks: Buffer[] = [];
  const io: Io = { stdout: (t) => void chunks.push(Buffer.from(t)), stdoutBytes: (b) => void chunks.push(Buffer.from(b)), stderr: () => undefined, env: {} };
  const options = parseCommandLine(['check', '--grace', '0s', '--node-name', 'worker-1'], {}).options;
  const cluster = { current: () => { throw new Error('unused'); }, kubeProxyConfigMap: () => null, hasNode: () => true, stop: () => Promise.resolve() };
  const code = await runCheck(options, io, {
    agent,
    cluster,
    whenClusterReady: () => Promise.resolve(),
    sleep: () => Promise.resolve(),
    monotonicMs: () => 0,
    ...(tableBase ? { tableBase } : {}),
  });
  return { bytes: Buffer.concat(chunks), code, agentSnapshot: agent.snapshot() };
}

describe('check prints the table the reading thread wrote, finished with its notes', () => {
  it('byte for byte the table written whole, for the snapshot the agent compared', async () => {
    const whole = await checkOutput();
    const asked: IpvsSnapshot[] = [];
    const finished = await checkOutput((s) => {
      asked.push(s);
      return Promise.resolve(renderTableBase(s));
    });
    expect(finished.bytes.toString()).toBe(whole.bytes.toString());
    expect(finished.code).toBe(whole.code);
    expect(asked).toEqual([finished.agentSnapshot]);
    expect(asked[0]).toBe(finished.agentSnapshot);
    // The drift is in it: the missing real server's row, and the Service-less table's marks.
    expect(whole.bytes.toString()).toMatch(/^ {2}-> 10\.244\.1\.4:53 +\(absent\) +<- missing real server/m);
    expect(whole.bytes.toString()).toMatch(/^ {2}-> 10\.244\.1\.9:53 .* {2}<- unexpected-real-server/m);
  });

  it('writes the table whole when no base comes, or one of another table', async () => {
    const whole = await checkOutput();
    expect((await checkOutput(() => Promise.resolve(null))).bytes.toString()).toBe(whole.bytes.toString());
    const other = renderTableBase(snapshot([vs('TCP/10.96.0.10:53', [rs('10.244.1.9:53')])]));
    expect((await checkOutput(() => Promise.resolve(other))).bytes.toString()).toBe(whole.bytes.toString());
  });
});
