import type { MemberDto } from '../../contract/dto';
import type { InFlightTurn, LoggedRoomEvent, RoomSnapshot } from '../../contract/events';
import { mergeDeltas } from '../../events/replay-log';
import type { StreamPosition } from '../../events/stream-position';
import type { KeptSnapshotParts } from '../join-cache';
import type { RealtimeContext } from '../context';

const SNAPSHOT_SESSIONS = 20;
const SNAPSHOT_MESSAGES = 50;
/** Members online listed in a snapshot; the rest are counted. Keeps a join's cost flat in a big room. */
const SNAPSHOT_MEMBERS = 50;

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
    // A turn's text stands at its own seq: no merged delta spans it, so the client can tell the part it has.
    else after = mergeDeltas(log.events.filter((e) => e.data.seq <= at.seq), { endsAt: new Set(built.turnsInFlight.map(reflects)) });
  }
  const turnsInFlight = built.turnsInFlight.map((t) => ({ ...t, epoch: at.epoch, seq: Math.max(reflects(t), seq) }));
  return { snapshot: { ...built, seq, turnsInFlight }, after };
}

async function readKeptParts(ctx: RealtimeContext, roomId: string): Promise<KeptSnapshotParts> {
  const snapshotData = ctx.services.rooms.snapshotData(roomId, { messages: SNAPSHOT_MESSAGES });
  const [data, sessions, pendingApprovals, budget] = await Promise.all([
    snapshotData,
    ctx.services.rooms.recentSessions(roomId, SNAPSHOT_SESSIONS),
    ctx.services.approvals.pending(roomId),
    ctx.services.turns.roomBudget(
      roomId,
      snapshotData.then((d) => d.room.settings ?? null),
    ),
  ]);
  return {
    name: data.room.name,
    mode: data.room.mode,
    settings: data.room.settings ?? null,
    agents: data.agents,
    sessions,
    recentMessages: data.recentMessages,
    recentTurns: data.recentTurns,
    pendingApprovals,
    budget: budget.tokens.limit === null && budget.costUsd.limit === null ? budget : null,
  };
}

async function buildSnapshot(ctx: RealtimeContext, roomId: string, at: StreamPosition): Promise<RoomSnapshot> {
  // What no room event announces is read on every join: the budget ledger of a room with a daily
  // limit (holds move without an event), the turns in flight and who is online.
  const keptParts = ctx.joinCache.parts(roomId, at, () => readKeptParts(ctx, roomId));
  const [kept, online, inFlight, budget] = await Promise.all([
    keptParts,
    membersOnline(ctx, roomId),
    ctx.services.turns.inFlight(roomId),
    keptParts.then((k) => ctx.services.turns.roomBudget(roomId, Promise.resolve(k.settings), k.budget)),
  ]);
  const { pendingApprovals } = kept;
  // A turn with a tool call waiting for a member shows as `awaiting_approval`.
  const awaiting = new Set(pendingApprovals.map((a) => a.turnId));
  const turnsInFlight = inFlight.map((t) => (awaiting.has(t.turnId) ? { ...t, status: 'awaiting_approval' as const } : t));
  return {
    roomId,
    name: kept.name,
    mode: kept.mode,
    epoch: at.epoch,
    seq: at.seq,
    agents: kept.agents,
    membersOnline: online.members,
    membersOnlineCount: online.count,
    sessions: kept.sessions,
    recentMessages: kept.recentMessages,
    recentTurns: kept.recentTurns,
    turnsInFlight,
    pendingApprovals,
    budget,
  };
}

/**
 * How many members are online, and a first page of them with their roles: from the presence map
 * (every node's joins and leaves), not from the sockets of every node, so it costs the same in any
 * room. Roles come from what this node keeps of them (until an event about the membership).
 */
async function membersOnline(ctx: RealtimeContext, roomId: string): Promise<{ count: number; members: MemberDto[] }> {
  const page = await ctx.presence.online(roomId, SNAPSHOT_MEMBERS);
  const roles = await ctx.joinCache.roles(
    roomId,
    page.users.map((u) => u.userId),
    (ids) => ctx.services.access.rolesOf(roomId, ids),
  );
  // A user whose membership ended meanwhile (no role any more) is not listed.
  const members = page.users.flatMap((u) => {
    const role = roles.get(u.userId);
    return role ? [{ userId: u.userId, role, displayName: u.displayName, kind: u.kind }] : [];
  });
  return { count: page.count, members };
}
