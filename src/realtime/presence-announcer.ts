import type { RoomEventPayloads } from '../contract/events';
import type { Broadcaster } from '../events/broadcaster';
import type { PresenceCounter } from '../events/presence';
import type { Logger } from '../shared/logger';

export type PresenceChange = RoomEventPayloads['presence'];

interface Window {
  timer: NodeJS.Timeout;
  /** The users whose presence changed since the window's last publish (their last change). */
  pending: Map<string, PresenceChange>;
}

/**
 * Publishes presence changes (a user's first socket in a room, or their last gone), batched per
 * room: the first change in a quiet room goes out at once as `presence`; changes within the next
 * `windowMs` wait and go out together when it ends, as one `presence:batch` (or a `presence` when
 * there is one), and a new window opens while changes keep coming. A burst of joins into a room
 * of 1,000 then costs the room one event per window, not one per join.
 *
 * A batch carries each user's state as the presence map has it when the batch goes out (joined
 * with who they are, or left), not the transitions it collected: a user who joined on one node
 * while their last socket left on another ends right on every client, whichever node publishes
 * last. `windowMs` 0 publishes every change at once.
 */
export class PresenceAnnouncer {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly broadcaster: Pick<Broadcaster, 'publish'>,
    private readonly presence: PresenceCounter,
    private readonly windowMs: number,
    private readonly logger: Logger,
  ) {}

  announce(roomId: string, change: PresenceChange): void {
    const w = this.windows.get(roomId);
    if (w) {
      w.pending.set(change.userId, change);
      return;
    }
    this.publish(roomId, 'presence', change);
    if (this.windowMs > 0) this.open(roomId);
  }

  /** A deleted room: what waits is dropped (no presence is announced for a room that is gone). */
  forget(roomId: string): void {
    const w = this.windows.get(roomId);
    if (w) clearTimeout(w.timer);
    this.windows.delete(roomId);
  }

  close(): void {
    for (const w of this.windows.values()) clearTimeout(w.timer);
    this.windows.clear();
  }

  private open(roomId: string): void {
    const timer = setTimeout(() => void this.flush(roomId), this.windowMs);
    timer.unref?.();
    this.windows.set(roomId, { timer, pending: new Map() });
  }

  private async flush(roomId: string): Promise<void> {
    const w = this.windows.get(roomId);
    if (!w) return;
    if (!w.pending.size) {
      // A window without changes: the room is quiet again.
      this.windows.delete(roomId);
      return;
    }
    const collected = [...w.pending.values()];
    // Changes from here on wait for the next window, which opens now.
    this.windows.delete(roomId);
    this.open(roomId);
    try {
      const now = await this.presence.present(
        roomId,
        collected.map((c) => c.userId),
      );
      if (!this.windows.has(roomId)) return;
      const changes: PresenceChange[] = collected.map((c) => {
        const user = now.get(c.userId);
        return user ? { ...user, state: 'joined' } : { userId: c.userId, displayName: c.displayName, kind: c.kind, state: 'left' };
      });
      if (changes.length === 1) this.publish(roomId, 'presence', changes[0]!);
      else this.publish(roomId, 'presence:batch', { changes });
    } catch (err) {
      this.logger.warn('presence publish failed', { roomId, err });
    }
  }

  private publish<E extends 'presence' | 'presence:batch'>(roomId: string, event: E, payload: RoomEventPayloads[E]): void {
    void this.broadcaster.publish(roomId, event, payload).catch((err) => this.logger.warn('presence publish failed', { roomId, err }));
  }
}
