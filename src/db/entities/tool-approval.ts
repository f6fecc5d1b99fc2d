import { defineEntity, p } from '@mikro-orm/core';
import { APPROVAL_REASONS } from '../../contract/enums';
import { newId, now } from './common';
import { Room } from './room';
import { Session } from './session';
import { Turn } from './turn';
import { User } from './user';

export const TOOL_APPROVAL_STATUSES = ['pending', 'approved', 'denied'] as const;
export type ToolApprovalStatus = (typeof TOOL_APPROVAL_STATUSES)[number];

/**
 * A tool call under `ask`, waiting for (or answered by) a member with the approving role. Stored
 * so that it survives its node: any node answers it, and a turn run again after a restart applies
 * the stored answer to the same call (same agent, tool and input) instead of asking again.
 * `consumedAt` marks the answer as used by a run of the call.
 */
export const ToolApprovalSchema = defineEntity({
  name: 'ToolApproval',
  tableName: 'tool_approvals',
  uniques: [{ properties: ['turn', 'toolCallId'] }],
  indexes: [{ properties: ['room', 'status'] }],
  properties: {
    id: p.uuid().primary().onCreate(newId),
    room: () => p.manyToOne(Room).deleteRule('cascade'),
    session: () => p.manyToOne(Session).deleteRule('cascade'),
    turn: () => p.manyToOne(Turn).deleteRule('cascade'),
    agentKey: p.string().length(64),
    toolCallId: p.string().length(128),
    toolName: p.string().length(200),
    input: p.json<Record<string, unknown>>(),
    /** The input as canonical JSON, so a call made again after a restart finds its answer. */
    inputKey: p.text(),
    status: p.enum(TOOL_APPROVAL_STATUSES).default('pending'),
    reason: p.enum(APPROVAL_REASONS).nullable(),
    decidedBy: () => p.manyToOne(User).deleteRule('set null').nullable(),
    note: p.text().nullable(),
    requestedAt: p.datetime().onCreate(now).defaultRaw('now()'),
    expiresAt: p.datetime(),
    decidedAt: p.datetime().nullable(),
    consumedAt: p.datetime().nullable(),
  },
});
export class ToolApproval extends ToolApprovalSchema.class {}
ToolApprovalSchema.setClass(ToolApproval);
