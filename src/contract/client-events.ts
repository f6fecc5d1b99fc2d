// The client-to-server half of the Socket.IO contract: every event's payload and ack as a zod
// schema. The event map types (`ClientToServerEvents`) are derived from these schemas, the server
// validates with them, and its handler table is typed by them, so a field renamed here fails the
// type check wherever it is read or answered. No server imports here.
import { z } from 'zod';
import { agentDtoSchema, budgetStatusDtoSchema, errorBodySchema, memberDtoSchema, messageDtoSchema, pendingApprovalDtoSchema, sessionDtoSchema, turnStateDtoSchema } from './dto';
import { APPROVAL_DECISIONS, IN_FLIGHT_STATES, ROOM_MODES, TURN_STATUSES } from './enums';

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
/** An approver's answer to a tool call waiting under `ask` (also `POST /rooms/:roomId/turns/:turnId/approvals/:toolCallId`). */
export const toolApprovePayload = z.strictObject({
  roomId: uuid,
  turnId: uuid,
  toolCallId: z.string().min(1).max(128),
  decision: z.enum(APPROVAL_DECISIONS),
  note: z.string().trim().max(500).optional(),
});

/** Regenerates one agent's answer of a finished turn; the new version streams as a turn of its own. */
export const turnRegeneratePayload = z.strictObject({
  roomId: uuid,
  turnId: uuid,
  agentKey: z.string().trim().toLowerCase().min(1).max(64),
});
/** The author edits their message; `rerun` starts a new turn that answers the edited text. `content` is capped by MAX_MESSAGE_CHARS. */
export const messageEditPayload = z.strictObject({
  roomId: uuid,
  messageId: uuid,
  content: z.string().trim().min(1),
  rerun: z.boolean().optional(),
});
/** The author deletes their message: it stays as a tombstone without its text. */
export const messageDeletePayload = z.strictObject({ roomId: uuid, messageId: uuid });

/**
 * A turn running when a snapshot was taken: the text of its `agent:delta` frames sent so far, per
 * agent, up to `seq` of `epoch` (in a snapshot, the snapshot's epoch, and never below its seq). A
 * client appends the turn's later `agent:delta` frames: of that epoch with a higher seq, or of a
 * later epoch.
 */
export const inFlightTurnSchema = z.object({
  turnId: z.string(),
  sessionId: z.string(),
  /** `awaiting_approval` while one of its tool calls waits for a member (the stored status stays `running`). */
  status: z.enum([...TURN_STATUSES, ...IN_FLIGHT_STATES.filter((s) => s !== 'running')]),
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
  /** A first page of the members online (at most 50, in no particular order); `presence` events keep it up to date. */
  membersOnline: z.array(memberDtoSchema),
  /** How many members are online (with a socket in the room on any node), listed or not. */
  membersOnlineCount: z.number(),
  sessions: z.array(sessionDtoSchema),
  recentMessages: z.array(messageDtoSchema),
  /** The turns of the recent messages and where they stand (a turn that ended while the client was away). */
  recentTurns: z.array(turnStateDtoSchema),
  turnsInFlight: z.array(inFlightTurnSchema),
  /** Tool calls waiting for a member's approval, on any node (stored, so they survive a restart). */
  pendingApprovals: z.array(pendingApprovalDtoSchema),
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
/** The stored decision; `by` is the caller. */
export const toolApproveResult = z.object({ decision: z.enum(APPROVAL_DECISIONS), decidedAt: z.string() });
/** `turnId`: the new turn that streams the new version; `messageId`: the answer it makes a new version of. */
export const turnRegenerateResult = z.object({ turnId: z.string(), messageId: z.string() });
/** The edited message; `turnId` of the new turn when `rerun` was asked. */
export const messageEditResult = z.object({ message: messageDtoSchema, turnId: z.string().optional() });
export const messageDeleteResult = z.object({ messageId: z.string(), deletedAt: z.string() });
/** `throttled`: a burst of typing events from one socket makes one event for the room. */
export const typingResult = z.object({ throttled: z.boolean() });

/** Every client-to-server event: its payload and what its ack carries on success. */
export const clientEvents = {
  'room:join': { payload: roomJoinPayload, result: roomJoinResult },
  'room:leave': { payload: roomLeavePayload, result: emptyResult },
  'message:send': { payload: messageSendPayload, result: messageSendResult },
  'turn:cancel': { payload: turnCancelPayload, result: turnCancelResult },
  'turn:regenerate': { payload: turnRegeneratePayload, result: turnRegenerateResult },
  'message:edit': { payload: messageEditPayload, result: messageEditResult },
  'message:delete': { payload: messageDeletePayload, result: messageDeleteResult },
  typing: { payload: typingPayload, result: typingResult },
  'tool:approve': { payload: toolApprovePayload, result: toolApproveResult },
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
