import type { LoggedRoomEvent } from '../contract/events';
import type { StreamPosition } from './stream-position';

/**
 * What `since()` found: the events after `lastSeq`, or `gap` when the log no longer reaches back or
 * `lastSeq` belongs to another epoch; either way with the room's current position.
 */
export type ReplayResult = ({ gap: false; events: LoggedRoomEvent[] } | { gap: true }) & StreamPosition;

/**
 * The recent room events kept for clients that reconnect (`room:join { lastSeq, epoch }`): bounded
 * in length and in age. Implementations: a memory ring (embedded) and a Redis stream (scaled).
 */
export interface ReplayLog {
  /** The room's epoch and latest seq (0 before any event); a room without a stream gets one here. */
  head(roomId: string): Promise<StreamPosition>;
  /** The events after `lastSeq` of `epoch` (of the current epoch when none is given). */
  since(roomId: string, lastSeq: number, epoch?: string): Promise<ReplayResult>;
}
