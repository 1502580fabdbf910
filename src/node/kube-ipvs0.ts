/**
 * Node interfaces over NETLINK_ROUTE (RTM_GETLINK + RTM_GETADDR dumps, what `ip addr` reads) and
 * the kube-ipvs0 facts derived from them (docs/kube-proxy-rules.md §1.2, §1.3). readNodeInterfaces() is
 * the thin reader; kubeIpvs0Addresses() is pure. The address comparison with
 * the desired VIP set (kube-ipvs0-address-missing / -unexpected) belongs to the differ.
 */
import type { NodeInterface } from '../desired/types.js';
import { SentinelError } from '../errors/index.js';
import { NETLINK_ROUTE, openRawNetlink, type NetlinkSocket } from '../netlink/libnl.js';
import type { NlMessage } from '../netlink/message.js';
import { sortAddresses } from '../util/sort-key.js';
import { assembleInterfaces, decodeAddress, decodeLink, DumpCollector, encodeDumpRequest, RTM_GETADDR, RTM_GETLINK, RTM_NEWADDR, RTM_NEWLINK } from './rtnetlink.js';

export const KUBE_IPVS0 = 'kube-ipvs0';
const DUMP_ATTEMPTS = 3;
/** A dump of a node with thousands of addresses is a few dozen datagrams; this bounds a misbehaving socket. */
const MAX_DATAGRAMS = 10_000;

function dump<T>(socket: NetlinkSocket, type: typeof RTM_GETLINK | typeof RTM_GETADDR, seq: number, decode: (message: NlMessage) => T | null): T[] {
  const context = type === RTM_GETLINK ? 'RTM_GETLINK dump' : 'RTM_GETADDR dump';
  for (let attempt = 1; ; attempt++) {
    const attemptSeq = seq + attempt - 1;
    socket.send(encodeDumpRequest(type, attemptSeq, socket.localPort));
    const reply = new DumpCollector(attemptSeq, context, decode);
    // Each datagram is decoded as it arrives: receive() lends its buffer until the next receive.
    let received = 0;
    while (!reply.add(socket.receive())) {
      if (++received >= MAX_DATAGRAMS) throw new SentinelError('NETLINK_PROTOCOL', context, `no NLMSG_DONE after ${MAX_DATAGRAMS} datagrams`);
    }
    if (!reply.interrupted) return reply.items;
    if (attempt >= DUMP_ATTEMPTS) throw new SentinelError('NETLINK_PROTOCOL', context, `interfaces kept changing during ${DUMP_ATTEMPTS} dumps (NLM_F_DUMP_INTR)`);
  }
}

export interface ReadInterfacesOptions {
  /** The socket to use (tests pass a replay); default a fresh NETLINK_ROUTE socket, closed afterwards. */
  socket?: NetlinkSocket;
  /** First sequence number; default derived from the clock. */
  seq?: number;
}

/** Every interface with every IPv4/IPv6 address, as the kernel reports them now. */
export function readNodeInterfaces(options: ReadInterfacesOptions = {}): NodeInterface[] {
  const socket = options.socket ?? openRawNetlink(NETLINK_ROUTE);
  const seq = options.seq ?? (Date.now() & 0x7fffffff);
  try {
    const links = dump(socket, RTM_GETLINK, seq, (m) => (m.type === RTM_NEWLINK ? decodeLink(m) : null));
    const addresses = dump(socket, RTM_GETADDR, seq + DUMP_ATTEMPTS, (m) => (m.type === RTM_NEWADDR ? decodeAddress(m) : null));
    return assembleInterfaces(links, addresses);
  } finally {
    if (options.socket === undefined) socket.close();
  }
}

function isIPv6LinkLocal(address: string): boolean {
  return /^fe[89ab][0-9a-f]:/i.test(address);
}

/**
 * The last answer and the device addresses it was computed from: a node's kube-ipvs0 rarely changes
 * from one poll to the next, and sorting its 10,000 addresses again each poll (a sort key each, a
 * Set, three arrays) left ~1 MB of old-generation garbage per poll for the heap collection to mark.
 */
let last: { addresses: string[]; sorted: readonly string[] } | null = null;

function sameAddresses(device: NodeInterface, addresses: readonly string[]): boolean {
  if (device.addresses.length !== addresses.length) return false;
  for (let i = 0; i < addresses.length; i++) if (device.addresses[i]?.address !== addresses[i]) return false;
  return true;
}

/**
 * The addresses bound to kube-ipvs0, canonical, unique and sorted, or null when the device does not exist.
 * IPv6 link-local addresses are left out, as kube-proxy ignores them. The list is frozen: while the
 * device holds the same addresses in the same order, every call returns the same one.
 */
export function kubeIpvs0Addresses(interfaces: readonly NodeInterface[]): string[] | null {
  const device = interfaces.find((i) => i.name === KUBE_IPVS0);
  if (device === undefined) return null;
  if (last === null || !sameAddresses(device, last.addresses)) {
    const addresses = device.addresses.map((a) => a.address);
    // One sort key per address: a comparator that parses both sides costs ~100 ms at 10,000 VIPs.
    last = { addresses, sorted: Object.freeze(sortAddresses(addresses.filter((a) => !isIPv6LinkLocal(a)))) };
  }
  // Frozen: a caller that tried to change it would throw rather than change the next poll's answer.
  return last.sorted as string[];
}
