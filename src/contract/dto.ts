// Wire shapes shared by the server, the REST API and the typed client SDK, as zod schemas with
// their inferred types: a client can validate what it receives with the same schemas the server's
// tests check its answers against. No server imports here.
import { z } from 'zod';
import { roomSettingsSchema } from './room-settings';
import { AUTHOR_TYPES, MEMBER_ROLES, MESSAGE_STATUSES, ROOM_MODES, TURN_STATUSES, USER_KINDS } from './enums';

export {
  AUTHOR_TYPES,
  FILE_STATUSES,
  MEMBER_ROLES,
  MESSAGE_STATUSES,
  ROOM_MODES,
  TURN_STATUSES,
  USER_KINDS,
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
  position: z.number(),
});
export type AgentDto = z.infer<typeof agentDtoSchema>;

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
  /** The stages of the last summary run that fell back, and why (empty when none did or none ran). */
  summaryFallback: z.array(summaryFallbackDtoSchema),
  createdAt: z.string(),
});
export type SessionDto = z.infer<typeof sessionDtoSchema>;

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
});
export type MessageDto = z.infer<typeof messageDtoSchema>;

/** Where a turn stands: a client that was away learns from it which turns ended, and how. */
export const turnStateDtoSchema = z.object({
  turnId: z.string(),
  sessionId: z.string(),
  status: z.enum(TURN_STATUSES),
});
export type TurnStateDto = z.infer<typeof turnStateDtoSchema>;

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
