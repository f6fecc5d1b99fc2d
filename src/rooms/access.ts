import type { Em } from '../db/orm';
import { RoomMember, Session, type Room } from '../db/entities';
import { AppError } from '../shared/errors';

export interface Membership {
  room: Room;
  role: RoomMember['role'];
}

/**
 * The caller's membership of a room. Non-members get the same ROOM_NOT_FOUND as for a room that
 * does not exist, so they learn nothing about it.
 */
export async function requireMember(em: Em, roomId: string, userId: string): Promise<Membership> {
  const m = await em.findOne(RoomMember, { room: roomId, user: userId }, { populate: ['room'] });
  if (!m) throw new AppError('ROOM_NOT_FOUND', 'Room not found');
  return { room: m.room, role: m.role };
}

export async function requireOwner(em: Em, roomId: string, userId: string): Promise<Membership> {
  const m = await requireMember(em, roomId, userId);
  if (m.role !== 'owner') throw new AppError('FORBIDDEN', 'Only a room owner can do this');
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
