import { defineEntity, p } from '@mikro-orm/core';
import { newId, now } from './common';
import type { SummaryFallbackDto } from '../../contract/dto';
import { Room } from './room';
import { User } from './user';

/** A summary stage that fell back to its deterministic rule, and why. */
export type SummaryFallback = SummaryFallbackDto;

export interface SummaryData {
  topics: string[];
  decisions: string[];
  openQuestions: string[];
  usedFallback: boolean;
  /** Which stage fell back, and why (summaries written before this was kept have none). */
  fallback?: SummaryFallback[];
}

/** A conversation thread inside a room; turns run one at a time per session. */
export const SessionSchema = defineEntity({
  name: 'Session',
  tableName: 'sessions',
  // A room's sessions, newest first (snapshot, list).
  indexes: [{ properties: ['room', 'createdAt', 'id'] }],
  properties: {
    id: p.uuid().primary().onCreate(newId),
    room: () => p.manyToOne(Room).deleteRule('cascade'),
    title: p.string().length(200),
    summary: p.text().nullable(),
    summaryData: p.json<SummaryData>().nullable(),
    summaryUpdatedAt: p.datetime().nullable(),
    createdBy: () => p.manyToOne(User).deleteRule('restrict'),
    createdAt: p.datetime().onCreate(now).defaultRaw('now()'),
    updatedAt: p.datetime().onCreate(now).onUpdate(now).defaultRaw('now()'),
  },
});
export class Session extends SessionSchema.class {}
SessionSchema.setClass(Session);
