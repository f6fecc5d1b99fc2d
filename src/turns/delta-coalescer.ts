/**
 * Merges the text deltas of one stream (one agent of one turn) and flushes them at most every
 * `flushMs`, and at once when the caller reaches a boundary (tool call, agent end, turn end).
 * Fewer, larger frames: clients get ~25 frames a second per agent instead of one per token.
 */
export class DeltaCoalescer<K = string> {
  private readonly buffers = new Map<K, { text: string; timer: NodeJS.Timeout | null }>();

  constructor(
    private readonly flushMs: number,
    private readonly emit: (key: K, text: string) => void,
  ) {}

  push(key: K, text: string): void {
    if (!text) return;
    let b = this.buffers.get(key);
    if (!b) this.buffers.set(key, (b = { text: '', timer: null }));
    b.text += text;
    if (this.flushMs <= 0) {
      this.flush(key);
      return;
    }
    if (!b.timer) b.timer = setTimeout(() => this.flush(key), this.flushMs);
  }

  /** Sends what is buffered for `key` now (a boundary). */
  flush(key: K): void {
    const b = this.buffers.get(key);
    if (!b) return;
    if (b.timer) clearTimeout(b.timer);
    this.buffers.delete(key);
    if (b.text) this.emit(key, b.text);
  }

  /** Takes what is buffered for `key` without sending it (its sender sends it itself). */
  take(key: K): string {
    const b = this.buffers.get(key);
    if (!b) return '';
    if (b.timer) clearTimeout(b.timer);
    this.buffers.delete(key);
    return b.text;
  }

  flushAll(): void {
    for (const key of [...this.buffers.keys()]) this.flush(key);
  }

  /** Buffered, not yet sent text of a stream (for snapshots of a turn in flight). */
  pending(key: K): string {
    return this.buffers.get(key)?.text ?? '';
  }
}
