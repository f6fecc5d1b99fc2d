import { defineEntity, p } from '@mikro-orm/core';
import { newId, now } from './common';
import { Room } from './room';
import { Session } from './session';
import { Turn } from './turn';
import { User } from './user';

export const USAGE_PURPOSES = ['agent', 'manager', 'summary'] as const;
export type UsagePurpose = (typeof USAGE_PURPOSES)[number];
/**
 * How a call ended: `completed`; `failed` (a refused request bills nothing; a stream cut after it
 * started is estimated); `cancelled` (the turn was cancelled); `stopped` (a budget ran out mid-stream).
 */
export const USAGE_STATUSES = ['completed', 'failed', 'cancelled', 'stopped'] as const;
export type UsageStatus = (typeof USAGE_STATUSES)[number];

/** One model call: who caused it, which alias answered, its tokens and cost. */
export const LlmUsageEventSchema = defineEntity({
  name: 'LlmUsageEvent',
  tableName: 'llm_usage_events',
  indexes: [{ properties: ['room', 'createdAt'] }, { properties: ['user', 'createdAt'] }],
  properties: {
    id: p.uuid().primary().onCreate(newId),
    room: () => p.manyToOne(Room).deleteRule('cascade'),
    session: () => p.manyToOne(Session).deleteRule('cascade'),
    turn: () => p.manyToOne(Turn).deleteRule('cascade').index(),
    user: () => p.manyToOne(User).deleteRule('set null').nullable(),
    agentKey: p.string().length(64).nullable(),
    purpose: p.enum(USAGE_PURPOSES),
    modelAlias: p.string().length(64),
    model: p.string().length(200),
    inputTokens: p.integer().default(0),
    outputTokens: p.integer().default(0),
    costUsd: p.decimal('number').precision(14).scale(8).default(0),
    latencyMs: p.integer().nullable(),
    status: p.enum(USAGE_STATUSES).default('completed'),
    /** True when the server reported no usage and the tokens are the server's own estimate. */
    estimated: p.boolean().default(false),
    /**
     * False for infrastructure calls (the manager, the summary): recorded, shown in the audit,
     * never charged to a room's or a user's budget nor counted in a turn's charged totals.
     */
    charged: p.boolean().default(true),
    createdAt: p.datetime().onCreate(now).defaultRaw('now()'),
  },
});
export class LlmUsageEvent extends LlmUsageEventSchema.class {}
LlmUsageEventSchema.setClass(LlmUsageEvent);
