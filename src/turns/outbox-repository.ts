import { Message, Room, Session, Turn, type PartialAgentText, type TurnStatus } from '../db/entities';
import type { Orm } from '../db/orm';
import { PreparedStatement } from '../db/prepared';
import { nextVersion } from './message-versions';
import type { TurnRef } from './turn-repository';

/** A turn the sweep found: which turn, and the status the database holds. */
export interface FoundTurn extends TurnRef {
  status: TurnStatus;
}

/** What `message:created` and `turn:queued` announce, read from the database. */
export interface QueuedRecord extends FoundTurn {
  message: Message | null;
  announced: boolean;
  /**
   * A turn that answers an existing message (a regeneration, a re-run) brings no new message:
   * only `turn:queued` goes out, naming this message (the answer regenerated, or the message re-run).
   */
  answers?: string;
}

/** What a turn's `turn:end` announces, read from the database. */
export interface EndRecord extends FoundTurn {
  error: string | null;
  /** The agents' calls (charged). */
  usage: { inputTokens: number; outputTokens: number; costUsd: number };
  /** The manager's and the summary's calls (infrastructure, never charged). */
  infrastructureUsage: { inputTokens: number; outputTokens: number; costUsd: number };
  /** System notices the turn committed: they are announced as new messages before `turn:end`. */
  notices: Message[];
  queueAnnounced: boolean;
  endAnnounced: boolean;
}

/** A turn whose `turn:end` (or, still queued, whose `message:created`) has not gone out. */
const UNANNOUNCED = `"end_announced_at" is null and ("status" not in ('queued', 'running') or ("status" = 'queued' and "queue_announced_at" is null))`;

/**
 * Nobody works on the turn: its heartbeat is stale (or every turn counts, at an embedded start).
 * Parameters: all, staleAfterMs.
 */
const ABANDONED = `(? or "heartbeat_at" is null or "heartbeat_at" < clock_timestamp() - (? * interval '1 millisecond'))`;

type Row = { id: string; session_id: string; room_id: string; status: TurnStatus };
const found = (r: Row): FoundTurn => ({ turnId: r.id, sessionId: r.session_id, roomId: r.room_id, status: r.status });

/** The agents' text of a checkpoint as stored; anything malformed or empty is left out. */
function checkpointOf(stored: unknown): PartialAgentText[] {
  const value = typeof stored === 'string' ? (JSON.parse(stored) as unknown) : stored;
  if (!Array.isArray(value)) return [];
  return value.filter(
    (a): a is PartialAgentText =>
      typeof a === 'object' && a !== null && typeof a.messageId === 'string' && typeof a.agentKey === 'string' && typeof a.modelAlias === 'string' && typeof a.text === 'string' && a.text.length > 0,
  );
}

/** The outbox marks: a turn's queue announcement, and its end's, went out. */
const QUEUE_MARK = new PreparedStatement('pantheon_queue_mark', `update "turns" set "queue_announced_at" = clock_timestamp() where "id" = ? and "queue_announced_at" is null`);
const END_MARK = new PreparedStatement('pantheon_end_mark', `update "turns" set "end_announced_at" = clock_timestamp() where "id" = ? and "end_announced_at" is null`);

/**
 * The statements of the outbox and of the sweep: which turns are announced, which are held by a
 * live node (heartbeats), and taking over those nobody holds. Each is its own small unit of work
 * on a fresh fork, and touches only a turn's status and bookkeeping columns (docs/transaction_policy.md).
 */
export class OutboxRepository {
  constructor(
    private readonly orm: Orm,
    /** This node, as `runner_id` names it. */
    private readonly nodeId: string,
  ) {}

  private conn() {
    return this.orm.em.fork().getConnection();
  }

  /**
   * Proves this node still works on these turns, and checkpoints what a running one has streamed
   * (a turn that is no longer running drops its checkpoint).
   */
  async heartbeat(turns: { id: string; partial?: PartialAgentText[] }[]): Promise<void> {
    if (!turns.length) return;
    await this.conn().execute(
      `update "turns" t set "heartbeat_at" = clock_timestamp(),
              "partial" = case when t."status" = 'running' then coalesce(h."partial", t."partial") end
         from jsonb_to_recordset(?::jsonb) as h("id" uuid, "partial" jsonb)
        where t."id" = h."id"`,
      [JSON.stringify(turns.map((t) => ({ id: t.id, partial: t.partial ?? null })))],
    );
  }

  /**
   * Puts back in the queue the running turns nobody works on that wait for a tool approval (or hold
   * an answer not used yet): the approval is stored, so the turn runs again from its start, and
   * the call made again finds its answer instead of asking again. The text it streamed is dropped:
   * the run again streams it anew. Its `queued_at` keeps it first in its session's line.
   */
  async requeueAwaitingApproval(all: boolean, staleAfterMs: number): Promise<FoundTurn[]> {
    const rows = await this.conn().execute<Row[]>(
      `update "turns" set "status" = 'queued', "runner_id" = null, "heartbeat_at" = null, "started_at" = null, "partial" = null
        where "id" in (select t."id" from "turns" t
                        where t."status" = 'running' and ${ABANDONED}
                          and exists (select 1 from "tool_approvals" a where a."turn_id" = t."id" and a."consumed_at" is null)
                        for update skip locked)
        returning "id", "session_id", "room_id", "status"`,
      [all, staleAfterMs],
    );
    return rows.map(found);
  }

  /**
   * Marks `interrupted` the running turns nobody works on, and takes them over: this node then
   * announces them. The text their agents had streamed, as last checkpointed, is committed with
   * them as the agents' messages (status `partial`): a crash keeps what the room saw.
   */
  async interruptAbandoned(all: boolean, staleAfterMs: number): Promise<FoundTurn[]> {
    return this.orm.em.fork().transactional(async (tx) => {
      const conn = tx.getConnection();
      const trx = tx.getTransactionContext();
      // Skip locked: a turn another node is interrupting right now is that node's.
      const rows = await conn.execute<(Row & { partial: unknown; regenerate_message_id: string | null })[]>(
        `select "id", "session_id", "room_id", "status", "partial", "regenerate_message_id" from "turns"
          where "status" = 'running' and ${ABANDONED} for update skip locked`,
        [all, staleAfterMs],
        'all',
        trx,
      );
      if (!rows.length) return [];
      await conn.execute(
        `update "turns" set "status" = 'interrupted', "ended_at" = clock_timestamp(),
                "error" = 'TURN_INTERRUPTED: The server running this turn stopped',
                "runner_id" = ?, "heartbeat_at" = clock_timestamp(), "partial" = null
          where "id" in (select (jsonb_array_elements_text(?::jsonb))::uuid)`,
        [this.nodeId, JSON.stringify(rows.map((r) => r.id))],
        'run',
        trx,
      );
      // Strictly increasing timestamps keep the history in the order the agents spoke.
      let t = Date.now();
      for (const r of rows) {
        for (const a of checkpointOf(r.partial)) {
          // What a regeneration streamed is kept as the next version of its answer.
          const versionOf = r.regenerate_message_id;
          tx.create(Message, {
            version: versionOf ? await nextVersion(tx, versionOf) : 1,
            versionOf: versionOf ? tx.getReference(Message, versionOf) : null,
            id: a.messageId,
            room: tx.getReference(Room, r.room_id),
            session: tx.getReference(Session, r.session_id),
            turn: tx.getReference(Turn, r.id),
            authorType: 'agent',
            agentKey: a.agentKey,
            content: a.text,
            status: 'partial',
            modelAlias: a.modelAlias,
            createdAt: new Date(t++),
          });
        }
      }
      return rows.map((r) => found({ ...r, status: 'interrupted' }));
    });
  }

  /**
   * Turns not announced yet that this node may take over: nobody works on them, or they are this
   * node's own (the caller skips those it holds).
   */
  async unannounced(all: boolean, staleAfterMs: number, limit = 200): Promise<FoundTurn[]> {
    const rows = await this.conn().execute<Row[]>(
      `select "id", "session_id", "room_id", "status" from "turns"
        where ${UNANNOUNCED} and ("runner_id" = ? or ${ABANDONED})
        order by "queued_at" limit ?`,
      [this.nodeId, all, staleAfterMs, limit],
    );
    return rows.map(found);
  }

  /**
   * Takes over a turn not announced yet: only one node wins it, and only while nobody else works
   * on it (its heartbeat is stale) or it is already this node's. The caller must hold it here.
   */
  async takeOver(turnId: string, all: boolean, staleAfterMs: number): Promise<FoundTurn | null> {
    const rows = await this.conn().execute<Row[]>(
      `update "turns" set "runner_id" = ?, "heartbeat_at" = clock_timestamp()
        where "id" = ? and ${UNANNOUNCED} and ("runner_id" = ? or ${ABANDONED})
        returning "id", "session_id", "room_id", "status"`,
      [this.nodeId, turnId, this.nodeId, all, staleAfterMs],
    );
    return rows[0] ? found(rows[0]) : null;
  }

  /** Sessions with queued turns and none running: nobody will start them unless kicked. */
  async sessionsWaiting(): Promise<string[]> {
    const rows = await this.conn().execute<{ session_id: string }[]>(
      `select distinct q."session_id" from "turns" q where q."status" = 'queued'
         and not exists (select 1 from "turns" r where r."session_id" = q."session_id" and r."status" = 'running')`,
    );
    return rows.map((r) => r.session_id);
  }

  // Reading what to announce

  /** The user's message and its turn, as committed; null when the turn is gone. */
  async queuedRecord(turnId: string): Promise<QueuedRecord | null> {
    const em = this.orm.em.fork();
    const [turn, message] = await Promise.all([
      em.findOne(Turn, { id: turnId }),
      em.findOne(Message, { turn: turnId, authorType: 'user' }),
    ]);
    if (!turn) return null;
    const answers = turn.regenerateMessageId ?? turn.triggerMessageId ?? undefined;
    return {
      turnId,
      sessionId: turn.session.id,
      roomId: turn.room.id,
      status: turn.status,
      message,
      announced: turn.queueAnnouncedAt != null,
      ...(answers ? { answers } : {}),
    };
  }

  /** How many turns of the session are ahead of this one (running or queued before it). */
  async queuePosition(sessionId: string, turnId: string): Promise<number> {
    const rows = await this.conn().execute<{ ahead: string }[]>(
      `select count(*) as ahead from "turns" t, "turns" me
        where me."id" = ? and t."session_id" = ? and t."id" <> me."id"
          and (t."status" = 'running' or (t."status" = 'queued' and (t."queued_at", t."id") < (me."queued_at", me."id")))`,
      [turnId, sessionId],
    );
    return Number(rows[0]?.ahead ?? 0);
  }

  /** A turn's stored outcome: status, error, usage summed from its model calls, its system notices. */
  async endRecord(turnId: string): Promise<EndRecord | null> {
    const em = this.orm.em.fork();
    const [turn, usage, notices] = await Promise.all([
      em.findOne(Turn, { id: turnId }),
      em
        .getConnection()
        .execute<{ charged: boolean; input: string; output: string; cost: string }[]>(
          `select "charged", coalesce(sum("input_tokens"), 0) as input, coalesce(sum("output_tokens"), 0) as output, coalesce(sum("cost_usd"), 0) as cost
             from "llm_usage_events" where "turn_id" = ? group by "charged"`,
          [turnId],
        ),
      em.find(Message, { turn: turnId, authorType: 'system' }, { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] }),
    ]);
    if (!turn) return null;
    const sum = (charged: boolean) => {
      const u = usage.find((r) => r.charged === charged);
      return { inputTokens: Number(u?.input ?? 0), outputTokens: Number(u?.output ?? 0), costUsd: Number(u?.cost ?? 0) };
    };
    return {
      turnId,
      sessionId: turn.session.id,
      roomId: turn.room.id,
      status: turn.status,
      error: turn.error ?? null,
      usage: sum(true),
      infrastructureUsage: sum(false),
      notices,
      queueAnnounced: turn.queueAnnouncedAt != null,
      endAnnounced: turn.endAnnouncedAt != null,
    };
  }

  // Marking what went out

  async markQueueAnnounced(turnId: string): Promise<void> {
    await QUEUE_MARK.run(this.orm, [turnId]);
  }

  async markEndAnnounced(turnId: string): Promise<void> {
    await END_MARK.run(this.orm, [turnId]);
  }
}
