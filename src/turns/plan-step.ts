import type { RoomMode, RoomSettings } from '../db/entities';
import { manualPlan, roundtablePlan, unknownTagNotice, type Plan } from '../domain/plan';
import type { ModelProvider } from '../llm/model-provider';
import type { ModelCallUsage } from '../llm/usage';
import { planWithManager, resolveManagerAlias, type ManagerAgent } from './manager';
import type { ConversationMessage } from './prompt';

export interface PlanStepInput {
  mode: RoomMode;
  settings: RoomSettings | null | undefined;
  /** The room's agents in position order. */
  team: readonly ManagerAgent[];
  /** The message the turn answers. */
  text: string;
  /** The conversation up to that message, oldest first. */
  recent: readonly ConversationMessage[];
  signal: AbortSignal;
}

export interface PlannedTurn {
  plan: Plan;
  /** The manager call's usage (purpose 'manager'); empty when no model was asked. */
  usage: ModelCallUsage[];
  /** A system message for the room (manual mode: tags that named no agent). */
  notice?: string;
}

/**
 * Which agents answer, by the room's mode: the tagged ones (manual), all in position order
 * (roundtable), or the orchestrator's manager model with its deterministic fallback.
 */
export class PlanStep {
  constructor(
    private readonly d: {
      models: ModelProvider;
      defaultModelAlias: string;
      limits: { managerMaxTokens: number; modelTimeoutMs: number };
    },
  ) {}

  async plan(input: PlanStepInput): Promise<PlannedTurn> {
    const { team, text } = input;
    if (input.mode === 'manual') {
      const notice = unknownTagNotice(text, team);
      return { plan: manualPlan(text, team), usage: [], ...(notice ? { notice } : {}) };
    }
    if (input.mode === 'roundtable') return { plan: roundtablePlan(team), usage: [] };
    if (team.length === 0) return { plan: { agentKeys: [], fallback: false, reason: 'the room has no agents' }, usage: [] };
    const lastUser = [...input.recent].reverse().find((m) => m.authorType === 'user');
    const r = await planWithManager({
      models: this.d.models,
      alias: resolveManagerAlias(input.settings ?? {}, this.d.defaultModelAlias, this.d.models),
      agents: team,
      message: { authorName: lastUser?.authorName ?? 'user', content: text },
      recent: input.recent,
      limits: this.d.limits,
      signal: input.signal,
    });
    return { plan: r.plan, usage: r.usage };
  }
}
