/**
 * The nftables chain list: the dump recorded from this machine's kernel
 * (scripts/record-nft-chains-fixture.ts) against `nft -j list chains` of the same state and a
 * golden file; an encoded base chain; malformed replies.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NLM_F_MULTI, parseMessages, type NlMessage } from '../../../src/netlink/message.js';
import { ReplaySocket, type NetlinkRecording } from '../../../src/netlink/recording.js';
import { decodeNftChain } from '../../../src/nftables/chains.js';
import { readNftChains } from '../../../src/nftables/reader.js';
import { REPO_ROOT } from '../../guest/harness.js';
import { expectSentinelError } from '../../support/errors.js';
import { expectGolden } from '../../support/golden.js';
import { chainMessage } from '../../support/nft-chain-messages.js';

const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'nftables');
const recording = JSON.parse(readFileSync(join(FIXTURES, 'chains.json'), 'utf8')) as NetlinkRecording;

interface NftJsonChain {
  family: string;
  table: string;
  name: string;
  type?: string;
  hook?: string;
  prio?: number;
  policy?: string;
}

describe('the recorded chain dump', () => {
  const read = readNftChains({ open: () => new ReplaySocket(recording), seq: 7000 });

  it('lists exactly the chains `nft -j list chains` printed for the same state: hooks, priorities, types and policies', () => {
    const oracle = (JSON.parse(readFileSync(join(FIXTURES, 'chains.nft.json'), 'utf8')) as { nftables: { chain?: NftJsonChain }[] }).nftables.flatMap((x) => (x.chain ? [x.chain] : []));
    expect(read.chains.map((c) => ({ family: c.family, table: c.table, name: c.name, ...(c.hook ? { type: c.type, hook: c.hook.name, prio: c.hook.priority, policy: c.policy } : {}) }))).toEqual(
      oracle.map((c) => ({ family: c.family, table: c.table, name: c.name, ...(c.hook ? { type: c.type, hook: c.hook, prio: c.prio, policy: c.policy } : {}) })),
    );
    expect(read.unknownAttributes).toEqual([]);
  });

  it('decodes to the golden chains', async () => {
    await expectGolden('test/fixtures/golden/nftables/chains.json', JSON.stringify(read, null, 2) + '\n');
  });

  it('the default-drop base chains: iptables-nft INPUT, ip6tables-nft FORWARD, firewalld input and forward', () => {
    expect(read.chains.filter((c) => c.policy === 'drop').map((c) => `${c.family} ${c.table} ${c.name} ${String(c.hook?.name)}`)).toEqual([
      'ip filter INPUT input',
      'ip6 filter FORWARD forward',
      'inet firewalld filter_INPUT input',
      'inet firewalld filter_FORWARD forward',
    ]);
  });
});

describe('decodeNftChain', () => {
  const decode = (bytes: Uint8Array, unknown?: Set<string>): ReturnType<typeof decodeNftChain> => decodeNftChain((parseMessages(bytes, 'test'))[0] as NlMessage, unknown);

  it.each([
    { name: 'a base chain with a negative priority', spec: { family: 1, table: 't', name: 'c', base: { hooknum: 2, priority: -150, policy: 0, type: 'filter' } }, hook: { name: 'forward', priority: -150 }, policy: 'drop' },
    { name: 'a hook nft does not name, a verdict it does not either', spec: { family: 2, table: 't', name: 'c', base: { hooknum: 9, priority: 0, policy: 7, type: 'route' } }, hook: { name: 9, priority: 0 }, policy: 7 },
    { name: 'a regular chain', spec: { family: 10, table: 't', name: 'c', base: null }, hook: null, policy: null },
  ])('$name', ({ spec, hook, policy }) => {
    const c = decode(chainMessage(spec, 1, 1, [], NLM_F_MULTI));
    expect([c.hook, c.policy]).toEqual([hook, policy]);
  });

  it('keeps unknown attributes, and refuses a chain without a name or a hook without its number', () => {
    const unknown = new Set<string>();
    decode(chainMessage({ family: 1, table: 't', name: 'c', base: null }, 1, 1, [{ type: 13, data: new Uint8Array(4) }]), unknown);
    expect([...unknown]).toEqual(['chain:13']);
    const noName = chainMessage({ family: 1, table: 't', name: 'c', base: null }, 1, 1);
    // Cut the message after TABLE and HANDLE: NAME is gone.
    const cut = noName.slice(0, 16 + 4 + 8 + 12);
    new DataView(cut.buffer).setUint32(0, cut.byteLength, true);
    expectSentinelError(() => decode(cut), 'NETLINK_DECODE', /without TABLE or NAME/);
  });
});
