import { HumanMessage, SystemMessage, type BaseMessage } from '@langchain/core/messages';
import { estimateTokens } from '../domain/budget';
import {
  cleanSummaryText,
  fallbackSummaryFields,
  fallbackSummaryText,
  parseSummaryFields,
  type SummaryFields,
  type SummarySourceMessage,
} from '../domain/summary';
import type { ParseResult } from '../domain/plan';
import type { SummaryFallback } from '../db/entities';
import { streamModelCall } from '../llm/call-model';
import { classifyModelError } from '../llm/errors';
import type { ModelDescription, ModelProvider } from '../llm/model-provider';
import { usageOfCall, type ModelCallUsage } from '../llm/usage';

/**
 * The session summary pipeline, run after a turn when the context exceeds its budget:
 * 1. generate the updated summary text; 2. extract { topics, decisions, openQuestions } from it.
 * Each step falls back deterministically on its own and records that it did, so a bad
 * extraction never throws away a good summary.
 */

export interface SummaryInput {
  models: ModelProvider;
  alias: string;
  previousSummary: string | null;
  /** Messages not yet folded into the summary, oldest first (this turn's answers included). */
  messages: readonly SummarySourceMessage[];
  limits: { summaryMaxTokens: number; modelTimeoutMs: number };
  /** Cap on the transcript handed to the model; older messages beyond it are left out. */
  maxInputTokens?: number;
  signal?: AbortSignal;
}

export interface SummaryResult {
  summary: string;
  /** The shape stored on the session (SummaryData); usedFallback when either step fell back. */
  data: SummaryFields & { usedFallback: boolean };
  /** One entry per model call made, purpose 'summary'. */
  usage: ModelCallUsage[];
  /** Each stage that fell back, and why (empty when both used the model's answer). */
  fallback: SummaryFallback[];
}

const DEFAULT_MAX_INPUT_TOKENS = 8000;

export function transcript(messages: readonly SummarySourceMessage[], maxTokens: number): string {
  const lines: string[] = [];
  let used = 0;
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    const line = `${m.author}: ${m.content.trim()}`;
    used += estimateTokens(line) + 1;
    if (used > maxTokens && lines.length) break;
    lines.unshift(line);
  }
  return lines.join('\n');
}

export function generationMessages(previous: string | null, messages: readonly SummarySourceMessage[], maxInputTokens: number): BaseMessage[] {
  return [
    new SystemMessage(
      [
        'You keep the running summary of a group chat between people and AI agents.',
        'Write the updated summary: keep what still matters from the previous summary and add the new messages: who wants what, key facts, decisions taken, questions still open.',
        'Plain prose, at most 200 words. Answer with the summary only.',
      ].join(' '),
    ),
    new HumanMessage(`Previous summary:\n${previous?.trim() || '(none yet)'}\n\nNew messages:\n${transcript(messages, maxInputTokens)}`),
  ];
}

export function extractionMessages(summary: string): BaseMessage[] {
  return [
    new SystemMessage(
      'Extract structured fields from a conversation summary. Answer with only a JSON object and no other text: ' +
        '{"topics": ["..."], "decisions": ["..."], "openQuestions": ["..."]}. Short strings, at most 5 per list; use [] when there are none.',
    ),
    new HumanMessage(summary),
  ];
}

interface StepOutcome<T> {
  value: T;
  /** Why the step fell back; undefined when the model's answer was used. */
  fellBack?: string;
  usage?: ModelCallUsage;
}

/** One model step: call, validate, or fall back, saying why. */
async function modelStep<T>(
  input: SummaryInput,
  description: ModelDescription,
  messages: BaseMessage[],
  validate: (text: string) => ParseResult<T>,
  fallback: () => T,
): Promise<StepOutcome<T>> {
  if (input.signal?.aborted) return { value: fallback(), fellBack: 'the turn was cancelled' };
  const model = input.models.chatModel(input.alias, { maxTokens: input.limits.summaryMaxTokens, timeoutMs: input.limits.modelTimeoutMs });
  const started = performance.now();
  const progress = { streamed: false };
  try {
    const call = await streamModelCall(model, messages, { timeoutMs: input.limits.modelTimeoutMs, signal: input.signal, progress });
    const usage = usageOfCall({ purpose: 'summary', description, reported: call.message?.usage_metadata, prompt: messages, outputText: call.text, latencyMs: call.latencyMs });
    const valid = validate(call.text);
    return valid.ok ? { value: valid.value, usage } : { value: fallback(), fellBack: valid.reason, usage };
  } catch (err) {
    // A failed or cancelled call is still recorded: estimated from the prompt, or nothing when refused.
    const cancelled = input.signal?.aborted === true;
    const usage = usageOfCall({
      purpose: 'summary',
      description,
      reported: undefined,
      prompt: messages,
      outputText: '',
      latencyMs: performance.now() - started,
      outcome: cancelled ? 'cancelled' : 'failed',
      refused: !progress.streamed,
    });
    const reason = cancelled ? 'the turn was cancelled' : `the model call failed (${classifyModelError(err, { streamStarted: progress.streamed }).code})`;
    return { value: fallback(), fellBack: reason, usage };
  }
}

export async function runSummaryPipeline(input: SummaryInput): Promise<SummaryResult> {
  const maxInputTokens = input.maxInputTokens ?? DEFAULT_MAX_INPUT_TOKENS;
  const textFallback = () => fallbackSummaryText(input.previousSummary, input.messages);

  let description: ModelDescription | undefined;
  try {
    description = input.models.describe(input.alias);
  } catch {
    // An alias that is not configured: no model to ask, as with the offline demo model.
  }
  if (!description || description.kind === 'demo') {
    const summary = textFallback();
    const reason = description ? 'the offline demo model cannot summarize' : `the model alias "${input.alias}" is not configured`;
    return {
      summary,
      data: { ...fallbackSummaryFields(summary, input.messages), usedFallback: true },
      usage: [],
      fallback: [
        { stage: 'generation', reason },
        { stage: 'extraction', reason },
      ],
    };
  }

  const generated = await modelStep(input, description, generationMessages(input.previousSummary, input.messages, maxInputTokens), cleanSummaryText, textFallback);
  const summary = generated.value;
  const extracted = await modelStep(input, description, extractionMessages(summary), parseSummaryFields, () => fallbackSummaryFields(summary, input.messages));
  return {
    summary,
    data: { ...extracted.value, usedFallback: generated.fellBack !== undefined || extracted.fellBack !== undefined },
    usage: [generated.usage, extracted.usage].filter((u): u is ModelCallUsage => u !== undefined),
    fallback: [
      ...(generated.fellBack ? [{ stage: 'generation' as const, reason: generated.fellBack }] : []),
      ...(extracted.fellBack ? [{ stage: 'extraction' as const, reason: extracted.fellBack }] : []),
    ],
  };
}
