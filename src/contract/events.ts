// The Socket.IO contract: every event name and payload, shared by the server and the client SDK.
// No server imports here.
import type { AgentDto, ErrorBody, FileStatus, MemberDto, MessageDto, RoomMode, SessionDto, TurnStatus } from './dto';

/** Every room event carries this envelope; `seq` rises by one per room event across all nodes. */
export interface RoomEnvelope {
  roomId: string;
  seq: number;
  /** Server time in epoch milliseconds. */
  ts: number;
}

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

/** Payloads of sequenced room events (without the envelope). */
export interface RoomEventPayloads {
  presence: { userId: string; displayName: string; kind: 'human' | 'bot'; state: 'joined' | 'left' };
  'message:created': { message: MessageDto };
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
  };
  'agent:end': {
    turnId: string;
    agentKey: string;
    messageId: string | null;
    status: 'complete' | 'failed' | 'cancelled';
    finishReason: string | null;
    usage: Usage;
    error?: ErrorBody;
  };
  'summary:started': { turnId: string; sessionId: string };
  'summary:updated': { turnId: string; sessionId: string; summary: string; usedFallback: boolean };
  'turn:end': { turnId: string; sessionId: string; status: Exclude<TurnStatus, 'queued' | 'running'>; error?: ErrorBody; usage: Usage };
  'file:progress': { fileId: string; stage: 'queued' | 'reading' | 'parsing' | 'storing'; percent: number };
  'file:ready': { fileId: string; filename: string; kind: string; status: FileStatus };
  'file:failed': { fileId: string; filename: string; code: string; message: string };
  /** The room's agents or settings changed; clients refetch or apply the snapshot given. */
  'room:updated': { agents?: AgentDto[]; mode?: RoomMode; name?: string };
}

export type RoomEventName = keyof RoomEventPayloads;
export type RoomEvent<E extends RoomEventName = RoomEventName> = RoomEnvelope & RoomEventPayloads[E];

/** A stored room event as the replay log keeps it. */
export interface LoggedRoomEvent<E extends RoomEventName = RoomEventName> {
  event: E;
  data: RoomEvent<E>;
}

export type Ack<T = Record<string, never>> = ({ ok: true } & T) | { ok: false; error: ErrorBody };

/**
 * A turn running when a snapshot was taken: the text of its `agent:delta` frames sent so far, per
 * agent, up to `seq`. A client appends later `agent:delta` frames of the turn with a higher seq.
 */
export interface InFlightTurn {
  turnId: string;
  sessionId: string;
  status: TurnStatus;
  agentKey: string | null;
  partialText: Record<string, string>;
  seq: number;
}

export interface RoomSnapshot {
  roomId: string;
  name: string;
  mode: RoomMode;
  /** The highest seq this snapshot reflects; a client continues from here. */
  seq: number;
  agents: AgentDto[];
  membersOnline: MemberDto[];
  sessions: SessionDto[];
  recentMessages: MessageDto[];
  turnsInFlight: InFlightTurn[];
}

/**
 * `replay`: the missed events were sent as ordinary events just before this ack, `replayed` of
 * them, up to `seq`. `snapshot`: the log did not reach back to `lastSeq` (`replayGap`) or none was
 * given; the snapshot reflects every event up to `seq`, and live events after `seq` follow the ack.
 */
export type JoinAck = Ack<
  | { mode: 'replay'; replayed: number; seq: number }
  | { mode: 'snapshot'; snapshot: RoomSnapshot; seq: number; replayGap?: boolean }
>;

export interface ClientToServerEvents {
  'room:join': (p: { roomId: string; lastSeq?: number }, ack: (a: JoinAck) => void) => void;
  'room:leave': (p: { roomId: string }, ack: (a: Ack) => void) => void;
  'message:send': (
    p: { roomId: string; sessionId: string; clientMsgId: string; content: string; fileIds?: string[] },
    ack: (a: Ack<{ messageId: string; turnId: string; duplicate: boolean }>) => void,
  ) => void;
  'turn:cancel': (p: { roomId: string; turnId: string }, ack: (a: Ack<{ status: TurnStatus }>) => void) => void;
  typing: (p: { roomId: string; sessionId: string; on: boolean }, ack?: (a: Ack) => void) => void;
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
};

export interface SocketData {
  userId: string;
  sub: string;
  displayName: string;
  kind: 'human' | 'bot';
  tokenExp: number;
  rooms: Set<string>;
}
