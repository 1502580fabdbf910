/**
 * The reader and decoder over byte fixtures recorded from the real kernel in the IPVS guest
 * (scripts/record-fixtures.ts), compared with golden snapshots in both output formats.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IpvsReader } from '../../../src/ipvs/reader.js';
import { ReplaySocket, type NetlinkRecording } from '../../../src/netlink/recording.js';
import { stringifyJson } from '../../../src/render/json.js';
import { snapshotJson } from '../../../src/render/snapshot.js';
import { renderTable } from '../../../src/render/table.js';
import { REPO_ROOT } from '../../guest/harness.js';
import { expectGolden } from '../../support/golden.js';

const FIXTURES = ['empty', 'wide', 'many-services'];

function load(name: string): NetlinkRecording {
  return JSON.parse(readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'netlink', `${name}.json`), 'utf8')) as NetlinkRecording;
}

async function replay(name: string): Promise<{ snapshot: Awaited<ReturnType<IpvsReader['read']>>; socket: ReplaySocket }> {
  const socket = new ReplaySocket(load(name));
  const reader = new IpvsReader({ open: () => socket, maxAttempts: 1, now: () => new Date('2026-11-21T00:00:00Z'), monotonicMs: () => 0 });
  const snapshot = await reader.read();
  reader.close();
  return { snapshot, socket };
}

describe.each(FIXTURES)('recorded kernel replies: %s', (name) => {
  it('decode to the golden snapshot JSON', async () => {
    const { snapshot } = await replay(name);
    await expectGolden(`test/fixtures/golden/snapshot/${name}.json`, stringifyJson(snapshotJson(snapshot, { node: 'node-a' })) + '\n');
  });

  it('render to the golden ipvsadm-like table', async () => {
    const { snapshot } = await replay(name);
    await expectGolden(`test/fixtures/golden/snapshot/${name}.txt`, renderTable(snapshot));
  });

  it('consume every recorded request and reply, then close the socket', async () => {
    const { snapshot, socket } = await replay(name);
    expect(socket.closed).toBe(true);
    expect(snapshot.unknownAttributes).toEqual([]);
  });
});

describe('the wide recording', () => {
  it('holds what ipvsadm programmed, decoded from real kernel bytes', async () => {
    const { snapshot } = await replay('wide');
    const byKey = new Map(snapshot.services.map((s) => [s.key, s]));
    expect(byKey.get('TCP/10.96.0.1:443')).toMatchObject({ scheduler: 'rr', persistent: true, timeout: 10800, netmask: 32 });
    expect(byKey.get('TCP/10.96.0.1:443')?.destinations.map((d) => [d.address, d.weight])).toEqual([
      ['10.244.1.2', 1],
      ['10.244.1.3', 0],
      ['10.244.2.4', 5],
    ]);
    expect(byKey.get('TCP/10.0.0.10:30080')?.netmask).toBe(24);
    expect(byKey.get('TCP/10.0.0.10:30080')?.destinations.map((d) => d.tunnel?.type ?? d.forward)).toEqual(['route', 'ipip', 'gue', 'gue', 'gre']);
    expect(byKey.get('TCP/10.0.0.10:30080')?.destinations[2]?.tunnel).toEqual({ type: 'gue', port: 5555, flags: ['remcsum'] });
    expect(byKey.get('TCP/[fd00::1]:443')?.netmask).toBe(64);
    expect(byKey.get('FWM/4097/inet6')?.destinations[0]?.address).toBe('fd00:244::9');
    expect(byKey.get('TCP/10.96.0.50:80')?.stats.conns).toBe(7n);
    expect(snapshot.timeouts).toEqual({ tcp: 901, tcpFin: 121, udp: 301 });
  });

  it('fails the replay loudly when the reader sends a request the kernel never saw', async () => {
    const recording = load('wide');
    const first = recording.exchanges[0];
    if (first) first.request = first.request.replace(/^(.{16})(..)/, '$1ff');
    const reader = new IpvsReader({ open: () => new ReplaySocket(recording), maxAttempts: 1 });
    await expect(reader.read()).rejects.toThrow(/differs from the recording/);
  });
});

describe('the many-services recording', () => {
  it('spans several datagrams per dump and keeps all 120 virtual servers with 2 real servers each', async () => {
    const recording = load('many-services');
    expect(Math.max(...recording.exchanges.map((e) => e.replies.length))).toBeGreaterThan(2);
    const { snapshot } = await replay('many-services');
    expect(snapshot.services).toHaveLength(120);
    expect(snapshot.services.every((s) => s.destinations.length === 2)).toBe(true);
    const keys = snapshot.services.map((s) => s.key);
    expect(keys).toEqual([...keys].sort());
  });
});
