/**
 * The sysctls kube-proxy sets once, when its IPVS proxier starts (docs/kube-proxy-rules.md §3.4), read from
 * <proc-root>/sys/net/ipv4/vs/{conntrack,expire_nodest_conn,expire_quiescent_template,conn_reuse_mode},
 * <proc-root>/sys/net/ipv4/ip_forward and <proc-root>/sys/net/ipv4/conf/all/{arp_ignore,arp_announce}.
 * The net.ipv4.vs.* ones live in the ip_vs module: reloading it resets them to kernel defaults
 * (vs.conntrack=0) and nothing puts them back until kube-proxy restarts.
 *
 * checkSysctls() and sysctlStatus() are pure; readSysctls() is the thin reader.
 */
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Finding, Severity } from '../drift/types.js';
import { kernelAtLeast, parseKernelRelease } from '../kmod/kernel-release.js';

export interface SysctlValues {
  /** false when <proc-root>/sys/net/ipv4/vs does not exist: ip_vs is not loaded (the module check reports that). */
  ipvsPresent: boolean;
  /** Values by dotted sysctl name; null when the file is absent or not an integer. */
  values: Record<SysctlName, number | null>;
  /** Files that existed but could not be read or parsed. */
  problems: string[];
}

export const SYSCTL_NAMES = [
  'net.ipv4.vs.conntrack',
  'net.ipv4.vs.expire_nodest_conn',
  'net.ipv4.vs.expire_quiescent_template',
  'net.ipv4.vs.conn_reuse_mode',
  'net.ipv4.ip_forward',
  'net.ipv4.conf.all.arp_ignore',
  'net.ipv4.conf.all.arp_announce',
] as const;

export type SysctlName = (typeof SYSCTL_NAMES)[number];

export interface SysctlCheckOptions {
  /** Kernel release ("6.1.0-56-amd64"); decides whether conn_reuse_mode is checked. null: not checked. */
  kernelRelease: string | null;
  /** ipvs.strictARP from kube-proxy's config: arp_ignore/arp_announce are only set then. */
  strictARP: boolean;
}

export interface SysctlExpectation {
  name: SysctlName;
  value: number;
  severity: Severity;
  why: string;
}

/** What kube-proxy sets for this kernel and config (kube-proxy's NewProxier). */
export function expectedSysctls(options: SysctlCheckOptions): SysctlExpectation[] {
  const kernel = options.kernelRelease === null ? null : parseKernelRelease(options.kernelRelease);
  const expectations: SysctlExpectation[] = [
    { name: 'net.ipv4.vs.conntrack', value: 1, severity: 'critical', why: 'without it iptables SNAT (KUBE-POSTROUTING) never sees IPVS traffic' },
    { name: 'net.ipv4.vs.expire_nodest_conn', value: 1, severity: 'warning', why: 'connections to removed backends are dropped instead of hanging' },
    { name: 'net.ipv4.vs.expire_quiescent_template', value: 1, severity: 'warning', why: 'persistence templates of weight-0 backends expire' },
  ];
  // IPVSConnReuseModeMinSupportedKernelVersion 4.1, IPVSConnReuseModeFixedKernelVersion 5.9.
  if (kernel !== null && kernelAtLeast(kernel, 4, 1) && !kernelAtLeast(kernel, 5, 9)) {
    expectations.push({ name: 'net.ipv4.vs.conn_reuse_mode', value: 0, severity: 'warning', why: 'avoids the 1 s connect delay of reused ports on kernels before 5.9' });
  }
  expectations.push({ name: 'net.ipv4.ip_forward', value: 1, severity: 'critical', why: 'without it the node does not forward Service traffic to pods' });
  if (options.strictARP) {
    expectations.push(
      { name: 'net.ipv4.conf.all.arp_ignore', value: 1, severity: 'warning', why: 'ipvs.strictARP: the node must not answer ARP for kube-ipvs0 addresses' },
      { name: 'net.ipv4.conf.all.arp_announce', value: 2, severity: 'warning', why: 'ipvs.strictARP: ARP requests must not announce kube-ipvs0 addresses' },
    );
  }
  return expectations;
}

/**
 * sysctl-mismatch findings: each message names the sysctl, the value kube-proxy sets and the fix.
 * With ip_vs absent the net.ipv4.vs.* sysctls are not judged (module-missing covers it); unreadable
 * values are not judged either (sysctlStatus says so).
 */
export function checkSysctls(values: SysctlValues, options: SysctlCheckOptions): Finding[] {
  const findings: Finding[] = [];
  for (const e of expectedSysctls(options)) {
    if (!values.ipvsPresent && e.name.startsWith('net.ipv4.vs.')) continue;
    const actual = values.values[e.name];
    if (actual === null || actual === e.value) continue;
    const restart = e.name.startsWith('net.ipv4.vs.')
      ? 'kube-proxy sets it only at start, so restart kube-proxy (the usual cause is an ip_vs module reload)'
      : 'kube-proxy sets it only at start, so restart kube-proxy or persist it in /etc/sysctl.d';
    findings.push({
      kind: 'sysctl-mismatch',
      subject: e.name,
      severity: e.severity,
      virtualServer: null,
      realServer: null,
      service: null,
      expected: { sysctl: e.name, value: e.value },
      actual: { sysctl: e.name, value: actual },
      message: `${e.name} is ${actual}, kube-proxy sets ${e.value} (${e.why}): run \`sysctl -w ${e.name}=${e.value}\`; ${restart}.`,
      selfHealing: false,
    });
  }
  return findings;
}

export interface SysctlStatus {
  state: 'ok' | 'mismatch' | 'ipvs-absent' | 'incomplete';
  message: string;
}

/** One line for `check` and /healthz: what the sysctl comparison could and could not judge. */
export function sysctlStatus(values: SysctlValues, findings: readonly Finding[], options: SysctlCheckOptions): SysctlStatus {
  if (findings.length > 0) {
    return { state: 'mismatch', message: `${findings.length} sysctl(s) differ from what kube-proxy sets: ${findings.map((f) => (f.expected as { sysctl: string }).sysctl).join(', ')}` };
  }
  if (!values.ipvsPresent) {
    return { state: 'ipvs-absent', message: 'net.ipv4.vs.* not present: ip_vs is not loaded (see the kernel-module check); only ip_forward and ARP settings were compared' };
  }
  const unread = expectedSysctls(options).filter((e) => values.values[e.name] === null).map((e) => e.name);
  if (unread.length > 0) return { state: 'incomplete', message: `could not read ${unread.join(', ')}` };
  const reuse = options.kernelRelease === null ? '; conn_reuse_mode not judged (kernel release unknown)' : '';
  return { state: 'ok', message: `IPVS sysctls as kube-proxy sets them${reuse}` };
}

/** Parse a single-integer /proc/sys file ("1\n"); null for anything else. */
export function parseSysctlValue(text: string): number | null {
  const trimmed = text.trim();
  return /^-?\d+$/.test(trimmed) ? Number(trimmed) : null;
}

function sysctlPath(procRoot: string, name: SysctlName): string {
  return join(procRoot, 'sys', ...name.split('.'));
}

/** Read the sysctls from <proc-root>/sys (default /proc). Absent files are null, never an error. */
export async function readSysctls(options: { procRoot?: string } = {}): Promise<SysctlValues> {
  const procRoot = options.procRoot ?? '/proc';
  const problems: string[] = [];
  const entries = await Promise.all(
    SYSCTL_NAMES.map(async (name): Promise<[SysctlName, number | null]> => {
      const path = sysctlPath(procRoot, name);
      try {
        const value = parseSysctlValue(await readFile(path, 'utf8'));
        if (value === null) problems.push(`${path}: not an integer`);
        return [name, value];
      } catch (error) {
        const code = typeof error === 'object' && error !== null && 'code' in error ? (error).code : undefined;
        if (code !== 'ENOENT') problems.push(`cannot read ${path}: ${String(error)}`);
        return [name, null];
      }
    }),
  );
  const values = Object.fromEntries(entries.map(([name, value]) => [name, value])) as Record<SysctlName, number | null>;
  let ipvsPresent: boolean;
  try {
    await access(join(procRoot, 'sys/net/ipv4/vs'));
    ipvsPresent = true;
  } catch {
    ipvsPresent = false;
  }
  return { ipvsPresent, values, problems };
}
