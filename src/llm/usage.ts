import type { BaseMessage } from '@langchain/core/messages';
import { estimateMessagesTokens, estimateTokens } from '../domain/budget';
import { costUsd } from './cost';
import { textOfContent } from './message-text';
import type { ModelDescription } from './model-provider';

/** Why a model was called; matches the usage table's `purpose`. */
export type UsagePurpose = 'agent' | 'manager' | 'summary';

/** One model call, as the turn records it: every call counts, tool rounds included. */
export interface ModelCallUsage {
  purpose: UsagePurpose;
  modelAlias: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  latencyMs: number;
  /** True when the server reported no usage (cancelled, failed, or a server that omits it): tokens are estimated. */
  estimated: boolean;
}

/** What a model reported on its message (`usage_metadata`), if anything. */
export interface ReportedUsage {
  input_tokens?: number;
  output_tokens?: number;
}


/**
 * Builds the usage record of one call: the reported counts when the server gave them, otherwise
 * an estimate from the prompt and whatever output arrived (so a cancelled call is still costed).
 */
export function usageOfCall(args: {
  purpose: UsagePurpose;
  description: ModelDescription;
  reported: ReportedUsage | undefined;
  prompt: readonly BaseMessage[];
  outputText: string;
  latencyMs: number;
}): ModelCallUsage {
  const { reported, description } = args;
  const hasReport = reported !== undefined && (reported.input_tokens ?? 0) + (reported.output_tokens ?? 0) > 0;
  const inputTokens = hasReport
    ? (reported.input_tokens ?? 0)
    : estimateMessagesTokens(args.prompt.map((m) => ({ content: textOfContent(m.content) })));
  const outputTokens = hasReport ? (reported.output_tokens ?? 0) : estimateTokens(args.outputText);
  return {
    purpose: args.purpose,
    modelAlias: description.alias,
    model: description.model,
    inputTokens,
    outputTokens,
    costUsd: costUsd({ inputTokens, outputTokens }, description.prices),
    latencyMs: Math.round(args.latencyMs),
    estimated: !hasReport,
  };
}
