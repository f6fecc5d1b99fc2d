import type { Namespace, Socket } from 'socket.io';
import type { RoomEvent, RoomEventName } from '../contract/events';
import type { RoomEvents } from '../events/room-events';
import type { StreamPosition } from '../events/stream-position';
import { roomChannel } from './channels';
import { WriteBatcher } from './write-batcher';

export interface Held {
  readonly socket: Socket;
  readonly roomId: string;
  /** What this node had delivered of the room when holding began; undefined if it did not follow the room. */
  readonly at: StreamPosition | undefined;
  readonly buffer: { event: RoomEventName; data: RoomEvent }[];
  /** More events arrived than a join may hold: the buffer was let go and the join starts over. */
  overflowed: boolean;
}

/** Events one joining socket may hold; past it the join is answered from a fresh snapshot. */
export const HELD_EVENTS_MAX = 2000;

/**
 * Delivers sequenced room events to this node's sockets. A socket that is joining (replaying or
 * taking a snapshot) is held outside the room's channel; events that arrive meanwhile are buffered
 * and handed over after the replay, without duplicates, before the socket joins the live channel.
 * The join stands on what this node had delivered when holding began (`joinPoint`), not on the
 * replay log's head: the log can be ahead of this node, and events between the two would reach
 * the socket from the log and again from the live channel.
 */
export class RoomDelivery {
  private readonly pending = new Map<string, Set<Held>>();
  /** A room's frames of one event-loop turn leave each socket in one write (see WriteBatcher). */
  readonly writes = new WriteBatcher();

  constructor(
    private readonly nsp: () => Namespace,
    private readonly positions: Pick<RoomEvents, 'delivered' | 'follow'>,
    private readonly maxHeld = HELD_EVENTS_MAX,
    /** Counts the frames emitted: one per socket in the room's channel here. */
    private readonly countFrames: (frames: number) => void = () => {},
  ) {}

  deliver = (roomId: string, event: RoomEventName, data: RoomEvent): void => {
    // `local`: every node receives every event from Redis and delivers to its own sockets only.
    const nsp = this.nsp();
    const channel = roomChannel(roomId);
    const sockets = nsp.adapter?.rooms.get(channel);
    // A delta holds the room's writes only to the end of its task (a token's latency is what
    // readers see); any other event to the end of this event-loop turn, and what follows it in
    // the turn, deltas too, leaves in the same write.
    if (sockets) this.writes.hold(nsp, channel, sockets, event === 'agent:delta' ? 'task' : 'turn');
    nsp.local.to(channel).emit(event, data as never);
    this.countFrames(sockets?.size ?? 0);
    const waiting = this.pending.get(roomId);
    if (!waiting) return;
    for (const p of waiting) {
      if (p.overflowed) continue;
      if (p.buffer.length < this.maxHeld) p.buffer.push({ event, data });
      else {
        // A join held while a room streams fast must not grow without bound.
        p.overflowed = true;
        p.buffer.length = 0;
      }
    }
  };

  /** Rooms with a socket being held here. */
  heldRooms(): Iterable<string> {
    return this.pending.keys();
  }

  /** Whether this socket is being held while it joins the room. */
  isHeld(socket: Socket, roomId: string): boolean {
    for (const p of this.pending.get(roomId) ?? []) if (p.socket === socket) return true;
    return false;
  }

  /** Starts holding events for a joining socket, and notes what this node has delivered so far. */
  hold(socket: Socket, roomId: string): Held {
    // One synchronous step: every event delivered after `at` lands in the buffer.
    const p: Held = { socket, roomId, at: this.positions.delivered(roomId), buffer: [], overflowed: false };
    let set = this.pending.get(roomId);
    if (!set) this.pending.set(roomId, (set = new Set()));
    set.add(p);
    return p;
  }

  /**
   * The position the join stands on: every event up to it was delivered here before holding began,
   * every later one is in the buffer or still to come. A room this node did not follow is followed
   * from its log's head first.
   */
  async joinPoint(p: Held): Promise<StreamPosition> {
    if (p.buffer.length === 0 && p.at === undefined) await this.positions.follow(p.roomId);
    const first = p.buffer[0]?.data;
    // The event before the first one held (a held event may begin a new epoch: then its start).
    const at = first ? { epoch: first.epoch, seq: first.seq - 1 } : (p.at ?? this.positions.delivered(p.roomId));
    if (!at) throw new Error(`room ${p.roomId} is not followed`);
    return at;
  }

  /** Emits held events after `after`, then joins the live channel, in one synchronous step. */
  release(p: Held, after: StreamPosition): void {
    this.drop(p);
    let last = after;
    for (const { event, data } of p.buffer) {
      // Within the epoch of `after`, only what follows it; a later epoch (the stream restarted meanwhile) whole.
      if (data.epoch === last.epoch && data.seq <= last.seq) continue;
      p.socket.emit(event, data as never);
      last = data;
    }
    if (p.socket.connected) p.socket.join(roomChannel(p.roomId));
  }

  /** Stops holding without joining (join refused or failed). */
  drop(p: Held): void {
    const set = this.pending.get(p.roomId);
    if (!set) return;
    set.delete(p);
    if (set.size === 0) this.pending.delete(p.roomId);
  }
}
