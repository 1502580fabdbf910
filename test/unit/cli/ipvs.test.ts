/**
 * `ipvs-sentinel ipvs --output json` (src/cli/ipvs.ts): written piece by piece as it is rendered,
 * as bytes where the output takes them, as text otherwise; either way exactly the snapshot
 * document, and the reader closed after.
 */
import { describe, expect, it } from 'vitest';
import { runIpvs } from '../../../src/cli/ipvs.js';
import { parseCommandLine } from '../../../src/cli/flags.js';
import type { Io } from '../../../src/cli/io.js';
import { IpvsReader } from '../../../src/ipvs/reader.js';
import { renderSnapshotJson } from '../../../src/render/snapshot-json.js';
import { FakeIpvsKernel, type FakeService } from '../../support/fake-ipvs-kernel.js';

// Enough real servers for several 64 KiB pieces, and a name that is not ASCII.
const services: FakeService[] = Array.from({ length: 40 }, (_, i) => ({
  service: { protocol: 'TCP', address: `10.96.0.${i + 1}`, port: 80, scheduler: i === 0 ? 'wrr' : 'rr' },
  destinations: Array.from({ length: 25 }, (_, j) => ({ address: `10.244.${i}.${j + 1}`, port: 8080, stats: { conns: BigInt(i * j) } })),
}));

function readerOf(kernel: FakeIpvsKernel): IpvsReader {
  return new IpvsReader({ open: kernel.open, now: () => new Date(0), monotonicMs: () => 0 });
}

describe('ipvs --output json', () => {
  it.each([
    ['bytes', true],
    ['text', false],
  ])('writes the snapshot document as %s, and closes the reader', async (_what, bytes) => {
    const kernel = new FakeIpvsKernel({ services });
    const chunks: (string | Uint8Array)[] = [];
    const io: Io = {
      stdout: (text) => void chunks.push(text),
      ...(bytes ? { stdoutBytes: (b: Uint8Array) => void chunks.push(Buffer.from(b)) } : {}),
      stderr: () => undefined,
      env: {},
    };
    const options = parseCommandLine(['ipvs', '--output', 'json', '--node-name', 'wörker-1'], {}).options;
    expect(await runIpvs(options, io, readerOf(kernel))).toBe(0);
    const written = Buffer.concat(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c, 'utf8') : c))).toString('utf8');
    const expected = renderSnapshotJson(await readerOf(new FakeIpvsKernel({ services })).read(), { node: 'wörker-1', pretty: true });
    expect(written).toBe(expected);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.every((c) => (bytes ? typeof c !== 'string' : typeof c === 'string'))).toBe(true);
    expect(kernel.lastSocket?.closed).toBe(true);
  });
});
