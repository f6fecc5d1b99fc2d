// The client-to-server half of the Socket.IO contract: every event's payload and ack as a zod
// schema. The event map types (`ClientToServerEvents`) are derived from these schemas, the server
// validates with them, and its handler table is typed by them, so a field renamed here fails the
// type check wherever it is read or answered. No server imports here.
import { z } from 'zod';
import { agentDtoSchema, budgetStatusDtoSchema, errorBodySchema, memberDtoSchema, messageDtoSchema, sessionDtoSchema, turnStateDtoSchema } from './dto';
import { ROOM_MODES, TURN_STATUSES } from './enums';

const uuid = z.uuid();
const seq = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const epoch = z.string().min(1).max(64);

// Inbound payloads are strict objects: unknown keys (including `__proto__`) are refused.

/** `lastSeq` counts within `epoch` (both from the last room event seen); without its epoch it gets a snapshot. */
export const roomJoinPayload = z.strictObject({ roomId: uuid, lastSeq: seq.optional(), epoch: epoch.optional() });
export const roomLeavePayload = z.strictObject({ roomId: uuid });
export const typingPayload = z.strictObject({ roomId: uuid, sessionId: uuid, on: z.boolean() });
export const turnCancelPayload = z.strictObject({ roomId: uuid, turnId: uuid });
/** `content` is further capped by the server's MAX_MESSAGE_CHARS. */
export const messageSendPayload = z.strictObject({
  roomId: uuid,
  sessionId: uuid,
  clientMsgId: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits, . _ : - only'),
  content: z.string().trim().min(1),
  fileIds: z.array(uuid).max(10).optional(),
});

/**
 * A turn running when a snapshot was taken: the text of its `agent:delta` frames sent so far, per
 * agent, up to `seq` of `epoch` (in a snapshot, the snapshot's epoch, and never below its seq). A
 * client appends the turn's later `agent:delta` frames: of that epoch with a higher seq, or of a
 * later epoch.
 */
export const inFlightTurnSchema = z.object({
  turnId: z.string(),
  sessionId: z.string(),
  status: z.enum(TURN_STATUSES),
  agentKey: z.string().nullable(),
  partialText: z.record(z.string(), z.string()),
  epoch: z.string(),
  seq: z.number(),
});

export const roomSnapshotSchema = z.object({
  roomId: z.string(),
  name: z.string(),
  mode: z.enum(ROOM_MODES),
  /** The room's stream epoch, and every event up to `seq` in it is reflected (records may show later ones); a client continues from here. */
  epoch: z.string(),
  seq: z.number(),
  agents: z.array(agentDtoSchema),
  membersOnline: z.array(memberDtoSchema),
  sessions: z.array(sessionDtoSchema),
  recentMessages: z.array(messageDtoSchema),
  /** The turns of the recent messages and where they stand (a turn that ended while the client was away). */
  recentTurns: z.array(turnStateDtoSchema),
  turnsInFlight: z.array(inFlightTurnSchema),
  /** The room's spend of the day and what is left of its budgets; `budget:updated` follows it live. */
  budget: budgetStatusDtoSchema,
});

// What each ack carries besides `ok: true`.

/**
 * `replay`: the missed events were sent as ordinary events just before this ack, `replayed` of
 * them, up to `seq`. `snapshot`: no `lastSeq` was given, or it could not be replayed (`replayGap`):
 * the log no longer reaches back to it, or it belongs to another epoch than the room's (or came
 * without one); the snapshot reflects every event up to `seq`, and the events after `seq` follow
 * the ack. Either way the client continues from `seq` of `epoch`.
 */
export const roomJoinResult = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('replay'), replayed: z.number(), epoch: z.string(), seq: z.number() }),
  z.object({ mode: z.literal('snapshot'), snapshot: roomSnapshotSchema, epoch: z.string(), seq: z.number(), replayGap: z.boolean().optional() }),
]);
export const emptyResult = z.object({});
export const messageSendResult = z.object({ messageId: z.string(), turnId: z.string(), duplicate: z.boolean() });
export const turnCancelResult = z.object({ status: z.enum(TURN_STATUSES), cancelRequested: z.boolean() });
/** `throttled`: a burst of typing events from one socket makes one event for the room. */
export const typingResult = z.object({ throttled: z.boolean() });

/** Every client-to-server event: its payload and what its ack carries on success. */
export const clientEvents = {
  'room:join': { payload: roomJoinPayload, result: roomJoinResult },
  'room:leave': { payload: roomLeavePayload, result: emptyResult },
  'message:send': { payload: messageSendPayload, result: messageSendResult },
  'turn:cancel': { payload: turnCancelPayload, result: turnCancelResult },
  typing: { payload: typingPayload, result: typingResult },
} as const;

export type ClientEventName = keyof typeof clientEvents;
/** What a client sends for an event. */
export type ClientPayload<E extends ClientEventName> = z.input<(typeof clientEvents)[E]['payload']>;
/** The payload as the server's handler sees it, after validation. */
export type ParsedClientPayload<E extends ClientEventName> = z.output<(typeof clientEvents)[E]['payload']>;
/** What the ack carries on success. */
export type ClientResult<E extends ClientEventName> = z.output<(typeof clientEvents)[E]['result']>;

export type Ack<T = Record<string, never>> = ({ ok: true } & T) | { ok: false; error: z.infer<typeof errorBodySchema> };

/** Events a client may send without waiting for an answer (the server then sends no ack). */
type FireAndForget = 'typing';

export type ClientToServerEvents = {
  [E in ClientEventName]: E extends FireAndForget
    ? (p: ClientPayload<E>, ack?: (a: Ack<ClientResult<E>>) => void) => void
    : (p: ClientPayload<E>, ack: (a: Ack<ClientResult<E>>) => void) => void;
};

export type InFlightTurn = z.infer<typeof inFlightTurnSchema>;
export type RoomSnapshot = z.infer<typeof roomSnapshotSchema>;
export type JoinAck = Ack<ClientResult<'room:join'>>;
