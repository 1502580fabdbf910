/**
 * Joins per-Service results into one DesiredState: virtual servers sorted by key, kube-ipvs0
 * addresses, and a deterministic answer for keys several Service ports claim (two Services with
 * the same externalIP:port, an externalIP equal to another Service's ClusterIP…). kube-proxy
 * programs such keys in Go map order, so the live VS belongs to whichever it synced last; we
 * expect the claimant first by namespace, name and port name, and list the key in `conflicts`.
 * Within one Service port (an externalIP equal to its own LB VIP) the role kube-proxy programs
 * last wins: node-port, load-balancer, external-ip, cluster-ip.
 *
 * The index is incremental: add()/remove() a Service's result, then build() patches the previous
 * output in place when only real servers changed, and re-sorts only when keys come or go; the
 * ipsets' entries are kept the same way by IpsetIndex.
 */
import type { ServicePortRef } from '../drift/types.js';
import type { AddressFamily } from '../ipvs/types.js';
import { compareStrings, sortAddresses } from '../util/sort-key.js';
import { IpsetIndex } from './ipset-index.js';
import type { DesiredState, ExpectedVirtualServer, UdpServicePort, VirtualServerConflict, VirtualServerRole } from './types.js';
import type { ServiceResult } from './virtual-servers.js';

const ROLE_ORDER: Record<VirtualServerRole, number> = { 'node-port': 0, 'load-balancer': 1, 'external-ip': 2, 'cluster-ip': 3 };

function compareRefs(a: ServicePortRef, b: ServicePortRef): number {
  return compareStrings(a.namespace, b.namespace) || compareStrings(a.name, b.name) || compareStrings(a.port, b.port);
}

function compareClaims(a: ExpectedVirtualServer, b: ExpectedVirtualServer): number {
  return compareRefs(a.service, b.service) || ROLE_ORDER[a.role] - ROLE_ORDER[b.role];
}

function winnerOf(claims: readonly ExpectedVirtualServer[]): ExpectedVirtualServer | undefined {
  if (claims.length <= 1) return claims[0];
  return [...claims].sort(compareClaims)[0];
}

function conflictOf(key: string, claims: readonly ExpectedVirtualServer[]): VirtualServerConflict | null {
  if (claims.length <= 1) return null;
  const refs = [...claims].map((c) => c.service).sort(compareRefs);
  const distinct = refs.filter((r, i) => i === 0 || compareRefs(r, refs[i - 1] as ServicePortRef) !== 0);
  if (distinct.length <= 1) return null;
  return { key, winner: distinct[0] as ServicePortRef, claimants: distinct };
}

export class DesiredStateIndex {
  private readonly claims = new Map<string, ExpectedVirtualServer[]>();
  private readonly boundCount = new Map<string, number>();
  /** Keys whose claimants changed since the last build. */
  private readonly touched = new Set<string>();
  /** Addresses whose count reached 0 since the last build. */
  private readonly unbound = new Set<string>();
  private keysChanged = true;
  private addressesChanged = true;
  private output: ExpectedVirtualServer[] = [];
  private readonly position = new Map<string, number>();
  private readonly conflicts = new Map<string, VirtualServerConflict>();
  private addresses: string[] = [];
  private readonly ipsets = new IpsetIndex();
  /** Each added result's UDP Service ports (a Service's ports are its own: no claims to settle). */
  private readonly udp = new Map<ServiceResult, readonly UdpServicePort[]>();
  private udpChanged = true;
  private udpOutput: readonly UdpServicePort[] = [];

  add(result: ServiceResult): void {
    for (const vs of result.virtualServers) {
      const list = this.claims.get(vs.key);
      if (list) list.push(vs);
      else this.claims.set(vs.key, [vs]);
      if (this.keysChanged) continue; // a full rebuild follows: no need to track single keys
      if (this.position.has(vs.key)) this.touched.add(vs.key);
      else this.keysChanged = true;
    }
    for (const a of result.boundAddresses) {
      const n = this.boundCount.get(a);
      if (n === undefined) this.addressesChanged = true;
      this.boundCount.set(a, (n ?? 0) + 1);
    }
    this.ipsets.add(result.ipsetMembers);
    if (result.udpServicePorts.length > 0) {
      this.udp.set(result, result.udpServicePorts);
      this.udpChanged = true;
    }
  }

  remove(result: ServiceResult): void {
    for (const vs of result.virtualServers) {
      const list = this.claims.get(vs.key);
      if (!list) continue;
      const i = list.indexOf(vs);
      if (i >= 0) list.splice(i, 1);
      if (!this.keysChanged) this.touched.add(vs.key);
    }
    // Counts may drop to 0 here and rise again in the add() that usually follows; build() drops zeros.
    for (const a of result.boundAddresses) {
      const n = this.boundCount.get(a);
      if (n !== undefined) {
        this.boundCount.set(a, n - 1);
        if (n === 1) this.unbound.add(a);
      }
    }
    this.ipsets.remove(result.ipsetMembers);
    if (this.udp.delete(result)) this.udpChanged = true;
  }

  build(excludeCIDRs: readonly string[], families: readonly AddressFamily[]): DesiredState {
    if (!this.keysChanged) {
      for (const key of this.touched) {
        if ((this.claims.get(key)?.length ?? 0) === 0) this.keysChanged = true;
      }
    }
    if (this.keysChanged) {
      this.conflicts.clear();
      this.position.clear();
      const keys: string[] = [];
      for (const [key, list] of this.claims) {
        if (list.length === 0) {
          this.claims.delete(key);
          continue;
        }
        keys.push(key);
        const conflict = conflictOf(key, list);
        if (conflict) this.conflicts.set(key, conflict);
      }
      // Default sort is code-unit order, the same as compareStrings, and faster without a comparator.
      keys.sort();
      this.output = keys.map((key, i) => {
        this.position.set(key, i);
        return winnerOf(this.claims.get(key) ?? []) as ExpectedVirtualServer;
      });
    } else {
      for (const key of this.touched) {
        const list = this.claims.get(key) ?? [];
        const i = this.position.get(key);
        if (i !== undefined) this.output[i] = winnerOf(list) as ExpectedVirtualServer;
        const conflict = conflictOf(key, list);
        if (conflict) this.conflicts.set(key, conflict);
        else this.conflicts.delete(key);
      }
    }
    this.touched.clear();
    this.keysChanged = false;
    for (const a of this.unbound) {
      if (this.boundCount.get(a) === 0) {
        this.boundCount.delete(a);
        this.addressesChanged = true;
      }
    }
    this.unbound.clear();
    let ipvsIPsChanged = false;
    if (this.addressesChanged) {
      this.addresses = sortAddresses(this.boundCount.keys());
      this.addressesChanged = false;
      ipvsIPsChanged = true;
    }
    if (this.udpChanged) {
      this.udpOutput = [...this.udp.values()].flat().sort((a, b) => compareRefs(a.service, b.service) || compareStrings(a.family, b.family));
      this.udpChanged = false;
    }
    return {
      virtualServers: this.output.slice(),
      kubeIpvs0Addresses: this.addresses.slice(),
      excludeCIDRs: [...excludeCIDRs],
      families: [...families],
      conflicts: [...this.conflicts.values()].sort((a, b) => compareStrings(a.key, b.key)),
      ipsets: this.ipsets.build(families, this.addresses, ipvsIPsChanged),
      udpServicePorts: this.udpOutput,
    };
  }
}
