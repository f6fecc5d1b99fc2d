import { LockMode } from '@mikro-orm/core';
import { Agent, Message, Room, Session, Turn, User, type MessageEdit } from '../db/entities';
import type { Orm } from '../db/orm';

/** What an author's change to a message did: the message as stored after it. */
export type ChangedMessage = Message;

/**
 * The statements of regenerating, editing and deleting messages. Each is its own unit of work on a fresh fork;
 * the message row is locked while it changes, so two edits keep both earlier texts.
 */
export class MessageRepository {
  constructor(
    private readonly orm: Orm,
    /** This node, as `runner_id` names it: it announces the turns it queues. */
    private readonly nodeId: string,
  ) {}

  /**
   * A finished turn's answer to regenerate: the first version of `agentKey`'s answer in the turn,
   * and the user message the turn answered. Null when the turn has no answer of that agent.
   */
  async regenerationTarget(turnId: string, agentKey: string): Promise<{ messageId: string; triggerMessageId: string } | null> {
    const em = this.orm.em.fork();
    const turn = await em.findOne(Turn, { id: turnId });
    if (!turn) return null;
    // A regeneration's turn regenerated again makes the next version of the same answer.
    if (turn.regenerateMessageId && turn.triggerMessageId) {
      return turn.regenerateAgentKey === agentKey ? { messageId: turn.regenerateMessageId, triggerMessageId: turn.triggerMessageId } : null;
    }
    const [answer, trigger] = await Promise.all([
      em.findOne(Message, { turn: turnId, authorType: 'agent', agentKey, versionOf: null }, { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] }),
      turn.triggerMessageId ? em.findOne(Message, { id: turn.triggerMessageId }) : em.findOne(Message, { turn: turnId, authorType: 'user' }),
    ]);
    if (!answer || !trigger) return null;
    return { messageId: answer.id, triggerMessageId: trigger.id };
  }

  /**
   * A queued turn that answers an existing message (a regeneration or a re-run), in one
   * statement; announced like any turn (`turn:queued`), without a new message.
   */
  async queueAnsweringTurn(q: {
    turnId: string;
    room: Room;
    sessionId: string;
    userId: string;
    triggerMessageId: string;
    regenerate?: { messageId: string; agentKey: string };
  }): Promise<void> {
    await this.orm.em.fork().transactional(async (tx) => {
      tx.create(Turn, {
        id: q.turnId,
        room: tx.getReference(Room, q.room.id),
        session: tx.getReference(Session, q.sessionId),
        requestedBy: tx.getReference(User, q.userId),
        mode: q.room.mode,
        status: 'queued',
        runnerId: this.nodeId,
        triggerMessageId: q.triggerMessageId,
        regenerateMessageId: q.regenerate?.messageId ?? null,
        regenerateAgentKey: q.regenerate?.agentKey ?? null,
      });
      await tx.flush();
      await tx
        .getConnection()
        .execute('update "turns" set "queued_at" = clock_timestamp(), "heartbeat_at" = clock_timestamp() where "id" = ?', [q.turnId], 'run', tx.getTransactionContext());
    });
  }


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
