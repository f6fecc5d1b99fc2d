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

/**
 * Events to send a socket that catches up: consecutive `agent:delta`s of one turn and agent become
 * one, with their texts joined, the `seq` and `ts` of the last and `fromSeq` of the first, so a
 * long turn replays as a few frames instead of one per token. The text a client assembles is the
 * same; a client that tracks seqs takes `fromSeq..seq` as received (docs/api.md). No run
 * continues past a seq in `endsAt`.
 */
export function mergeDeltas(events: readonly LoggedRoomEvent[], opts: { endsAt?: ReadonlySet<number> } = {}): LoggedRoomEvent[] {
  const out: LoggedRoomEvent[] = [];
  for (const e of events) {
    const prev = out.at(-1);
    if (
      prev &&
      // A run ends at a seq the caller names (a snapshot's turn text stands there).
      !opts.endsAt?.has(prev.data.seq) &&
      e.event === 'agent:delta' &&
      prev.event === 'agent:delta' &&
      prev.data.epoch === e.data.epoch &&
      prev.data.seq + 1 === (e.data.fromSeq ?? e.data.seq) &&
      (prev as LoggedRoomEvent<'agent:delta'>).data.turnId === (e as LoggedRoomEvent<'agent:delta'>).data.turnId &&
      (prev as LoggedRoomEvent<'agent:delta'>).data.agentKey === (e as LoggedRoomEvent<'agent:delta'>).data.agentKey
    ) {
      const p = prev as LoggedRoomEvent<'agent:delta'>;
      out[out.length - 1] = {
        event: 'agent:delta',
        data: { ...p.data, text: p.data.text + (e as LoggedRoomEvent<'agent:delta'>).data.text, seq: e.data.seq, ts: e.data.ts, fromSeq: p.data.fromSeq ?? p.data.seq },
      };
      continue;
    }
    out.push(e);
  }
  return out;
}
