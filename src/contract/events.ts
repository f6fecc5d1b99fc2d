// The server-to-client half of the Socket.IO contract: every room event and its payload, shared by
// the server and the client SDK. The client-to-server half is in client-events.ts. No server imports here.
import type { AgentDto, ApprovalDecision, ApprovalReason, BudgetStatusDto, ErrorBody, FileStatus, MemberDto, MemberRole, MessageDto, RoomMode, SessionDto, SummaryFieldsDto, TurnStatus } from './dto';

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
export interface RoomEnvelope {
  roomId: string;
  epoch: string;
  seq: number;
  /**
   * Set on an `agent:delta` sent to a socket that catches up (a replay, or the events after a
   * snapshot): it stands for the consecutive deltas `fromSeq..seq` of one turn and agent, their
   * texts joined. Live events never carry it.
   */
  fromSeq?: number;
  /** Server time in epoch milliseconds. */
  ts: number;
}

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

/** The approval a tool call went through: who decided, how, when. */
export interface ToolCallApproval {
  decision: ApprovalDecision;
  reason: ApprovalReason;
  by: string | null;
  decidedAt: string;
  note?: string;
}

/** The error of an agent or turn a budget stopped (`code: 'BUDGET_EXCEEDED'`): which budget, and when it resets (null: with the next turn). */
export interface BudgetExceededDetails {
  budget: 'roomDailyTokens' | 'roomDailyCostUsd' | 'userDailyTokens' | 'userDailyCostUsd' | 'agentTurnOutputTokens';
  resetsAt: string | null;
}

/** Payloads of sequenced room events (without the envelope). */
export interface RoomEventPayloads {
  presence: { userId: string; displayName: string; kind: 'human' | 'bot'; state: 'joined' | 'left' };
  'message:created': { message: MessageDto };
  /** The author edited a message: its new text (the earlier ones are in the turn's audit). */
  'message:updated': { message: MessageDto };
  /** The author deleted a message: it stays in history as a tombstone without its text. */
  'message:deleted': { messageId: string; sessionId: string; deletedAt: string };
  'turn:queued': { turnId: string; sessionId: string; messageId: string; position: number };
  'turn:started': { turnId: string; sessionId: string; mode: RoomMode };
  'turn:plan': { turnId: string; agentKeys: string[]; fallback: boolean; reason?: string };
  'agent:start': { turnId: string; agentKey: string; modelAlias: string };
  'agent:delta': { turnId: string; agentKey: string; text: string };
  'tool:start': { turnId: string; agentKey: string; toolCallId: string; toolName: string; input: Record<string, unknown> };
  'tool:progress': { turnId: string; agentKey: string; toolCallId: string; toolName: string; message: string; percent?: number };
  'tool:end': {
    turnId: string;
    agentKey: string;
    toolCallId: string;
    toolName: string;
    status: 'succeeded' | 'failed';
    latencyMs: number;
    error?: string;
    /** Present when the call went through an approval (or was denied by policy). */
    approval?: ToolCallApproval;
  };
  /** A tool call under `ask` waits for a member with the approving role; the turn is `awaiting_approval` until it is resolved. */
  'tool:approval_requested': {
    turnId: string;
    toolCallId: string;
    agentKey: string;
    tool: string;
    input: Record<string, unknown>;
    /** ISO time at which it counts as denied (TOOL_APPROVAL_TIMEOUT_MS). */
    expiresAt: string;
  };
  /** `by` is the member who answered; null when it timed out or the turn was cancelled. */
  'tool:approval_resolved': {
    turnId: string;
    toolCallId: string;
    agentKey: string;
    tool: string;
    by: string | null;
    decision: ApprovalDecision;
    reason: ApprovalReason;
    note?: string;
    decidedAt: string;
  };
  'agent:end': {
    turnId: string;
    agentKey: string;
    messageId: string | null;
    /** `partial`: a budget stopped it mid-stream; the text so far is kept (error BUDGET_EXCEEDED). */
    status: 'complete' | 'partial' | 'failed' | 'cancelled';
    finishReason: string | null;
    /** Its model calls, tool rounds included: charged to the room's and the user's budgets. */
    usage: Usage;
    error?: ErrorBody;
  };
  'summary:started': { turnId: string; sessionId: string };
  'summary:updated': { turnId: string; sessionId: string; summary: string; usedFallback: boolean; fields?: SummaryFieldsDto };
  'turn:end': {
    turnId: string;
    sessionId: string;
    status: Exclude<TurnStatus, 'queued' | 'running'>;
    error?: ErrorBody;
    /** The agents' calls: what the turn charged to the budgets. */
    usage: Usage;
    /** The manager's and the summary's calls: recorded, never charged. */
    infrastructureUsage: Usage;
  };
  /** The room's spend changed: a charged model call of turn `turnId` settled. */
  'budget:updated': { turnId?: string; budget: BudgetStatusDto };
  'file:progress': { fileId: string; stage: 'queued' | 'reading' | 'parsing' | 'storing'; percent: number };
  'file:ready': { fileId: string; filename: string; kind: string; status: FileStatus };
  'file:failed': { fileId: string; filename: string; code: string; message: string };
  /** The room's agents or settings changed; clients refetch or apply the snapshot given. */
  'room:updated': { agents?: AgentDto[]; mode?: RoomMode; name?: string };
  /** Someone became a member of the room. */
  'member:added': { member: MemberDto };
  /** A member's role changed; it applies to their sockets from this event on, on every node. */
  'member:updated': { userId: string; role: MemberRole };
  /** A member left or was removed (their sockets left the room). */
  'member:removed': { userId: string };
  /** A session was renamed. */
  'session:updated': { session: SessionDto };
  /** A session was deleted with its messages and turns. */
  'session:deleted': { sessionId: string };
  /** A file was deleted. */
  'file:deleted': { fileId: string };
  /** The room was deleted with everything in it: the last event of its stream; every socket leaves it. */
  'room:deleted': Record<string, never>;
}

export type RoomEventName = keyof RoomEventPayloads;
export type RoomEvent<E extends RoomEventName = RoomEventName> = RoomEnvelope & RoomEventPayloads[E];

/** A stored room event as the replay log keeps it. */
export interface LoggedRoomEvent<E extends RoomEventName = RoomEventName> {
  event: E;
  data: RoomEvent<E>;
}

/** Typing is ephemeral: not sequenced, not replayed, sent volatile. */
export interface TypingEvent {
  roomId: string;
  sessionId: string;
  userId: string;
  on: boolean;
  ts: number;
}

export type ServerToClientEvents = {
  [E in RoomEventName]: (data: RoomEvent<E>) => void;
} & {
  typing: (data: TypingEvent) => void;
  /** Sent to one socket when it was removed from a room (membership revoked). */
  'room:removed': (data: { roomId: string; reason: string }) => void;
  /** Sent before the server drops a socket whose token expired. */
  'auth:expired': (data: { reason: string }) => void;
  /** Sent before the server drops a socket for its own behaviour (a run of invalid events). */
  'socket:dropped': (data: { code: string; message: string }) => void;
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
