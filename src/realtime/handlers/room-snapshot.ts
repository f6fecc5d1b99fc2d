import type { MemberDto } from '../../contract/dto';
import type { InFlightTurn, LoggedRoomEvent, RoomSnapshot, SocketData } from '../../contract/events';
import type { StreamPosition } from '../../events/stream-position';
import { roomChannel } from '../channels';
import type { RealtimeContext } from '../context';

const SNAPSHOT_SESSIONS = 20;
const SNAPSHOT_MESSAGES = 50;

/** A snapshot for a joining socket, and the logged events that must follow its ack. */
export interface JoinSnapshot {
  snapshot: RoomSnapshot;
  /** Events after the snapshot's seq up to the join point, to send right after the ack. */
  after: LoggedRoomEvent[];
}

/**
 * The room as a socket joining at `at` (the join point) sees it. The text of a turn in flight is
 * exact up to its own position, which can lag `at`: the node running the turn records a frame once
 * its publish has been answered, and this node may have delivered the frame before that; and a
 * turn whose last answer came before the stream restarted has none of the new epoch's frames. The
 * snapshot then stands at the lowest such seq of the epoch, and the events from there to `at`
 * follow the ack from the log; so its seq is never newer than its contents, and no frame falls
 * between the two.
 */
export async function snapshotAt(ctx: RealtimeContext, roomId: string, at: StreamPosition): Promise<JoinSnapshot> {
  const built = await buildSnapshot(ctx, roomId, at);
  // In the snapshot's epoch: seq 0 is a turn that has published nothing yet (no frame to lag
  // behind); a turn last answered in another epoch holds none of this one's frames.
  const reflects = (t: InFlightTurn) => (t.seq === 0 ? at.seq : t.epoch === at.epoch ? t.seq : 0);
  let seq = Math.min(at.seq, ...built.turnsInFlight.map(reflects));
  let after: LoggedRoomEvent[] = [];
  if (seq < at.seq) {
    const log = await ctx.replayLog.since(roomId, seq, at.epoch);
    // The log reaches back far beyond a frame in flight; should it not, the snapshot stays at `at`.
    if (log.gap) seq = at.seq;
    else after = log.events.filter((e) => e.data.seq <= at.seq);
  }
  const turnsInFlight = built.turnsInFlight.map((t) => ({ ...t, epoch: at.epoch, seq: Math.max(reflects(t), seq) }));
  return { snapshot: { ...built, seq, turnsInFlight }, after };
}

async function buildSnapshot(ctx: RealtimeContext, roomId: string, at: StreamPosition): Promise<RoomSnapshot> {
  const [data, online, turnsInFlight, budget] = await Promise.all([
    ctx.services.rooms.snapshotData(roomId, { sessions: SNAPSHOT_SESSIONS, messages: SNAPSHOT_MESSAGES }),
    membersOnline(ctx, roomId).then(async (members) => {
      const roles = await ctx.services.access.rolesOf(roomId, members.map((m) => m.userId));
      return members.map((m) => ({ ...m, role: roles.get(m.userId) ?? m.role }));
    }),
    ctx.services.turns.inFlight(roomId),
    ctx.services.turns.roomBudget(roomId),
  ]);
  return {
    roomId,
    name: data.room.name,
    mode: data.room.mode,
    epoch: at.epoch,
    seq: at.seq,
    agents: data.agents,
    membersOnline: online,
    sessions: data.sessions,
    recentMessages: data.recentMessages,
    recentTurns: data.recentTurns,
    turnsInFlight,
    budget,
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
