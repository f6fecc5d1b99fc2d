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
  events: { at: number; e: LoggedRoomEvent }[];
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
      r = { epoch: newEpoch(), seq: 0, events: [] };
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

  private trim(r: RoomLog, now: number) {
    const overflow = r.events.length - this.opts.maxEvents;
    if (overflow > 0) r.events.splice(0, overflow);
    const oldest = now - this.opts.ttlSeconds * 1000;
    let expired = 0;
    while (expired < r.events.length && r.events[expired]!.at < oldest) expired++;
    if (expired) r.events.splice(0, expired);
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
    const first = r.events[0];
    if (!first || first.e.data.seq > lastSeq + 1) return { gap: true, ...head };
    return { gap: false, events: r.events.filter((x) => x.e.data.seq > lastSeq).map((x) => x.e), ...head };
  }

  async close() {
    this.rooms.clear();
  }
}
