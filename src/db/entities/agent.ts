import { defineEntity, p } from '@mikro-orm/core';
import type { ToolApprovalPolicy } from '../../contract/enums';
import { newId, now } from './common';
import { Room } from './room';

/** An AI agent of a room; `key` is unique per room and is what messages tag (`@writer`). */
export const AgentSchema = defineEntity({
  name: 'Agent',
  tableName: 'agents',
  uniques: [{ properties: ['room', 'key'] }],
  properties: {
    id: p.uuid().primary().onCreate(newId),
    room: () => p.manyToOne(Room).deleteRule('cascade'),
    key: p.string().length(64),
    name: p.string().length(100),
    rolePrompt: p.text(),
    modelAlias: p.string().length(64),
    /** Validated against the known tool names before it is stored. */
    toolPermissions: p.json<string[]>(),
    /** Per tool: `auto` (the default when absent), `ask` or `deny`; keys are tools it may use. */
    toolApprovals: p.json<Record<string, ToolApprovalPolicy>>().onCreate(() => ({})).defaultRaw(`'{}'`),
    position: p.integer().default(0),
    createdAt: p.datetime().onCreate(now).defaultRaw('now()'),
    updatedAt: p.datetime().onCreate(now).onUpdate(now).defaultRaw('now()'),
  },
});
export class Agent extends AgentSchema.class {}
AgentSchema.setClass(Agent);
