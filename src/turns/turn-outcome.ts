import type { ErrorBody } from '../contract/dto';
import type { MessageStatus, TurnStatus } from '../db/entities';
import type { Plan } from '../domain/plan';
import type { ModelCallUsage } from '../llm/usage';
import type { ToolCallRecord } from './agent-runner';

/** What a turn produced while it ran, kept in memory until its one commit. */
export interface StagedAgentMessage {
  id: string;
  agentKey: string;
  content: string;
  status: MessageStatus;
  modelAlias: string;
  error?: string;
  /** A regenerated answer: the first version it is a new version of. */
  versionOf?: string;
}

export interface StagedUsage extends ModelCallUsage {
  agentKey: string | null;
  /** When the call was made (the budget clock): the usage row's time. */
  at?: Date;
}

export type StagedToolCall = ToolCallRecord & { agentKey: string };

export interface StagedTurn {
  messages: StagedAgentMessage[];
  usage: StagedUsage[];
  tools: StagedToolCall[];
}

export type FinalStatus = Exclude<TurnStatus, 'queued' | 'running'>;

/** The turn's status from how it ended and what its agents did. */
export function finalStatus(cancelled: boolean, turnError: ErrorBody | undefined, messages: StagedAgentMessage[], plan: Plan): FinalStatus {
  if (cancelled) return 'cancelled';
  if (turnError) return messages.some((m) => m.status === 'complete') ? 'partial' : 'failed';
  if (plan.agentKeys.length === 0) return 'completed';
  const failed = messages.filter((m) => m.status === 'failed').length;
  // A message a budget cut short (`partial`) makes the turn partial too.
  if (failed === 0 && messages.every((m) => m.status === 'complete')) return 'completed';
  return failed === messages.length ? 'failed' : 'partial';
}
