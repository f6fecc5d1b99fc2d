import { mergeDeltas } from '../../events/replay-log';
import { AppError } from '../../shared/errors';
import { roomChannel } from '../channels';
import type { RealtimeContext } from '../context';
import { AFTER_ACK, type AppSocket, type EventHandlers, type HandlerResult } from '../handler-kit';
import { requireSocketAction } from '../socket-roles';
import { snapshotAt } from './room-snapshot';

const TYPING_MIN_INTERVAL_MS = 300;

/** room:join (replay or snapshot), room:leave, typing, and presence when a socket goes. */
export function roomHandlers(ctx: RealtimeContext): Pick<EventHandlers, 'room:join' | 'room:leave' | 'typing'> & {
  onDisconnect(socket: AppSocket): void;
} {
  // Per socket: when it last sent a typing event for a (room, session, state).
  const lastTyping = new WeakMap<AppSocket, Map<string, number>>();
  // The joins in flight, as `socketId roomId` (one per socket and room): nothing kept per socket between joins.
  const joining = new Set<string>();

  /**
   * A socket enters or leaves a room: presence goes out only for the user's first socket in the
   * room and their last, so tabs, devices and re-joins do not flood the room (or its replay log);
   * changes close together go out as one event (`PresenceAnnouncer`).
   */
  const presence = (socket: AppSocket, roomId: string, state: 'joined' | 'left') =>
    (state === 'joined'
      ? ctx.presence.enter(roomId, { userId: socket.data.userId, displayName: socket.data.displayName, kind: socket.data.kind })
      : ctx.presence.exit(roomId, socket.data.userId)
    )
      .then((announce) => {
        if (!announce) return;
        ctx.announcer.announce(roomId, {
          userId: socket.data.userId,
          displayName: socket.data.displayName,
          kind: socket.data.kind,
          state,
        });
      })
      .catch((err) => ctx.logger.warn('presence publish failed', { err }));

  /** Marks the socket in the room (announcing the user if it is their first socket there). */
  const entered = (socket: AppSocket, roomId: string) => {
    if (socket.data.rooms.has(roomId)) return;
    socket.data.rooms.add(roomId);
    void presence(socket, roomId, 'joined');
  };

  /** Replay from `lastSeq` when the log reaches back, else a snapshot; the socket is held meanwhile. */
  const join = async (
    socket: AppSocket,
    roomId: string,
    lastSeq: number | undefined,
    epoch: string | undefined,
    retried = false,
  ): Promise<HandlerResult<'room:join'>> => {
    socket.data.roles.delete(roomId);
    socket.leave(roomChannel(roomId));
    const held = ctx.delivery.hold(socket, roomId);
    try {
      // The role is read once holding began: a change committed meanwhile arrives as
      // `member:updated`, which sets the held socket's role and wins over this read. It comes
      // from what this node keeps of the member's role, dropped by every event about it.
      const readRole = () => ctx.services.access.roleOf(roomId, socket.data.userId);
      const roleMark = ctx.joinCache.roleMark(roomId);
      const role = await ctx.joinCache.role(roomId, socket.data.userId, readRole);
      if (!socket.data.roles.has(roomId)) socket.data.roles.set(roomId, role);
      // A kept role that may have gone stale while the join ran (an event about a membership, or
      // events this node did not see) is read again before the join is answered.
      const recheck = async () => {
        if (ctx.joinCache.roleMark(roomId) === roleMark) return;
        const now = await ctx.joinCache.role(roomId, socket.data.userId, readRole);
        if (socket.data.roles.get(roomId) === role) socket.data.roles.set(roomId, now);
      };
      // Past the cap of held events the join starts over once, as a snapshot (with `replayGap` when
      // the client asked for a replay); a room too busy for that is refused for a moment.
      const overflowed = () => {
        ctx.delivery.drop(held);
        if (retried) throw new AppError('RATE_LIMITED', 'The room is too busy to join right now; retry', { retryAfterSeconds: 1 });
        return join(socket, roomId, undefined, undefined, true).then((r) => (lastSeq !== undefined ? { ...r, replayGap: true } : r));
      };
      const at = await ctx.delivery.joinPoint(held);
      // A lastSeq means something only within its epoch: from another one (the stream restarted),
      // or without one, the client gets a snapshot rather than events it would take for others.
      if (lastSeq !== undefined && epoch === at.epoch) {
        const replay = await ctx.replayLog.since(roomId, lastSeq, epoch);
        if (!replay.gap) {
          // Missed events go out as ordinary events, in order, before the ack and before live ones:
          // from the log up to the join point, the rest from the held buffer.
          await recheck();
          if (held.overflowed) return await overflowed();
          const missed = mergeDeltas(replay.events.filter((e) => e.data.seq <= at.seq));
          for (const { event, data } of missed) socket.emit(event, data as never);
          const upTo = { epoch, seq: Math.max(lastSeq, at.seq) };
          // The held events are newer than the ack's seq: they follow the ack, as after a snapshot.
          return {
            mode: 'replay' as const,
            replayed: missed.length,
            ...upTo,
            [AFTER_ACK]: () => {
              ctx.delivery.release(held, upTo);
              entered(socket, roomId);
            },
          };
        }
      }
      const { snapshot, after } = await snapshotAt(ctx, roomId, at);
      await recheck();
      if (held.overflowed) return await overflowed();
      // The ack goes before the events that follow it: ack, then release, in one synchronous step.
      return {
        mode: 'snapshot' as const,
        snapshot,
        epoch: snapshot.epoch,
        seq: snapshot.seq,
        ...(lastSeq !== undefined ? { replayGap: true } : {}),
        [AFTER_ACK]: () => {
          for (const { event, data } of after) socket.emit(event, data as never);
          ctx.delivery.release(held, at);
          entered(socket, roomId);
        },
      };
    } catch (err) {
      ctx.delivery.drop(held);
      if (!socket.rooms.has(roomChannel(roomId))) socket.data.roles.delete(roomId);
      throw err;
    }
  };

  return {
    'room:join': async (socket, { roomId, lastSeq, epoch }) => {
      // Cheap refusals first: a socket already in the room has every event (a rejoin with
      // lastSeq is still served: the client saw a gap), and a second join while one runs waits.
      // (The channel itself, not socket.data.rooms: a member removed over REST leaves the channel.)
      if (lastSeq === undefined && socket.rooms.has(roomChannel(roomId))) {
        throw new AppError('ALREADY_JOINED', 'This socket is in that room already; send lastSeq to catch up', { roomId });
      }
      const key = `${socket.id} ${roomId}`;
      if (joining.has(key)) throw new AppError('JOIN_IN_PROGRESS', 'A join of that room is already in progress on this socket', { roomId });
      joining.add(key);
      try {
        return await join(socket, roomId, lastSeq, epoch);
      } finally {
        joining.delete(key);
      }
    },

    'room:leave': async (socket, { roomId }) => {
      if (!socket.data.rooms.has(roomId)) throw new AppError('VALIDATION_FAILED', 'Not joined to that room');
      socket.leave(roomChannel(roomId));
      socket.data.rooms.delete(roomId);
      socket.data.roles.delete(roomId);
      void presence(socket, roomId, 'left');
      return {};
    },

    typing: async (socket, { roomId, sessionId, on }) => {
      if (!socket.data.rooms.has(roomId)) throw new AppError('VALIDATION_FAILED', 'Join the room first');
      // Viewers receive typing and send none.
      await requireSocketAction(ctx, socket, roomId, 'messages.send');
      let last = lastTyping.get(socket);
      if (!last) lastTyping.set(socket, (last = new Map()));
      // Throttled per socket and room: a burst of keystrokes (in any session) makes one event.
      const key = `${roomId}:${on}`;
      const now = Date.now();
      if (now - (last.get(key) ?? 0) < TYPING_MIN_INTERVAL_MS) return { throttled: true };
      last.set(key, now);
      // Still a member, and the session is one of this room's.
      await ctx.services.access.requireSessionInRoom(roomId, sessionId, socket.data.userId);
      socket.to(roomChannel(roomId)).volatile.emit('typing', { roomId, sessionId, userId: socket.data.userId, on, ts: now });
      return { throttled: false };
    },

    onDisconnect(socket) {
      for (const roomId of socket.data.rooms) void presence(socket, roomId, 'left');
      socket.data.rooms.clear();
      socket.data.roles.clear();
    },
  };
}
