/**
 * The reader of this network namespace's IPVS table, over libnl: the agent's and the `ipvs`
 * command's, apart from the rest of the composition root (src/wiring.ts) so that `ipvs-sentinel
 * ipvs` loads only what a read needs.
 */
import { existsSync } from 'node:fs';
import { openGenericNetlink } from '../netlink/libnl.js';
import { IpvsReader, ipvsUnavailable, type IpvsReaderOptions } from './reader.js';

/**
 * Resolving the IPVS family by name makes a 5.16+ kernel load ip_vs as a side effect
 * (docs/ipvs-netlink.md §1.4); a monitor must not change the kernel it watches, so the socket is
 * only opened while /proc/net/ip_vs (this network namespace's, like the netlink socket) shows ip_vs
 * is already there.
 */
export function createIpvsReader(options: Pick<IpvsReaderOptions, 'reuse'> = {}): IpvsReader {
  return new IpvsReader({
    ...options,
    open: () => {
      if (!existsSync('/proc/net/ip_vs')) throw ipvsUnavailable();
      return openGenericNetlink();
    },
  });
}
