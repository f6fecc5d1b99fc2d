import type { RoomEvent, RoomEventName, RoomEventPayloads } from '../../../src/contract/events';
import type { Broadcaster } from '../../../src/events/broadcaster';

export interface Recorded {
  roomId: string;
  event: RoomEventName;
  payload: Record<string, unknown>;
}

/**
 * A Broadcaster test double: keeps every published event, lets a test wait for one, and can be
 * told to fail the next publish of an event (a Redis outage at the worst moment).
 */
export class RecordingBroadcaster implements Broadcaster {
  readonly published: Recorded[] = [];
  private seq = 0;
  private waiters: { check: () => boolean; resolve: () => void }[] = [];
  private failures = new Map<RoomEventName, number>();

  async publish<E extends RoomEventName>(roomId: string, event: E, payload: RoomEventPayloads[E]): Promise<RoomEvent<E>> {
    const remaining = this.failures.get(event) ?? 0;
    if (remaining > 0) {
      this.failures.set(event, remaining - 1);
      throw new Error(`publishing ${event} failed (test)`);
    }
    this.published.push({ roomId, event, payload: payload as Record<string, unknown> });
    this.waiters = this.waiters.filter((w) => (w.check() ? (w.resolve(), false) : true));
    return { ...payload, roomId, epoch: 'recorded', seq: ++this.seq, ts: Date.now() } as RoomEvent<E>;
  }

  async close() {}

  failNext(event: RoomEventName, times = 1) {
    this.failures.set(event, times);
  }

  /** Events about one file, as [event, stage-or-code, percent?] tuples, in publish order. */
  trail(fileId: string): (string | number)[][] {
    return this.published
      .filter((r) => r.payload.fileId === fileId)
      .map((r) =>
        r.event === 'file:progress'
          ? [r.event, r.payload.stage as string, r.payload.percent as number]
          : r.event === 'file:failed'
            ? [r.event, r.payload.code as string]
            : [r.event],
      );
  }

  until(check: (published: Recorded[]) => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    if (check(this.published)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      this.waiters.push({
        check: () => check(this.published),
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  /** Resolves when a final event (ready or failed) about `fileId` was published. */
  finished(fileId: string) {
    return this.until((p) => p.some((r) => r.payload.fileId === fileId && (r.event === 'file:ready' || r.event === 'file:failed')), `the end of ${fileId}`);
  }
}
