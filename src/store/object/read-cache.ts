/**
 * A least-recently-used cache bounded by bytes, for what the archive reads back from the object
 * store: segments and inits never change once uploaded, so many catchup viewers of one range
 * cost one GET per piece. Entries may carry an expiry (listings and indexes of an hour still
 * being written, which do change).
 */
export class ReadCache<V extends { length: number } | string> {
  private readonly entries = new Map<string, { value: V; bytes: number; expiresAt: number }>();
  private bytes = 0;
  hits = 0;
  misses = 0;

  constructor(private readonly maxBytes: number, private readonly now: () => number = Date.now) {}

  get(key: string): V | undefined {
    const e = this.entries.get(key);
    if (!e || e.expiresAt <= this.now()) {
      if (e) this.drop(key);
      this.misses++;
      return undefined;
    }
    this.entries.delete(key);
    this.entries.set(key, e);
    this.hits++;
    return e.value;
  }

  set(key: string, value: V, ttlMs = Infinity): void {
    const bytes = value.length + key.length;
    if (bytes > this.maxBytes / 8) return; // one entry never pushes out most of the others
    this.drop(key);
    this.entries.set(key, { value, bytes, expiresAt: this.now() + ttlMs });
    this.bytes += bytes;
    while (this.bytes > this.maxBytes) this.drop(this.entries.keys().next().value!);
  }

  /** Forgets every key starting with `prefix` (a deleted directory). */
  forget(prefix: string): void {
    for (const key of [...this.entries.keys()]) if (key.startsWith(prefix)) this.drop(key);
  }

  get size(): number {
    return this.bytes;
  }

  private drop(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    this.bytes -= e.bytes;
  }
}
