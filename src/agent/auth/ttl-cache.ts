/**
 * A bounded cache whose entries expire, as the apiserver's token and webhook-authorizer caches are
 * (k8s.io/apiserver/pkg/authentication/token/cache, plugin/pkg/authorizer/webhook): each entry
 * lives for the TTL it was stored with, and past `maxEntries` the least recently used one goes, so
 * a client that sends a new token with every request cannot grow it. Pure: the clock is passed in.
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();

  constructor(
    private readonly maxEntries: number,
    private readonly nowMs: () => number,
  ) {}

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= this.nowMs()) return undefined;
    this.entries.set(key, entry); // most recently used last
    return entry.value;
  }

  set(key: string, value: V, ttlMs: number): void {
    this.entries.delete(key);
    if (ttlMs <= 0) return;
    this.entries.set(key, { value, expiresAt: this.nowMs() + ttlMs });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
