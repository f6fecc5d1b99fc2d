/**
 * A map that keeps at most `max` entries, dropping the one used least recently. For things that are
 * costly to build and safe to share (model clients, compiled graphs), keyed by what they are built from.
 */
export class BoundedCache<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(private readonly max: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** The entry for `key`, built by `build` the first time (and again after it was dropped). */
  getOrCreate(key: K, build: () => V): V {
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      // Re-inserted: a Map iterates in insertion order, so the first key is the least recently used.
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const value = build();
    this.entries.set(key, value);
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value as K);
    return value;
  }
}
