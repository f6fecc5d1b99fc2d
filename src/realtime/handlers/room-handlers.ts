import type { MemberDto } from '../../contract/dto';
import type { RoomSnapshot, SocketData } from '../../contract/events';
import { AppError } from '../../shared/errors';
import { roomChannel } from '../channels';
import type { RealtimeContext } from '../context';
import { AFTER_ACK, type AppSocket, type EventHandlers } from '../handler-kit';

const TYPING_MIN_INTERVAL_MS = 300;
const SNAPSHOT_SESSIONS = 20;
const SNAPSHOT_MESSAGES = 50;

/** room:join (replay or snapshot), room:leave, typing, and presence when a socket goes. */
export function roomHandlers(ctx: RealtimeContext): Pick<EventHandlers, 'room:join' | 'room:leave' | 'typing'> & {
  onDisconnect(socket: AppSocket): void;
} {
  // Per socket: when it last sent a typing event for a (room, session, state).
  const lastTyping = new WeakMap<AppSocket, Map<string, number>>();

  const presence = (socket: AppSocket, roomId: string, state: 'joined' | 'left') =>
    ctx.broadcaster
      .publish(roomId, 'presence', {
        userId: socket.data.userId,
        displayName: socket.data.displayName,
        kind: socket.data.kind,
        state,
      })
      .catch((err) => ctx.logger.warn('presence publish failed', { err }));

  return {
    'room:join': async (socket, { roomId, lastSeq }) => {
      await ctx.services.access.requireMember(roomId, socket.data.userId);
      socket.leave(roomChannel(roomId));
      const held = ctx.delivery.hold(socket, roomId);
      try {
        if (lastSeq !== undefined) {
          const replay = await ctx.replayLog.since(roomId, lastSeq);
          if (!replay.gap) {
            // Missed events go out as ordinary events, in order, before the ack and before live ones.
            for (const { event, data } of replay.events) socket.emit(event, data as never);
            const upTo = replay.events.at(-1)?.data.seq ?? lastSeq;
            ctx.delivery.release(held, roomId, upTo);
            socket.data.rooms.add(roomId);
            void presence(socket, roomId, 'joined');
            return { mode: 'replay' as const, replayed: replay.events.length, seq: upTo };
          }
        }
        const seq = await ctx.replayLog.currentSeq(roomId);
        const snapshot = await buildSnapshot(ctx, roomId, seq);
        // The ack goes before the held events: ack, then release, in one synchronous step.
        return {
          mode: 'snapshot' as const,
          snapshot,
          seq,
          ...(lastSeq !== undefined ? { replayGap: true } : {}),
          [AFTER_ACK]: () => {
            ctx.delivery.release(held, roomId, seq);
            socket.data.rooms.add(roomId);
            void presence(socket, roomId, 'joined');
          },
        };
      } catch (err) {
        ctx.delivery.drop(held, roomId);
        throw err;
      }
    },

    'room:leave': async (socket, { roomId }) => {
      if (!socket.data.rooms.has(roomId)) throw new AppError('VALIDATION_FAILED', 'Not joined to that room');
      socket.leave(roomChannel(roomId));
      socket.data.rooms.delete(roomId);
      void presence(socket, roomId, 'left');
      return {};
    },

    typing: async (socket, { roomId, sessionId, on }) => {
      if (!socket.data.rooms.has(roomId)) throw new AppError('VALIDATION_FAILED', 'Join the room first');
      let last = lastTyping.get(socket);
      if (!last) lastTyping.set(socket, (last = new Map()));
      const key = `${roomId}:${sessionId}:${on}`;
      const now = Date.now();
      // Throttled per socket: a burst of keystrokes makes one event.
      if (now - (last.get(key) ?? 0) < TYPING_MIN_INTERVAL_MS) return { throttled: true };
      last.set(key, now);
      await ctx.services.access.requireMember(roomId, socket.data.userId);
      socket.to(roomChannel(roomId)).volatile.emit('typing', { roomId, sessionId, userId: socket.data.userId, on, ts: now });
      return { throttled: false };
    },

    onDisconnect(socket) {
      for (const roomId of socket.data.rooms) void presence(socket, roomId, 'left');
      socket.data.rooms.clear();
    },
  };
}

async function buildSnapshot(ctx: RealtimeContext, roomId: string, seq: number): Promise<RoomSnapshot> {
  const [data, online, turnsInFlight] = await Promise.all([
    ctx.services.rooms.snapshotData(roomId, { sessions: SNAPSHOT_SESSIONS, messages: SNAPSHOT_MESSAGES }),
    membersOnline(ctx, roomId).then(async (members) => {
      const roles = await ctx.services.access.rolesOf(roomId, members.map((m) => m.userId));
      return members.map((m) => ({ ...m, role: roles.get(m.userId) ?? m.role }));
    }),
    ctx.services.turns.inFlight(roomId),
  ]);
  return {
    roomId,
    name: data.room.name,
    mode: data.room.mode,
    seq,
    agents: data.agents,
    membersOnline: online,
    sessions: data.sessions,
    recentMessages: data.recentMessages,
    turnsInFlight,
  };
}

/** Members with at least one socket in the room, on any node (through the adapter). */
async function membersOnline(ctx: RealtimeContext, roomId: string): Promise<MemberDto[]> {
  const sockets = await ctx.io.in(roomChannel(roomId)).fetchSockets();
  const byUser = new Map<string, MemberDto>();
  for (const s of sockets) {
    const d = s.data as SocketData;
    if (!byUser.has(d.userId)) byUser.set(d.userId, { userId: d.userId, role: 'member', displayName: d.displayName, kind: d.kind });
  }
  return [...byUser.values()];
}
