/**
 * The turns this node works on right now: accepted and not yet announced, running, ended and not
 * yet announced. The heartbeat keeps their `heartbeat_at` fresh, which tells every other node's
 * sweep to leave them alone; a turn nobody holds any more goes stale and is taken over.
 * Several holders may hold one turn (a turn ends while its announcement starts); it is released
 * when the last lets go.
 */
export class TurnsInHand {
  private readonly held = new Map<string, number>();

  /** Holds a turn; the returned function lets go (once). */
  hold(turnId: string): () => void {
    this.held.set(turnId, (this.held.get(turnId) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.held.get(turnId) ?? 1) - 1;
      if (n > 0) this.held.set(turnId, n);
      else this.held.delete(turnId);
    };
  }

  /**
   * Holds a turn only if nothing on this node holds it yet, in the same tick as the check: the
   * way one path of this node takes over a turn without racing another path of this node.
   */
  holdIfFree(turnId: string): (() => void) | null {
    return this.held.has(turnId) ? null : this.hold(turnId);
  }

  has(turnId: string): boolean {
    return this.held.has(turnId);
  }

  ids(): string[] {
    return [...this.held.keys()];
  }

  get size(): number {
    return this.held.size;
  }
}
