/** Members in kube-proxy's text form (pkg/proxy/ipvs/ipset/ipset.go Entry.String), both ways. */
import { describe, expect, it } from 'vitest';
import { ipsetEntry, ipsetEntryText, parseIpsetEntry } from '../../../src/ipset/entry.js';
import type { IpsetEntry, IpsetType } from '../../../src/ipset/types.js';

describe('kube-proxy text form', () => {
  it.each<[IpsetType, string, IpsetEntry]>([
    ['hash:ip', '10.96.0.1', ipsetEntry({ ip: '10.96.0.1' })],
    ['hash:ip', 'fd00:10:96::a', ipsetEntry({ ip: 'fd00:10:96::a' })],
    ['hash:ip,port', '10.96.0.10,udp:53', ipsetEntry({ ip: '10.96.0.10', protocol: 'udp', port: 53 })],
    ['hash:ip,port', '192.168.1.10,sctp:30300', ipsetEntry({ ip: '192.168.1.10', protocol: 'sctp', port: 30300 })],
    ['hash:ip,port', 'fd00:10:96::1,tcp:443', ipsetEntry({ ip: 'fd00:10:96::1', protocol: 'tcp', port: 443 })],
    ['hash:ip,port,ip', '10.244.1.5,tcp:53,10.244.1.5', ipsetEntry({ ip: '10.244.1.5', protocol: 'tcp', port: 53, ip2: '10.244.1.5' })],
    ['hash:ip,port,ip', 'fd00:10:244:1::5,tcp:8080,fd00:10:244:1::5', ipsetEntry({ ip: 'fd00:10:244:1::5', protocol: 'tcp', port: 8080, ip2: 'fd00:10:244:1::5' })],
    ['hash:ip,port,net', '192.0.2.10,tcp:80,203.0.113.0/24', ipsetEntry({ ip: '192.0.2.10', protocol: 'tcp', port: 80, ip2: '203.0.113.0', cidr2: 24 })],
    ['hash:ip,port,net', '2001:db8::10,tcp:80,2001:db8:1::/64', ipsetEntry({ ip: '2001:db8::10', protocol: 'tcp', port: 80, ip2: '2001:db8:1::', cidr2: 64 })],
    ['bitmap:port', '30080', ipsetEntry({ port: 30080 })],
    ['bitmap:port', '0', ipsetEntry({ port: 0 })],
  ])('%s %s parses and prints back the same', (type, text, entry) => {
    expect(parseIpsetEntry(type, text)).toEqual(entry);
    expect(ipsetEntryText(entry)).toBe(text);
  });

  it.each<[IpsetType, string, string]>([
    ['hash:ip,port,net', '192.0.2.10,tcp:80,198.51.100.7', '192.0.2.10,tcp:80,198.51.100.7/32'],
    ['hash:ip,port,net', '2001:db8::10,tcp:80,2001:db8:ffff::1', '2001:db8::10,tcp:80,2001:db8:ffff::1/128'],
    ['hash:ip,port,net', '192.0.2.10,tcp:80,203.0.113.77/24', '192.0.2.10,tcp:80,203.0.113.0/24'],
    ['hash:ip,port,net', '2001:db8::10,tcp:80,2001:db8:1:2:3::9/50', '2001:db8::10,tcp:80,2001:db8:1::/50'],
    ['hash:ip', 'FD00:10:96:0:0:0:0:A', 'fd00:10:96::a'],
    ['hash:ip,port', ' 10.96.0.1,TCP:443 ', '10.96.0.1,tcp:443'],
    ['hash:ip,port', '10.96.0.1,tcp:443 nomatch', '10.96.0.1,tcp:443 nomatch'],
  ])('%s %s reads as the kernel would list it: %s', (type, text, canonical) => {
    const entry = parseIpsetEntry(type, text);
    expect(entry && ipsetEntryText(entry)).toBe(canonical);
  });

  it.each<[IpsetType, string]>([
    ['hash:ip', '10.96.0.256'],
    ['hash:ip', '10.96.0.1/32'],
    ['hash:ip', '10.96.0.1,tcp:80'],
    ['hash:ip,port', '10.96.0.1'],
    ['hash:ip,port', '10.96.0.1,icmp:8'],
    ['hash:ip,port', '10.96.0.1,tcp:65536'],
    ['hash:ip,port', '10.96.0.1,tcp:'],
    ['hash:ip,port', '10.96.0.1,tcp:443,10.0.0.1'],
    ['hash:ip,port,ip', '10.96.0.1,tcp:443,fd00::1'],
    ['hash:ip,port,ip', '10.96.0.1,tcp:443,10.0.0.0/8'],
    ['hash:ip,port,net', '10.96.0.1,tcp:443,10.0.0.0/33'],
    ['hash:ip,port,net', '10.96.0.1,tcp:443,10.0.0.0/x'],
    ['bitmap:port', 'tcp:80'],
    ['bitmap:port', '-1'],
    ['hash:net', '10.0.0.0/8'],
  ])('%s "%s" is not a member', (type, text) => {
    expect(parseIpsetEntry(type, text)).toBeNull();
  });

  it('prints a protocol number, a first-dimension prefix and nomatch as ipset shows them', () => {
    expect(ipsetEntryText(ipsetEntry({ ip: '10.0.0.0', cidr: 8 }))).toBe('10.0.0.0/8');
    expect(ipsetEntryText(ipsetEntry({ ip: '10.0.0.1', protocol: 1, port: 2048 }))).toBe('10.0.0.1,1:2048');
    expect(ipsetEntryText(ipsetEntry({ port: 80, nomatch: true }))).toBe('80 nomatch');
  });
});
