/**
 * kubeIpvs0Addresses() keeps its last answer while the device holds the same addresses in the same
 * order (src/node/kube-ipvs0.ts), and computes a new one for any change.
 */
import { describe, expect, it } from 'vitest';
import type { NodeInterface } from '../../../src/desired/types.js';
import { kubeIpvs0Addresses } from '../../../src/node/kube-ipvs0.js';

/** A node's interfaces with these addresses on kube-ipvs0 (fresh objects each call, as each read makes). */
function node(addresses: string[]): NodeInterface[] {
  return [
    { name: 'eth0', loopback: false, addresses: [{ address: '10.0.0.10', prefixLength: 24, family: 'inet' }] },
    { name: 'kube-ipvs0', loopback: false, addresses: addresses.map((address) => ({ address, prefixLength: address.includes(':') ? 128 : 32, family: address.includes(':') ? 'inet6' : 'inet' })) },
  ];
}

describe('kubeIpvs0Addresses across polls', () => {
  it('returns the same frozen list while the device holds the same addresses', () => {
    const first = kubeIpvs0Addresses(node(['10.96.0.10', '10.96.0.1', 'fe80::1']));
    const again = kubeIpvs0Addresses(node(['10.96.0.10', '10.96.0.1', 'fe80::1']));
    expect(first).toEqual(['10.96.0.1', '10.96.0.10']);
    expect(again).toBe(first);
    expect(Object.isFrozen(again)).toBe(true);
  });

  // Each row follows the same first reading; every change must give the answer of a fresh sort.
  it.each([
    ['an address added', ['10.96.0.10', '10.96.0.1', '10.96.0.2'], ['10.96.0.1', '10.96.0.2', '10.96.0.10']],
    ['an address removed', ['10.96.0.10'], ['10.96.0.10']],
    ['an address replaced', ['10.96.0.10', '10.96.0.3'], ['10.96.0.3', '10.96.0.10']],
    ['the same addresses in another order', ['10.96.0.1', '10.96.0.10'], ['10.96.0.1', '10.96.0.10']],
    ['no address left', [], []],
  ])('after %s: the new addresses, sorted', (_, next, expected) => {
    kubeIpvs0Addresses(node(['10.96.0.10', '10.96.0.1']));
    expect(kubeIpvs0Addresses(node(next))).toEqual(expected);
    expect(kubeIpvs0Addresses(node(['10.96.0.10', '10.96.0.1']))).toEqual(['10.96.0.1', '10.96.0.10']);
  });

  it('is null without the device, and does not forget the last answer for it', () => {
    const before = kubeIpvs0Addresses(node(['10.96.0.7']));
    expect(kubeIpvs0Addresses([{ name: 'eth0', loopback: false, addresses: [] }])).toBeNull();
    expect(kubeIpvs0Addresses(node(['10.96.0.7']))).toBe(before);
  });
});
