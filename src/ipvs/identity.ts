/**
 * The identity of IPVS virtual and real servers, as ipvsadm and the kernel match them
 * (ip_vs_service_find / ip_vs_lookup_dest in net/netfilter/ipvs/ip_vs_ctl.c): protocol, address and
 * port, or fwmark and family; a destination by address and port. The key is the one text every part
 * of the project uses — the reader, the desired state, the differ, the renderers and the finding ids —
 * so matching is comparing keys. Pure.
 */
import { hostPort } from '../util/ip.js';
import type { AddressFamily, Protocol } from './types.js';

export interface VirtualServerIdentity {
  family: AddressFamily;
  protocol: Protocol | null;
  address: string | null;
  port: number | null;
  fwmark: number | null;
}

/**
 * "TCP/10.96.0.1:443", "UDP/[fd00::10]:53", "FWM/4097/inet". The address is canonical text (the
 * bracketed IPv6 form carries the family), so two keys are equal exactly when the identities are.
 */
export function virtualServerKey(vs: VirtualServerIdentity): string {
  if (vs.fwmark !== null) return `FWM/${vs.fwmark}/${vs.family}`;
  return `${vs.protocol ?? 'IP'}/${hostPort(vs.address ?? '', vs.port ?? 0)}`;
}

/** "10.244.1.7:8080", "[fd00::7]:8080". */
export function realServerKey(rs: { address: string; port: number }): string {
  return hostPort(rs.address, rs.port);
}
