import type { ErrorBody } from '../contract/dto';
import { LlmUsageEvent, Message, Room, Session, ToolCallEvent, Turn, User, type MessageStatus, type TurnStatus } from '../db/entities';
import type { Orm } from '../db/orm';
import type { Plan } from '../domain/plan';
import type { ModelCallUsage } from '../llm/usage';
import type { ToolCallRecord } from './agent-runner';

/** What a turn produced while it ran, kept in memory until its one commit. */
export interface SummaryResult {
  summary: string;
  fields: { topics: string[]; decisions: string[]; openQuestions: string[] };
  usedFallback: boolean;
  usage: ModelCallUsage[];
}

export interface StagedAgentMessage {
  id: string;
  agentKey: string;
  content: string;
  status: MessageStatus;
  modelAlias: string;
  error?: string;
}

export interface StagedUsage extends ModelCallUsage {
  agentKey: string | null;
}

export interface StagedToolCall extends ToolCallRecord {
  agentKey: string;
}

export type FinalStatus = Exclude<TurnStatus, 'queued' | 'running'>;

/** The turn's status from how it ended and what its agents did. */
export function finalStatus(cancelled: boolean, turnError: ErrorBody | undefined, messages: StagedAgentMessage[], plan: Plan): FinalStatus {
  if (cancelled) return 'cancelled';
  if (turnError) return messages.some((m) => m.status === 'complete') ? 'partial' : 'failed';
  if (plan.agentKeys.length === 0) return 'completed';
  const failed = messages.filter((m) => m.status === 'failed').length;
  if (failed === 0) return 'completed';
  return failed === messages.length ? 'failed' : 'partial';
}

/** Everything the turn produced, in one unit of work, flushed once (docs/transaction_policy.md). */
export async function commitTurn(
  orm: Orm,
  turnId: string,
  c: {
    room: Room;
    session: Session;
    requestedBy: User;
    plan: Plan;
    status: FinalStatus;
    turnError?: ErrorBody;
    staged: { messages: StagedAgentMessage[]; usage: StagedUsage[]; tools: StagedToolCall[] };
    summary?: SummaryResult;
    systemNotice?: string;
  },
): Promise<Message[]> {
  const em = orm.em.fork();
  return em.transactional(async (tx) => {
    const turn = await tx.findOneOrFail(Turn, { id: turnId });
    const room = tx.getReference(Room, c.room.id);
    const session = await tx.findOneOrFail(Session, { id: c.session.id });
    const user = tx.getReference(User, c.requestedBy.id);
    // Strictly increasing timestamps keep the history in the order the agents spoke.
    let t = Date.now();
    const at = () => new Date(t++);
    const created: Message[] = [];
    for (const m of c.staged.messages) {
      created.push(
        tx.create(Message, {
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
        }),
      );
    }
    if (c.systemNotice) {
      created.push(tx.create(Message, { room, session, turn, authorType: 'system', content: c.systemNotice, status: 'complete', createdAt: at() }));
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
      });
    }
    if (c.summary) {
      session.summary = c.summary.summary;
      session.summaryData = { ...c.summary.fields, usedFallback: c.summary.usedFallback };
      session.summaryUpdatedAt = new Date();
      turn.summaryTriggered = true;
    }
    turn.status = c.status;
    turn.plan = { agentKeys: c.plan.agentKeys, fallback: c.plan.fallback, ...(c.plan.reason ? { reason: c.plan.reason } : {}) };
    turn.error = c.turnError ? `${c.turnError.code}: ${c.turnError.message}` : null;
    turn.endedAt = new Date();
    return created;
  });
}

/** The one-statement fallback when a turn's own commit cannot happen. */
export async function markTurnFailed(orm: Orm, turnId: string): Promise<void> {
  await orm.em
    .fork()
    .getConnection()
    .execute(`update "turns" set "status" = 'failed', "ended_at" = now(), "error" = 'COMMIT_FAILED' where "id" = ? and "status" = 'running'`, [turnId]);
}
