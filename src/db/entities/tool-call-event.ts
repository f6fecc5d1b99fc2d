import { defineEntity, p } from '@mikro-orm/core';
import type { ToolCallApproval } from '../../contract/events';
import { newId, now } from './common';
import { Room } from './room';
import { Session } from './session';
import { Turn } from './turn';
import { User } from './user';

export const TOOL_CALL_STATUSES = ['started', 'succeeded', 'failed'] as const;
export type ToolCallStatus = (typeof TOOL_CALL_STATUSES)[number];

/** One tool call made by an agent during a turn, with its latency and outcome. */
export const ToolCallEventSchema = defineEntity({
  name: 'ToolCallEvent',
  tableName: 'tool_call_events',
  properties: {
    id: p.uuid().primary().onCreate(newId),
    room: () => p.manyToOne(Room).deleteRule('cascade'),
    session: () => p.manyToOne(Session).deleteRule('cascade'),
    turn: () => p.manyToOne(Turn).deleteRule('cascade').index(),
    /** The user whose message caused the call (a real foreign key). */
    user: () => p.manyToOne(User).deleteRule('set null').nullable(),
    agentKey: p.string().length(64),
    toolCallId: p.string().length(128),
    toolName: p.string().length(200),
    status: p.enum(TOOL_CALL_STATUSES).default('started'),
    input: p.json<Record<string, unknown>>().nullable(),
    output: p.json<Record<string, unknown>>().nullable(),
    error: p.text().nullable(),
    latencyMs: p.integer().nullable(),
    /** The approval the call went through (decision, reason, who, when, note); null for `auto`. */
    approval: p.json<ToolCallApproval>().nullable(),
    createdAt: p.datetime().onCreate(now).defaultRaw('now()'),
  },
});
export class ToolCallEvent extends ToolCallEventSchema.class {}
ToolCallEventSchema.setClass(ToolCallEvent);
