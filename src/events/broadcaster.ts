import type { RoomEvent, RoomEventName, RoomEventPayloads } from '../contract/events';

/** Hands one sequenced room event to this node's listeners. */
export type Deliver = (roomId: string, event: RoomEventName, data: RoomEvent) => void;

/**
 * Sends a room event to everyone in the room on every node, stamped with the room's next `seq`,
 * and appends it to the room's replay log. Implementations: in-memory (embedded, one node) and
 * Redis (scaled; also usable from a worker process that has no sockets).
 */
export interface Broadcaster {
  publish<E extends RoomEventName>(roomId: string, event: E, payload: RoomEventPayloads[E]): Promise<RoomEvent<E>>;
  close(): Promise<void>;
}
