/** nfnetlink framing and the module gate that keeps an ipset or nftables read from loading a module. */
import { describe, expect, it } from 'vitest';
import { parseMessages } from '../../../src/netlink/message.js';
import { encodeNfnlDumpRequest, NFNL_SUBSYS_IPSET, NFNL_SUBSYS_NFTABLES, nfnlReadGate, parseNfnl, type ModulePresence } from '../../../src/netlink/nfnetlink.js';
import { expectSentinelError } from '../../support/errors.js';

const mods = (loaded: string[] | null, builtin: string[] | null): ModulePresence => ({
  loaded: loaded === null ? null : loaded.map((name) => ({ name })),
  builtin: builtin === null ? null : new Set(builtin),
});

describe('nfnlReadGate', () => {
  it.each([
    ['ip_set loaded', NFNL_SUBSYS_IPSET, mods(['nfnetlink', 'ip_set', 'ip_vs'], []), true, /ip_set is loaded/],
    ['ip_set built in', NFNL_SUBSYS_IPSET, mods(['ip_vs'], ['nfnetlink', 'ip_set']), true, /ip_set is built into the kernel/],
    ['ip_set absent', NFNL_SUBSYS_IPSET, mods(['ip_vs', 'nf_tables'], ['nfnetlink']), false, /ip_set is neither loaded nor built in: not read, because asking the kernel would make it load ip_set \(request_module "nfnetlink-subsys-6"\)/],
    ['ip_set absent, modules.builtin unreadable', NFNL_SUBSYS_IPSET, mods(['ip_vs'], null), false, /mount \/lib\/modules/],
    ['nf_tables loaded', NFNL_SUBSYS_NFTABLES, mods(['nf_tables'], null), true, /nf_tables is loaded/],
    ['nf_tables absent', NFNL_SUBSYS_NFTABLES, mods(['ip_set'], []), false, /nfnetlink-subsys-10/],
    ['no /proc/modules: nothing can be loaded', NFNL_SUBSYS_NFTABLES, mods(null, null), true, /no loadable-module support/],
  ] as const)('%s → readable %s', (_what, subsys, modules, readable, reason) => {
    const gate = nfnlReadGate(subsys, modules);
    expect(gate.readable).toBe(readable);
    expect(gate.reason).toMatch(reason);
  });
});

describe('nfnetlink framing', () => {
  it('puts struct nfgenmsg (family, version 0, res_id 0) after the netlink header', () => {
    const bytes = encodeNfnlDumpRequest({ subsys: NFNL_SUBSYS_NFTABLES, msg: 1, seq: 9, pid: 7, family: 2 });
    expect(Buffer.from(bytes).toString('hex')).toBe('14000000010a0103090000000700000002000000');
  });

  it('reads nfgenmsg back, res_id big-endian', () => {
    const bytes = Buffer.from('14000000000a020009000000070000000a00012c', 'hex');
    const [message] = parseMessages(new Uint8Array(bytes), 'test');
    expect(message && parseNfnl(message, 'test')).toMatchObject({ subsys: 10, msg: 0, family: 10, version: 0, resId: 0x012c });
  });

  it('refuses a message shorter than nfgenmsg', () => {
    const [message] = parseMessages(new Uint8Array(Buffer.from('12000000000a0200090000000700000002000000', 'hex').subarray(0, 18)), 'test');
    expectSentinelError(() => parseNfnl(message ?? { type: 0, flags: 0, seq: 0, pid: 0, payload: new Uint8Array() }, 'test'), 'NETLINK_DECODE', /shorter than struct nfgenmsg/);
  });
});
