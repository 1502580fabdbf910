/**
 * The composition root: the one place that builds the real edges (libnl, procfs, the Kubernetes
 * API, HTTP) and hands them to the core. Everything else receives what it needs as arguments.
 */
import { IpvsReader } from './ipvs/reader.js';
import { openGenericNetlink } from './netlink/libnl.js';

export function createIpvsReader(): IpvsReader {
  return new IpvsReader({ open: openGenericNetlink });
}
