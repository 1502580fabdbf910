/**
 * An independent reading of what ipvsadm reports (`-Sn` for configuration, `-Ln --stats --exact`
 * for counters, `-Ln --exact` for weights and connections), to compare with our snapshot.
 */

export interface IpvsadmDest {
  address: string;
  port: number;
  forward: string;
  weight: number;
  upperThreshold: number;
  lowerThreshold: number;
  tunnel: { type: string; port: number; flags: string[] } | null;
  activeConns?: number;
  inactiveConns?: number;
  counters?: number[];
}

export interface IpvsadmService {
  key: string;
  scheduler: string;
  persistent: boolean;
  timeout: number;
  netmask: string | null;
  flags: string[];
  onePacket: boolean;
  pe: string | null;
  dests: Map<string, IpvsadmDest>;
  counters?: number[];
}

function splitHostPort(text: string): { address: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(text);
  if (!m) throw new Error(`cannot parse address ${text}`);
  return { address: m[1] ?? '', port: Number(m[2]) };
}

function keyOf(kind: string, target: string, v6: boolean): string {
  if (kind === '-f' || kind === 'FWM') return `FWM/${target}/${v6 ? 'inet6' : 'inet'}`;
  const proto = kind === '-t' || kind === 'TCP' ? 'TCP' : kind === '-u' || kind === 'UDP' ? 'UDP' : 'SCTP';
  return `${proto}/${target}`;
}

/** Parse `ipvsadm -Sn` (save format) into services keyed like the snapshot. */
export function parseSave(text: string): Map<string, IpvsadmService> {
  const services = new Map<string, IpvsadmService>();
  for (const line of text.split('\n').filter((l) => l.trim() !== '')) {
    const t = line.trim().split(/\s+/);
    const op = t[0];
    const kind = t[1] ?? '';
    const target = kind === '--sctp-service' ? (t[2] ?? '') : (t[2] ?? '');
    const v6 = t.includes('-6');
    const key = keyOf(kind === '--sctp-service' ? 'SCTP' : kind, target, v6);
    const opt = (name: string): string | null => {
      const i = t.indexOf(name);
      return i >= 0 ? (t[i + 1] ?? null) : null;
    };
    if (op === '-A') {
      services.set(key, {
        key,
        scheduler: opt('-s') ?? '',
        persistent: t.includes('-p'),
        timeout: Number(opt('-p') ?? 0),
        netmask: opt('-M'),
        flags: (opt('-b') ?? '').split(',').filter((f) => f !== ''),
        onePacket: t.includes('-o'),
        pe: opt('--pe'),
        dests: new Map(),
      });
    } else if (op === '-a') {
      const svc = services.get(key);
      if (!svc) throw new Error(`destination line before its service: ${line}`);
      const { address, port } = splitHostPort(opt('-r') ?? '');
      const forward = t.includes('-m') ? 'masq' : t.includes('-g') ? 'route' : t.includes('-i') ? 'tunnel' : 'unknown';
      const tunFlags: string[] = [];
      if (t.includes('--tun-csum')) tunFlags.push('csum');
      if (t.includes('--tun-remcsum')) tunFlags.push('remcsum');
      svc.dests.set(`${address}|${port}`, {
        address,
        port,
        forward,
        weight: Number(opt('-w') ?? 0),
        upperThreshold: Number(opt('-x') ?? 0),
        lowerThreshold: Number(opt('-y') ?? 0),
        tunnel: forward === 'tunnel' ? { type: opt('--tun-type') ?? 'ipip', port: Number(opt('--tun-port') ?? 0), flags: tunFlags } : null,
      });
    }
  }
  return services;
}

/**
 * Fold in `ipvsadm -Ln --exact` (Forward/Weight/ActiveConn/InActConn), `--stats --exact` counters
 * and `--thresholds` (Uthreshold/Lthreshold) — ipvsadm 1.31's save format omits thresholds.
 */
export function mergeListings(services: Map<string, IpvsadmService>, list: string, stats: string, thresholds: string): void {
  const walk = (text: string, onService: (svc: IpvsadmService, f: string[]) => void, onDest: (d: IpvsadmDest, f: string[]) => void): void => {
    let current: IpvsadmService | undefined;
    for (const line of text.split('\n')) {
      const f = line.trim().split(/\s+/);
      if (/^(TCP|UDP|SCTP|FWM)\s/.test(line)) {
        const v6 = f[2] === 'IPv6';
        current = services.get(keyOf(f[0] ?? '', f[1] ?? '', v6));
        if (!current) throw new Error(`listed service not in save output: ${line}`);
        onService(current, f);
      } else if (line.startsWith('  -> ') && current && !line.includes('RemoteAddress')) {
        const { address, port } = splitHostPort(f[1] ?? '');
        const dest = current.dests.get(`${address}|${port}`);
        if (!dest) throw new Error(`listed destination not in save output: ${line}`);
        onDest(dest, f);
      }
    }
  };
  walk(
    list,
    () => undefined,
    (d, f) => {
      d.activeConns = Number(f[4]);
      d.inactiveConns = Number(f[5]);
    },
  );
  walk(
    thresholds,
    () => undefined,
    (d, f) => {
      d.upperThreshold = Number(f[2]);
      d.lowerThreshold = Number(f[3]);
    },
  );
  walk(
    stats,
    (s, f) => {
      s.counters = f.slice(-5).map(Number);
    },
    (d, f) => {
      d.counters = f.slice(-5).map(Number);
    },
  );
}
