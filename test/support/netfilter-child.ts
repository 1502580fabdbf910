/**
 * Runs inside a throw-away network namespace (test/support/netns.ts starts it under `unshare -n`):
 * reads the ipsets and nftables tables with our readers, as asked in argv[2] (JSON), and prints the
 * results with, when asked, `ipset save` and `nft list tables` of the same state — the oracle — as
 * one JSON document on stdout. Members travel in kube-proxy's text form.
 */
import { execFileSync } from 'node:child_process';
import { ipsetEntryText } from '../../src/ipset/entry.js';
import { readIpset, readIpsets } from '../../src/ipset/reader.js';
import type { IpSet } from '../../src/ipset/types.js';
import { SentinelError } from '../../src/errors/index.js';
import { readNftTables } from '../../src/nftables/reader.js';

export interface ChildRequest {
  ipsets?: { headersOnly?: boolean; setName?: string }[];
  nftTables?: boolean;
  oracle?: boolean;
}

export interface ChildSet extends Omit<IpSet, 'entries'> {
  members: string[];
}

export type ChildResult<T> = { ok: T } | { error: { code: string; message: string } };

export interface ChildOutput {
  ipsets: ChildResult<ChildSet[] | null>[];
  nftTables: ChildResult<{ family: string | number; name: string; use: number }[]> | null;
  ipsetSave: string | null;
  nftList: string | null;
}

function attempt<T>(read: () => T): ChildResult<T> {
  try {
    return { ok: read() };
  } catch (err) {
    if (err instanceof SentinelError) return { error: { code: err.code, message: err.message } };
    throw err;
  }
}

const toChild = ({ entries, ...set }: IpSet): ChildSet => ({ ...set, members: entries.map(ipsetEntryText) });

const request = JSON.parse(process.argv[2] ?? '{}') as ChildRequest;
const output: ChildOutput = {
  ipsets: (request.ipsets ?? []).map((r) =>
    attempt(() => {
      if (r.setName === undefined) return readIpsets({ headersOnly: r.headersOnly === true }).sets.map(toChild);
      const found = readIpset(r.setName);
      if (found === null) return null;
      const { unknownAttributes: _unknown, stats: _stats, ...set } = found;
      return [toChild(set)];
    }),
  ),
  nftTables: request.nftTables === true ? attempt(() => readNftTables().tables.map(({ family, name, use }) => ({ family, name, use }))) : null,
  ipsetSave: request.oracle === true ? execFileSync('ipset', ['save'], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 }) : null,
  nftList: request.oracle === true ? execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' }) : null,
};
process.stdout.write(JSON.stringify(output));
