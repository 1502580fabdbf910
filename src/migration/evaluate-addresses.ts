/**
 * Addresses IPVS mode makes local or serves that nftables mode does not: Service IPs bound to
 * kube-ipvs0 (a host process may listen on one), NodePorts on every local address (nftables mode
 * defaults nodePortAddresses to the primary IPs: cmd/kube-proxy/app/server_linux.go
 * platformApplyDefaults), and virtual servers of others that survive only because kube-proxy's IPVS
 * sync spares them (pkg/proxy/ipvs/proxier.go cleanLegacyService) — nftables mode flushes them all.
 */
import type { ServicePortRef } from '../drift/types.js';
import type { VirtualServer } from '../ipvs/types.js';
import { KUBE_IPVS0 } from '../desired/node-addresses.js';
import { addressFamilyOf, cidrContains, hostPort, parseCidr } from '../util/ip.js';
import { evaluator, type InputWith } from './evaluator.js';
import { agree, makeFinding, plural, serviceRefKey } from './finding.js';
import type { Evidence, MigrationFinding } from './types.js';

/** kube-proxy's transient probe virtual server (pkg/proxy/ipvs/proxier.go CanUseIPVSProxier). */
const PROBE_VIRTUAL_SERVER = 'TCP/198.51.100.0:20000';

const WILDCARDS = new Set(['0.0.0.0', '::']);

export const vipSocketEvaluator = evaluator({
  ids: ['vip-bound-socket'],
  needs: ['sockets', 'interfaces'],
  phase: 'pre-switch',
  evaluate: (input: InputWith<'sockets' | 'interfaces'>): MigrationFinding[] => {
    const vips = new Set<string>(input.interfaces.filter((i) => i.name === KUBE_IPVS0).flatMap((i) => i.addresses.map((a) => a.address)));
    for (const address of input.desired?.kubeIpvs0Addresses ?? []) vips.add(address);
    const owner = new Map<string, ServicePortRef>();
    for (const vs of input.desired?.virtualServers ?? []) if (!owner.has(vs.address)) owner.set(vs.address, vs.service);
    const bound = input.sockets.filter((s) => !WILDCARDS.has(s.address) && vips.has(s.address));
    if (bound.length === 0) return [];
    const services = bound.flatMap((s) => {
      const ref = owner.get(s.address);
      return ref ? [ref] : [];
    });
    return [
      makeFinding('vip-bound-socket', {
        message: `${plural(bound.length, 'host socket')} ${agree(bound.length, 'listens', 'listen')} on Service IPs that only IPVS mode binds to ${KUBE_IPVS0}; they stop answering (and cannot bind again) in nftables mode.`,
        services,
        evidence: bound.map((s) => {
          const ref = owner.get(s.address);
          return { kind: 'socket', ref: `${s.protocol} ${hostPort(s.address, s.port)}`, value: { inode: s.inode, uid: s.uid }, detail: ref ? `Service IP of ${serviceRefKey(ref)}` : `address on ${KUBE_IPVS0}` };
        }),
      }),
    ];
  },
});

function whyForeign(vs: VirtualServer, families: readonly string[], excluded: readonly { text: string; cidr: NonNullable<ReturnType<typeof parseCidr>> }[]): string {
  if (vs.fwmark !== null) return 'fwmark virtual server: kube-proxy never creates one';
  if (!families.includes(vs.family)) return `family ${vs.family}, which this kube-proxy does not proxy`;
  const address = vs.address ?? '';
  const cover = excluded.find((e) => cidrContains(e.cidr, address));
  if (cover) return `inside ipvs.excludeCIDRs ${cover.text}`;
  return 'matches no Service (kube-proxy would delete it at its next sync unless another program re-creates it)';
}

export const foreignVirtualServerEvaluator = evaluator({
  ids: ['foreign-ipvs-virtual-server', 'exclude-cidrs-configured'],
  needs: ['snapshot', 'desired'],
  phase: 'pre-switch',
  evaluate: (input: InputWith<'snapshot' | 'desired'>): MigrationFinding[] => {
    const wanted = new Set(input.desired.virtualServers.map((vs) => vs.key));
    const excluded = input.desired.excludeCIDRs.flatMap((text) => {
      const cidr = parseCidr(text);
      return cidr ? [{ text, cidr }] : [];
    });
    const foreign = input.snapshot.services.filter((vs) => !wanted.has(vs.key) && vs.key !== PROBE_VIRTUAL_SERVER);
    const findings: MigrationFinding[] = [];
    if (foreign.length > 0) {
      findings.push(
        makeFinding('foreign-ipvs-virtual-server', {
          message: `${plural(foreign.length, 'virtual server')} in IPVS ${agree(foreign.length, 'belongs', 'belong')} to no Service of this cluster; kube-proxy in nftables mode deletes them every time it starts.`,
          evidence: foreign.map((vs) => ({
            kind: 'virtual-server',
            ref: vs.key,
            value: { scheduler: vs.scheduler, realServers: vs.destinations.length },
            detail: whyForeign(vs, input.desired.families, excluded),
          })),
        }),
      );
    }
    if (input.desired.excludeCIDRs.length > 0) {
      const inside = (text: string): number => {
        const cidr = parseCidr(text);
        return cidr ? input.snapshot.services.filter((vs) => vs.address !== null && cidrContains(cidr, vs.address)).length : 0;
      };
      findings.push(
        makeFinding('exclude-cidrs-configured', {
          message: `ipvs.excludeCIDRs lists ${plural(input.desired.excludeCIDRs.length, 'range')}; nftables mode ignores it.`,
          evidence: input.desired.excludeCIDRs.map((text) => ({ kind: 'config-field', ref: 'ipvs.excludeCIDRs', value: text, detail: `${plural(inside(text), 'virtual server')} inside` })),
        }),
      );
    }
    return findings;
  },
});

export const nodePortAddressesEvaluator = evaluator({
  ids: ['nodeport-addresses-narrowed'],
  needs: ['config', 'desired', 'primaryNodeIPs'],
  phase: 'pre-switch',
  evaluate: (input: InputWith<'config' | 'desired' | 'primaryNodeIPs'>): MigrationFinding[] => {
    // Explicit nodePortAddresses mean the same addresses in both modes.
    if (input.config.nodePortAddresses.length > 0 || input.primaryNodeIPs.length === 0) return [];
    const kept = new Set(input.primaryNodeIPs);
    const lost = new Map<string, { count: number; services: ServicePortRef[]; examples: string[] }>();
    for (const vs of input.desired.virtualServers) {
      if (vs.role !== 'node-port' || kept.has(vs.address)) continue;
      const entry = lost.get(vs.address) ?? { count: 0, services: [], examples: [] };
      entry.count++;
      entry.services.push(vs.service);
      if (entry.examples.length < 3) entry.examples.push(vs.key);
      lost.set(vs.address, entry);
    }
    if (lost.size === 0) return [];
    const interfaceOf = new Map<string, string>();
    for (const iface of input.interfaces ?? []) for (const a of iface.addresses) interfaceOf.set(a.address, iface.name);
    const healthChecked = [...(input.services?.values() ?? [])].filter((s) => (s.healthCheckNodePort ?? 0) > 0).length;
    const addresses = [...lost.keys()].sort();
    const evidence: Evidence[] = addresses.map((address) => {
      const entry = lost.get(address) ?? { count: 0, examples: [] };
      return { kind: 'interface-address', ref: `${interfaceOf.get(address) ?? '?'} ${address}`, value: { nodePortVirtualServers: entry.count }, detail: entry.examples.join(', ') };
    });
    evidence.unshift({ kind: 'config-field', ref: 'nodePortAddresses', value: [], detail: `nftables mode defaults to primary: ${input.primaryNodeIPs.join(', ')}` });
    return [
      makeFinding('nodeport-addresses-narrowed', {
        message: `NodePorts answer on ${plural(addresses.length, 'address')} besides the primary IPs (${addresses.join(', ')}) in IPVS mode only${healthChecked > 0 ? `; ${plural(healthChecked, 'health-check node port')} narrow the same way` : ''}.`,
        services: [...lost.values()].flatMap((e) => e.services),
        evidence,
      }),
    ];
  },
});

/** The on-link subnet of a node interface (not kube-ipvs0, not loopback) that holds `address`, as "eth0 192.168.1.10/24". */
function onLinkSubnet(address: string, interfaces: InputWith<'interfaces'>['interfaces']): string | null {
  const family = addressFamilyOf(address);
  for (const iface of interfaces) {
    if (iface.name === KUBE_IPVS0 || iface.loopback) continue;
    for (const a of iface.addresses) {
      if (a.family !== family || a.address === address) continue;
      const cidr = parseCidr(`${a.address}/${a.prefixLength}`);
      if (cidr && cidrContains(cidr, address)) return `${iface.name} ${a.address}/${a.prefixLength}`;
    }
  }
  return null;
}

export const vipArpEvaluator = evaluator({
  ids: ['vip-answers-arp'],
  needs: ['desired', 'interfaces', 'sysctls'],
  phase: 'pre-switch',
  evaluate: (input: InputWith<'desired' | 'interfaces' | 'sysctls'>): MigrationFinding[] => {
    // arp_ignore 1 or more (strictARP) keeps nodes from answering for kube-ipvs0 addresses; IPv6 has no ARP.
    const arpIgnore = input.sysctls.values['net.ipv4.conf.all.arp_ignore'];
    if (arpIgnore !== 0) return [];
    const bound = new Set(input.desired.kubeIpvs0Addresses);
    // Bound on a real interface already: it stays local there in nftables mode too.
    const onRealInterface = new Set(input.interfaces.filter((i) => i.name !== KUBE_IPVS0).flatMap((i) => i.addresses.map((a) => a.address)));
    const byAddress = new Map<string, { subnet: string; services: ServicePortRef[] }>();
    for (const vs of input.desired.virtualServers) {
      if ((vs.role !== 'external-ip' && vs.role !== 'load-balancer') || vs.family !== 'inet' || !bound.has(vs.address) || onRealInterface.has(vs.address)) continue;
      const seen = byAddress.get(vs.address);
      if (seen) {
        seen.services.push(vs.service);
        continue;
      }
      const subnet = onLinkSubnet(vs.address, input.interfaces);
      if (subnet !== null) byAddress.set(vs.address, { subnet, services: [vs.service] });
    }
    if (byAddress.size === 0) return [];
    const addresses = [...byAddress.keys()].sort();
    return [
      makeFinding('vip-answers-arp', {
        message: `${plural(addresses.length, 'external or load-balancer IP')} (${addresses.join(', ')}) ${agree(addresses.length, 'lies', 'lie')} in a subnet of ${input.node} with arp_ignore 0: the node answers ARP for ${agree(addresses.length, 'it', 'them')} in IPVS mode only.`,
        services: [...byAddress.values()].flatMap((e) => e.services),
        evidence: [
          { kind: 'sysctl', ref: 'net.ipv4.conf.all.arp_ignore', value: arpIgnore, detail: 'the node answers ARP for every local address, kube-ipvs0 included' },
          ...addresses.map((address): Evidence => {
            const entry = byAddress.get(address);
            return { kind: 'interface-address', ref: `${KUBE_IPVS0} ${address}`, value: entry?.subnet ?? null, detail: entry ? uniqueRefs(entry.services) : null };
          }),
        ],
        heuristic: true,
      }),
    ];
  },
});

function uniqueRefs(services: readonly ServicePortRef[]): string {
  return [...new Set(services.map(serviceRefKey))].sort().join(', ');
}
