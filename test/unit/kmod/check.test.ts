import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkModules, requiredModuleNames, type ModuleCheckInput, type ModuleFacts } from '../../../src/kmod/check.js';
import { moduleFindings, moduleRemedy, modprobeCommand, modulesLoadConf } from '../../../src/kmod/findings.js';
import { parseKernelRelease } from '../../../src/kmod/kernel-release.js';
import { readModuleInputs } from '../../../src/kmod/read.js';
import { isSentinelError } from '../../../src/errors/index.js';

const FIXTURES = join(import.meta.dirname, '../../fixtures/proc-modules');

async function facts(name: string, modulesDir = join(FIXTURES, name, 'lib/modules')): Promise<ModuleFacts> {
  return readModuleInputs({ procRoot: join(FIXTURES, name, 'proc'), modulesDir });
}

interface Case {
  fixture: string;
  scheduler: string;
  ipvsFamilyResolves: boolean | null;
  ok: boolean;
  required: [string, boolean, boolean | null][];
  findings: [string, string][];
}

const CASES: Case[] = [
  {
    fixture: 'debian12-6.1-modules',
    scheduler: 'rr',
    ipvsFamilyResolves: true,
    ok: true,
    required: [['ip_vs', true, false], ['ip_vs_rr', true, false], ['nf_conntrack', true, false]],
    findings: [],
  },
  {
    fixture: 'ubuntu1804-4.15-conntrack-ipv4',
    scheduler: 'rr',
    ipvsFamilyResolves: true,
    ok: true,
    required: [['ip_vs', true, false], ['ip_vs_rr', true, false], ['nf_conntrack_ipv4', true, false]],
    findings: [],
  },
  {
    fixture: 'centos7-3.10-no-ipvs',
    scheduler: 'rr',
    ipvsFamilyResolves: false,
    ok: false,
    required: [['ip_vs', false, false], ['ip_vs_rr', false, false], ['nf_conntrack_ipv4', true, false]],
    findings: [['ip_vs', 'critical'], ['ip_vs_rr', 'warning']],
  },
  {
    fixture: 'rhel8-4.18-merged-conntrack',
    scheduler: 'rr',
    ipvsFamilyResolves: true,
    ok: true,
    // 4.18 expects nf_conntrack_ipv4, but RHEL 8.3+ merged it: nf_conntrack is accepted.
    required: [['ip_vs', true, false], ['ip_vs_rr', true, false], ['nf_conntrack', true, false]],
    findings: [],
  },
  {
    fixture: 'builtin-ipvs-5.15',
    scheduler: 'rr',
    ipvsFamilyResolves: null,
    ok: true,
    required: [['ip_vs', false, true], ['ip_vs_rr', false, true], ['nf_conntrack', false, true]],
    findings: [],
  },
  {
    fixture: 'flatcar-6.6-ko-xz',
    scheduler: 'lc',
    ipvsFamilyResolves: true,
    ok: false,
    required: [['ip_vs', true, false], ['ip_vs_lc', false, false], ['nf_conntrack', true, false]],
    findings: [['ip_vs_lc', 'warning']],
  },
  {
    fixture: 'no-loadable-modules',
    scheduler: 'rr',
    ipvsFamilyResolves: null,
    ok: false,
    // No /proc/net/ip_vs and no nf_conntrack_max: both disproved; the scheduler stays unknown.
    required: [['ip_vs', false, false], ['ip_vs_rr', false, null], ['nf_conntrack', false, false]],
    findings: [['ip_vs', 'critical'], ['nf_conntrack', 'critical']],
  },
];

describe('checkModules over distribution fixtures', () => {
  it.each(CASES)('$fixture (scheduler $scheduler)', async (c) => {
    const report = checkModules({ ...(await facts(c.fixture)), scheduler: c.scheduler, ipvsFamilyResolves: c.ipvsFamilyResolves });
    expect(report.ok).toBe(c.ok);
    expect(report.ipvsFamilyResolves).toBe(c.ipvsFamilyResolves);
    expect(report.modules.filter((m) => m.required).map((m) => [m.name, m.loaded, m.builtin])).toEqual(c.required);
    expect(moduleFindings(report).map((f) => [(f.expected as { module: string }).module, f.severity])).toEqual(c.findings);
  });

  it('reports the release and advisory modules of Debian 12', async () => {
    const report = checkModules({ ...(await facts('debian12-6.1-modules')), scheduler: 'rr', ipvsFamilyResolves: true });
    expect(report.release).toBe('6.1.0-56-amd64');
    expect(report.problems).toEqual([]);
    const advisory = Object.fromEntries(report.modules.filter((m) => !m.required).map((m) => [m.name, m.loaded]));
    expect(advisory).toMatchObject({ ip_vs_wrr: true, ip_vs_sh: true, ip_set: true, xt_set: true, xt_ipvs: true, xt_MASQUERADE: true, nf_nat: true, br_netfilter: true });
    expect(report.modules.every((m) => m.reason.length > 0)).toBe(true);
  });

  it('names the legacy masquerade and NAT modules found on Ubuntu 18.04', async () => {
    const report = checkModules({ ...(await facts('ubuntu1804-4.15-conntrack-ipv4')), scheduler: 'rr', ipvsFamilyResolves: null });
    const names = report.modules.map((m) => m.name);
    expect(names).toContain('ipt_MASQUERADE');
    expect(names).toContain('nf_nat');
    expect(names).not.toContain('xt_MASQUERADE');
  });

  it('container without /lib/modules: builtin unknown, "mount /lib/modules", no finding', async () => {
    const input = await facts('builtin-ipvs-5.15', join(FIXTURES, 'builtin-ipvs-5.15', 'missing-lib-modules'));
    expect(input.builtin).toBeNull();
    expect(input.problems.join('\n')).toContain('mount /lib/modules');
    const report = checkModules({ ...input, scheduler: 'rr', ipvsFamilyResolves: null });
    // /proc/net/ip_vs and nf_conntrack_max still prove ip_vs and conntrack: built in.
    expect(report.modules.filter((m) => m.required).map((m) => [m.name, m.builtin])).toEqual([['ip_vs', true], ['ip_vs_rr', null], ['nf_conntrack', true]]);
    expect(report.ok).toBe(false);
    expect(report.problems.some((p) => p.startsWith('ip_vs_rr: unknown') && p.includes('mount /lib/modules'))).toBe(true);
    expect(moduleFindings(report)).toEqual([]);
  });

  it('a live virtual server with the scheduler proves its module', async () => {
    const input: ModuleCheckInput = { ...(await facts('flatcar-6.6-ko-xz')), scheduler: 'lc', ipvsFamilyResolves: true, schedulersInUse: ['lc'] };
    const report = checkModules(input);
    expect(report.ok).toBe(true);
    expect(report.modules.find((m) => m.name === 'ip_vs_lc')).toMatchObject({ loaded: false, builtin: true });
  });

  it('no warning for the scheduler module when a virtual server already uses it', async () => {
    const report = checkModules({ ...(await facts('centos7-3.10-no-ipvs')), scheduler: 'rr', ipvsFamilyResolves: false });
    expect(moduleFindings(report, { schedulersInUse: ['rr'] }).map((f) => f.severity)).toEqual(['critical']);
  });

  it('IPVS family resolving proves ip_vs built in when /proc/modules does not list it', () => {
    const report = checkModules({
      release: '6.1.0-56-amd64',
      loaded: [],
      builtin: new Set(),
      procNetIpvs: null,
      conntrackSysctls: null,
      problems: [],
      scheduler: '',
      ipvsFamilyResolves: true,
    });
    expect(report.modules[0]).toMatchObject({ name: 'ip_vs', loaded: false, builtin: true, required: true });
    expect(report.modules[1]?.name).toBe('ip_vs_rr');
  });

  it('module-missing findings carry the fix and are not self-healing', async () => {
    const report = checkModules({ ...(await facts('centos7-3.10-no-ipvs')), scheduler: 'rr', ipvsFamilyResolves: false });
    const [ipvs] = moduleFindings(report);
    expect(ipvs).toMatchObject({ kind: 'module-missing', severity: 'critical', selfHealing: false, virtualServer: null, realServer: null, service: null });
    expect(ipvs?.message).toContain('modprobe ip_vs');
    expect(ipvs?.message).toContain('/etc/modules-load.d/ipvs.conf');
    expect(ipvs?.actual).toEqual({ module: 'ip_vs', loaded: false, builtin: false });
  });
});

describe('remedy text', () => {
  it.each([
    ['6.1.0-56-amd64', 'rr', ['ip_vs', 'ip_vs_rr', 'nf_conntrack']],
    ['4.15.0-213-generic', 'wrr', ['ip_vs', 'ip_vs_wrr', 'nf_conntrack_ipv4']],
    ['4.19.0', 'mh', ['ip_vs', 'ip_vs_mh', 'nf_conntrack']],
    [null, '', ['ip_vs', 'ip_vs_rr', 'nf_conntrack']],
  ])('required modules for %s with scheduler %j', (release, scheduler, names) => {
    expect(requiredModuleNames(release === null ? null : parseKernelRelease(release), scheduler)).toEqual(names);
  });

  it('prints the modprobe line and the modules-load.d file', () => {
    expect(modprobeCommand(['ip_vs', 'ip_vs_rr', 'nf_conntrack'])).toBe('modprobe -a ip_vs ip_vs_rr nf_conntrack');
    expect(modulesLoadConf(['ip_vs', 'ip_vs_rr', 'nf_conntrack'])).toBe(
      '# /etc/modules-load.d/ipvs.conf: kernel modules for kube-proxy in IPVS mode, loaded at boot\nip_vs\nip_vs_rr\nnf_conntrack\n',
    );
  });

  it('loads only what is missing, persists every required module', async () => {
    const report = checkModules({ ...(await facts('centos7-3.10-no-ipvs')), scheduler: 'rr', ipvsFamilyResolves: false });
    const remedy = moduleRemedy(report);
    expect(remedy.missing).toEqual(['ip_vs', 'ip_vs_rr']);
    expect(remedy.modprobe).toBe('modprobe -a ip_vs ip_vs_rr');
    expect(remedy.modulesLoadConf.split('\n').slice(1, -1)).toEqual(['ip_vs', 'ip_vs_rr', 'nf_conntrack_ipv4']);
  });

  it('no modprobe line when nothing is missing', async () => {
    const report = checkModules({ ...(await facts('debian12-6.1-modules')), scheduler: 'rr', ipvsFamilyResolves: true });
    expect(moduleRemedy(report).modprobe).toBeNull();
  });
});

describe('readModuleInputs', () => {
  it('reads a kernel without loadable modules without crashing', async () => {
    const input = await facts('no-loadable-modules');
    expect(input).toMatchObject({ release: '6.18.44-fc-v657', loaded: null, builtin: null, procNetIpvs: false, conntrackSysctls: false });
    expect(input.problems).toHaveLength(1);
    expect(input.problems[0]).toContain('mount /lib/modules');
  });

  it('a --proc-root that is not a procfs is PROC_UNREADABLE', async () => {
    const error: unknown = await readModuleInputs({ procRoot: join(FIXTURES, 'nowhere') }).catch((e: unknown) => e);
    expect(isSentinelError(error, 'PROC_UNREADABLE')).toBe(true);
  });

  it('reads the Debian 12 tree', async () => {
    const input = await facts('debian12-6.1-modules');
    expect(input.loaded?.length).toBe(76);
    expect(input.builtin?.size).toBe(186);
    expect(input.procNetIpvs).toBe(true);
  });
});

describe('finding identity', () => {
  it('module-missing findings are told apart by the grace tracker', async () => {
    const { findingId } = await import('../../../src/drift/finding-id.js');
    const report = checkModules({ ...(await facts('no-loadable-modules')), scheduler: 'rr', ipvsFamilyResolves: false });
    const ids = moduleFindings(report).map(findingId);
    expect(ids).toEqual(['module-missing|||ip_vs', 'module-missing|||nf_conntrack']);
  });
});
