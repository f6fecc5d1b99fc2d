import { defineEntity, p } from '@mikro-orm/core';
import type { Plan } from '../../domain/plan';
import { newId, now } from './common';

/** What one agent of a running turn had streamed to the room, as its heartbeat last saw it. */
export interface PartialAgentText {
  /** The id its message gets (the one `agent:end` names). */
  messageId: string;
  agentKey: string;
  modelAlias: string;
  text: string;
}
import { ROOM_MODES, TURN_STATUSES } from '../../contract/enums';
import { Room } from './room';
import { Session, type SummaryFallback } from './session';
import { User } from './user';

export { TURN_STATUSES, type TurnStatus } from '../../contract/enums';

/** One run of the room's agents in answer to one user message (or a regeneration of one agent's answer). */
export const TurnSchema = defineEntity({
  name: 'Turn',
  tableName: 'turns',
  indexes: [
    { properties: ['session', 'status'] },
    { properties: ['status', 'heartbeatAt'] },
    { properties: ['endAnnouncedAt'] },
    // One running turn per session (a claim relies on it, src/turns/turn-repository.ts).
    { name: 'turns_one_running_per_session', expression: `create unique index "turns_one_running_per_session" on "turns" ("session_id") where "status" = 'running'` },
  ],
  properties: {
    id: p.uuid().primary().onCreate(newId),
    room: () => p.manyToOne(Room).deleteRule('cascade'),
    session: () => p.manyToOne(Session).deleteRule('cascade'),
    requestedBy: () => p.manyToOne(User).deleteRule('restrict'),
    status: p.enum(TURN_STATUSES).default('queued'),
    mode: p.enum(ROOM_MODES),
    plan: p.json<Plan>().nullable(),
    error: p.text().nullable(),
    queuedAt: p.datetime().onCreate(now).defaultRaw('now()'),
    startedAt: p.datetime().nullable(),
    endedAt: p.datetime().nullable(),
    summaryTriggered: p.boolean().default(false),
    /** Which stage of the summary pipeline fell back, and why (null: none did, or no summary ran). */
    summaryFallback: p.json<SummaryFallback[]>().nullable(),
    /**
     * The node responsible for the turn's next step (announcing it, running it, announcing its
     * end), and that node's last sign of life for it: a stale heartbeat means nobody works on it
     * any more, and the sweep of any node takes it over.
     */
    runnerId: p.uuid().nullable(),
    heartbeatAt: p.datetime().nullable(),
    /** The outbox: when `message:created` and `turn:queued` went out; null until they have. */
    queueAnnouncedAt: p.datetime().nullable(),
    /** The outbox: when `turn:end` went out with the stored status; null until it has. */
    endAnnouncedAt: p.datetime().nullable(),
    /**
     * While the turn runs: the text its agents have streamed to the room, checkpointed by the
     * heartbeat, in the order they spoke. Kept as their messages if the node dies (the one write
     * during a turn, docs/transaction_policy.md); cleared when the turn commits.
     */
    partial: p.json<PartialAgentText[]>().nullable(),
    /**
     * A turn that answers a message it did not bring: a re-run of an edited message, or a
     * regeneration (then the message of the turn being regenerated). Null for a turn started by
     * its own new message.
     */
    triggerMessageId: p.uuid().nullable(),
    /** A regeneration: the agent answer it makes a new version of, and that answer's agent. */
    regenerateMessageId: p.uuid().nullable(),
    regenerateAgentKey: p.string().length(64).nullable(),
  },
});
export class Turn extends TurnSchema.class {}
TurnSchema.setClass(Turn);
