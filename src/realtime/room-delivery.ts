import type { Namespace, Socket } from 'socket.io';
import type { RoomEvent, RoomEventName } from '../contract/events';
import { roomChannel } from './channels';

interface Pending {
  socket: Socket;
  buffer: { event: RoomEventName; data: RoomEvent }[];
}

/**
 * Delivers sequenced room events to this node's sockets. A socket that is joining (replaying or
 * taking a snapshot) is held outside the room's channel; events that arrive meanwhile are buffered
 * and handed over after the replay, without duplicates, before the socket joins the live channel.
 * That makes a rejoin yield exactly the missed events, in order.
 */
export class RoomDelivery {
  private readonly pending = new Map<string, Set<Pending>>();

  constructor(private readonly nsp: () => Namespace) {}

  deliver = (roomId: string, event: RoomEventName, data: RoomEvent): void => {
    // `local`: every node receives every event from Redis and delivers to its own sockets only.
    this.nsp().local.to(roomChannel(roomId)).emit(event, data as never);
    const waiting = this.pending.get(roomId);
    if (waiting) for (const p of waiting) p.buffer.push({ event, data });
  };

  /** Starts holding events for a joining socket. Call before reading the replay log or the seq. */
  hold(socket: Socket, roomId: string): Pending {
    const p: Pending = { socket, buffer: [] };
    let set = this.pending.get(roomId);
    if (!set) this.pending.set(roomId, (set = new Set()));
    set.add(p);
    return p;
  }

  /** Emits held events after `afterSeq`, then joins the live channel, in one synchronous step. */
  release(p: Pending, roomId: string, afterSeq: number): void {
    this.drop(p, roomId);
    let last = afterSeq;
    for (const { event, data } of p.buffer) {
      if (data.seq <= last) continue;
      p.socket.emit(event, data as never);
      last = data.seq;
    }
    if (p.socket.connected) p.socket.join(roomChannel(roomId));
  }

  /** Stops holding without joining (join refused or failed). */
  drop(p: Pending, roomId: string): void {
    const set = this.pending.get(roomId);
    if (!set) return;
    set.delete(p);
    if (set.size === 0) this.pending.delete(roomId);
  }
}
