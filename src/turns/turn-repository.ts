import { LockMode, UniqueConstraintViolationException } from '@mikro-orm/core';
import type { ErrorBody } from '../contract/dto';
import { Agent, LlmUsageEvent, Message, Room, RoomMember, Session, StoredFile, ToolCallEvent, Turn, User, type MessageAttachment, type TurnStatus } from '../db/entities';
import type { Em, Orm } from '../db/orm';
import type { Plan } from '../domain/plan';
import { requireMember, requireSessionMember, type Membership } from '../rooms/access';
import { attachmentsWithin } from './attachment-context';
import { latestVersions, nextVersion } from './message-versions';
import type { SameTurnAnswer } from './prompt';
import { conversationOf, type TurnContext } from './turn-context';
import type { SummaryResult } from './summary';
import type { FinalStatus, StagedTurn } from './turn-outcome';
import type { UsageGrouping } from './usage-query';

/** A turn as scheduling hands it around: which turn, of which session and room. */
export interface TurnRef {
  turnId: string;
  sessionId: string;
  roomId: string;
}

/** Everything a turn's one commit writes. */
export interface TurnCommit {
  room: Room;
  session: Session;
  requestedBy: User;
  plan: Plan;
  status: FinalStatus;
  turnError?: ErrorBody;
  staged: StagedTurn;
  summary?: SummaryResult;
  systemNotice?: string;
}

/** Usage summed by one grouping key, charged and infrastructure apart. */
export interface GroupedUsageRow {
  key: string | null;
  charged: boolean;
  calls: string;
  failed: string;
  input: string;
  output: string;
  cost: string;
}

/** The SQL of each grouping's key: fixed expressions, never built from input. */
const GROUP_KEYS: Record<UsageGrouping, string> = {
  agent: `"agent_key"`,
  user: `"user_id"::text`,
  day: `to_char("created_at" at time zone 'UTC', 'YYYY-MM-DD')`,
  purpose: `"purpose"::text`,
  room: `"room_id"::text`,
  alias: `"model_alias"`,
};

/** True when a write lost to a unique constraint (a repeated send raced the first one). */
export const isDuplicateKey = (err: unknown): boolean => err instanceof UniqueConstraintViolationException;

/**
 * The reads and writes of the turn path: intake, claim, context, the one commit, reading turns
 * back (the outbox and the sweep have theirs in outbox-repository.ts). Each method is its own unit
 * of work on a fresh fork (docs/transaction_policy.md); the raw statements are PostgreSQL that
 * PGlite runs too.
 * The database clock (`clock_timestamp()`) orders and times turns: nodes' clocks may disagree.
 */
export class TurnRepository {
  constructor(
    private readonly orm: Orm,
    /** This node, as `runner_id` names it. */
    private readonly nodeId: string,
  ) {}

  // Membership

  /** The caller's membership of a room; ROOM_NOT_FOUND for a non-member. */
  requireMember(roomId: string, userId: string): Promise<Membership> {
    return requireMember(this.orm.em.fork(), roomId, userId);
  }

  /** A session the caller may see, with the caller's membership of its room; SESSION_NOT_FOUND otherwise. */
  requireSessionMember(sessionId: string, userId: string): Promise<{ session: Session } & Membership> {
    return requireSessionMember(this.orm.em.fork(), sessionId, userId);
  }

  async isMember(roomId: string, userId: string): Promise<boolean> {
    return (await this.orm.em.fork().count(RoomMember, { room: roomId, user: userId })) > 0;
  }

  // Intake

  /** The message an author already sent with this `clientMsgId` in the session, if any. */
  findSent(userId: string, sessionId: string, clientMsgId: string): Promise<Message | null> {
    return this.orm.em.fork().findOne(Message, { session: sessionId, authorUser: userId, clientMsgId }, { populate: ['turn'] });
  }

  findSession(roomId: string, sessionId: string): Promise<Session | null> {
    return this.orm.em.fork().findOne(Session, { id: sessionId, room: roomId });
  }

  /** Those of these files that belong to the room, without their content. */
  async roomFiles(roomId: string, fileIds: string[]): Promise<Pick<StoredFile, 'id' | 'filename' | 'kind' | 'sizeBytes' | 'status' | 'errorCode'>[]> {
    return this.orm.em.fork().find(StoredFile, { id: { $in: fileIds }, room: roomId }, { exclude: ['parsed'] });
  }

  /** Turns waiting to run in the whole deployment (the queue depth operators watch). */
  countAllQueued(): Promise<number> {
    return this.orm.em.fork().count(Turn, { status: 'queued' });
  }

  /** Turns of the session still waiting to run (of one sender, when given). */
  countQueuedTurns(sessionId: string, userId?: string): Promise<number> {
    return this.orm.em.fork().count(Turn, { session: sessionId, status: 'queued', ...(userId ? { requestedBy: userId } : {}) });
  }

  /** The turn that keeps the session busy: the running one, else the oldest waiting; null when idle. */
  async busyTurn(sessionId: string): Promise<string | null> {
    const rows = await this.orm.em
      .fork()
      .getConnection()
      .execute<{ id: string }[]>(
        `select "id" from "turns" where "session_id" = ? and "status" in ('running', 'queued')
          order by ("status" = 'running') desc, "queued_at", "id" limit 1`,
        [sessionId],
      );
    return rows[0]?.id ?? null;
  }

  /** The session's turns running or waiting ahead of this one, oldest first. */
  turnsAhead(sessionId: string, turnId: string): Promise<{ id: string; status: TurnStatus }[]> {
    return this.orm.em
      .fork()
      .getConnection()
      .execute<{ id: string; status: TurnStatus }[]>(
        `select t."id", t."status" from "turns" t, "turns" me
          where me."id" = ? and t."session_id" = ? and t."id" <> me."id"
            and (t."status" = 'running' or (t."status" = 'queued' and (t."queued_at", t."id") < (me."queued_at", me."id")))
          order by t."queued_at", t."id"`,
        [turnId, sessionId],
      );
  }

  /**
   * The user's message and its `queued` turn, in one transaction. This node is responsible for
   * announcing it (`runner_id`, with a fresh heartbeat); `turnId` is chosen by the caller, who
   * holds it before the commit.
   */
  async queueTurn(q: {
    turnId: string;
    room: Room;
    sessionId: string;
    userId: string;
    content: string;
    clientMsgId: string;
    attachments: MessageAttachment[] | null;
  }): Promise<{ message: Message; turnId: string }> {
    return this.orm.em.fork().transactional(async (tx) => {
      const turn = tx.create(Turn, {
        id: q.turnId,
        room: tx.getReference(Room, q.room.id),
        session: tx.getReference(Session, q.sessionId),
        requestedBy: tx.getReference(User, q.userId),
        mode: q.room.mode,
        status: 'queued',
        runnerId: this.nodeId,
      });
      const message = tx.create(Message, {
        room: tx.getReference(Room, q.room.id),
        session: tx.getReference(Session, q.sessionId),
        turn,
        authorType: 'user',
        authorUser: tx.getReference(User, q.userId),
        content: q.content,
        clientMsgId: q.clientMsgId,
        status: 'complete',
        attachments: q.attachments,
      });
      await tx.flush();
      await tx
        .getConnection()
        .execute('update "turns" set "queued_at" = clock_timestamp(), "heartbeat_at" = clock_timestamp() where "id" = ?', [turn.id], 'run', tx.getTransactionContext());
      return { message, turnId: turn.id };
    });
  }

  // Scheduling: small transactions that touch only a turn's status columns.

  /**
   * Starts the session's oldest queued turn unless one is running, under a transaction-scoped
   * advisory lock on the session, so two nodes cannot both start a turn of one session. A turn
   * waits until its message was announced, so `turn:started` never precedes `message:created`.
   * A turn this node already runs in the session is returned again: the loop asking is the
   * session's only one here, so that turn is one whose claim committed while the answer was lost.
   */
  async claimNext(sessionId: string): Promise<TurnRef | null> {
    return this.orm.em.fork().transactional(async (tx) => {
      const conn = tx.getConnection();
      const trx = tx.getTransactionContext();
      await conn.execute('select pg_advisory_xact_lock(hashtextextended(?, 0))', [`turns:${sessionId}`], 'all', trx);
      const running = await conn.execute<{ id: string; room_id: string; runner_id: string | null }[]>(
        `select "id", "room_id", "runner_id" from "turns" where "session_id" = ? and "status" = 'running' limit 1`,
        [sessionId],
        'all',
        trx,
      );
      if (running[0]) return running[0].runner_id === this.nodeId ? { turnId: running[0].id, sessionId, roomId: running[0].room_id } : null;
      const rows = await conn.execute<{ id: string; room_id: string }[]>(
        `update "turns" set "status" = 'running', "started_at" = clock_timestamp(), "heartbeat_at" = clock_timestamp(), "runner_id" = ?
          where "id" = (select "id" from "turns" where "session_id" = ? and "status" = 'queued' order by "queued_at", "id" limit 1)
            and "queue_announced_at" is not null
          returning "id", "room_id"`,
        [this.nodeId, sessionId],
        'all',
        trx,
      );
      const row = rows[0];
      return row ? { turnId: row.id, sessionId, roomId: row.room_id } : null;
    });
  }

  // Cancelling

  /** A turn of the room, or null when the room has none with this id. */
  turnOfRoom(roomId: string, turnId: string): Promise<Turn | null> {
    return this.orm.em.fork().findOne(Turn, { id: turnId, room: roomId });
  }

  /**
   * queued → cancelled; only wins if no node claimed the turn meanwhile. This node then announces
   * its end (the caller holds it).
   */
  async cancelIfQueued(turnId: string): Promise<boolean> {
    const rows = await this.orm.em
      .fork()
      .getConnection()
      .execute<{ id: string }[]>(
        `update "turns" set "status" = 'cancelled', "ended_at" = clock_timestamp(), "runner_id" = ?, "heartbeat_at" = clock_timestamp()
          where "id" = ? and "status" = 'queued' returning "id"`,
        [this.nodeId, turnId],
      );
    return rows.length > 0;
  }

  /** The turn's status as stored now; null when the turn is gone. */
  async statusOf(turnId: string): Promise<TurnStatus | null> {
    const turn = await this.orm.em.fork().findOne(Turn, { id: turnId });
    return turn?.status ?? null;
  }

  // Running a turn

  /** What a claimed turn reads before it starts. Fails when the turn, its room or its session is gone. */
  async loadContext(ref: TurnRef, limits: { recentMessages: number; listedFiles: number; attachmentChars: number }): Promise<TurnContext> {
    const em = this.orm.em.fork();
    // Independent reads go together; only the conversation waits, for the trigger's time.
    const [turn, room, session, agents, own, files] = await Promise.all([
      em.findOneOrFail(Turn, { id: ref.turnId }, { populate: ['requestedBy'] }),
      em.findOneOrFail(Room, { id: ref.roomId }),
      em.findOneOrFail(Session, { id: ref.sessionId }),
      em.find(Agent, { room: ref.roomId }, { orderBy: { position: 'asc', createdAt: 'asc' } }),
      em.findOne(Message, { turn: ref.turnId, authorType: 'user' }),
      em.find(StoredFile, { room: ref.roomId, status: 'ready' }, { orderBy: { createdAt: 'desc' }, limit: limits.listedFiles, fields: ['id', 'filename', 'kind'] }),
    ]);
    // A regeneration or a re-run answers a message it did not bring.
    const trigger = turn.triggerMessageId ? await em.findOne(Message, { id: turn.triggerMessageId, session: session.id }) : own;
    // Deleted messages and later versions (which speak in their first version's place) are left out.
    const rows = await em.find(
      Message,
      { session: session.id, createdAt: { $lte: trigger?.createdAt ?? new Date() }, deletedAt: null, versionOf: null },
      { orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], limit: limits.recentMessages, populate: ['authorUser'] },
    );
    const attachedIds = trigger && !trigger.deletedAt ? (trigger.attachments ?? []).map((a) => a.id) : [];
    const [attached, latest, regenerate] = await Promise.all([
      attachedIds.length ? em.find(StoredFile, { id: { $in: attachedIds }, room: ref.roomId, status: 'ready' }) : Promise.resolve([]),
      latestVersions(em, rows.filter((m) => m.authorType === 'agent').map((m) => m.id)),
      turn.regenerateMessageId && turn.regenerateAgentKey && trigger?.turn
        ? this.answersBefore(em, trigger.turn.id, turn.regenerateMessageId, agents).then((sameTurn) => ({
            agentKey: turn.regenerateAgentKey!,
            messageId: turn.regenerateMessageId!,
            sameTurn,
          }))
        : Promise.resolve(undefined),
    ]);
    const byId = new Map(attached.map((f) => [f.id, f]));
    return {
      turn,
      room,
      session,
      agents,
      text: trigger && !trigger.deletedAt ? trigger.content : '',
      recent: conversationOf(rows, agents, session.summaryUpdatedAt ?? null, latest),
      files: files.map((f) => ({ id: f.id, filename: f.filename, kind: f.kind })),
      attachments: attachmentsWithin(attachedIds.map((id) => byId.get(id)).filter((f): f is StoredFile => f !== undefined), limits.attachmentChars),
      ...(regenerate ? { regenerate } : {}),
    };
  }

  /** The answers of a turn given before one of them (its first version), each as its latest version says it. */
  private async answersBefore(em: Em, turnId: string, messageId: string, agents: readonly Agent[]): Promise<SameTurnAnswer[]> {
    const target = await em.findOne(Message, { id: messageId });
    if (!target) return [];
    const before = await em.find(
      Message,
      { turn: turnId, authorType: 'agent', versionOf: null, deletedAt: null, createdAt: { $lt: target.createdAt } },
      { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] },
    );
    const latest = await latestVersions(em, before.map((m) => m.id));
    const names = new Map(agents.map((a) => [a.key, a.name]));
    return before.map((m) => {
      const v = latest.get(m.id) ?? m;
      return { agentKey: m.agentKey ?? 'agent', agentName: names.get(m.agentKey ?? '') ?? m.agentKey ?? 'agent', content: v.content, status: v.status };
    });
  }

  /**
   * Everything the turn produced, in one unit of work, flushed once (docs/transaction_policy.md).
   * Only while the turn is still `running`: a sweep that interrupted it meanwhile keeps its word.
   */
  async commitTurn(turnId: string, c: TurnCommit): Promise<void> {
    await this.orm.em.fork().transactional(async (tx) => {
      const turn = await tx.findOneOrFail(Turn, { id: turnId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (turn.status !== 'running') throw new Error(`turn ${turnId} is ${turn.status}, no longer running`);
      const room = tx.getReference(Room, c.room.id);
      const session = await tx.findOneOrFail(Session, { id: c.session.id });
      const user = tx.getReference(User, c.requestedBy.id);
      // Strictly increasing timestamps keep the history in the order the agents spoke.
      let t = Date.now();
      const at = () => new Date(t++);
      for (const m of c.staged.messages) {
        // A new version of an answer takes the next number; turns of one session run one at a time.
        const version = m.versionOf ? await nextVersion(tx, m.versionOf) : 1;
        tx.create(Message, {
            version,
            versionOf: m.versionOf ? tx.getReference(Message, m.versionOf) : null,
            id: m.id,
            room,
            session,
            turn,
            authorType: 'agent',
            agentKey: m.agentKey,
            content: m.content,
            status: m.status,
            modelAlias: m.modelAlias,
            error: m.error ?? null,
            createdAt: at(),
          });
      }
      if (c.systemNotice) {
        tx.create(Message, { room, session, turn, authorType: 'system', content: c.systemNotice, status: 'complete', createdAt: at() });
      }
      for (const u of c.staged.usage) {
        tx.create(LlmUsageEvent, {
          room,
          session,
          turn,
          user,
          agentKey: u.agentKey,
          purpose: u.purpose,
          modelAlias: u.modelAlias,
          model: u.model,
          inputTokens: u.inputTokens,
          outputTokens: u.outputTokens,
          costUsd: u.costUsd,
          latencyMs: Math.round(u.latencyMs),
          status: u.status,
          estimated: u.estimated,
          charged: u.charged,
          ...(u.at ? { createdAt: u.at } : {}),
        });
      }
      for (const tc of c.staged.tools) {
        tx.create(ToolCallEvent, {
          room,
          session,
          turn,
          user,
          agentKey: tc.agentKey,
          toolCallId: tc.toolCallId.slice(0, 128),
          toolName: tc.toolName,
          status: tc.status,
          input: tc.input,
          output: tc.output ?? null,
          error: tc.error ?? null,
          latencyMs: Math.round(tc.latencyMs),
          approval: tc.approval ?? null,
        });
      }
      if (c.summary) {
        session.summary = c.summary.summary;
        const { topics, decisions, openQuestions, usedFallback } = c.summary.data;
        session.summaryData = { topics, decisions, openQuestions, usedFallback, fallback: c.summary.fallback };
        session.summaryUpdatedAt = new Date();
        turn.summaryTriggered = true;
        turn.summaryFallback = c.summary.fallback.length ? c.summary.fallback : null;
      }
      turn.status = c.status;
      turn.plan = { agentKeys: c.plan.agentKeys, fallback: c.plan.fallback, ...(c.plan.reason ? { reason: c.plan.reason } : {}) };
      turn.error = c.turnError ? `${c.turnError.code}: ${c.turnError.message}` : null;
      turn.endedAt = new Date();
      // The heartbeat's checkpoint of the streamed text has served its purpose.
      turn.partial = null;
    });
  }

  /**
   * Puts a turn this node runs back in the queue, uncommitted (its node shuts down while the turn
   * waits for a tool approval). It keeps its `queued_at`, so it stays first in its session's line;
   * any node's sweep starts it again.
   */
  async requeue(turnId: string): Promise<boolean> {
    const rows = await this.orm.em
      .fork()
      .getConnection()
      .execute<{ id: string }[]>(
        `update "turns" set "status" = 'queued', "runner_id" = null, "heartbeat_at" = null, "started_at" = null, "partial" = null
          where "id" = ? and "status" = 'running' and "runner_id" = ? returning "id"`,
        [turnId, this.nodeId],
      );
    return rows.length > 0;
  }

  /** The one-statement fallback when a turn cannot start or its own commit is refused. */
  async markTurnFailed(turnId: string, error: ErrorBody): Promise<void> {
    await this.orm.em
      .fork()
      .getConnection()
      .execute(`update "turns" set "status" = 'failed', "ended_at" = clock_timestamp(), "error" = ? where "id" = ? and "status" = 'running'`, [
        `${error.code}: ${error.message}`,
        turnId,
      ]);
  }

  /**
   * The turn's status once no transaction holds its row any more: the read waits for the lock, so
   * a commit whose connection dropped has either happened or not by the time this answers.
   * Null when the turn is gone.
   */
  async lockedStatus(turnId: string): Promise<TurnStatus | null> {
    return this.orm.em.fork().transactional(async (tx) => {
      const rows = await tx
        .getConnection()
        .execute<{ status: TurnStatus }[]>(`select "status" from "turns" where "id" = ? for update`, [turnId], 'all', tx.getTransactionContext());
      return rows[0]?.status ?? null;
    });
  }

  // Reading turns back

  /** A session's turn with its messages, model calls and tool calls, oldest first; null when the session has no such turn. */
  async auditRecords(
    sessionId: string,
    turnId: string,
  ): Promise<{ turn: Turn; messages: Message[]; trigger: Message | null; usage: LlmUsageEvent[]; tools: ToolCallEvent[] } | null> {
    const em = this.orm.em.fork();
    const turn = await em.findOne(Turn, { id: turnId, session: sessionId });
    if (!turn) return null;
    const [messages, usage, tools, answered] = await Promise.all([
      em.find(Message, { turn: turnId }, { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] }),
      em.find(LlmUsageEvent, { turn: turnId }, { orderBy: { createdAt: 'asc' } }),
      em.find(ToolCallEvent, { turn: turnId }, { orderBy: { createdAt: 'asc' } }),
      turn.triggerMessageId ? em.findOne(Message, { id: turn.triggerMessageId }) : Promise.resolve(null),
    ]);
    return { turn, messages, trigger: answered ?? messages.find((m) => m.authorType === 'user') ?? null, usage, tools };
  }

  /** Model usage of a room or a user in [from, to), summed by one grouping, charged and infrastructure apart. */
  groupedUsage(scope: { roomId: string } | { userId: string }, window: { from: Date; to: Date }, groupBy: UsageGrouping): Promise<GroupedUsageRow[]> {
    const key = GROUP_KEYS[groupBy];
    const [column, id] = 'roomId' in scope ? ['room_id', scope.roomId] : ['user_id', scope.userId];
    return this.orm.em
      .fork()
      .getConnection()
      .execute<GroupedUsageRow[]>(
        `select ${key} as key, "charged", count(*) as calls, count(*) filter (where "status" = 'failed') as failed,
                coalesce(sum("input_tokens"), 0) as input, coalesce(sum("output_tokens"), 0) as output, coalesce(sum("cost_usd"), 0) as cost
           from "llm_usage_events" where "${column}" = ? and "created_at" >= ? and "created_at" < ?
          group by 1, 2 order by 1 nulls first, 2 desc`,
        [id, window.from, window.to],
      );
  }

  /** A room's settings (for its budget limits); null when the room is gone. */
  async roomSettings(roomId: string): Promise<Room['settings'] | null> {
    const room = await this.orm.em.fork().findOne(Room, { id: roomId }, { fields: ['settings'] });
    return room ? room.settings : null;
  }
}
