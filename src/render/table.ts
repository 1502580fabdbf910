/**
 * The ipvsadm-like table (`ipvs-sentinel ipvs`, `/ipvs?format=text`, the top of `check`): the
 * lines of `ipvsadm -Ln` with the counters of `--stats --exact` on the right, optionally annotated
 * with the Service each virtual server serves and with drift marks.
 */
import type { IpvsSnapshot, RealServer, VirtualServer } from '../ipvs/types.js';
import { SVC_FLAG } from '../ipvs/types.js';
import { hostPort } from '../util/ip.js';
import { serviceFlagNames, type ServiceLookup } from './snapshot.js';

export interface TableOptions {
  lookup?: ServiceLookup;
  /** A short note for a virtual server (realServer null) or one of its real servers, e.g. "<- missing". */
  mark?: (virtualServerKey: string, realServerKey: string | null) => string | null;
  /** Extra rows for real servers that should exist but do not (drift), per virtual server key. */
  missingRealServers?: (virtualServerKey: string) => string[];
  /** Keep only virtual servers of this Service ("namespace/name"). */
  service?: string;
}

const FORWARD_WORD: Record<RealServer['forward'], string> = {
  masq: 'Masq',
  local: 'Local',
  tunnel: 'Tunnel',
  route: 'Route',
  bypass: 'Bypass',
};

const STATS_HEADER = ['Conns', 'InPkts', 'OutPkts', 'InBytes', 'OutBytes'];
const COL = { left: 44, forward: 16, weight: 7, active: 11, inactive: 10, num: 12 };

function statCells(s: VirtualServer['stats']): string {
  return [s.conns, s.inPkts, s.outPkts, s.inBytes, s.outBytes].map((n) => n.toString().padStart(COL.num)).join('');
}

function serviceLine(vs: VirtualServer): string {
  const proto = vs.fwmark !== null ? 'FWM' : (vs.protocol ?? '?');
  const target = vs.fwmark !== null ? `${vs.fwmark}${vs.family === 'inet6' ? ' IPv6' : ''}` : hostPort(vs.address ?? '', vs.port ?? 0);
  let text = `${proto.padEnd(4)} ${target} ${vs.scheduler}`;
  const schedFlags = serviceFlagNames({ ...vs, flagBits: vs.flagBits & (SVC_FLAG.sched1 | SVC_FLAG.sched2 | SVC_FLAG.sched3) });
  if (schedFlags.length > 0) text += ` (${schedFlags.join(',')})`;
  if (vs.persistent) {
    text += ` persistent ${vs.timeout}`;
    if (vs.netmask !== (vs.family === 'inet' ? 32 : 128)) text += ` mask /${vs.netmask}`;
  }
  if (vs.flagBits & SVC_FLAG.onePacket) text += ' ops';
  if (vs.pe) text += ` pe ${vs.pe}`;
  return text;
}

function destinationCells(rs: RealServer): string {
  const left = `  -> ${hostPort(rs.address, rs.port)}`;
  const tunnel = rs.tunnel ? ` ${rs.tunnel.type}${rs.tunnel.port ? `:${rs.tunnel.port}` : ''}` : '';
  return (
    left.padEnd(COL.left) +
    (FORWARD_WORD[rs.forward] + tunnel).padEnd(COL.forward) +
    String(rs.weight).padEnd(COL.weight) +
    String(rs.activeConns).padEnd(COL.active) +
    String(rs.inactiveConns).padEnd(COL.inactive)
  );
}

export function renderTable(snapshot: IpvsSnapshot, options: TableOptions = {}): string {
  const lines: string[] = [];
  const info = snapshot.info;
  lines.push(info ? `IP Virtual Server version ${info.version} (size=${info.connTableSize})` : 'IP Virtual Server');
  const statsHeader = STATS_HEADER.map((h) => h.padStart(COL.num)).join('');
  const rsWidth = COL.left + COL.forward + COL.weight + COL.active + COL.inactive;
  lines.push('Prot LocalAddress:Port Scheduler Flags'.padEnd(rsWidth) + statsHeader);
  lines.push(
    '  -> RemoteAddress:Port'.padEnd(COL.left) +
      'Forward'.padEnd(COL.forward) +
      'Weight'.padEnd(COL.weight) +
      'ActiveConn'.padEnd(COL.active) +
      'InActConn'.padEnd(COL.inactive),
  );
  for (const vs of snapshot.services) {
    const ref = options.lookup?.(vs.key) ?? null;
    if (options.service !== undefined && (ref === null || `${ref.namespace}/${ref.name}` !== options.service)) continue;
    const note = [ref ? `# ${ref.namespace}/${ref.name}${ref.port ? `:${ref.port}` : ''}` : null, options.mark?.(vs.key, null) ?? null]
      .filter((p): p is string => p !== null)
      .join('  ');
    const head = serviceLine(vs);
    lines.push(head.padEnd(rsWidth) + statCells(vs.stats) + (note ? `  ${note}` : ''));
    for (const rs of vs.destinations) {
      const mark = options.mark?.(vs.key, hostPort(rs.address, rs.port)) ?? null;
      lines.push(destinationCells(rs) + statCells(rs.stats) + (mark ? `  ${mark}` : ''));
    }
    for (const missing of options.missingRealServers?.(vs.key) ?? []) {
      lines.push(`  -> ${missing}`.padEnd(COL.left) + '(absent)'.padEnd(rsWidth - COL.left) + ''.padStart(COL.num * STATS_HEADER.length) + '  <- missing real server');
    }
  }
  return lines.map((l) => l.trimEnd()).join('\n') + '\n';
}
