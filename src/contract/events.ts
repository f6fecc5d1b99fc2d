// The server-to-client half of the Socket.IO contract: every room event and its payload, shared by
// the server and the client SDK. The client-to-server half is in client-events.ts. No server imports here.
import { z } from 'zod';
import { agentDtoSchema, budgetStatusDtoSchema, errorBodySchema, memberDtoSchema, messageDtoSchema, sessionDtoSchema, summaryFieldsDtoSchema } from './dto';
import { APPROVAL_DECISIONS, APPROVAL_REASONS, FILE_STATUSES, MEMBER_ROLES, ROOM_MODES, TURN_STATUSES, USER_KINDS, type MemberRole } from './enums';

export type {
  Ack,
  ClientEventName,
  ClientPayload,
  ClientResult,
  ClientToServerEvents,
  InFlightTurn,
  JoinAck,
  RoomSnapshot,
} from './client-events';

/**
 * Every room event carries this envelope. `seq` rises by one per room event across all nodes,
 * within the room's `epoch`; a new epoch means the room's stream restarted (seq begins at 1 again),
 * so seqs compare only within one epoch.
 */
export const roomEnvelopeSchema = z.object({
  roomId: z.string(),
  epoch: z.string(),
  seq: z.number(),
  /**
   * Set on an `agent:delta` sent to a socket that catches up (a replay, or the events after a
   * snapshot): it stands for the consecutive deltas `fromSeq..seq` of one turn and agent, their
   * texts joined. Live events never carry it.
   */
  fromSeq: z.number().optional(),
  /** Server time in epoch milliseconds. */
  ts: z.number(),
});
export type RoomEnvelope = z.infer<typeof roomEnvelopeSchema>;

export const usageSchema = z.object({
  inputTokens: z.number(),
  outputTokens: z.number(),
  costUsd: z.number(),
});
export type Usage = z.infer<typeof usageSchema>;

/** The approval a tool call went through: who decided, how, when. */
export const toolCallApprovalSchema = z.object({
  decision: z.enum(APPROVAL_DECISIONS),
  reason: z.enum(APPROVAL_REASONS),
  by: z.string().nullable(),
  decidedAt: z.string(),
  note: z.string().optional(),
});
export type ToolCallApproval = z.infer<typeof toolCallApprovalSchema>;

/** The error of an agent or turn a budget stopped (`code: 'BUDGET_EXCEEDED'`): which budget, and when it resets (null: with the next turn). */
export interface BudgetExceededDetails {
  budget: 'roomDailyTokens' | 'roomDailyCostUsd' | 'userDailyTokens' | 'userDailyCostUsd' | 'agentTurnOutputTokens';
  resetsAt: string | null;
}

const ENDED_TURN_STATUSES = TURN_STATUSES.filter((s): s is Exclude<(typeof TURN_STATUSES)[number], 'queued' | 'running'> => s !== 'queued' && s !== 'running');

/**
 * Payloads of sequenced room events (without the envelope), as zod schemas: the types below are
 * inferred from them, and docs/asyncapi.json is generated from them.
 */
const presenceChangeSchema = z.object({ userId: z.string(), displayName: z.string(), kind: z.enum(USER_KINDS), state: z.enum(['joined', 'left']) });

export const roomEventSchemas = {
  /** A user's first socket joined the room, or their last left it. */
  presence: presenceChangeSchema,
  /**
   * Several users' presence at once: changes within PRESENCE_BATCH_MS of an earlier one are
   * published together, each user once, with their state when the batch went out. Apply each
   * change as a `presence` event.
   */
  'presence:batch': z.object({ changes: z.array(presenceChangeSchema).min(1) }),
  'message:created': z.object({ message: messageDtoSchema }),
  /** The author edited a message: its new text (the earlier ones are in the turn's audit). */
  'message:updated': z.object({ message: messageDtoSchema }),
  /** The author deleted a message: it stays in history as a tombstone without its text. */
  'message:deleted': z.object({ messageId: z.string(), sessionId: z.string(), deletedAt: z.string() }),
  'turn:queued': z.object({ turnId: z.string(), sessionId: z.string(), messageId: z.string(), position: z.number() }),
  'turn:started': z.object({ turnId: z.string(), sessionId: z.string(), mode: z.enum(ROOM_MODES) }),
  'turn:plan': z.object({ turnId: z.string(), agentKeys: z.array(z.string()), fallback: z.boolean(), reason: z.string().optional() }),
  'agent:start': z.object({ turnId: z.string(), agentKey: z.string(), modelAlias: z.string() }),
  'agent:delta': z.object({ turnId: z.string(), agentKey: z.string(), text: z.string() }),
  'tool:start': z.object({ turnId: z.string(), agentKey: z.string(), toolCallId: z.string(), toolName: z.string(), input: z.record(z.string(), z.unknown()) }),
  'tool:progress': z.object({
    turnId: z.string(),
    agentKey: z.string(),
    toolCallId: z.string(),
    toolName: z.string(),
    message: z.string(),
    percent: z.number().optional(),
  }),
  'tool:end': z.object({
    turnId: z.string(),
    agentKey: z.string(),
    toolCallId: z.string(),
    toolName: z.string(),
    status: z.enum(['succeeded', 'failed']),
    latencyMs: z.number(),
    error: z.string().optional(),
    /** Present when the call went through an approval (or was denied by policy). */
    approval: toolCallApprovalSchema.optional(),
  }),
  /** A tool call under `ask` waits for a member with the approving role; the turn is `awaiting_approval` until it is resolved. */
  'tool:approval_requested': z.object({
    turnId: z.string(),
    toolCallId: z.string(),
    agentKey: z.string(),
    tool: z.string(),
    input: z.record(z.string(), z.unknown()),
    /** ISO time at which it counts as denied (TOOL_APPROVAL_TIMEOUT_MS). */
    expiresAt: z.string(),
  }),
  /** `by` is the member who answered; null when it timed out or the turn was cancelled. */
  'tool:approval_resolved': z.object({
    turnId: z.string(),
    toolCallId: z.string(),
    agentKey: z.string(),
    tool: z.string(),
    by: z.string().nullable(),
    decision: z.enum(APPROVAL_DECISIONS),
    reason: z.enum(APPROVAL_REASONS),
    note: z.string().optional(),
    decidedAt: z.string(),
  }),
  'agent:end': z.object({
    turnId: z.string(),
    agentKey: z.string(),
    messageId: z.string().nullable(),
    /** `partial`: a budget stopped it mid-stream; the text so far is kept (error BUDGET_EXCEEDED). */
    status: z.enum(['complete', 'partial', 'failed', 'cancelled']),
    finishReason: z.string().nullable(),
    /** Its model calls, tool rounds included: charged to the room's and the user's budgets. */
    usage: usageSchema,
    error: errorBodySchema.optional(),
  }),
  'summary:started': z.object({ turnId: z.string(), sessionId: z.string() }),
  'summary:updated': z.object({ turnId: z.string(), sessionId: z.string(), summary: z.string(), usedFallback: z.boolean(), fields: summaryFieldsDtoSchema.optional() }),
  'turn:end': z.object({
    turnId: z.string(),
    sessionId: z.string(),
    status: z.enum(ENDED_TURN_STATUSES),
    error: errorBodySchema.optional(),
    /** The agents' calls: what the turn charged to the budgets. */
    usage: usageSchema,
    /** The manager's and the summary's calls: recorded, never charged. */
    infrastructureUsage: usageSchema,
  }),
  /** The room's spend changed: a charged model call of turn `turnId` settled. */
  'budget:updated': z.object({ turnId: z.string().optional(), budget: budgetStatusDtoSchema }),
  'file:progress': z.object({ fileId: z.string(), stage: z.enum(['queued', 'reading', 'parsing', 'storing']), percent: z.number() }),
  'file:ready': z.object({ fileId: z.string(), filename: z.string(), kind: z.string(), status: z.enum(FILE_STATUSES) }),
  'file:failed': z.object({ fileId: z.string(), filename: z.string(), code: z.string(), message: z.string() }),
  /** The room's agents or settings changed; clients refetch or apply the snapshot given. */
  'room:updated': z.object({ agents: z.array(agentDtoSchema).optional(), mode: z.enum(ROOM_MODES).optional(), name: z.string().optional() }),
  /** Someone became a member of the room. */
  'member:added': z.object({ member: memberDtoSchema }),
  /** A member's role changed; it applies to their sockets from this event on, on every node. */
  'member:updated': z.object({ userId: z.string(), role: z.enum(MEMBER_ROLES) }),
  /** A member left or was removed (their sockets left the room). */
  'member:removed': z.object({ userId: z.string() }),
  /** A session was created (over REST). */
  'session:created': z.object({ session: sessionDtoSchema }),
  /** A session was renamed. */
  'session:updated': z.object({ session: sessionDtoSchema }),
  /** A session was deleted with its messages and turns. */
  'session:deleted': z.object({ sessionId: z.string() }),
  /** A file was deleted. */
  'file:deleted': z.object({ fileId: z.string() }),
  /** The room was deleted with everything in it: the last event of its stream; every socket leaves it. */
  'room:deleted': z.object({}),
} as const;

/** Payloads of sequenced room events (without the envelope). */
export type RoomEventPayloads = { [E in keyof typeof roomEventSchemas]: z.infer<(typeof roomEventSchemas)[E]> };

export type RoomEventName = keyof RoomEventPayloads;
export type RoomEvent<E extends RoomEventName = RoomEventName> = RoomEnvelope & RoomEventPayloads[E];

/** A stored room event as the replay log keeps it. */
export interface LoggedRoomEvent<E extends RoomEventName = RoomEventName> {
  event: E;
  data: RoomEvent<E>;
}

/** Server-to-client events outside the room stream: not sequenced, not replayed. */
export const unsequencedEventSchemas = {
  /** Typing is ephemeral: sent volatile. */
  typing: z.object({ roomId: z.string(), sessionId: z.string(), userId: z.string(), on: z.boolean(), ts: z.number() }),
  /** Sent to one socket when it was removed from a room (membership revoked). */
  'room:removed': z.object({ roomId: z.string(), reason: z.string() }),
  /** Sent before the server drops a socket whose token expired. */
  'auth:expired': z.object({ reason: z.string() }),
  /** Sent before the server drops a socket for its own behaviour (a run of invalid events). */
  'socket:dropped': z.object({ code: z.string(), message: z.string() }),
} as const;

export type TypingEvent = z.infer<(typeof unsequencedEventSchemas)['typing']>;

export type ServerToClientEvents = {
  [E in RoomEventName]: (data: RoomEvent<E>) => void;
} & {
  [E in keyof typeof unsequencedEventSchemas]: (data: z.infer<(typeof unsequencedEventSchemas)[E]>) => void;
};

export interface SocketData {
  userId: string;
  sub: string;
  displayName: string;
  kind: 'human' | 'bot';
  tokenExp: number;
  rooms: Set<string>;
  /**
   * The socket's role in each room it joined, read at the join and kept current by `member:updated`
   * (on every node); socket events are allowed or refused by it.
   */
  roles: Map<string, MemberRole>;
}
