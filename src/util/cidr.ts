/**
 * A CIDR as the network Go's net.IPNet.String() prints, which is what kube-proxy holds after
 * netutils.ParseCIDRSloppy (k8s.io/utils/net) and writes into its ipset entries: host bits cleared,
 * canonical address, prefix length — so " 10.1.2.3/8 " becomes "10.0.0.0/8". Pure.
 */
import { formatAddress, parseCidr } from './ip.js';

/** The canonical network of a CIDR, or null when the text is not one (Go's ParseCIDR refuses zones too). */
export function canonicalNetwork(text: string): string | null {
  if (text.includes('%')) return null;
  const cidr = parseCidr(text);
  if (cidr === null) return null;
  const masked = cidr.bytes.map((byte, i) => {
    const keep = Math.min(8, Math.max(0, cidr.prefixLength - i * 8));
    return byte & ((0xff << (8 - keep)) & 0xff);
  });
  return `${formatAddress(cidr.family, masked)}/${cidr.prefixLength}`;
}
