import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseProcNetSockets, readListeningSockets } from '../../../src/node/sockets.js';

const fixture = (name: string): string => readFileSync(`test/fixtures/proc-net/${name}`, 'utf8');

describe('parseProcNetSockets', () => {
  it.each([
    {
      file: 'ipvs-node-tcp',
      protocol: 'TCP' as const,
      family: 'inet' as const,
      sockets: [
        { address: '0.0.0.0', port: 22, inode: 21011, uid: 0 },
        { address: '10.96.0.10', port: 53, inode: 33102, uid: 101 },
        { address: '192.168.1.10', port: 8080, inode: 44121, uid: 0 },
      ],
      malformed: 1,
    },
    {
      file: 'ipvs-node-tcp6',
      protocol: 'TCP' as const,
      family: 'inet6' as const,
      sockets: [
        { address: '::', port: 22, inode: 21013, uid: 0 },
        { address: 'fd00::10', port: 443, inode: 55001, uid: 0 },
      ],
      malformed: 0,
    },
    { file: 'ipvs-node-udp', protocol: 'UDP' as const, family: 'inet' as const, sockets: [{ address: '10.96.0.10', port: 53, inode: 33103, uid: 101 }], malformed: 0 },
    { file: 'ipvs-node-udp6', protocol: 'UDP' as const, family: 'inet6' as const, sockets: [], malformed: 0 },
  ])('$file: listening TCP and unconnected UDP sockets only, malformed lines counted', ({ file, protocol, family, sockets, malformed }) => {
    const table = parseProcNetSockets(fixture(file), protocol, family, true);
    expect(table.sockets).toEqual(sockets.map((s) => ({ protocol, family, ...s })));
    expect(table.malformedLines).toBe(malformed);
  });

  it('reads a real capture: every LISTEN line, loopback addresses decoded', () => {
    const text = fixture('host-tcp');
    const listening = text.split('\n').slice(1).filter((l) => l.trim().split(/\s+/)[3] === '0A').length;
    const table = parseProcNetSockets(text, 'TCP', 'inet', true);
    expect(table.malformedLines).toBe(0);
    expect(table.sockets).toHaveLength(listening);
    expect(table.sockets.every((s) => s.address === '0.0.0.0' || s.address.startsWith('127.'))).toBe(true);
  });

  it('honours the byte order: a big-endian host prints the address in network order', () => {
    const line = '   0: 0A00600A:0035 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0';
    const be = parseProcNetSockets(`header\n${line.replace('0A00600A', '0A60000A')}\n`, 'TCP', 'inet', false);
    expect(be.sockets[0]?.address).toBe('10.96.0.10');
  });

  it.each([
    ['not hex', '   0: ZZZZZZZZ:0035 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1'],
    ['short address', '   0: 0A00:0035 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1'],
    ['too few fields', '   0: 0A00600A:0035 00000000:0000 0A'],
    ['no slot', 'x 0A00600A:0035 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1'],
  ])('skips and counts a hostile line (%s)', (_why, line) => {
    expect(parseProcNetSockets(`header\n${line}\n`, 'TCP', 'inet', true)).toEqual({ sockets: [], malformedLines: 1 });
  });
});

describe('readListeningSockets', () => {
  it('reads the four tables under --proc-root; an absent one is a problem line, not an error', async () => {
    const root = await mkdtemp(join(tmpdir(), 'sockets-'));
    await mkdir(join(root, 'net'));
    await writeFile(join(root, 'net', 'tcp'), fixture('ipvs-node-tcp'));
    await writeFile(join(root, 'net', 'udp'), fixture('ipvs-node-udp'));
    const read = await readListeningSockets({ procRoot: root });
    expect(read.sockets.map((s) => `${s.protocol} ${s.address}:${s.port}`)).toEqual(['TCP 0.0.0.0:22', 'TCP 10.96.0.10:53', 'TCP 192.168.1.10:8080', 'UDP 10.96.0.10:53']);
    expect(read.problems).toEqual([
      expect.stringContaining('1 malformed line(s) skipped'),
      expect.stringMatching(/cannot read .*net\/tcp6/),
      expect.stringMatching(/cannot read .*net\/udp6/),
    ]);
  });
});
