import type { LoggedRoomEvent, RoomEvent, RoomEventName } from '../contract/events';
import type { TurnStatus } from '../contract/enums';
import type { Orm } from '../db/orm';
import { Message, Turn } from '../db/entities';
import type { RoomEvents } from '../events/room-events';
import type { StreamPosition } from '../events/stream-position';
import { requireSessionMember } from './access';

export interface RoomStreamEvent {
  event: RoomEventName;
  data: RoomEvent;
}

/** An open stream of one room's events on this node, in order, without duplicates. */
export interface RoomStream {
  /** True when `after` could not be replayed (the log no longer reaches back, or another epoch). */
  gap: boolean;
  /** Hands over the replayed events, then every live one as it arrives. */
  start(onEvent: (e: RoomStreamEvent) => void): void;
  close(): void;
}

/**
 * Room events for transports other than sockets (an HTTP event stream of a chat turn): the same
 * pipeline, a replay from the log by position, then the live events, handed over without a gap
 * or a duplicate (as a joining socket gets them). Sessions are checked for membership here.
 */
export class RoomStreams {
  constructor(
    private readonly orm: Orm,
    private readonly events: Pick<RoomEvents, 'subscribe' | 'replayLog' | 'delivered' | 'follow'>,
  ) {}

  /** The room of a session the user may see; SESSION_NOT_FOUND otherwise. */
  async roomOfSession(userId: string, sessionId: string): Promise<string> {
    const { room } = await requireSessionMember(this.orm.em.fork(), sessionId, userId);
    return room.id;
  }

  /** The room stream's position now (its epoch, and its last seq). */
  head(roomId: string): Promise<StreamPosition> {
    return this.events.replayLog.head(roomId);
  }

  /** A turn of the session, or the session's newest one when no id is given; null if none. */
  async turnOf(sessionId: string, turnId?: string): Promise<{ turnId: string; status: TurnStatus } | null> {
    const em = this.orm.em.fork();
    const turn = turnId
      ? await em.findOne(Turn, { id: turnId, session: sessionId })
      : await em.findOne(Turn, { session: sessionId }, { orderBy: [{ queuedAt: 'desc' }, { id: 'desc' }] });
    return turn ? { turnId: turn.id, status: turn.status } : null;
  }

  /**
   * What a turn that ended left in the database: its status and its agents' messages in order.
   * Null while it has not ended (its answers are not committed yet).
   */
  async committedTurn(turnId: string): Promise<{ status: TurnStatus; answers: { agentKey: string; content: string; status: string; modelAlias: string | null }[] } | null> {
    const em = this.orm.em.fork();
    const turn = await em.findOne(Turn, { id: turnId });
    if (!turn || turn.status === 'queued' || turn.status === 'running') return null;
    const messages = await em.find(Message, { turn: turnId, authorType: 'agent' }, { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
    return {
      status: turn.status,
      answers: messages.map((m) => ({ agentKey: m.agentKey ?? 'agent', content: m.content, status: String(m.status), modelAlias: m.modelAlias ?? null })),
    };
  }

  /**
   * Opens the room's stream: live from now on, or, with `after`, from the event after that
   * position (replayed from the log, then live). Listening starts before the replay is read, so
   * nothing published meanwhile is missed; what both hold is handed over once.
   */
  async open(roomId: string, after?: StreamPosition): Promise<RoomStream> {
    const held: RoomStreamEvent[] = [];
    let sink: ((e: RoomStreamEvent) => void) | undefined;
    let last: StreamPosition | undefined;
    const pass = (e: RoomStreamEvent) => {
      // Within one epoch, only what comes after the last event handed over.
      if (last && e.data.epoch === last.epoch && e.data.seq <= last.seq) return;
      last = { epoch: e.data.epoch, seq: e.data.seq };
      sink!(e);
    };
    const unsubscribe = this.events.subscribe(roomId, (event, data) => {
      if (sink) pass({ event, data });
      else held.push({ event, data });
    });
    try {
      // A room this node does not follow yet (scaled mode) is followed from its log's head.
      if (this.events.delivered(roomId) === undefined && held.length === 0) await this.events.follow(roomId);
      let replayed: LoggedRoomEvent[] = [];
      let gap = false;
      if (after) {
        const r = await this.events.replayLog.since(roomId, after.seq, after.epoch);
        if (r.gap) gap = true;
        else replayed = r.events;
        last = after;
      }
      return {
        gap,
        start(onEvent) {
          sink = onEvent;
          for (const e of replayed) pass({ event: e.event, data: e.data });
          for (const e of held.splice(0)) pass(e);
        },
        close: unsubscribe,
      };
    } catch (err) {
      unsubscribe();
      throw err;
    }
  }
}
