import type { RoomEvent, RoomEventName, RoomEventPayloads } from '../contract/events';

/**
 * Sends a room event to everyone in the room on every node, stamped with the room's next `seq`,
 * and appends it to the room's replay log. Implementations: in-memory (embedded, one node) and
 * Redis (scaled; also usable from a worker process that has no sockets).
 */
export interface Broadcaster {
  publish<E extends RoomEventName>(roomId: string, event: E, payload: RoomEventPayloads[E]): Promise<RoomEvent<E>>;
  close(): Promise<void>;
}

/** The Socket.IO channel of a room. */
export const roomChannel = (roomId: string) => `room:${roomId}`;
/** The Socket.IO channel of one user (all their sockets, on every node). */
export const userChannel = (userId: string) => `user:${userId}`;
