/**
 * IPVS flag and forwarding-method bits (include/uapi/linux/ip_vs.h) and the words ipvsadm prints for
 * them (ipvsadm.c: print_service_entry, fwd_name), which are also the words of our snapshot JSON and
 * table. Pure.
 */
import type { ForwardMethod, VirtualServer } from './types.js';

/** IP_VS_SVC_F_* service flags. The three scheduler flags mean what the scheduler makes of them. */
export const SVC_FLAG = {
  persistent: 0x0001,
  hashed: 0x0002,
  onePacket: 0x0004,
  sched1: 0x0008,
  sched2: 0x0010,
  sched3: 0x0020,
} as const;

/** IP_VS_CONN_F_MASQ .. IP_VS_CONN_F_BYPASS (0..4), by value. */
export const FORWARD_METHODS: readonly ForwardMethod[] = ['masq', 'local', 'tunnel', 'route', 'bypass'];

/** The Forward column of `ipvsadm -Ln`. */
export const FORWARD_WORD: Readonly<Record<ForwardMethod, string>> = {
  masq: 'Masq',
  local: 'Local',
  tunnel: 'Tunnel',
  route: 'Route',
  bypass: 'Bypass',
};

/**
 * Service flags as ipvsadm -b names them: `persistent`, `hashed`, `one-packet`, and for the sh and
 * mh schedulers `<sched>-fallback` / `<sched>-port`; other scheduler flags are `flag-1`..`flag-3`.
 */
export function serviceFlagNames(vs: Pick<VirtualServer, 'flagBits' | 'scheduler'>): string[] {
  const names: string[] = [];
  const bits = vs.flagBits;
  if (bits & SVC_FLAG.persistent) names.push('persistent');
  if (bits & SVC_FLAG.hashed) names.push('hashed');
  if (bits & SVC_FLAG.onePacket) names.push('one-packet');
  const prefix = vs.scheduler === 'sh' || vs.scheduler === 'mh' ? vs.scheduler : null;
  if (bits & SVC_FLAG.sched1) names.push(prefix ? `${prefix}-fallback` : 'flag-1');
  if (bits & SVC_FLAG.sched2) names.push(prefix ? `${prefix}-port` : 'flag-2');
  if (bits & SVC_FLAG.sched3) names.push('flag-3');
  return names;
}
