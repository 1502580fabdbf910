/**
 * Kernel release as in /proc/sys/kernel/osrelease (`uname -r`): "6.1.0-56-amd64",
 * "4.18.0-553.el8_10.x86_64", "5.15.133+". Only the leading major.minor[.patch] matters for
 * kube-proxy's version rules (nf_conntrack merge at 4.19, conn_reuse_mode fix at 5.9). Pure.
 */

export interface KernelVersion {
  /** The release text, trimmed. */
  release: string;
  major: number;
  minor: number;
  patch: number;
}

export function parseKernelRelease(text: string): KernelVersion | null {
  const release = text.trim();
  const match = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(release);
  if (match === null) return null;
  return { release, major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3] ?? '0') };
}

/** true when `version` is at least major.minor (patch ignored, as kube-proxy's checks do). */
export function kernelAtLeast(version: KernelVersion, major: number, minor: number): boolean {
  return version.major > major || (version.major === major && version.minor >= minor);
}
