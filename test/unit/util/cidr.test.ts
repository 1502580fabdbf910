import { describe, expect, it } from 'vitest';
import { canonicalNetwork } from '../../../src/util/cidr.js';

describe('canonicalNetwork (what kube-proxy holds after netutils.ParseCIDRSloppy, printed by IPNet.String())', () => {
  it.each<{ text: string; network: string | null }>([
    { text: '10.0.0.0/8', network: '10.0.0.0/8' },
    { text: ' 10.1.2.3/8 ', network: '10.0.0.0/8' },
    { text: '192.168.56.7/32', network: '192.168.56.7/32' },
    { text: '172.16.31.255/12', network: '172.16.0.0/12' },
    { text: '010.001.002.003/24', network: '10.1.2.0/24' },
    { text: '0.0.0.0/0', network: '0.0.0.0/0' },
    { text: '10.2.3.4/0', network: '0.0.0.0/0' },
    { text: '2001:DB8:0:0:1::/48', network: '2001:db8::/48' },
    { text: 'fd00:100::21/64', network: 'fd00:100::/64' },
    { text: 'fd00::1/127', network: 'fd00::/127' },
    { text: '::/0', network: '::/0' },
    { text: '10.0.0.0', network: null },
    { text: '10.0.0.0/33', network: null },
    { text: 'fd00::/129', network: null },
    { text: 'fe80::1%eth0/64', network: null },
    { text: 'not-a-cidr', network: null },
    { text: '', network: null },
  ])('$text → $network', ({ text, network }) => {
    expect(canonicalNetwork(text)).toBe(network);
  });
});
