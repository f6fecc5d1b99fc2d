import { LockMode } from '@mikro-orm/core';
import { Agent, Message, type MessageEdit } from '../db/entities';
import type { Orm } from '../db/orm';

/** What an author's change to a message did: the message as stored after it. */
export type ChangedMessage = Message;

/**
 * The statements of editing and deleting messages. Each is its own unit of work on a fresh fork;
 * the message row is locked while it changes, so two edits keep both earlier texts.
 */
export class MessageRepository {
  constructor(private readonly orm: Orm) {}

  /** A message of the room (any author), or null. */
  messageOfRoom(roomId: string, messageId: string): Promise<Message | null> {
    return this.orm.em.fork().findOne(Message, { id: messageId, room: roomId });
  }

  /** The room of a message, or null when there is no such message. */
  async roomOf(messageId: string): Promise<string | null> {
    const m = await this.orm.em.fork().findOne(Message, { id: messageId }, { fields: ['room'] });
    return m?.room.id ?? null;
  }

  agentExists(roomId: string, agentKey: string): Promise<boolean> {
    return this.orm.em
      .fork()
      .count(Agent, { room: roomId, key: agentKey })
      .then((n) => n > 0);
  }

  /**
   * Replaces the text, keeping the one it replaces in `edits`. `check` sees the locked row and
   * throws to refuse (the author changed, it was deleted meanwhile, too many edits).
   */
  async edit(messageId: string, content: string, check: (m: Message) => void): Promise<ChangedMessage> {
    return this.orm.em.fork().transactional(async (tx) => {
      const m = await tx.findOneOrFail(Message, { id: messageId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      check(m);
      const now = new Date();
      const edits: MessageEdit[] = [...(m.edits ?? []), { content: m.content, replacedAt: now.toISOString() }];
      m.edits = edits;
      m.content = content;
      m.editedAt = now;
      return m;
    });
  }

  /** Leaves a tombstone: the text, its earlier versions and its attachments are gone, the row stays. */
  async delete(messageId: string, check: (m: Message) => void): Promise<ChangedMessage> {
    return this.orm.em.fork().transactional(async (tx) => {
      const m = await tx.findOneOrFail(Message, { id: messageId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      check(m);
      m.content = '';
      m.edits = null;
      m.attachments = null;
      m.deletedAt = new Date();
      return m;
    });
  }
}
