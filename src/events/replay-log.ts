import type { LoggedRoomEvent } from '../contract/events';

/** What `since()` found: the events after `lastSeq`, or `gap` when the log no longer reaches back. */
export type ReplayResult = { gap: false; events: LoggedRoomEvent[]; seq: number } | { gap: true; seq: number };

/**
 * The recent room events kept for clients that reconnect (`room:join { lastSeq }`): bounded in
 * length and in age. Implementations: a memory ring (embedded) and a Redis stream (scaled).
 */
export interface ReplayLog {
  /** The room's latest seq (0 before any event). */
  currentSeq(roomId: string): Promise<number>;
  since(roomId: string, lastSeq: number): Promise<ReplayResult>;
}
