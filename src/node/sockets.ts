/**
 * Sockets bound on this host, from <proc-root>/net/{tcp,tcp6,udp,udp6} (the tables the kernel
 * prints in net/ipv4/tcp_ipv4.c tcp4_seq_show, net/ipv6/tcp_ipv6.c get_tcp6_sock, net/ipv4/udp.c
 * udp4_format_sock, net/ipv6/datagram.c __ip6_dgram_sock_seq_show) — read and parsed, never by
 * running `ss`. The agent runs with hostNetwork, so these are the host network namespace's.
 *
 * Only what can receive new traffic is kept: TCP sockets in LISTEN, UDP sockets not connected to a
 * peer. parseProcNetSockets() is pure; readListeningSockets() is the thin, bounded reader.
 */
import { readFile, stat } from 'node:fs/promises';
import { endianness } from 'node:os';
import { join } from 'node:path';
import type { AddressFamily } from '../ipvs/types.js';
import { formatIPv4, formatIPv6 } from '../util/ip.js';

export interface ListeningSocket {
  protocol: 'TCP' | 'UDP';
  family: AddressFamily;
  /** Canonical local address; "0.0.0.0" / "::" for a wildcard bind. */
  address: string;
  port: number;
  /** The socket's inode (find its process under /proc/<pid>/fd), 0 when the kernel printed none. */
  inode: number;
  uid: number;
}

export interface SocketTable {
  sockets: ListeningSocket[];
  /** Lines that did not have the kernel's shape: counted and skipped. */
  malformedLines: number;
}

/** include/net/tcp_states.h: TCP_LISTEN 10, TCP_CLOSE 7 (an unconnected UDP socket). */
const TCP_LISTEN = 0x0a;
const TCP_CLOSE = 0x07;

/** A /proc/net table larger than this is not read: a host with millions of connections is not waited on. */
export const MAX_SOCKET_TABLE_BYTES = 64 * 1024 * 1024;

const HEX8 = /^[0-9A-Fa-f]{8}$/;
const HEX32 = /^[0-9A-Fa-f]{32}$/;
const HEX4 = /^[0-9A-Fa-f]{4}$/;

/** The kernel prints each 32-bit word of the address in host byte order (%08X of a __be32 read as u32). */
function addressBytes(hex: string, littleEndian: boolean): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let word = 0; word < hex.length / 8; word++) {
    for (let i = 0; i < 4; i++) {
      const at = word * 8 + (littleEndian ? (3 - i) * 2 : i * 2);
      bytes[word * 4 + i] = parseInt(hex.slice(at, at + 2), 16);
    }
  }
  return bytes;
}

function parseEndpoint(text: string, family: AddressFamily, littleEndian: boolean): { address: string; port: number } | null {
  const colon = text.indexOf(':');
  if (colon < 0) return null;
  const hex = text.slice(0, colon);
  const port = text.slice(colon + 1);
  if (!HEX4.test(port) || !(family === 'inet' ? HEX8 : HEX32).test(hex)) return null;
  const bytes = addressBytes(hex, littleEndian);
  return { address: family === 'inet' ? formatIPv4(bytes) : formatIPv6(bytes), port: parseInt(port, 16) };
}

/**
 * One /proc/net/{tcp,tcp6,udp,udp6} table → its listening (TCP) or unconnected (UDP) sockets.
 * `littleEndian`: the host's byte order (os.endianness() === 'LE').
 */
export function parseProcNetSockets(text: string, protocol: 'TCP' | 'UDP', family: AddressFamily, littleEndian: boolean): SocketTable {
  const sockets: ListeningSocket[] = [];
  let malformedLines = 0;
  const lines = text.split('\n');
  // The first line is the column header.
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]?.trim() ?? '';
    if (line === '') continue;
    const fields = line.split(/\s+/);
    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode …
    const [sl, local, remote, state, , , , uid, , inode] = fields;
    if (fields.length < 10 || sl === undefined || !/^\d+:$/.test(sl) || local === undefined || remote === undefined || state === undefined || !/^[0-9A-Fa-f]{2}$/.test(state) || !/^\d+$/.test(uid ?? '') || !/^\d+$/.test(inode ?? '')) {
      malformedLines++;
      continue;
    }
    const mine = parseEndpoint(local, family, littleEndian);
    const peer = parseEndpoint(remote, family, littleEndian);
    if (mine === null || peer === null) {
      malformedLines++;
      continue;
    }
    const st = parseInt(state, 16);
    const receives = protocol === 'TCP' ? st === TCP_LISTEN : st === TCP_CLOSE && peer.port === 0;
    if (!receives) continue;
    sockets.push({ protocol, family, address: mine.address, port: mine.port, inode: Number(inode), uid: Number(uid) });
  }
  return { sockets, malformedLines };
}

const TABLES = [
  { file: 'tcp', protocol: 'TCP', family: 'inet' },
  { file: 'tcp6', protocol: 'TCP', family: 'inet6' },
  { file: 'udp', protocol: 'UDP', family: 'inet' },
  { file: 'udp6', protocol: 'UDP', family: 'inet6' },
] as const;

export interface HostSockets {
  sockets: ListeningSocket[];
  /** Tables that could not be read (absent IPv6, too large), and malformed-line counts. */
  problems: string[];
}

/** Read the four tables under <proc-root>/net (default /proc). An absent table (no IPv6) is a problem line, never an error. */
export async function readListeningSockets(options: { procRoot?: string } = {}): Promise<HostSockets> {
  const procRoot = options.procRoot ?? '/proc';
  const littleEndian = endianness() === 'LE';
  const tables = await Promise.all(
    TABLES.map(async ({ file, protocol, family }): Promise<{ sockets: ListeningSocket[]; problem: string | null }> => {
      const path = join(procRoot, 'net', file);
      const tooLarge = { sockets: [], problem: `${path}: larger than ${MAX_SOCKET_TABLE_BYTES} bytes, not read` };
      try {
        // procfs reports size 0; a regular file (a fixture) larger than the bound is refused before reading.
        const { size } = await stat(path);
        if (size > MAX_SOCKET_TABLE_BYTES) return tooLarge;
        const text = await readFile(path, 'utf8');
        if (text.length > MAX_SOCKET_TABLE_BYTES) return tooLarge;
        const table = parseProcNetSockets(text, protocol, family, littleEndian);
        return { sockets: table.sockets, problem: table.malformedLines > 0 ? `${path}: ${table.malformedLines} malformed line(s) skipped` : null };
      } catch (error) {
        return { sockets: [], problem: `cannot read ${path}: ${error instanceof Error ? error.message : String(error)}` };
      }
    }),
  );
  // In table order (tcp, tcp6, udp, udp6), whatever order the reads finished in.
  return { sockets: tables.flatMap((t) => t.sockets), problems: tables.flatMap((t) => (t.problem === null ? [] : [t.problem])) };
}
