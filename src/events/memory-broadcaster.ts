import type { LoggedRoomEvent, RoomEvent, RoomEventName, RoomEventPayloads } from '../contract/events';
import type { Broadcaster, Deliver } from './broadcaster';
import type { ReplayLog, ReplayResult } from './replay-log';
import { newEpoch, type StreamPosition } from './stream-position';

/** Publishes between sweeps of every room's log for expired events. */
const SWEEP_EVERY = 1000;

interface RoomLog {
  /** Made with the counter: a restarted server numbers its rooms from 1 again, on new epochs. */
  epoch: string;
  seq: number;
  /** The log is `events` from index `first` on: dropping from the front moves `first`, not the array. */
  events: { at: number; e: LoggedRoomEvent }[];
  first: number;
}

/**
 * Embedded mode (one node): seq counters and a ring of recent events per room, in memory.
 * Delivery is synchronous, so events go out in seq order by construction.
 */
export class MemoryBroadcaster implements Broadcaster, ReplayLog {
  private readonly rooms = new Map<string, RoomLog>();
  private publishes = 0;

  constructor(
    private readonly deliver: Deliver,
    private readonly opts: { maxEvents: number; ttlSeconds: number; now?: () => number },
  ) {}

  private now() {
    return this.opts.now?.() ?? Date.now();
  }

  private room(roomId: string): RoomLog {
    let r = this.rooms.get(roomId);
    if (!r) {
      r = { epoch: newEpoch(), seq: 0, events: [], first: 0 };
      this.rooms.set(roomId, r);
    }
    return r;
  }

  /** Drops a deleted room's counter and log. */
  forget(roomId: string): void {
    this.rooms.delete(roomId);
  }

  async publish<E extends RoomEventName>(roomId: string, event: E, payload: RoomEventPayloads[E]): Promise<RoomEvent<E>> {
    const r = this.room(roomId);
    const ts = this.now();
    const data = { ...payload, roomId, epoch: r.epoch, seq: ++r.seq, ts } as RoomEvent<E>;
    r.events.push({ at: ts, e: { event, data } as LoggedRoomEvent });
    this.trim(r, ts);
    // Now and then, expire the logs of quiet rooms too (their seq counters stay).
    if (++this.publishes % SWEEP_EVERY === 0) for (const other of this.rooms.values()) this.trim(other, ts);
    this.deliver(roomId, event, data as RoomEvent);
    return data;
  }

  /**
   * Drops what is past the length or the age limit. A full log drops one event per publish:
   * splicing the array's front each time would move every event it holds, so the front index
   * moves instead and the array is cut once the dropped part is as long as the rest.
   */
  private trim(r: RoomLog, now: number) {
    const { events } = r;
    r.first = Math.max(r.first, events.length - this.opts.maxEvents);
    const oldest = now - this.opts.ttlSeconds * 1000;
    while (r.first < events.length && events[r.first]!.at < oldest) r.first++;
    if (r.first > 0 && r.first >= events.length - r.first) {
      r.events = events.slice(r.first);
      r.first = 0;
    }
  }

  async head(roomId: string): Promise<StreamPosition> {
    return this.position(roomId);
  }

  /** The room's epoch and latest seq, at once (delivery being synchronous, also what was delivered). */
  position(roomId: string): StreamPosition {
    const r = this.room(roomId);
    return { epoch: r.epoch, seq: r.seq };
  }

  async since(roomId: string, lastSeq: number, epoch?: string): Promise<ReplayResult> {
    const r = this.room(roomId);
    const head = { epoch: r.epoch, seq: r.seq };
    if ((epoch !== undefined && epoch !== r.epoch) || lastSeq > r.seq) return { gap: true, ...head };
    if (lastSeq === r.seq) return { gap: false, events: [], ...head };
    this.trim(r, this.now());
    const first = r.events[r.first];
    if (!first || first.e.data.seq > lastSeq + 1) return { gap: true, ...head };
    // Seqs are consecutive in the log: the events after `lastSeq` start at a known index.
    return { gap: false, events: r.events.slice(r.first + (lastSeq + 1 - first.e.data.seq)).map((x) => x.e), ...head };
  }

  async close() {
    this.rooms.clear();
  }
}
