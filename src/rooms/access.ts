import type { Em, Orm } from '../db/orm';
import { RoomMember, Session, type MemberRole, type Room } from '../db/entities';
import { requireCan, type RoomAction } from '../domain/permissions';
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

/** Membership whose role may do `action` (src/domain/permissions.ts); FORBIDDEN naming the role and action otherwise. */
export async function requirePermission(em: Em, roomId: string, userId: string, action: RoomAction): Promise<Membership> {
  const m = await requireMember(em, roomId, userId);
  requireCan(m.role, action);
  return m;
}

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

  /** The user's role in the room; ROOM_NOT_FOUND for a non-member. */
  async roleOf(roomId: string, userId: string): Promise<MemberRole> {
    // One row, one column, on every join and socket event: plain SQL, no entity to build.
    const rows = await this.orm.em
      .getConnection()
      .execute<{ role: MemberRole }[]>(`select "role" from "room_members" where "room_id" = ? and "user_id" = ? limit 1`, [roomId, userId]);
    const m = rows[0];
    if (!m) throw new AppError('ROOM_NOT_FOUND', 'Room not found');
    return m.role;
  }

  /** Throws ROOM_NOT_FOUND for a non-member, FORBIDDEN for a member whose role may not do `action`. */
  async requirePermission(roomId: string, userId: string, action: RoomAction): Promise<MemberRole> {
    const role = await this.roleOf(roomId, userId);
    requireCan(role, action);
    return role;
  }

  /** Throws ROOM_NOT_FOUND unless the user is (still) a member; checked on every room event. */
  async requireMember(roomId: string, userId: string): Promise<void> {
    if (!(await this.isMember(roomId, userId))) throw new AppError('ROOM_NOT_FOUND', 'Room not found');
  }

  /**
   * A member's session of this room (e.g. for typing); a session of another room is
   * SESSION_NOT_FOUND, and a role that may not do `action` FORBIDDEN.
   */
  async requireSessionInRoom(roomId: string, sessionId: string, userId: string, action?: RoomAction): Promise<void> {
    const em = this.orm.em.fork();
    const [member, session] = await Promise.all([
      em.findOne(RoomMember, { room: roomId, user: userId }, { fields: ['role'] }),
      em.count(Session, { id: sessionId, room: roomId }),
    ]);
    if (!member) throw new AppError('ROOM_NOT_FOUND', 'Room not found');
    if (action) requireCan(member.role, action);
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
