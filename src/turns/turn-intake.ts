import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { MessageDto } from '../contract/dto';
import type { Orm } from '../db/orm';
import { Message, Room, Session, StoredFile, Turn, User } from '../db/entities';
import { requireMember } from '../rooms/access';
import { presentMessage } from '../rooms/presenters';
import { AppError } from '../shared/errors';

export interface SendInput {
  roomId: string;
  sessionId: string;
  clientMsgId: string;
  content: string;
  fileIds?: string[];
}

export interface Accepted {
  message: MessageDto;
  turnId: string;
  duplicate: boolean;
}

/** How many turns of the session are ahead of this one (running or queued before it). */
export async function queuePosition(orm: Orm, sessionId: string, turnId: string): Promise<number> {
  const rows = await orm.em
    .fork()
    .getConnection()
    .execute<{ ahead: string }[]>(
      `select count(*) as ahead from "turns" t, "turns" me
        where me."id" = ? and t."session_id" = ? and t."id" <> me."id"
          and (t."status" = 'running' or (t."status" = 'queued' and (t."queued_at", t."id") < (me."queued_at", me."id")))`,
      [turnId, sessionId],
    );
  return Number(rows[0]?.ahead ?? 0);
}

/**
 * Step 1 of a turn: the user's message and a queued turn commit together, before the ack.
 * Idempotent on (session, author, clientMsgId): a repeated send, from any socket or node, returns
 * the first message and turn instead of making new ones.
 */
export class TurnIntake {
  constructor(private readonly orm: Orm) {}

  async accept(userId: string, input: SendInput): Promise<Accepted> {
    const em = this.orm.em.fork();
    // Membership first: a removed member gets no answer about earlier sends either.
    const { room } = await requireMember(em, input.roomId, userId);
    const existing = await this.findExisting(userId, input);
    if (existing) return existing;
    const session = await em.findOne(Session, { id: input.sessionId, room: input.roomId });
    if (!session) throw new AppError('SESSION_NOT_FOUND', 'Session not found');
    if (input.fileIds?.length) {
      // Attached files must be files of this room; another room's file looks like a missing one.
      const found = await em.count(StoredFile, { id: { $in: input.fileIds }, room: input.roomId });
      if (found !== new Set(input.fileIds).size) throw new AppError('FILE_NOT_FOUND', 'An attached file was not found in this room');
    }
    try {
      return await em.transactional(async (tx) => {
        const turn = tx.create(Turn, {
          room: tx.getReference(Room, room.id),
          session: tx.getReference(Session, session.id),
          requestedBy: tx.getReference(User, userId),
          mode: room.mode,
          status: 'queued',
        });
        const message = tx.create(Message, {
          room: tx.getReference(Room, room.id),
          session: tx.getReference(Session, session.id),
          turn,
          authorType: 'user',
          authorUser: tx.getReference(User, userId),
          content: input.content,
          clientMsgId: input.clientMsgId,
          status: 'complete',
        });
        await tx.flush();
        // The database clock orders turns: nodes' clocks may disagree, the database's does not.
        await tx.getConnection().execute('update "turns" set "queued_at" = clock_timestamp() where "id" = ?', [turn.id], 'run', tx.getTransactionContext());
        return { message: presentMessage(message), turnId: turn.id, duplicate: false };
      });
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException) {
        const again = await this.findExisting(userId, input);
        if (again) return again;
      }
      throw err;
    }
  }

  private async findExisting(userId: string, input: SendInput): Promise<Accepted | null> {
    const em = this.orm.em.fork();
    const m = await em.findOne(Message, { session: input.sessionId, authorUser: userId, clientMsgId: input.clientMsgId });
    if (!m) return null;
    if (m.room.id !== input.roomId) throw new AppError('SESSION_NOT_FOUND', 'Session not found');
    return { message: presentMessage(m), turnId: m.turn!.id, duplicate: true };
  }
}
