import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { ErrorBody } from '../contract/dto';
import type { ToolApprovalPolicy } from '../contract/enums';
import { LlmUsageEvent, Message, Room, RoomMember, Session, StoredFile, ToolCallEvent, Turn, type AuthorType, type MemberRole, type MessageAttachment, type ParsedContent, type RoomMode, type RoomSettings, type TurnStatus } from '../db/entities';
import { newId } from '../db/entities/common';
import type { Em, Orm } from '../db/orm';
import { PreparedStatement } from '../db/prepared';
import type { Plan } from '../domain/plan';
import { requireMember, requireSessionMember, type Membership } from '../rooms/access';
import type { LedgerState } from '../domain/budget';
import { attachmentsWithin } from './attachment-context';
import { stateOf, type LedgerRow, type LedgerSpend } from './budget-repository';
import { latestVersions } from './message-versions';
import type { SameTurnAnswer } from './prompt';
import { conversationOf, type ContextAgent, type ContextMessage, type ContextTurn, type TurnContext } from './turn-context';
import type { SummaryResult } from './summary';
import type { FinalStatus, StagedTurn } from './turn-outcome';
import type { UsageGrouping } from './usage-query';

/** A turn as scheduling hands it around: which turn, of which session and room. */
export interface TurnRef {
  turnId: string;
  sessionId: string;
  roomId: string;
  /** Read with the claim that started it; absent when a turn is handed on otherwise. */
  context?: TurnContext;
}

/** How much a turn reads before it starts. */
export interface ContextLimits {
  recentMessages: number;
  listedFiles: number;
  attachmentChars: number;
}

/** A JSON column as the driver returns it: parsed by PostgreSQL's driver, a string from PGlite's for `json`. */
const parseJson = <T>(v: unknown): T => (typeof v === 'string' ? (JSON.parse(v) as T) : (v as T));

interface ContextAgentRow {
  key: string;
  name: string;
  role_prompt: string;
  model_alias: string;
  tool_permissions: string[] | null;
  tool_approvals: Record<string, ToolApprovalPolicy> | null;
  position: number;
}

interface ContextMessageRow {
  id: string;
  author_type: AuthorType;
  author_name: string | null;
  agent_key: string | null;
  content: string;
  created_at: string;
}

interface ContextRow {
  id: string;
  mode: RoomMode;
  requested_by_id: string;
  requested_by_name: string;
  trigger_message_id: string | null;
  regenerate_message_id: string | null;
  regenerate_agent_key: string | null;
  room_id: string;
  room_settings: unknown;
  session_id: string;
  summary: string | null;
  summary_updated_at: string | Date | null;
  agents: unknown;
  files: unknown;
  trigger: unknown;
  recent: unknown;
  attached: unknown;
}

/**
 * The turn's reads in one statement (TurnRepository.loadContext). Parameters: the turn's id, how
 * many recent messages, how many listed files. The message a turn answers is its own user
 * message, or the one `trigger_message_id` names (a re-run, a regeneration); the conversation is
 * the session's messages up to it, without deleted ones and later versions (a later version
 * speaks in its first version's place: its text is taken).
 */
const TURN_COLUMNS = `t."id", t."mode", t."room_id", t."session_id", t."requested_by_id", t."trigger_message_id", t."regenerate_message_id", t."regenerate_agent_key"`;

/** The context's statement after the `with` clauses that define "t", the turn (one row or none). */
const contextSql = (turnCtes: string) => `
with ${turnCtes},
"trig" as (
  (select m."id", m."content", m."created_at", m."attachments", m."deleted_at" is not null as "deleted", m."turn_id"
     from "messages" m join "t" on m."id" = t."trigger_message_id" and m."session_id" = t."session_id")
  union all
  (select m."id", m."content", m."created_at", m."attachments", m."deleted_at" is not null as "deleted", m."turn_id"
     from "messages" m join "t" on m."turn_id" = t."id" and t."trigger_message_id" is null
    where m."author_type" = 'user' limit 1)),
"recent" as (
  select m."id", m."author_type", u."display_name" as "author_name", m."agent_key", m."created_at",
         coalesce((select v."content" from "messages" v where v."version_of_id" = m."id" order by v."version" desc limit 1), m."content") as "content"
    from "t" join "messages" m on m."session_id" = t."session_id"
    left join "users" u on u."id" = m."author_user_id"
   where m."created_at" <= coalesce((select g."created_at" from "trig" g limit 1), now())
     and m."deleted_at" is null and m."version_of_id" is null
   order by m."created_at" desc, m."id" desc
   limit ?)
select t."id", t."mode", t."requested_by_id", ru."display_name" as "requested_by_name", t."trigger_message_id", t."regenerate_message_id", t."regenerate_agent_key",
       r."id" as "room_id", r."settings" as "room_settings", s."id" as "session_id", s."summary", s."summary_updated_at",
       (select coalesce(json_agg(a order by a."position", a."created_at"), '[]') from
          (select "key", "name", "role_prompt", "model_alias", "tool_permissions", "tool_approvals", "position", "created_at" from "agents" where "room_id" = t."room_id") a) as "agents",
       (select coalesce(json_agg(f), '[]') from
          (select "id", "filename", "kind" from "files" where "room_id" = t."room_id" and "status" = 'ready' order by "created_at" desc limit ?) f) as "files",
       (select row_to_json(g) from (select "id", "content", "deleted", "turn_id", "attachments" from "trig" limit 1) g) as "trigger",
       (select coalesce(json_agg(m order by m."created_at" desc, m."id" desc), '[]') from "recent" m) as "recent",
       (select coalesce(json_agg(json_build_object('id', f."id", 'filename', f."filename", 'kind', f."kind", 'parsed', f."parsed")), '[]')
          from "files" f
         where f."room_id" = t."room_id" and f."status" = 'ready'
           and f."id" in (select (x->>'id')::uuid from "trig" g, jsonb_array_elements(coalesce(g."attachments", '[]'::jsonb)) x where not g."deleted")) as "attached"
  from "t"
  join "rooms" r on r."id" = t."room_id"
  join "sessions" s on s."id" = t."session_id"
  join "users" ru on ru."id" = t."requested_by_id"`;

/** Parameters: the turn's id, then those of the context. */
const LOAD_CONTEXT = new PreparedStatement('pantheon_turn_context', contextSql(`"t" as (select ${TURN_COLUMNS} from "turns" t where t."id" = ?)`));

/**
 * The claim (TurnRepository.claimNext) and the claimed turn's context in one statement.
 * Parameters: the session's id, this node's id, the session's id twice, this node's id, then
 * those of the context. The context's reads see the turn as it was before the claim's update,
 * which changes none of the columns they use.
 */
const CLAIM = new PreparedStatement('pantheon_claim', contextSql(`"held" as (select "id" from "sessions" where "id" = ? for key share),
"claimed" as (
  update "turns" set "status" = 'running', "started_at" = clock_timestamp(), "heartbeat_at" = clock_timestamp(), "runner_id" = ?
   where "id" = (select q."id" from "turns" q where q."session_id" = ? and q."status" = 'queued' order by q."queued_at", q."id" limit 1)
     and "status" = 'queued' and "queue_announced_at" is not null
     and exists (select 1 from "held")
     and not exists (select 1 from "turns" r where r."session_id" = "turns"."session_id" and r."status" = 'running')
   returning "id"),
"picked" as (
  (select "id" from "claimed")
  union all
  (select "id" from "turns" where "session_id" = ? and "status" = 'running' and "runner_id" = ? and exists (select 1 from "held"))
  limit 1),
"t" as (select ${TURN_COLUMNS} from "turns" t join "picked" p on p."id" = t."id")`));

/** TurnRepository.sendContext. Parameters: the sender twice, the clientMsgId, the session, the room, the sender. */
const SEND_CONTEXT = new PreparedStatement(
  'pantheon_send_context',
  `select rm."role", r."mode", r."settings", s."id" as session_id,
                count(t."id") filter (where t."status" = 'queued') as queued,
                count(t."id") filter (where t."status" = 'queued' and t."requested_by_id" = ?) as mine,
                count(t."id") filter (where t."status" = 'running') as running,
                exists (select 1 from "messages" m where m."session_id" = s."id" and m."author_user_id" = ? and m."client_msg_id" = ?) as sent
           from "room_members" rm
           join "rooms" r on r."id" = rm."room_id"
           left join "sessions" s on s."id" = ? and s."room_id" = r."id"
           left join "turns" t on t."session_id" = s."id" and t."status" in ('queued', 'running')
          where rm."room_id" = ? and rm."user_id" = ?
          group by rm."role", r."id", s."id"`,
);

/** TurnRepository.intake: the turn and its message. */
const INTAKE = new PreparedStatement(
  'pantheon_intake',
  `with "turn" as (
           insert into "turns" ("id", "room_id", "session_id", "requested_by_id", "status", "mode", "queued_at", "heartbeat_at", "summary_triggered", "runner_id")
             values (?, ?, ?, ?, 'queued', ?, clock_timestamp(), clock_timestamp(), false, ?)
             returning "id")
         insert into "messages" ("id", "room_id", "session_id", "turn_id", "author_type", "author_user_id", "content", "status", "client_msg_id", "attachments", "version", "created_at")
           values (?, ?, ?, (select "id" from "turn"), 'user', ?, ?, 'complete', ?, ?, 1, ?)
           returning *`,
);

/** TurnRepository.commitTurn (see there). */
const COMMIT = new PreparedStatement(
  'pantheon_commit',
  `with "ended" as (
         update "turns" set "status" = ?, "plan" = ?, "error" = ?, "ended_at" = clock_timestamp(), "partial" = null,
                "summary_triggered" = "summary_triggered" or ?,
                "summary_fallback" = case when ? then ?::jsonb else "summary_fallback" end
          where "id" = ? and "status" = 'running' returning "id", "room_id", "session_id", "requested_by_id"),
       "written" as (
         insert into "messages" ("id", "room_id", "session_id", "turn_id", "author_type", "agent_key", "content", "status", "model_alias", "error", "version", "version_of_id", "created_at")
         select m."id", e."room_id", e."session_id", e."id", m."author_type", m."agent_key", m."content", m."status", m."model_alias", m."error",
                -- A new version of an answer takes the next number; turns of one session run one at a time.
                case when m."version_of_id" is null then 1
                     else (select coalesce(max(v."version"), 1) + 1 from "messages" v where v."id" = m."version_of_id" or v."version_of_id" = m."version_of_id") end,
                m."version_of_id", m."created_at"
           from "ended" e, jsonb_to_recordset(?::jsonb) as m("id" uuid, "author_type" text, "agent_key" text, "content" text, "status" text,
                "model_alias" text, "error" text, "version_of_id" uuid, "created_at" timestamptz)
         returning *),
       "usage" as (
         insert into "llm_usage_events" ("id", "room_id", "session_id", "turn_id", "user_id", "agent_key", "purpose", "model_alias", "model", "input_tokens", "output_tokens", "cost_usd", "latency_ms", "status", "estimated", "charged", "created_at")
         select u."id", e."room_id", e."session_id", e."id", e."requested_by_id", u."agent_key", u."purpose", u."model_alias", u."model", u."input_tokens", u."output_tokens", u."cost_usd", u."latency_ms", u."status", u."estimated", u."charged", u."created_at"
           from "ended" e, jsonb_to_recordset(?::jsonb) as u("id" uuid, "agent_key" text, "purpose" text, "model_alias" text, "model" text,
                "input_tokens" int, "output_tokens" int, "cost_usd" numeric, "latency_ms" int, "status" text, "estimated" boolean, "charged" boolean, "created_at" timestamptz)),
       "tools" as (
         insert into "tool_call_events" ("id", "room_id", "session_id", "turn_id", "user_id", "agent_key", "tool_call_id", "tool_name", "status", "input", "output", "error", "latency_ms", "approval", "created_at")
         select x."id", e."room_id", e."session_id", e."id", e."requested_by_id", x."agent_key", x."tool_call_id", x."tool_name", x."status", x."input", x."output", x."error", x."latency_ms", x."approval", x."created_at"
           from "ended" e, jsonb_to_recordset(?::jsonb) as x("id" uuid, "agent_key" text, "tool_call_id" text, "tool_name" text, "status" text,
                "input" jsonb, "output" jsonb, "error" text, "latency_ms" int, "approval" jsonb, "created_at" timestamptz)),
       "summarized" as (
         update "sessions" s set "summary" = ?, "summary_data" = ?::jsonb, "summary_updated_at" = clock_timestamp()
           from "ended" e where ? and s."id" = e."session_id"),
       "spent" as (
         insert into "budget_ledger" as b ("scope", "scope_id", "day", "spent_tokens", "spent_cost_usd", "reserved_tokens", "reserved_cost_usd")
         select l."scope", l."scope_id", l."day", l."tokens", l."cost_usd", 0, 0
           from "ended" e, jsonb_to_recordset(?::jsonb) as l("scope" text, "scope_id" uuid, "day" text, "tokens" bigint, "cost_usd" numeric)
         on conflict ("scope", "scope_id", "day") do update set
           "spent_tokens" = b."spent_tokens" + excluded."spent_tokens",
           "spent_cost_usd" = b."spent_cost_usd" + excluded."spent_cost_usd"
         returning "scope", "day", "spent_tokens", "spent_cost_usd", "reserved_tokens", "reserved_cost_usd")
       select e."id" as "ended_id",
              (select coalesce(json_agg(l), '[]') from "spent" l where l."scope" = 'room') as "room_ledger",
              n.*
         from "ended" e left join (select * from "written" where "author_type" = 'system') n on true`,
);

/** What a commit that answered returns: the system notices it wrote, and the room's ledger rows it added spend to. */
export interface CommittedTurn {
  notices: Message[];
  roomLedger: { day: string; state: LedgerState }[];
}

/** Everything a turn's one commit writes. */
export interface TurnCommit {
  plan: Plan;
  /** Spend added to the budget ledger with the turn (turns no daily limit applies to). */
  spend?: LedgerSpend[];
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
/** A session's turns waiting to run (all, and one sender's) and running. */
export interface QueueCounts {
  queued: number;
  mine: number;
  running: number;
}
/** A send's membership, room and session queue (`TurnRepository.sendContext`). */
export interface SendContext {
  role: MemberRole;
  room: Pick<Room, 'id' | 'mode' | 'settings'>;
  /** Null when the room has no such session. */
  session: (QueueCounts & { sent: boolean }) | null;
}
type CountRow = { queued: string | number; mine: string | number; running: string | number };
const countsOf = (r: CountRow | undefined): QueueCounts => ({ queued: Number(r?.queued ?? 0), mine: Number(r?.mine ?? 0), running: Number(r?.running ?? 0) });

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
    /** How much of its conversation and files a turn reads (TurnContext). */
    private readonly contextLimits: ContextLimits,
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

  /** Those of these files that belong to the room, without their content. */
  async roomFiles(roomId: string, fileIds: string[]): Promise<Pick<StoredFile, 'id' | 'filename' | 'kind' | 'sizeBytes' | 'status' | 'errorCode'>[]> {
    return this.orm.em.fork().find(StoredFile, { id: { $in: fileIds }, room: roomId }, { exclude: ['parsed'] });
  }

  /** Turns waiting to run in the whole deployment (the queue depth operators watch). */
  countAllQueued(): Promise<number> {
    return this.orm.em.fork().count(Turn, { status: 'queued' });
  }

  /** Turns of the session waiting to run: all, and the sender's. */
  async queueCounts(sessionId: string, userId: string): Promise<QueueCounts> {
    const rows = await this.orm.em
      .fork()
      .getConnection()
      .execute<CountRow[]>(
        `select count(*) filter (where "status" = 'queued') as queued,
                count(*) filter (where "status" = 'queued' and "requested_by_id" = ?) as mine,
                count(*) filter (where "status" = 'running') as running
           from "turns" where "session_id" = ? and "status" in ('queued', 'running')`,
        [userId, sessionId],
      );
    return countsOf(rows[0]);
  }

  /**
   * What a send needs to know, in one statement: the caller's membership of the room (its role,
   * the room's mode and settings), the session (when it is the room's), its queue (the turns
   * waiting, all and the sender's, and running), and whether the sender already sent this
   * `clientMsgId` in it (`sent`: a repeated send). Null when the caller is no member of the room.
   */
  async sendContext(roomId: string, sessionId: string, userId: string, clientMsgId: string): Promise<SendContext | null> {
    const rows = await SEND_CONTEXT.run<CountRow & { role: MemberRole; mode: Room['mode']; settings: unknown; session_id: string | null; sent: boolean }>(this.orm, [userId, userId, clientMsgId, sessionId, roomId, userId]);
    const row = rows[0];
    if (!row) return null;
    const settings = (typeof row.settings === 'string' ? JSON.parse(row.settings) : (row.settings ?? {})) as RoomSettings;
    return {
      role: row.role,
      room: { id: roomId, mode: row.mode, settings },
      session: row.session_id ? { ...countsOf(row), sent: Boolean(row.sent) } : null,
    };
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
   * The user's message and its `queued` turn, in one statement (atomic on its own: no transaction
   * round trips). This node is responsible for announcing it (`runner_id`, with a fresh
   * heartbeat); `turnId` is chosen by the caller, who holds it before the commit. The turn's
   * `queued_at` and `heartbeat_at` come from the database clock in the insert itself.
   */
  async queueTurn(q: {
    turnId: string;
    room: Pick<Room, 'id' | 'mode'>;
    sessionId: string;
    userId: string;
    content: string;
    clientMsgId: string;
    attachments: MessageAttachment[] | null;
  }): Promise<{ message: Message; turnId: string }> {
    const em = this.orm.em.fork();
    let rows: Record<string, unknown>[];
    try {
      rows = await INTAKE.run<Record<string, unknown>>(this.orm, [
          q.turnId, q.room.id, q.sessionId, q.userId, q.room.mode, this.nodeId,
          newId(), q.room.id, q.sessionId, q.userId, q.content, q.clientMsgId, q.attachments ? JSON.stringify(q.attachments) : null, new Date(),
        ],
      );
    } catch (err) {
      // A raw statement's error is the driver's: named as the ORM names it (code and message kept),
      // so a repeated send is recognised as a unique violation.
      if (err instanceof Error && typeof (err as { code?: unknown }).code === 'string') throw em.getPlatform().getExceptionConverter().convertException(err);
      throw err;
    }
    return { message: em.map(Message, rows[0]!), turnId: q.turnId };
  }

  // Scheduling: small transactions that touch only a turn's status columns.

  /**
   * Starts the session's oldest queued turn unless one is running, in one statement. The unique
   * index on a session's running turn (`turns_one_running_per_session`) keeps two nodes from both
   * starting a turn of one session: the claim that loses the race gets a unique violation, which
   * means busy. The claim holds its session's row (`for key share`) while it runs, so a delete of
   * the session, which locks that row first (src/rooms/idle-sessions.ts), either sees the turn
   * running or is waited for. A turn waits until its message was announced, so `turn:started`
   * never precedes `message:created`. A turn this node already runs in the session is returned
   * again: the loop asking is the session's only one here, so that turn is one whose claim
   * committed while the answer was lost. The same statement reads the claimed turn's context
   * (loadContext), so a turn starts after one round trip.
   */
  async claimNext(sessionId: string): Promise<TurnRef | null> {
    try {
      const em = this.orm.em.fork();
      const rows = await CLAIM.run<ContextRow>(this.orm, [sessionId, this.nodeId, sessionId, sessionId, this.nodeId, this.contextLimits.recentMessages, this.contextLimits.listedFiles]);
      const row = rows[0];
      if (!row) return null;
      const ref: TurnRef = { turnId: row.id, sessionId, roomId: row.room_id };
      // The claim stands whatever happens next: a context that cannot be made from the row (or a
      // regeneration's further read that fails) is read again by the run, which fails the turn if
      // it still cannot.
      const context = await this.contextOf(em, row).catch(() => undefined);
      return context ? { ...ref, context } : ref;
    } catch (err) {
      // Another node's claim of this session committed first.
      if ((err as { code?: unknown }).code === '23505') return null;
      throw err;
    }
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

  /**
   * What a claimed turn reads before it starts, in one statement: the turn with its room, session
   * and sender, the room's agents, its newest ready files, the message it answers (its own, or the
   * one a re-run or regeneration names), the conversation up to that message (each answer as its
   * latest version says it) and the files attached to that message. A regeneration reads the
   * answers given before the regenerated one too. Fails when the turn, its room or its session is gone.
   */
  async loadContext(ref: TurnRef): Promise<TurnContext> {
    const em = this.orm.em.fork();
    const rows = await LOAD_CONTEXT.run<ContextRow>(this.orm, [ref.turnId, this.contextLimits.recentMessages, this.contextLimits.listedFiles]);
    const row = rows[0];
    if (!row) throw new Error(`turn ${ref.turnId} is gone`);
    return this.contextOf(em, row);
  }

  /** The context from its statement's row (a regeneration reads the answers before its own here). */
  private async contextOf(em: Em, row: ContextRow): Promise<TurnContext> {
    const agents: ContextAgent[] = parseJson<ContextAgentRow[]>(row.agents).map((a) => ({
      key: a.key,
      name: a.name,
      rolePrompt: a.role_prompt,
      modelAlias: a.model_alias,
      toolPermissions: a.tool_permissions ?? [],
      toolApprovals: a.tool_approvals ?? {},
      position: a.position,
    }));
    const trigger = parseJson<{ id: string; content: string; deleted: boolean; turn_id: string | null; attachments: MessageAttachment[] | null } | null>(row.trigger);
    const recent: ContextMessage[] = parseJson<ContextMessageRow[]>(row.recent).map((m) => ({
      id: m.id,
      authorType: m.author_type,
      authorName: m.author_name,
      agentKey: m.agent_key,
      content: m.content,
      createdAt: new Date(m.created_at),
    }));
    const attached = new Map(parseJson<{ id: string; filename: string; kind: string; parsed: ParsedContent | null }[]>(row.attached).map((f) => [f.id, f]));
    const attachedIds = trigger && !trigger.deleted ? (trigger.attachments ?? []).map((a) => a.id) : [];
    const turn: ContextTurn = {
      id: row.id,
      mode: row.mode,
      requestedBy: { id: row.requested_by_id, displayName: row.requested_by_name },
      triggerMessageId: row.trigger_message_id,
      regenerateMessageId: row.regenerate_message_id,
      regenerateAgentKey: row.regenerate_agent_key,
    };
    const summaryUpdatedAt = row.summary_updated_at ? new Date(row.summary_updated_at) : null;
    const regenerate =
      turn.regenerateMessageId && turn.regenerateAgentKey && trigger?.turn_id
        ? { agentKey: turn.regenerateAgentKey, messageId: turn.regenerateMessageId, sameTurn: await this.answersBefore(em, trigger.turn_id, turn.regenerateMessageId, agents) }
        : undefined;
    return {
      turn,
      room: { id: row.room_id, settings: parseJson<RoomSettings | null>(row.room_settings) ?? {} },
      session: { id: row.session_id, summary: row.summary, summaryUpdatedAt },
      agents,
      text: trigger && !trigger.deleted ? trigger.content : '',
      recent: conversationOf(recent, agents, summaryUpdatedAt),
      files: parseJson<{ id: string; filename: string; kind: string }[]>(row.files),
      attachments: attachmentsWithin(attachedIds.map((id) => attached.get(id)).filter((f) => f !== undefined), this.contextLimits.attachmentChars),
      ...(regenerate ? { regenerate } : {}),
    };
  }

  /** The answers of a turn given before one of them (its first version), each as its latest version says it. */
  private async answersBefore(em: Em, turnId: string, messageId: string, agents: readonly ContextAgent[]): Promise<SameTurnAnswer[]> {
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
   * Everything the turn produced, in one statement (atomic on its own: no transaction round trips,
   * docs/transaction_policy.md): the turn's conditional update, then its messages, model calls,
   * tool calls and the session's summary, each inserted only when that update matched. Only while
   * the turn is still `running` (the update takes its row lock): a sweep that interrupted it
   * meanwhile keeps its word. Returns the system notices it wrote (for `turn:end`).
   */
  async commitTurn(turnId: string, c: TurnCommit): Promise<CommittedTurn> {
    const em = this.orm.em.fork();
    const plan = { agentKeys: c.plan.agentKeys, fallback: c.plan.fallback, ...(c.plan.reason ? { reason: c.plan.reason } : {}) };
    // Strictly increasing timestamps keep the history in the order the agents spoke.
    let t = Date.now();
    const at = () => new Date(t++).toISOString();
    const messages: {
      id: string;
      author_type: 'agent' | 'system';
      agent_key: string | null;
      content: string;
      status: string;
      model_alias: string | null;
      error: string | null;
      version_of_id: string | null;
      created_at: string;
    }[] = c.staged.messages.map((m) => ({
      id: m.id,
      author_type: 'agent' as const,
      agent_key: m.agentKey,
      content: m.content,
      status: m.status,
      model_alias: m.modelAlias,
      error: m.error ?? null,
      version_of_id: m.versionOf ?? null,
      created_at: at(),
    }));
    if (c.systemNotice) {
      messages.push({ id: newId(), author_type: 'system', agent_key: null, content: c.systemNotice, status: 'complete', model_alias: null, error: null, version_of_id: null, created_at: at() });
    }
    const createdAt = new Date().toISOString();
    const usage = c.staged.usage.map((u) => ({
      id: newId(),
      agent_key: u.agentKey,
      purpose: u.purpose,
      model_alias: u.modelAlias,
      model: u.model,
      input_tokens: u.inputTokens,
      output_tokens: u.outputTokens,
      cost_usd: u.costUsd,
      latency_ms: Math.round(u.latencyMs),
      status: u.status,
      estimated: u.estimated,
      charged: u.charged,
      created_at: u.at ? u.at.toISOString() : createdAt,
    }));
    const tools = c.staged.tools.map((tc) => ({
      id: newId(),
      agent_key: tc.agentKey,
      tool_call_id: tc.toolCallId.slice(0, 128),
      tool_name: tc.toolName,
      status: tc.status,
      input: tc.input ?? null,
      output: tc.output ?? null,
      error: tc.error ?? null,
      latency_ms: Math.round(tc.latencyMs),
      approval: tc.approval ?? null,
      created_at: createdAt,
    }));
    const summary = c.summary
      ? {
          summary: c.summary.summary,
          data: (({ topics, decisions, openQuestions, usedFallback }) => ({ topics, decisions, openQuestions, usedFallback, fallback: c.summary!.fallback }))(c.summary.data),
          fallback: c.summary.fallback.length ? c.summary.fallback : null,
        }
      : null;
    const rows = await COMMIT.run<Record<string, unknown>>(this.orm, [
        c.status,
        JSON.stringify(plan),
        c.turnError ? `${c.turnError.code}: ${c.turnError.message}` : null,
        Boolean(summary),
        Boolean(summary),
        summary?.fallback ? JSON.stringify(summary.fallback) : null,
        turnId,
        JSON.stringify(messages),
        JSON.stringify(usage),
        JSON.stringify(tools),
        summary?.summary ?? null,
        summary ? JSON.stringify(summary.data) : null,
        Boolean(summary),
        JSON.stringify((c.spend ?? []).map((l) => ({ scope: l.scope, scope_id: l.scopeId, day: l.day, tokens: l.tokens, cost_usd: l.costUsd }))),
      ],
    );
    if (!rows.length) throw new Error(`turn ${turnId} is gone or no longer running`);
    const roomLedger = parseJson<(LedgerRow & { day: string })[]>(rows[0]!.room_ledger).map((r) => ({ day: r.day, state: stateOf(r) }));
    return {
      notices: rows.filter((r) => r.id != null).map(({ ended_id: _, room_ledger: __, ...r }) => em.map(Message, r)),
      roomLedger,
    };
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
