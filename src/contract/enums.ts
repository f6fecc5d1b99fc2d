// Every enumeration that crosses the wire, declared once. The entities store these same values
// (src/db/entities import them), so a value added here is a column value there, and vice versa.

export const ROOM_MODES = ['manual', 'roundtable', 'orchestrator'] as const;
export const MEMBER_ROLES = ['owner', 'admin', 'member', 'viewer'] as const;
export const USER_KINDS = ['human', 'bot'] as const;
export const TURN_STATUSES = ['queued', 'running', 'completed', 'partial', 'failed', 'cancelled', 'interrupted'] as const;
export const MESSAGE_STATUSES = ['complete', 'partial', 'failed', 'cancelled'] as const;
export const AUTHOR_TYPES = ['user', 'agent', 'system'] as const;
export const FILE_STATUSES = ['queued', 'parsing', 'ready', 'failed'] as const;
/** Per agent and tool: run it (`auto`), ask the room first (`ask`), or never run it (`deny`). */
export const TOOL_APPROVAL_POLICIES = ['auto', 'ask', 'deny'] as const;
/** An approver's answer to a tool call waiting under `ask`. */
export const APPROVAL_DECISIONS = ['approve', 'deny'] as const;
/** Why an approval ended: a member answered, it timed out, the turn was cancelled, or the policy denied it. */
export const APPROVAL_REASONS = ['member', 'timeout', 'cancelled', 'policy'] as const;
/** Where a turn in flight stands: running, or waiting for a member to approve a tool call. */
export const IN_FLIGHT_STATES = ['running', 'awaiting_approval'] as const;

export type RoomMode = (typeof ROOM_MODES)[number];
export type MemberRole = (typeof MEMBER_ROLES)[number];
export type UserKind = (typeof USER_KINDS)[number];
export type TurnStatus = (typeof TURN_STATUSES)[number];
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];
export type AuthorType = (typeof AUTHOR_TYPES)[number];
export type FileStatus = (typeof FILE_STATUSES)[number];
export type ToolApprovalPolicy = (typeof TOOL_APPROVAL_POLICIES)[number];
export type ApprovalDecision = (typeof APPROVAL_DECISIONS)[number];
export type ApprovalReason = (typeof APPROVAL_REASONS)[number];
export type InFlightState = (typeof IN_FLIGHT_STATES)[number];
