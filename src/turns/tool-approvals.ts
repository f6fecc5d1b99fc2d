import type { ClientResult, ParsedClientPayload } from '../contract/client-events';
import type { PendingApprovalDto } from '../contract/dto';
import type { RoomEventPayloads, ToolCallApproval } from '../contract/events';
import { Room, Session, ToolApproval, Turn, User } from '../db/entities';
import type { Orm } from '../db/orm';
import { can } from '../domain/permissions';
import type { Broadcaster } from '../events/broadcaster';
import type { NodeBus } from '../events/node-bus';
import { requireMember } from '../rooms/access';
import { AppError } from '../shared/errors';
import type { Logger } from '../shared/logger';
import type { ToolCallRequest } from '../tools/tool-events';

/**
 * Tool calls under `ask`: the node running the turn stores a pending approval, tells the room
 * (`tool:approval_requested`) and waits; any node stores a member's answer and tells the room
 * (`tool:approval_resolved`) and the waiting node (node bus, with a poll of the stored row as a
 * fallback for a lost signal). Unanswered, it counts as denied at its `expiresAt`. Stored rows
 * outlive their node: a turn run again after a restart finds the answer of the same call
 * (same agent, tool and input) and applies it without asking again.
 */

const BUS_TOPIC = 'tool:approval-decided';
/** How often a waiting node reads the stored row, in case a signal from another node was lost. */
const POLL_MS = 1000;
/** Pending approvals a snapshot lists, at most. */
const SNAPSHOT_PENDING = 50;

export interface ApprovalCall extends ToolCallRequest {
  roomId: string;
  sessionId: string;
  turnId: string;
  agentKey: string;
}

/** Sends a room event of the turn, in the turn's order (the turn's own stream). */
export type TurnEmit = <E extends 'tool:approval_requested' | 'tool:approval_resolved'>(event: E, payload: RoomEventPayloads[E]) => void;

export interface ToolApprovalsDeps {
  orm: Orm;
  bus: NodeBus;
  broadcaster: Broadcaster;
  timeoutMs: number;
  logger: Logger;
}

/** JSON with sorted keys: the same input always gives the same key. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

const verdictOf = (row: ToolApproval): ToolCallApproval => ({
  decision: row.status === 'approved' ? 'approve' : 'deny',
  reason: row.reason ?? 'member',
  by: row.decidedBy?.id ?? null,
  decidedAt: (row.decidedAt ?? new Date()).toISOString(),
  ...(row.note ? { note: row.note } : {}),
});

/**
 * Thrown to a waiting call when its node shuts down: the approval stays pending (stored), and the
 * turn goes back to the queue to run again on a node that is up, where the call finds its answer.
 */
export class ApprovalShelved extends Error {
  constructor() {
    super('The server is shutting down; the approval stays pending');
    this.name = 'ApprovalShelved';
  }
}

export class ToolApprovals {
  /** Waiting calls on this node, by approval id: what wakes them. */
  private readonly waiters = new Map<string, () => void>();
  private shelved = false;

  constructor(private readonly d: ToolApprovalsDeps) {
    d.bus.handle(BUS_TOPIC, (id) => this.wake(String(id)));
  }

  private wake(id: string): void {
    this.waiters.get(id)?.();
  }

  /** At shutdown: calls waiting here stop waiting (ApprovalShelved), leaving their approvals pending. */
  shelve(): void {
    this.shelved = true;
    for (const wake of this.waiters.values()) wake();
  }

  /** True while calls are waiting on this node. */
  get waiting(): number {
    return this.waiters.size;
  }

  /**
   * The runner's side: the decision for one call, asked of the room when no stored answer exists.
   * Rejects when `signal` aborts (the turn was cancelled); the approval is then closed as denied.
   */
  async decide(call: ApprovalCall, emit: TurnEmit, signal?: AbortSignal): Promise<ToolCallApproval> {
    signal?.throwIfAborted();
    if (this.shelved) throw new ApprovalShelved();
    let row = await this.findOrCreate(call, emit);
    if (row.status === 'pending') row = await this.wait(row, emit, signal);
    await this.d.orm.em.fork().nativeUpdate(ToolApproval, { id: row.id }, { consumedAt: new Date() });
    return verdictOf(row);
  }

  /** The answer of the same call not yet used (a turn run again), or a new pending approval. */
  private async findOrCreate(call: ApprovalCall, emit: TurnEmit): Promise<ToolApproval> {
    const em = this.d.orm.em.fork();
    const inputKey = canonicalJson(call.input);
    const earlier = await em.findOne(
      ToolApproval,
      { turn: call.turnId, agentKey: call.agentKey, toolName: call.toolName, inputKey, consumedAt: null },
      { orderBy: { requestedAt: 'asc' } },
    );
    if (earlier) return earlier;
    const row = em.create(ToolApproval, {
      room: em.getReference(Room, call.roomId),
      session: em.getReference(Session, call.sessionId),
      turn: em.getReference(Turn, call.turnId),
      agentKey: call.agentKey,
      toolCallId: call.toolCallId.slice(0, 128),
      toolName: call.toolName,
      input: call.input,
      inputKey,
      status: 'pending',
      requestedAt: new Date(),
      expiresAt: new Date(Date.now() + this.d.timeoutMs),
    });
    await em.flush();
    emit('tool:approval_requested', {
      turnId: call.turnId,
      toolCallId: row.toolCallId,
      agentKey: call.agentKey,
      tool: call.toolName,
      input: call.input,
      expiresAt: row.expiresAt.toISOString(),
    });
    return row;
  }

  /** Waits for the stored answer: a member's (signalled or polled), the timeout, or a cancel. */
  private async wait(row: ToolApproval, emit: TurnEmit, signal?: AbortSignal): Promise<ToolApproval> {
    let wakeUp: () => void = () => undefined;
    this.waiters.set(row.id, () => wakeUp());
    try {
      for (;;) {
        if (this.shelved) throw new ApprovalShelved();
        const decided = await this.read(row.id);
        if (!decided) throw new Error('the approval was deleted');
        if (decided.status !== 'pending') return decided;
        const left = decided.expiresAt.getTime() - Date.now();
        if (left <= 0) {
          const closed = await this.close(decided, 'timeout');
          if (closed) emit('tool:approval_resolved', this.resolvedPayload(closed));
          continue;
        }
        const aborted = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => done(false), Math.min(left, POLL_MS));
          const onAbort = () => done(true);
          const done = (abort: boolean) => {
            clearTimeout(timer);
            signal?.removeEventListener('abort', onAbort);
            resolve(abort);
          };
          wakeUp = () => done(false);
          if (this.shelved) return done(false);
          if (signal?.aborted) return done(true);
          signal?.addEventListener('abort', onAbort, { once: true });
        });
        if (aborted) {
          const closed = await this.close(decided, 'cancelled').catch(() => null);
          if (closed) emit('tool:approval_resolved', this.resolvedPayload(closed));
          throw signal?.reason instanceof Error ? signal.reason : new Error('cancelled');
        }
      }
    } finally {
      this.waiters.delete(row.id);
    }
  }

  private read(id: string): Promise<ToolApproval | null> {
    return this.d.orm.em.fork().findOne(ToolApproval, { id }, { refresh: true });
  }

  /** Closes a pending approval as denied for `reason`; null when it was answered meanwhile. */
  private async close(row: ToolApproval, reason: 'timeout' | 'cancelled'): Promise<ToolApproval | null> {
    const em = this.d.orm.em.fork();
    const n = await em.nativeUpdate(ToolApproval, { id: row.id, status: 'pending' }, { status: 'denied', reason, decidedAt: new Date() });
    return n ? em.findOne(ToolApproval, { id: row.id }) : null;
  }

  private resolvedPayload(row: ToolApproval): RoomEventPayloads['tool:approval_resolved'] {
    const v = verdictOf(row);
    return {
      turnId: row.turn.id,
      toolCallId: row.toolCallId,
      agentKey: row.agentKey,
      tool: row.toolName,
      by: v.by,
      decision: v.decision,
      reason: v.reason,
      ...(v.note ? { note: v.note } : {}),
      decidedAt: v.decidedAt,
    };
  }

  /**
   * An approver's answer, from any node: stored if the call still waits (the first answer wins),
   * announced to the room, and signalled to the node that waits. A role without `tools.approve`
   * (viewers) gets FORBIDDEN.
   */
  async answer(userId: string, p: ParsedClientPayload<'tool:approve'>): Promise<ClientResult<'tool:approve'>> {
    const em = this.d.orm.em.fork();
    const { role } = await requireMember(em, p.roomId, userId);
    if (!can(role, 'tools.approve')) throw new AppError('FORBIDDEN', 'Your role in this room cannot approve tool calls');
    const row = await em.findOne(ToolApproval, { room: p.roomId, turn: p.turnId, toolCallId: p.toolCallId });
    if (!row) throw new AppError('APPROVAL_NOT_FOUND', 'No tool call of this turn waits for approval under this id');
    const decidedAt = new Date();
    const n = await em.nativeUpdate(
      ToolApproval,
      { id: row.id, status: 'pending', expiresAt: { $gt: decidedAt } },
      {
        status: p.decision === 'approve' ? 'approved' : 'denied',
        reason: 'member',
        decidedBy: em.getReference(User, userId),
        decidedAt,
        note: p.note ?? null,
      },
    );
    if (!n) {
      const now = await this.read(row.id);
      throw new AppError('APPROVAL_NOT_PENDING', 'This tool call no longer waits for approval', {
        status: now?.status === 'pending' ? 'expired' : now?.status,
        ...(now?.reason ? { reason: now.reason } : {}),
      });
    }
    const stored = (await this.read(row.id))!;
    await this.d.broadcaster
      .publish(p.roomId, 'tool:approval_resolved', this.resolvedPayload(stored))
      .catch((err) => this.d.logger.warn('announcing an approval failed', { approvalId: row.id, err }));
    this.wake(row.id);
    this.d.bus.publish(BUS_TOPIC, row.id);
    return { decision: p.decision, decidedAt: decidedAt.toISOString() };
  }

  /** Tool calls of a room waiting for approval, oldest first (snapshots, REST). */
  async pending(roomId: string): Promise<PendingApprovalDto[]> {
    const rows = await this.d.orm.em
      .fork()
      .find(ToolApproval, { room: roomId, status: 'pending' }, { orderBy: { requestedAt: 'asc' }, limit: SNAPSHOT_PENDING });
    return rows.map((r) => ({
      turnId: r.turn.id,
      sessionId: r.session.id,
      toolCallId: r.toolCallId,
      agentKey: r.agentKey,
      tool: r.toolName,
      input: r.input,
      requestedAt: r.requestedAt.toISOString(),
      expiresAt: r.expiresAt.toISOString(),
    }));
  }

  /** Pending approvals of a member's room (REST), membership checked. */
  async pendingFor(userId: string, roomId: string): Promise<{ items: PendingApprovalDto[] }> {
    await requireMember(this.d.orm.em.fork(), roomId, userId);
    return { items: await this.pending(roomId) };
  }

  /** Turns of a room with a call waiting for approval (for the in-flight state). */
  async awaitingTurns(roomId: string): Promise<Set<string>> {
    return new Set((await this.pending(roomId)).map((p) => p.turnId));
  }
}
