import { defineEntity, p } from '@mikro-orm/core';
import { newId, now } from './common';
import { Room } from './room';
import { Session } from './session';
import { Turn } from './turn';
import { User } from './user';

export const USAGE_PURPOSES = ['agent', 'manager', 'summary'] as const;
export type UsagePurpose = (typeof USAGE_PURPOSES)[number];

/** One model call: who caused it, which alias answered, its tokens and cost. */
export const LlmUsageEventSchema = defineEntity({
  name: 'LlmUsageEvent',
  tableName: 'llm_usage_events',
  indexes: [{ properties: ['room', 'createdAt'] }],
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
    createdAt: p.datetime().onCreate(now).defaultRaw('now()'),
  },
});
export class LlmUsageEvent extends LlmUsageEventSchema.class {}
LlmUsageEventSchema.setClass(LlmUsageEvent);
