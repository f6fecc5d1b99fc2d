// The server-to-client half of the Socket.IO contract: every room event and its payload, shared by
// the server and the client SDK. The client-to-server half is in client-events.ts. No server imports here.
import { z } from 'zod';
import { agentDtoSchema, errorBodySchema, messageDtoSchema } from './dto';
import { FILE_STATUSES, ROOM_MODES, TURN_STATUSES, USER_KINDS } from './enums';

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

const ENDED_TURN_STATUSES = TURN_STATUSES.filter((s): s is Exclude<(typeof TURN_STATUSES)[number], 'queued' | 'running'> => s !== 'queued' && s !== 'running');

/**
 * Payloads of sequenced room events (without the envelope), as zod schemas: the types below are
 * inferred from them, and docs/asyncapi.json is generated from them.
 */
export const roomEventSchemas = {
  presence: z.object({ userId: z.string(), displayName: z.string(), kind: z.enum(USER_KINDS), state: z.enum(['joined', 'left']) }),
  'message:created': z.object({ message: messageDtoSchema }),
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
  }),
  'agent:end': z.object({
    turnId: z.string(),
    agentKey: z.string(),
    messageId: z.string().nullable(),
    status: z.enum(['complete', 'failed', 'cancelled']),
    finishReason: z.string().nullable(),
    usage: usageSchema,
    error: errorBodySchema.optional(),
  }),
  'summary:started': z.object({ turnId: z.string(), sessionId: z.string() }),
  'summary:updated': z.object({ turnId: z.string(), sessionId: z.string(), summary: z.string(), usedFallback: z.boolean() }),
  'turn:end': z.object({ turnId: z.string(), sessionId: z.string(), status: z.enum(ENDED_TURN_STATUSES), error: errorBodySchema.optional(), usage: usageSchema }),
  'file:progress': z.object({ fileId: z.string(), stage: z.enum(['queued', 'reading', 'parsing', 'storing']), percent: z.number() }),
  'file:ready': z.object({ fileId: z.string(), filename: z.string(), kind: z.string(), status: z.enum(FILE_STATUSES) }),
  'file:failed': z.object({ fileId: z.string(), filename: z.string(), code: z.string(), message: z.string() }),
  /** The room's agents or settings changed; clients refetch or apply the snapshot given. */
  'room:updated': z.object({ agents: z.array(agentDtoSchema).optional(), mode: z.enum(ROOM_MODES).optional(), name: z.string().optional() }),
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
}
