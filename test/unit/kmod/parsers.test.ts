import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kernelAtLeast, parseKernelRelease } from '../../../src/kmod/kernel-release.js';
import { moduleNameFromPath, parseModulesBuiltin } from '../../../src/kmod/modules-builtin.js';
import { normaliseModuleName, parseProcModules } from '../../../src/kmod/proc-modules.js';

const FIXTURES = join(import.meta.dirname, '../../fixtures/proc-modules');
const fixture = (name: string, path: string): string => readFileSync(join(FIXTURES, name, path), 'utf8');

describe('parseProcModules', () => {
  it.each([
    ['ip_vs 188416 15 xt_ipvs,ip_vs_sh,ip_vs_wrr,ip_vs_rr, Live 0xffffffffc0e7b000', { name: 'ip_vs', size: 188416, refcount: 15, users: ['xt_ipvs', 'ip_vs_sh', 'ip_vs_wrr', 'ip_vs_rr'], state: 'Live', address: '0xffffffffc0e7b000', taints: null }],
    ['ip_vs_rr 16384 0 - Live 0xffffffffc0eaa000', { name: 'ip_vs_rr', size: 16384, refcount: 0, users: [], state: 'Live', address: '0xffffffffc0eaa000', taints: null }],
    ['wireguard 217088 0 - Live 0xffffffffc06a4000 (OE)', { name: 'wireguard', size: 217088, refcount: 0, users: [], state: 'Live', address: '0xffffffffc06a4000', taints: 'OE' }],
    ['nf_conntrack 176128 1 nf_nat, Live 0x0000000000000000', { name: 'nf_conntrack', size: 176128, refcount: 1, users: ['nf_nat'], state: 'Live', address: '0x0000000000000000', taints: null }],
    ['snd-hda-intel 57344 3 - Unloading 0xffffffffc1000000', { name: 'snd_hda_intel', size: 57344, refcount: 3, users: [], state: 'Unloading', address: '0xffffffffc1000000', taints: null }],
    ['ip_vs 188416 - - Loading 0xffffffffc0e7b000', { name: 'ip_vs', size: 188416, refcount: null, users: [], state: 'Loading', address: '0xffffffffc0e7b000', taints: null }],
    ['vboxdrv 512000 2 vboxnetadp,[permanent], Live 0xffffffffc0900000 (O)', { name: 'vboxdrv', size: 512000, refcount: 2, users: ['vboxnetadp', '[permanent]'], state: 'Live', address: '0xffffffffc0900000', taints: 'O' }],
  ])('%s', (line, expected) => {
    expect(parseProcModules(`${line}\n`)).toEqual({ modules: [expected], malformed: [] });
  });

  it.each([
    ['not enough columns', 'ip_vs 188416 15'],
    ['size not a number', 'ip_vs big 15 - Live 0xffffffffc0e7b000'],
    ['unknown state', 'ip_vs 188416 15 - Running 0xffffffffc0e7b000'],
    ['address not hex', 'ip_vs 188416 15 - Live ffffffffc0e7b000'],
  ])('reports a malformed line (%s) with its number', (_why, line) => {
    const parsed = parseProcModules(`ip_vs_rr 16384 0 - Live 0xffffffffc0eaa000\n${line}\n`);
    expect(parsed.modules.map((m) => m.name)).toEqual(['ip_vs_rr']);
    expect(parsed.malformed).toEqual([{ line: 2, text: line }]);
  });

  it.each([
    ['debian12-6.1-modules', 76, ['ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_sh', 'nf_conntrack', 'xt_MASQUERADE']],
    ['ubuntu1804-4.15-conntrack-ipv4', 82, ['ip_vs', 'nf_conntrack_ipv4', 'ipt_MASQUERADE', 'nf_nat_ipv4']],
    ['centos7-3.10-no-ipvs', 59, ['nf_conntrack_ipv4', 'wireguard']],
    ['rhel8-4.18-merged-conntrack', 62, ['ip_vs', 'ip_vs_rr', 'nf_conntrack']],
    ['builtin-ipvs-5.15', 6, ['overlay', 'veth']],
    ['flatcar-6.6-ko-xz', 23, ['ip_vs', 'ip_vs_rr', 'nf_conntrack']],
  ])('parses the whole %s /proc/modules', (name, count, includes) => {
    const parsed = parseProcModules(fixture(name, 'proc/modules'));
    expect(parsed.malformed).toEqual([]);
    expect(parsed.modules).toHaveLength(count);
    const names = parsed.modules.map((m) => m.name);
    for (const module of includes) expect(names).toContain(module);
    expect(new Set(names).size).toBe(names.length);
  });

  it('keeps the users list of ip_vs on Debian 12', () => {
    const ipvs = parseProcModules(fixture('debian12-6.1-modules', 'proc/modules')).modules.find((m) => m.name === 'ip_vs');
    expect(ipvs?.users).toEqual(['xt_ipvs', 'ip_vs_sh', 'ip_vs_wrr', 'ip_vs_rr']);
  });

  it('normalises dashes', () => {
    expect(normaliseModuleName('nf-conntrack')).toBe('nf_conntrack');
  });
});

describe('parseModulesBuiltin', () => {
  it.each([
    ['kernel/net/netfilter/ipvs/ip_vs.ko', 'ip_vs'],
    ['kernel/net/netfilter/ipvs/ip_vs_rr.ko.xz', 'ip_vs_rr'],
    ['kernel/net/netfilter/nf_conntrack.ko.zst', 'nf_conntrack'],
    ['kernel/net/netfilter/xt_MASQUERADE.ko.gz', 'xt_MASQUERADE'],
    ['kernel/drivers/char/hw_random/rng-core.ko', 'rng_core'],
    ['kernel/net/netfilter/ipvs/ip_vs.ko.bz2', null],
    ['kernel/net/netfilter/ipvs/', null],
    ['modules.order', null],
  ])('%s → %s', (path, name) => {
    expect(moduleNameFromPath(path)).toBe(name);
  });

  it('reads the real Debian 12 6.1.0-56-amd64 modules.builtin', () => {
    const names = parseModulesBuiltin(fixture('debian12-6.1-modules', 'lib/modules/6.1.0-56-amd64/modules.builtin'));
    expect(names.size).toBe(186);
    for (const name of ['unix', 'ipv6', 'tcp_cubic', 'lzo_rle', 'amd_uncore', 'libblake2s_x86_64']) expect(names.has(name)).toBe(true);
    for (const name of ['ip_vs', 'nf_conntrack', 'ip_set']) expect(names.has(name)).toBe(false);
  });

  it('finds IPVS in a kernel that builds it in', () => {
    const names = parseModulesBuiltin(fixture('builtin-ipvs-5.15', 'lib/modules/5.15.160-k8s-node/modules.builtin'));
    for (const name of ['ip_vs', 'ip_vs_rr', 'nf_conntrack', 'xt_MASQUERADE', 'ip_set_hash_ipportnet']) expect(names.has(name)).toBe(true);
  });

  it('ignores blank and comment lines', () => {
    expect([...parseModulesBuiltin('\n# comment\nkernel/fs/binfmt_misc.ko\n\n')]).toEqual(['binfmt_misc']);
  });
});

describe('parseKernelRelease', () => {
  it.each([
    ['6.1.0-56-amd64\n', 6, 1, 0, true],
    ['4.15.0-213-generic', 4, 15, 0, false],
    ['3.10.0-1160.119.1.el7.x86_64', 3, 10, 0, false],
    ['4.18.0-553.el8_10.x86_64', 4, 18, 0, false],
    ['4.19.0', 4, 19, 0, true],
    ['5.15.133+', 5, 15, 133, true],
    ['6.6.60-flatcar', 6, 6, 60, true],
  ])('%j is %i.%i.%i (≥ 4.19: %s)', (text, major, minor, patch, atLeast419) => {
    const version = parseKernelRelease(text);
    expect(version).toMatchObject({ major, minor, patch, release: text.trim() });
    expect(version !== null && kernelAtLeast(version, 4, 19)).toBe(atLeast419);
  });

  it.each(['', 'linux', 'v6.1'])('rejects %j', (text) => {
    expect(parseKernelRelease(text)).toBeNull();
  });
});
