import type { BaseMessage } from '@langchain/core/messages';
import { costUsd } from './cost';
import type { ModelDescription } from './model-provider';
import { requestTokens, tokenCounterFor } from './token-count';

/** Why a model was called; matches the usage table's `purpose`. */
export type UsagePurpose = 'agent' | 'manager' | 'summary';

/** How a call ended; matches the usage table's `status`. */
export type CallOutcome = 'completed' | 'failed' | 'cancelled' | 'stopped';

/** Manager and summary calls are infrastructure: recorded, never charged to a budget. */
export const isCharged = (purpose: UsagePurpose): boolean => purpose === 'agent';

/** One model call, as the turn records it: every call counts, tool rounds included. */
export interface ModelCallUsage {
  purpose: UsagePurpose;
  modelAlias: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  latencyMs: number;
  /** True when the server reported no usage (cancelled, stopped, cut, or a server that omits it): tokens are estimated. */
  estimated: boolean;
  status: CallOutcome;
  /** False for infrastructure calls (manager, summary). */
  charged: boolean;
}

/** What a model reported on its message (`usage_metadata`), if anything. */
export interface ReportedUsage {
  input_tokens?: number;
  output_tokens?: number;
}


/**
 * Builds the usage record of one call: the reported counts when the server gave them; nothing for
 * a request the provider refused (an HTTP error before any chunk, no usage: nothing was billed);
 * otherwise an estimate of the whole request (messages and tool schemas, counted with the model's
 * tokenizer) and of whatever output arrived, so a cancelled or stopped call is still costed.
 */
export function usageOfCall(args: {
  purpose: UsagePurpose;
  description: ModelDescription;
  reported: ReportedUsage | undefined;
  prompt: readonly BaseMessage[];
  /** Tool definitions sent with the request (token-count.ts `toolSchemasText`). */
  toolSchemas?: readonly string[];
  outputText: string;
  latencyMs: number;
  /** Default `completed`. */
  outcome?: CallOutcome;
  /** True when the call failed before the stream started: the provider refused it. */
  refused?: boolean;
}): ModelCallUsage {
  const { reported, description } = args;
  const hasReport = reported !== undefined && (reported.input_tokens ?? 0) + (reported.output_tokens ?? 0) > 0;
  const outcome = args.outcome ?? 'completed';
  const refused = !hasReport && outcome === 'failed' && args.refused === true;
  const counter = tokenCounterFor(description.model);
  const inputTokens = hasReport ? (reported.input_tokens ?? 0) : refused ? 0 : requestTokens(counter, args.prompt, args.toolSchemas);
  const outputTokens = hasReport ? (reported.output_tokens ?? 0) : refused ? 0 : counter.count(args.outputText);
  return {
    purpose: args.purpose,
    modelAlias: description.alias,
    model: description.model,
    inputTokens,
    outputTokens,
    costUsd: costUsd({ inputTokens, outputTokens }, description.prices),
    latencyMs: Math.round(args.latencyMs),
    estimated: !hasReport && !refused,
    status: outcome,
    charged: isCharged(args.purpose),
  };
}
