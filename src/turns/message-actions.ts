import type { ClientResult } from '../contract/client-events';
import type { Message } from '../db/entities';
import { newId } from '../db/entities/common';
import { can } from '../domain/permissions';
import type { Broadcaster } from '../events/broadcaster';
import { presentMessage } from '../rooms/presenters';
import { AppError } from '../shared/errors';
import type { Logger } from '../shared/logger';
import type { MessageRepository } from './message-repository';
import type { TurnAnnouncer } from './turn-announcer';
import type { TurnIntake } from './turn-intake';
import type { TurnRepository } from './turn-repository';
import type { TurnsInHand } from './turns-in-hand';

/** Earlier texts one message keeps; past it an edit is refused (LIMIT_REACHED). */
export const MAX_EDITS_PER_MESSAGE = 50;

export interface MessageActionsDeps {
  repo: TurnRepository;
  messages: MessageRepository;
  intake: TurnIntake;
  announcer: TurnAnnouncer;
  inHand: TurnsInHand;
  broadcaster: Broadcaster;
  kick: (sessionId: string) => void;
  logger: Logger;
  /** MAX_MESSAGE_CHARS: an edited text is capped like a sent one. */
  messageChars: number;
}

/**
 * What members do to messages already sent: regenerate an agent's answer (a new version, streamed
 * by a turn of its own), edit their own message (optionally answering it again), delete it.
 */
export class MessageActions {
  constructor(private readonly d: MessageActionsDeps) {}

  /**
   * A new version of `agentKey`'s answer in a finished turn: a queued turn of its own that runs
   * that agent alone on the same conversation, in the session's order like any turn.
   */
  async regenerate(userId: string, roomId: string, turnId: string, agentKey: string): Promise<ClientResult<'turn:regenerate'>> {
    const { room, role } = await this.d.repo.requireMember(roomId, userId);
    if (!can(role, 'turns.regenerate')) throw new AppError('FORBIDDEN', 'Your role in this room cannot regenerate answers');
    const turn = await this.d.repo.turnOfRoom(roomId, turnId);
    if (!turn) throw new AppError('TURN_NOT_FOUND', 'Turn not found');
    if (turn.status === 'queued' || turn.status === 'running') {
      throw new AppError('TURN_NOT_FINISHED', `The turn has not ended yet (status: ${turn.status})`, { status: turn.status });
    }
    const target = await this.d.messages.regenerationTarget(turnId, agentKey);
    if (!target || !(await this.d.messages.agentExists(roomId, agentKey))) {
      throw new AppError('AGENT_NOT_FOUND', `The turn has no answer of an agent "${agentKey}" in this room`);
    }
    await this.d.intake.requireQueueRoom(turn.session.id, userId);
    const newTurnId = newId();
    await this.queue(newTurnId, turn.session.id, () =>
      this.d.messages.queueAnsweringTurn({
        turnId: newTurnId,
        room,
        sessionId: turn.session.id,
        userId,
        triggerMessageId: target.triggerMessageId,
        regenerate: { messageId: target.messageId, agentKey },
      }),
    );
    return { turnId: newTurnId, messageId: target.messageId };
  }

  /** The author's new text; the earlier one stays in the turn's audit. `rerun` answers the new text with a new turn. */
  async edit(userId: string, input: { roomId: string; messageId: string; content: string; rerun?: boolean }): Promise<ClientResult<'message:edit'>> {
    if (input.content.length > this.d.messageChars) {
      throw new AppError('VALIDATION_FAILED', `content: at most ${this.d.messageChars} characters`, [{ path: ['content'], message: `at most ${this.d.messageChars} characters` }]);
    }
    const { room, role } = await this.d.repo.requireMember(input.roomId, userId);
    const found = await this.ownMessage(input.roomId, input.messageId, userId);
    if (input.rerun) {
      if (!can(role, 'messages.send')) throw new AppError('FORBIDDEN', 'Your role in this room cannot start turns');
      await this.d.intake.requireQueueRoom(found.session.id, userId);
    }
    const edited = await this.d.messages.edit(input.messageId, input.content, (m) => {
      this.requireAuthor(m, userId);
      if ((m.edits?.length ?? 0) >= MAX_EDITS_PER_MESSAGE) {
        throw new AppError('LIMIT_REACHED', `A message keeps at most ${MAX_EDITS_PER_MESSAGE} earlier texts`, { limit: 'editsPerMessage', max: MAX_EDITS_PER_MESSAGE });
      }
    });
    const message = presentMessage(edited);
    await this.publish(input.roomId, () => this.d.broadcaster.publish(input.roomId, 'message:updated', { message }));
    if (!input.rerun) return { message };
    const turnId = newId();
    await this.queue(turnId, found.session.id, () =>
      this.d.messages.queueAnsweringTurn({ turnId, room, sessionId: found.session.id, userId, triggerMessageId: input.messageId }),
    );
    return { message, turnId };
  }

  /** The author's message becomes a tombstone: it keeps its place in history, without its text. */
  async delete(userId: string, roomId: string, messageId: string): Promise<ClientResult<'message:delete'>> {
    await this.d.repo.requireMember(roomId, userId);
    await this.ownMessage(roomId, messageId, userId);
    const deleted = await this.d.messages.delete(messageId, (m) => this.requireAuthor(m, userId));
    const deletedAt = deleted.deletedAt!.toISOString();
    await this.publish(roomId, () => this.d.broadcaster.publish(roomId, 'message:deleted', { messageId, sessionId: deleted.session.id, deletedAt }));
    // A question taken back is not answered: its turn, still waiting, is cancelled.
    if (deleted.turn) await this.cancelWaiting(deleted.turn.id);
    return { messageId, deletedAt };
  }

  /** `regenerate` by session (REST): a turn of another session is TURN_NOT_FOUND. */
  async regenerateInSession(userId: string, sessionId: string, turnId: string, agentKey: string): Promise<ClientResult<'turn:regenerate'>> {
    const { room } = await this.d.repo.requireSessionMember(sessionId, userId);
    const turn = await this.d.repo.turnOfRoom(room.id, turnId);
    if (!turn || turn.session.id !== sessionId) throw new AppError('TURN_NOT_FOUND', 'Turn not found');
    return this.regenerate(userId, room.id, turnId, agentKey);
  }

  /** `edit` by message id (REST); a message of a room the caller is not in is MESSAGE_NOT_FOUND. */
  async editById(userId: string, messageId: string, body: { content: string; rerun?: boolean }): Promise<ClientResult<'message:edit'>> {
    return this.edit(userId, { roomId: await this.visibleRoomOf(messageId, userId), messageId, ...body });
  }

  /** `delete` by message id (REST). */
  async deleteById(userId: string, messageId: string): Promise<ClientResult<'message:delete'>> {
    return this.delete(userId, await this.visibleRoomOf(messageId, userId), messageId);
  }

  private async visibleRoomOf(messageId: string, userId: string): Promise<string> {
    const roomId = await this.d.messages.roomOf(messageId);
    if (!roomId || !(await this.d.repo.isMember(roomId, userId))) throw new AppError('MESSAGE_NOT_FOUND', 'Message not found');
    return roomId;
  }

  private async ownMessage(roomId: string, messageId: string, userId: string): Promise<Message> {
    const m = await this.d.messages.messageOfRoom(roomId, messageId);
    if (!m) throw new AppError('MESSAGE_NOT_FOUND', 'Message not found');
    this.requireAuthor(m, userId);
    return m;
  }

  private requireAuthor(m: Message, userId: string): void {
    if (m.authorType !== 'user' || m.authorUser?.id !== userId) throw new AppError('FORBIDDEN', 'Only the author of a message can change it');
    if (m.deletedAt) throw new AppError('MESSAGE_DELETED', 'The message was deleted');
  }

  /** Cancels a turn that no node has started (a started one runs on: it already streams to the room). */
  private async cancelWaiting(turnId: string): Promise<void> {
    const release = this.d.inHand.hold(turnId);
    try {
      if (await this.d.repo.cancelIfQueued(turnId)) {
        await this.d.announcer.announceEnd(turnId).catch((err) => this.d.logger.warn('announcing a turn end failed; the sweep will', { turnId, err }));
      }
    } finally {
      release();
    }
  }

  /** A turn answering an existing message: durable, announced (`turn:queued`), then scheduled. */
  private async queue(turnId: string, sessionId: string, write: () => Promise<void>): Promise<void> {
    const release = this.d.inHand.hold(turnId);
    try {
      await write();
      await this.d.announcer.announceQueued(turnId).catch((err) => this.d.logger.warn('announcing a turn failed; the sweep will', { turnId, err }));
      this.d.kick(sessionId);
    } finally {
      release();
    }
  }

  /** The change is stored; a lost announcement is seen by clients at their next snapshot or history read. */
  private async publish(roomId: string, fn: () => Promise<unknown>): Promise<void> {
    await fn().catch((err) => this.d.logger.warn('announcing a message change failed', { roomId, err }));
  }
}
