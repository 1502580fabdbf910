/** kube-proxy's mode as a name: "" is the Linux default, iptables (cmd/kube-proxy/app/server_linux.go platformApplyDefaults). */
export function effectiveModeName(mode: string): string {
  const m = mode.trim().toLowerCase();
  return m === '' ? 'iptables' : m;
}
