/**
 * The container's memory limit, and a warning before the agent reaches it. The agent's memory grows
 * with the node's table and the cluster's Services (README, Deploy: the limit to set per size); past
 * the limit the kernel kills it without a word in its log. After each poll, an agent whose RSS has
 * come within WARN_SHARE of the limit says so once, with the figures and what to do, and once more
 * when it is back under CLEAR_SHARE.
 *
 * The limit is the cgroup's: memory.max (cgroup v2, "max" when unlimited) or, on a cgroup v1 node,
 * memory/memory.limit_in_bytes (a page-rounded 2^63 − 1 when unlimited), as the container sees them
 * under /sys/fs/cgroup (Documentation/admin-guide/cgroup-v2.rst, "memory.max").
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const WARN_SHARE = 0.85;
export const CLEAR_SHARE = 0.75;
/** Above this a v1 limit means "no limit" (the kernel writes PAGE_COUNTER_MAX × page size). */
const UNLIMITED_V1 = 2 ** 62;

export interface MemoryLimit {
  bytes: number;
  source: string;
}

/** A cgroup file's limit: bytes, or null for none ("max", a v1 "unlimited", anything unparsable). */
export function parseCgroupLimit(text: string): number | null {
  const value = text.trim();
  if (!/^\d{1,20}$/.test(value)) return null;
  const bytes = Number(value);
  return bytes > 0 && bytes < UNLIMITED_V1 ? bytes : null;
}

/** The limit the container runs under, or null when there is none or it cannot be read. */
export function readMemoryLimit(cgroupRoot = '/sys/fs/cgroup'): MemoryLimit | null {
  for (const file of ['memory.max', 'memory/memory.limit_in_bytes']) {
    const path = join(cgroupRoot, file);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      continue;
    }
    const bytes = parseCgroupLimit(text.slice(0, 64));
    return bytes === null ? null : { bytes, source: path };
  }
  return null;
}

export interface MemoryLogger {
  warn(fields: object, message: string): void;
  info(fields: object, message: string): void;
}

/** Called after each poll; says when RSS crosses WARN_SHARE of the limit, and when it is back under CLEAR_SHARE. */
export class MemoryLimitWatch {
  private near = false;

  constructor(
    private readonly limit: MemoryLimit,
    private readonly logger: MemoryLogger,
    private readonly rss: () => number = () => process.memoryUsage.rss(),
  ) {}

  afterPoll(): void {
    const rss = this.rss();
    const share = rss / this.limit.bytes;
    const fields = { rssMb: Math.round(rss / 2 ** 20), limitMb: Math.round(this.limit.bytes / 2 ** 20), share: Math.round(share * 100) / 100, source: this.limit.source };
    if (!this.near && share >= WARN_SHARE) {
      this.near = true;
      this.logger.warn(
        fields,
        `RSS is ${Math.round(share * 100)}% of the container's memory limit: the kernel kills the agent at the limit; raise resources.limits.memory for this node's size (README, Deploy) or turn per-backend series off (--backend-metrics=false)`,
      );
    } else if (this.near && share < CLEAR_SHARE) {
      this.near = false;
      this.logger.info(fields, 'RSS is back under three quarters of the memory limit');
    }
  }
}
