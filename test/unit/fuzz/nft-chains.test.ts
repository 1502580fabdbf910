/**
 * The nftables chain decoder (src/nftables/chains.ts) against hostile replies, as
 * test/unit/fuzz/netfilter.test.ts does for the table decoder: any chain nf_tables_fill_chain_info
 * could write reads back (family word, table, name, hook name and signed priority, type, policy), and
 * any payload — attribute soup, a chain message with attributes replaced or cut, a HOOK whose nest
 * lies — gives a chain or NETLINK_DECODE, never another throw.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseMessages, type NlMessage } from '../../../src/netlink/message.js';
import { decodeNftChain, NFT_NEWCHAIN_MESSAGE_TYPE, NFTA_CHAIN, NFTA_HOOK } from '../../../src/nftables/chains.js';
import type { NftFamily } from '../../../src/nftables/tables.js';
import { chainMessage, type ChainSpec } from '../../support/nft-chain-messages.js';
import { concat, leafPayload, mutateAll, mutation, soup, soupBytes, valueOrCoded } from './hostile.js';

const DECODE = ['NETLINK_DECODE'] as const;
const PID = 4242;
const FAMILY_NAME: Record<number, NftFamily> = { 2: 'ip', 10: 'ip6', 1: 'inet', 3: 'arp', 7: 'bridge', 5: 'netdev' };
const HOOKS = ['prerouting', 'input', 'forward', 'output', 'postrouting', 'ingress'];
const name = fc.string({ unit: 'grapheme', maxLength: 20 }).filter((s) => !s.includes('\0'));

const chain: fc.Arbitrary<ChainSpec> = fc.record({
  family: fc.oneof(fc.constantFrom(1, 2, 3, 5, 7, 10), fc.integer({ min: 0, max: 255 })),
  table: name,
  name,
  base: fc.option(
    fc.record({
      hooknum: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.nat({ max: 0xffffffff })),
      priority: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
      policy: fc.oneof(fc.constantFrom(0, 1), fc.nat({ max: 0xffffffff })),
      type: fc.constantFrom('filter', 'nat', 'route', ''),
    }),
  ),
});

const CHAIN_TYPES = Object.values(NFTA_CHAIN);
const HOOK_TYPES = Object.values(NFTA_HOOK);
/** nfgenmsg, then attribute soup (HOOK's children soup too), or a chain message with attributes added, replaced or cut. */
const chainPayload: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 12 }),
  fc.tuple(fc.uint8Array({ minLength: 4, maxLength: 4 }), soup(CHAIN_TYPES, 1)).map(([nfgen, tree]) => concat([nfgen, soupBytes(tree)])),
  fc.tuple(fc.uint8Array({ minLength: 4, maxLength: 4 }), soup(HOOK_TYPES, 0)).map(([nfgen, hook]) => concat([nfgen, soupBytes([
      { type: NFTA_CHAIN.TABLE, flags: 0, lie: null, body: new Uint8Array([0x74, 0]) },
      { type: NFTA_CHAIN.NAME, flags: 0, lie: null, body: new Uint8Array([0x63, 0]) },
      { type: NFTA_CHAIN.HOOK, flags: 0, lie: null, body: hook },
    ])])),
  fc.tuple(chain, fc.array(fc.record({ type: fc.constantFrom(...CHAIN_TYPES, 13), data: leafPayload }), { maxLength: 3 }), fc.array(mutation, { maxLength: 3 })).map(([c, extra, ms]) => mutateAll(chainMessage(c, 1, PID, extra).subarray(16), ms)),
);

describe('nftables chain replies', () => {
  it('NFT_MSG_NEWCHAIN as nf_tables_fill_chain_info writes it reads back', () => {
    fc.assert(
      fc.property(chain, (c) => {
        const [message] = parseMessages(chainMessage(c, 1, PID), 'fuzz');
        expect(decodeNftChain(message as NlMessage)).toEqual({
          family: FAMILY_NAME[c.family] ?? c.family,
          table: c.table,
          name: c.name,
          hook: c.base ? { name: HOOKS[c.base.hooknum] ?? c.base.hooknum, priority: c.base.priority } : null,
          type: c.base ? c.base.type : null,
          policy: c.base ? (c.base.policy === 0 ? 'drop' : c.base.policy === 1 ? 'accept' : c.base.policy) : null,
        });
      }),
      { numRuns: 300 },
    );
  });

  it('any payload: a chain or NETLINK_DECODE; names without NUL, a priority a 32-bit signed integer', () => {
    fc.assert(
      fc.property(chainPayload, fc.constantFrom(NFT_NEWCHAIN_MESSAGE_TYPE, NFT_NEWCHAIN_MESSAGE_TYPE + 1, 0x0a00), (payload, type) => {
        const c = valueOrCoded(DECODE, () => decodeNftChain({ type, flags: 0, seq: 1, pid: PID, payload }, new Set()));
        if (c === undefined) return;
        expect(c.name.includes('\0') || c.table.includes('\0')).toBe(false);
        if (c.hook) expect(c.hook.priority >= -0x80000000 && c.hook.priority <= 0x7fffffff).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
