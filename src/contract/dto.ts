// Wire shapes shared by the server, the REST API and the typed client SDK, as zod schemas with
// their inferred types: a client can validate what it receives with the same schemas the server's
// tests check its answers against. No server imports here.
import { z } from 'zod';
import { roomSettingsSchema } from './room-settings';
import { AUTHOR_TYPES, MEMBER_ROLES, MESSAGE_STATUSES, ROOM_MODES, TOOL_APPROVAL_POLICIES, TURN_STATUSES, USER_KINDS } from './enums';

export {
  AUTHOR_TYPES,
  FILE_STATUSES,
  MEMBER_ROLES,
  MESSAGE_STATUSES,
  ROOM_MODES,
  TURN_STATUSES,
  USER_KINDS,
  TOOL_APPROVAL_POLICIES,
  APPROVAL_DECISIONS,
  APPROVAL_REASONS,
  IN_FLIGHT_STATES,
  type ToolApprovalPolicy,
  type ApprovalDecision,
  type ApprovalReason,
  type InFlightState,
  type AuthorType,
  type FileStatus,
  type MemberRole,
  type MessageStatus,
  type RoomMode,
  type TurnStatus,
  type UserKind,
} from './enums';

export const errorBodySchema = z.object({
  code: z.string(),
  message: z.string(),
  details: z.unknown().optional(),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

export const userDtoSchema = z.object({
  id: z.string(),
  sub: z.string(),
  displayName: z.string(),
  kind: z.enum(USER_KINDS),
});
export type UserDto = z.infer<typeof userDtoSchema>;

export const roomDtoSchema = z.object({
  id: z.string(),
  name: z.string(),
  mode: z.enum(ROOM_MODES),
  settings: roomSettingsSchema,
  role: z.enum(MEMBER_ROLES).optional(),
  createdAt: z.string(),
});
export type RoomDto = z.infer<typeof roomDtoSchema>;

export const memberDtoSchema = z.object({
  userId: z.string(),
  role: z.enum(MEMBER_ROLES),
  displayName: z.string(),
  kind: z.enum(USER_KINDS),
});
export type MemberDto = z.infer<typeof memberDtoSchema>;

export const agentDtoSchema = z.object({
  key: z.string(),
  name: z.string(),
  rolePrompt: z.string(),
  modelAlias: z.string(),
  toolPermissions: z.array(z.string()),
  /** Per tool: `auto` (absent means auto), `ask` (a member with the approving role must approve), `deny`. */
  toolApprovals: z.record(z.string(), z.enum(TOOL_APPROVAL_POLICIES)),
  position: z.number(),
});
export type AgentDto = z.infer<typeof agentDtoSchema>;

/** The session summary's structured fields, extracted from its text (or by the deterministic fallback). */
export const summaryFieldsDtoSchema = z.object({
  topics: z.array(z.string()),
  decisions: z.array(z.string()),
  openQuestions: z.array(z.string()),
});
export type SummaryFieldsDto = z.infer<typeof summaryFieldsDtoSchema>;
/** A summary stage that fell back to its deterministic rule, and why. */
export const summaryFallbackDtoSchema = z.object({
  stage: z.enum(['generation', 'extraction']),
  reason: z.string(),
});
export type SummaryFallbackDto = z.infer<typeof summaryFallbackDtoSchema>;

export const sessionDtoSchema = z.object({
  id: z.string(),
  roomId: z.string(),
  title: z.string(),
  summary: z.string().nullable(),
  /** The summary's structured fields; absent or null until a summary ran. */
  summaryData: summaryFieldsDtoSchema.nullable().optional(),
  /** The stages of the last summary run that fell back, and why (empty when none did or none ran). */
  summaryFallback: z.array(summaryFallbackDtoSchema),
  createdAt: z.string(),
});
export type SessionDto = z.infer<typeof sessionDtoSchema>;

/** A file attached to a message, as it was when the message was sent. */
export const attachmentDtoSchema = z.object({
  id: z.string(),
  filename: z.string(),
  kind: z.string(),
  sizeBytes: z.number(),
});
export type AttachmentDto = z.infer<typeof attachmentDtoSchema>;

export const messageDtoSchema = z.object({
  id: z.string(),
  sessionId: z.string(),
  turnId: z.string().nullable(),
  authorType: z.enum(AUTHOR_TYPES),
  authorUserId: z.string().nullable(),
  agentKey: z.string().nullable(),
  content: z.string(),
  status: z.enum(MESSAGE_STATUSES),
  modelAlias: z.string().nullable(),
  clientMsgId: z.string().nullable(),
  createdAt: z.string(),
  /** Files the sender attached (empty for most messages). */
  attachments: z.array(attachmentDtoSchema),
  /** 1 for a first answer; a regenerated agent answer is a new message with the next version. */
  version: z.number().int().min(1),
  /** The first version of the answer this message is a later version of; null for a first version. */
  versionOf: z.string().nullable(),
  /** When the author last edited the text; the earlier texts are in the turn's audit. */
  editedAt: z.string().nullable(),
  /** Set on a deleted message, a tombstone whose `content` is empty. */
  deletedAt: z.string().nullable(),
});
export type MessageDto = z.infer<typeof messageDtoSchema>;

/** Where a turn stands: a client that was away learns from it which turns ended, and how. */
export const turnStateDtoSchema = z.object({
  turnId: z.string(),
  sessionId: z.string(),
  status: z.enum(TURN_STATUSES),
});
export type TurnStateDto = z.infer<typeof turnStateDtoSchema>;

/** A tool call waiting for a member's approval (snapshots, REST). */
export const pendingApprovalDtoSchema = z.object({
  turnId: z.string(),
  sessionId: z.string(),
  toolCallId: z.string(),
  agentKey: z.string(),
  tool: z.string(),
  input: z.record(z.string(), z.unknown()),
  requestedAt: z.string(),
  /** When it counts as denied if nobody answered. */
  expiresAt: z.string(),
});
export type PendingApprovalDto = z.infer<typeof pendingApprovalDtoSchema>;

/** A tool the server offers agents: built in, or from an MCP server (`mcp.<server>.<tool>`). */
export const toolDtoSchema = z.object({
  name: z.string(),
  description: z.string(),
  source: z.enum(['builtin', 'mcp']),
  /** The MCP server it comes from. */
  server: z.string().optional(),
  /** JSON Schema of its input. */
  inputSchema: z.record(z.string(), z.unknown()),
  available: z.boolean(),
  /** Why it cannot be used right now (its backend is not configured, its server is down). */
  reason: z.string().optional(),
});
export type ToolDto = z.infer<typeof toolDtoSchema>;
/**
 * A hit of `GET /rooms/:roomId/search`: a message or a parsed file, with a snippet of plain text
 * around the words found (each found word between `**`).
 */
export const searchHitDtoSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('message'),
    id: z.string(),
    messageId: z.string(),
    sessionId: z.string(),
    turnId: z.string().nullable(),
    authorType: z.enum(AUTHOR_TYPES),
    agentKey: z.string().nullable(),
    snippet: z.string(),
    createdAt: z.string(),
  }),
  z.object({ kind: z.literal('file'), id: z.string(), fileId: z.string(), filename: z.string(), snippet: z.string(), createdAt: z.string() }),
]);
export type SearchHitDto = z.infer<typeof searchHitDtoSchema>;
const budgetAmountSchema = z.object({
  /** Settled spend of the day. */
  spent: z.number(),
  /** Held by model calls in flight. */
  reserved: z.number(),
  /** null: unlimited. */
  limit: z.number().nullable(),
  /** What calls may still spend (limit - spent - reserved, never below 0); null: unlimited. */
  remaining: z.number().nullable(),
});

/** A room's spend of the UTC day and what is left of its daily budgets (snapshot, `budget:updated`). */
export const budgetStatusDtoSchema = z.object({
  day: z.string(),
  /** When the day's budgets reset (the next UTC midnight). */
  resetsAt: z.string(),
  tokens: budgetAmountSchema,
  costUsd: budgetAmountSchema,
});
export type BudgetStatusDto = z.infer<typeof budgetStatusDtoSchema>;
