import type { Em, Orm } from '../db/orm';
import { RoomMember, Session, type MemberRole, type Room } from '../db/entities';
import { AppError } from '../shared/errors';

// The one place that decides who may do what in a room. Services call the `require*` functions
// inside their own unit of work; transports (socket events, the upload route) use `RoomAccess`.

export interface Membership {
  room: Room;
  role: MemberRole;
}

/** Roles from least to most able; a check for a role admits every role above it. */
const RANK: Record<MemberRole, number> = { viewer: 0, member: 1, admin: 2, owner: 3 };

const roleNames: Record<MemberRole, string> = { viewer: 'a viewer', member: 'a member', admin: 'a room admin', owner: 'a room owner' };

/**
 * The caller's membership of a room. Non-members get the same ROOM_NOT_FOUND as for a room that
 * does not exist, so they learn nothing about it.
 */
export async function requireMember(em: Em, roomId: string, userId: string): Promise<Membership> {
  const m = await em.findOne(RoomMember, { room: roomId, user: userId }, { populate: ['room'] });
  if (!m) throw new AppError('ROOM_NOT_FOUND', 'Room not found');
  return { room: m.room, role: m.role };
}

/** Membership with at least `role`; a member below it gets FORBIDDEN. */
export async function requireRole(em: Em, roomId: string, userId: string, role: MemberRole): Promise<Membership> {
  const m = await requireMember(em, roomId, userId);
  if (RANK[m.role] < RANK[role]) throw new AppError('FORBIDDEN', `Only ${roleNames[role]} can do this`);
  return m;
}

export const requireOwner = (em: Em, roomId: string, userId: string) => requireRole(em, roomId, userId, 'owner');

/** A session the caller may see (through membership of its room); otherwise SESSION_NOT_FOUND. */
export async function requireSessionMember(em: Em, sessionId: string, userId: string): Promise<{ session: Session } & Membership> {
  const session = await em.findOne(Session, { id: sessionId }, { populate: ['room'] });
  if (!session) throw new AppError('SESSION_NOT_FOUND', 'Session not found');
  const m = await em.findOne(RoomMember, { room: session.room.id, user: userId });
  if (!m) throw new AppError('SESSION_NOT_FOUND', 'Session not found');
  return { session, room: session.room, role: m.role };
}

/** Membership checks for transports, each in its own short unit of work. */
export class RoomAccess {
  constructor(private readonly orm: Orm) {}

  /** Throws ROOM_NOT_FOUND unless the user is (still) a member; checked on every room event. */
  async requireMember(roomId: string, userId: string): Promise<void> {
    if (!(await this.isMember(roomId, userId))) throw new AppError('ROOM_NOT_FOUND', 'Room not found');
  }

  /** A member's session of this room (e.g. for typing); a session of another room is SESSION_NOT_FOUND. */
  async requireSessionInRoom(roomId: string, sessionId: string, userId: string): Promise<void> {
    const em = this.orm.em.fork();
    const [member, session] = await Promise.all([
      em.count(RoomMember, { room: roomId, user: userId }),
      em.count(Session, { id: sessionId, room: roomId }),
    ]);
    if (!member) throw new AppError('ROOM_NOT_FOUND', 'Room not found');
    if (!session) throw new AppError('SESSION_NOT_FOUND', 'Session not found');
  }

  async isMember(roomId: string, userId: string): Promise<boolean> {
    return (await this.orm.em.fork().count(RoomMember, { room: roomId, user: userId })) > 0;
  }

  /** Roles of some members: only those asked for are looked up, so a join costs the same in a big room. */
  async rolesOf(roomId: string, userIds: string[]): Promise<Map<string, MemberRole>> {
    if (!userIds.length) return new Map();
    const rows = await this.orm.em.fork().find(RoomMember, { room: roomId, user: { $in: userIds } }, { fields: ['role', 'user'] });
    return new Map(rows.map((m) => [m.user.id, m.role]));
  }
}
