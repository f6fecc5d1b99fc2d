import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { AIMessageChunk, isToolMessage, type BaseMessage, type BaseMessageChunk } from '@langchain/core/messages';
import type { RoomEventPayloads } from '../contract/events';
import { agentGraphFor, buildAgentGraph, isModelStreamEvent, MODEL_NODE, runModelOnce, TOOLS_NODE, type AgentRunConfigurable, type ModelCallReport } from '../llm/agent-graph';
import { classifyModelError, type ModelFailure } from '../llm/errors';
import type { ModelDescription, ModelProvider } from '../llm/model-provider';
import { textOfContent } from '../llm/message-text';
import { requestTokens, tokenCounterFor, toolSchemasText, type TokenCounter } from '../llm/token-count';
import { usageOfCall, type ModelCallUsage } from '../llm/usage';
import { BudgetExceededError, type BudgetName } from '../domain/budget';
import type { CallBudget, CallHold } from './turn-budget';
import { isAppError } from '../shared/errors';
import { isToolStreamEvent, type ToolRunConfigurable, type ToolStreamEvent } from '../tools/tool-events';
import { isMcpToolName } from '../domain/tool-names';
import { buildTools, type ToolDeps } from '../tools/registry';

/**
 * Runs ONE agent of a turn: its graph (model + permitted tools), streamed. Reports text deltas
 * and tool activity through callbacks as they happen, and returns what the turn records. A model
 * failure, a timeout, a tool loop or a cancel is returned, never thrown.
 */

export interface AgentRunAgent {
  key: string;
  modelAlias: string;
  toolPermissions: readonly string[];
}

/** A tool event of the room contract, without the turn and agent the caller adds. */
type ToolEvent<E extends 'tool:start' | 'tool:progress' | 'tool:end'> = Omit<RoomEventPayloads[E], 'turnId' | 'agentKey'>;

/** A finished tool call: what `tool:end` announces, plus what only the audit record keeps. */
export type ToolCallRecord = ToolEvent<'tool:end'> & {
  input: Record<string, unknown>;
  /** Summary of the output for the audit record. */
  output?: Record<string, unknown>;
};

export interface AgentRunCallbacks {
  onDelta?(text: string): void;
  onToolStart?(e: ToolEvent<'tool:start'>): void;
  onToolProgress?(e: ToolEvent<'tool:progress'>): void;
  onToolEnd?(e: ToolCallRecord): void;
}

export interface AgentRunLimits {
  maxOutputTokens: number;
  modelTimeoutMs: number;
  /** LangGraph super-steps: one per model call and one per tool round. */
  recursionLimit: number;
}

export interface AgentRunInput {
  agent: AgentRunAgent;
  /** From buildAgentMessages (src/turns/prompt.ts). */
  messages: BaseMessage[];
  models: ModelProvider;
  toolDeps: ToolDeps;
  limits: AgentRunLimits;
  /** Aborting it stops the model call in flight (its HTTP request is closed) and keeps what streamed. */
  signal?: AbortSignal;
  callbacks?: AgentRunCallbacks;
  /**
   * Checked before each model call (which is not made when a budget is spent) and settled after
   * it; a stream that reaches what its call was granted is stopped there, keeping its text.
   */
  budget?: CallBudget;
}

export type AgentRunError =
  | ModelFailure
  | { code: 'UNKNOWN_MODEL_ALIAS' | 'EMPTY_ANSWER'; message: string }
  | { code: 'BUDGET_EXCEEDED'; message: string; details: { budget: BudgetName; resetsAt: string | null } };

/** Report fields the runner adds: the budget hold of the call, and whether it was settled. */
type RunnerReport = ModelCallReport & { hold?: CallHold; settled?: boolean };

const budgetError = (e: BudgetExceededError): AgentRunError => ({
  code: 'BUDGET_EXCEEDED',
  message: e.message,
  details: { budget: e.budget, resetsAt: e.resetsAt },
});

export interface AgentRunResult {
  /** Everything streamed, exactly the concatenation of the deltas. */
  text: string;
  /**
   * The last model answer's finish reason ('stop', 'length'), 'cancelled', or null after a failure
   * (an EMPTY_ANSWER keeps the model's reason: the call itself ended normally).
   */
  finishReason: string | null;
  /** One entry per model call, tool rounds included (summed by the caller, never only the last). */
  usage: ModelCallUsage[];
  toolCalls: ToolCallRecord[];
  error?: AgentRunError;
  cancelled: boolean;
}

const identities = new WeakMap<object, number>();
let lastIdentity = 0;
/** A number per object (0 for none), so a cache key can name an instance. */
function identity(o: object | undefined): number {
  if (!o) return 0;
  let id = identities.get(o);
  if (id === undefined) identities.set(o, (id = ++lastIdentity));
  return id;
}

export async function runAgent(input: AgentRunInput): Promise<AgentRunResult> {
  const { agent, limits, signal } = input;
  const cb: AgentRunCallbacks = input.callbacks ?? {};
  let description: ModelDescription;
  let model: BaseChatModel;
  try {
    description = input.models.describe(agent.modelAlias);
    model = input.models.chatModel(agent.modelAlias, { maxTokens: limits.maxOutputTokens, timeoutMs: limits.modelTimeoutMs });
  } catch (err) {
    if (!isAppError(err)) throw err;
    return { text: '', finishReason: null, usage: [], toolCalls: [], error: { code: 'UNKNOWN_MODEL_ALIAS', message: err.message }, cancelled: false };
  }

  // One graph per agent configuration: the tools it may use, the room a room-scoped tool reads and
  // the backends they call. What belongs to this run (the approval guard, the budget's reserve and
  // settle) travels in the run's config, not in the shared graph. A graph whose tools change from
  // turn to turn (files attached to this message, MCP tools that come and go with their server) is
  // built for this run alone.
  const deps = input.toolDeps;
  const { guard: toolGuard, ...shared } = deps;
  const perRun = Boolean(deps.attachedFileIds?.length) || agent.toolPermissions.some(isMcpToolName);
  const tools = buildTools(agent.toolPermissions, shared);
  const counter = tokenCounterFor(description.model);
  const toolSchemas = tools.length ? toolSchemasText(tools) : [];
  const budget = input.budget;
  // A budget stop aborts the run like a cancel does, but only the run: the turn goes on.
  const budgetStop = new AbortController();
  const runSignal = signal ? AbortSignal.any([signal, budgetStop.signal]) : budgetStop.signal;
  const calls: RunnerReport[] = [];

  const usageOf = (call: RunnerReport, outcome: 'completed' | 'failed' | 'cancelled' | 'stopped'): ModelCallUsage =>
    usageOfCall({
      purpose: 'agent',
      description,
      reported: call.message?.usage_metadata,
      prompt: call.prompt,
      toolSchemas,
      // A call without an answer (failed, aborted, stopped) is estimated from what it streamed.
      outputText: call.message ? textOfContent(call.message.content) : state.textOutside(calls),
      latencyMs: call.latencyMs ?? performance.now() - call.startedAt,
      outcome,
      refused: !call.progress.streamed,
    });
  const settle = async (call: RunnerReport, usage: ModelCallUsage) => {
    if (call.settled) return;
    call.settled = true;
    await budget?.settle(call.hold, usage);
  };

  const toolsKey = agent.toolPermissions.length
    ? JSON.stringify([[...agent.toolPermissions].sort(), deps.roomId, identity(deps.search), identity(deps.files), identity(deps.redactor)])
    : '';
  // An agent without tools makes one model call: no graph (runModelOnce).
  const graph = !tools.length
    ? undefined
    : perRun
      ? buildAgentGraph({ model, timeoutMs: limits.modelTimeoutMs, tools })
      : agentGraphFor(toolsKey, { model, timeoutMs: limits.modelTimeoutMs, tools: () => tools });
  const configurable: AgentRunConfigurable & ToolRunConfigurable = {
    onModelCall: (report) => calls.push(report as RunnerReport),
    onModelChunk: (chunk) => state.onMessage(chunk),
    ...(budget
      ? {
          beforeCall: async (report: ModelCallReport) => {
            (report as RunnerReport).hold = await budget.reserve({
              inputTokens: requestTokens(counter, report.prompt, toolSchemas),
              wanted: limits.maxOutputTokens,
              prices: description.prices,
            });
          },
          // Settled as soon as it answered, so the next round's reservation sees what it really spent.
          afterCall: (report: ModelCallReport) => settle(report as RunnerReport, usageOf(report as RunnerReport, 'completed')),
        }
      : {}),
    ...(toolGuard ? { toolGuard } : {}),
  };

  // A callback that throws is the caller's bug, not a model failure: remember it and rethrow it
  // after the run has been wound down, instead of reporting it as MODEL_STREAM_ERROR.
  let callbackError: { error: unknown } | undefined;
  const guard = <A extends unknown[]>(fn: ((...args: A) => void) | undefined) =>
    fn &&
    ((...args: A) => {
      try {
        fn(...args);
      } catch (error) {
        callbackError ??= { error };
        throw error;
      }
    });
  const state = new RunState(
    {
      onDelta: guard(cb.onDelta),
      onToolStart: guard(cb.onToolStart),
      onToolProgress: guard(cb.onToolProgress),
      onToolEnd: guard(cb.onToolEnd),
    },
    {
      counter,
      // Only the call in flight can be stopped: text of a call that answered is already whole.
      limitOf: (messageId) => {
        if (calls.some((c) => c.message?.id === messageId)) return undefined;
        // What the call was granted: a budget's share, or the output cap the request asked the
        // provider to keep (held to it here too, should the provider not).
        return calls.at(-1)?.hold?.outputTokens;
      },
      stop: () => budgetStop.abort(),
    },
  );
  let failure: unknown;
  try {
    if (!graph) {
      const answer = await runModelOnce({ model, timeoutMs: limits.modelTimeoutMs }, input.messages, configurable, runSignal);
      state.onUpdate({ [MODEL_NODE]: { messages: [answer] } });
    } else {
      const stream = await graph.stream(
        { messages: input.messages },
        // Tool events come on the `custom` stream; model chunks come to onModelChunk, in order with them.
        { streamMode: ['updates', 'custom'], signal: runSignal, recursionLimit: limits.recursionLimit, configurable },
      );
      for await (const [mode, chunk] of stream as AsyncIterable<[string, unknown]>) {
        if (mode === 'custom') {
          if (isModelStreamEvent(chunk)) {
            if (chunk.type === 'start') chunk.reached();
            else state.onMessage(chunk.chunk);
          } else if (isToolStreamEvent(chunk)) state.onToolEvent(chunk);
        } else if (mode === 'updates') state.onUpdate(chunk as Record<string, unknown>);
      }
    }
  } catch (err) {
    failure = err;
  }

  if (callbackError) throw callbackError.error;
  const cancelled = signal?.aborted === true;
  const stopped = !cancelled && budgetStop.signal.aborted;
  state.closeOpenToolCalls(cancelled ? 'cancelled' : stopped ? 'the agent reached its budget' : 'the agent stopped before the tool finished');
  const made = calls.filter((c) => c.made);
  const usage: ModelCallUsage[] = [];
  for (const call of made) {
    const u = usageOf(call, call.message ? 'completed' : stopped ? 'stopped' : cancelled ? 'cancelled' : 'failed');
    usage.push(u);
    await settle(call, u);
  }
  const result: AgentRunResult = { text: state.text, finishReason: state.finishReason, usage, toolCalls: state.toolCalls, cancelled };
  if (cancelled) return { ...result, finishReason: 'cancelled' };
  if (stopped) {
    const hold = made.at(-1)?.hold;
    // Cut at the output cap alone, the answer is complete as a provider's own `length` stop would be.
    if (!hold?.boundBy) return { ...result, finishReason: 'length' };
    return { ...result, finishReason: 'length', error: budgetError(new BudgetExceededError(hold.boundBy, hold.resetsAt)) };
  }
  const refusal = budgetRefusal(failure);
  if (refusal) return { ...result, finishReason: null, error: budgetError(refusal) };
  if (failure !== undefined) return { ...result, finishReason: null, error: classifyModelError(failure, { streamStarted: state.streamStartedSinceLastCall }) };
  // A run that ended normally with nothing to show must not pass for an answer: flagged, the turn
  // counts it as a failed agent instead of committing a blank message as complete. Whitespace is
  // no answer either; tool calls are (the agent did something, and they are recorded).
  if (!state.text.trim() && state.toolCalls.length === 0) {
    return { ...result, error: { code: 'EMPTY_ANSWER', message: `The model finished without any text or tool call (finish reason: ${state.finishReason ?? 'none'})` } };
  }
  return result;
}

/** The budget refusal a run failed with, however the graph wrapped it. */
function budgetRefusal(err: unknown): BudgetExceededError | undefined {
  for (let e = err, i = 0; e && i < 5; e = (e as { cause?: unknown }).cause, i++) {
    if (e instanceof BudgetExceededError) return e;
  }
  return undefined;
}

/** How a run counts its output against what the call in flight was granted. */
interface OutputLimit {
  counter: TokenCounter;
  /** The output tokens the call streaming `messageId` may produce; undefined when no budget binds it. */
  limitOf(messageId: string): number | undefined;
  /** Stops the run: the budget is reached. */
  stop(): void;
}

/** The bookkeeping of one run: streamed text, tool calls in flight and done, the last finish reason. */
class RunState {
  text = '';
  finishReason: string | null = null;
  readonly toolCalls: ToolCallRecord[] = [];
  /** True once the model call in progress has streamed something; tells a cut stream from a refused request. */
  streamStartedSinceLastCall = false;
  private readonly open = new Map<string, { toolName: string; input: Record<string, unknown>; started: number }>();
  private readonly seenToolCallIds = new Set<string>();
  private readonly textByMessageId = new Map<string, string>();
  private lastMessageId: string | undefined;
  /** Set once a budget stopped the run: chunks still queued are dropped. */
  stopped = false;
  /** Per message: an upper bound of its output tokens (summed per delta), recounted near the limit. */
  private readonly counted = new Map<string, number>();
  /** Messages counted exactly once already: from then on each delta is counted, not bounded by its bytes. */
  private readonly exact = new Set<string>();

  constructor(
    private readonly cb: AgentRunCallbacks,
    private readonly limit?: OutputLimit,
  ) {}

  onMessage(message: BaseMessageChunk) {
    // Every chunk a model streams is an AIMessageChunk, whatever shape the server's stream has
    // (src/llm/openai-model.ts reads role-less deltas as the assistant's).
    if (!AIMessageChunk.isInstance(message)) return;
    if (this.stopped) return;
    this.streamStartedSinceLastCall = true;
    const delta = textOfContent(message.content);
    if (!delta) return;
    const id = message.id ?? 'unknown';
    // A new model call (after a tool round) starts a new paragraph, sent as a delta too so the
    // streamed text and the stored text stay identical.
    if (this.lastMessageId !== undefined && id !== this.lastMessageId && this.text) {
      const sep = this.text.endsWith('\n\n') ? '' : this.text.endsWith('\n') ? '\n' : '\n\n';
      if (sep) this.emit(sep, id);
    }
    this.lastMessageId = id;
    const fitting = this.withinLimit(delta, id);
    if (fitting) this.emit(fitting, id);
    if (fitting !== delta) {
      this.stopped = true;
      this.limit!.stop();
    }
  }

  /**
   * The part of `delta` that fits the call's grant: all of it while the output stays within, the
   * prefix that reaches it exactly when it would cross (the stream is then stopped there).
   */
  private withinLimit(delta: string, id: string): string {
    const max = this.limit?.limitOf(id);
    if (max === undefined) return delta;
    const { counter } = this.limit!;
    const before = this.textByMessageId.get(id) ?? '';
    const counted = this.counted.get(id) ?? counter.count(before);
    // Far from the limit, a delta's quick bound (its bytes) is enough and nothing is encoded per
    // token; once that bound reaches the limit the text is counted exactly, then each delta.
    if (!this.exact.has(id)) {
      const quick = counted + counter.bound(delta);
      if (quick <= max) {
        this.counted.set(id, quick);
        return delta;
      }
    }
    const bound = counted + counter.count(delta);
    if (bound <= max) {
      this.counted.set(id, bound);
      return delta;
    }
    const exact = counter.count(before + delta);
    this.exact.add(id);
    if (exact <= max) {
      this.counted.set(id, exact);
      return delta;
    }
    const fits = counter.truncate(before + delta, max);
    return fits.length > before.length ? fits.slice(before.length) : '';
  }

  private emit(text: string, messageId: string) {
    this.text += text;
    this.textByMessageId.set(messageId, (this.textByMessageId.get(messageId) ?? '') + text);
    this.cb.onDelta?.(text);
  }

  /** Text streamed by messages that no finished call returned: the output of a failed call. */
  textOutside(calls: readonly ModelCallReport[]): string {
    const finished = new Set(calls.map((c) => c.message?.id).filter(Boolean));
    return [...this.textByMessageId.entries()].filter(([id]) => !finished.has(id)).map(([, t]) => t).join('');
  }

  onUpdate(update: Record<string, unknown>) {
    const modelUpdate = update[MODEL_NODE] as { messages?: BaseMessage[] } | undefined;
    for (const m of modelUpdate?.messages ?? []) {
      const reason = (m.response_metadata as { finish_reason?: unknown } | undefined)?.finish_reason;
      if (typeof reason === 'string') this.finishReason = reason;
      this.streamStartedSinceLastCall = false;
    }
    const toolsUpdate = update[TOOLS_NODE] as { messages?: BaseMessage[] } | undefined;
    for (const m of toolsUpdate?.messages ?? []) {
      // A call that never reached the tool's code (unknown tool, arguments failing the schema)
      // only shows up here, as an error ToolMessage: record it as a failed call all the same.
      if (!isToolMessage(m) || this.seenToolCallIds.has(m.tool_call_id)) continue;
      const toolName = m.name ?? 'unknown';
      this.onToolEvent({ source: 'pantheon.tool', type: 'start', toolCallId: m.tool_call_id, toolName, input: {} });
      this.onToolEvent({
        source: 'pantheon.tool',
        type: 'end',
        toolCallId: m.tool_call_id,
        toolName,
        status: m.status === 'error' ? 'failed' : 'succeeded',
        latencyMs: 0,
        ...(m.status === 'error' ? { error: textOfContent(m.content).slice(0, 500) } : {}),
      });
    }
  }

  onToolEvent(e: ToolStreamEvent) {
    if (e.type === 'start') {
      this.seenToolCallIds.add(e.toolCallId);
      this.open.set(e.toolCallId, { toolName: e.toolName, input: e.input, started: performance.now() });
      this.cb.onToolStart?.({ toolCallId: e.toolCallId, toolName: e.toolName, input: e.input });
    } else if (e.type === 'progress') {
      this.cb.onToolProgress?.({ toolCallId: e.toolCallId, toolName: e.toolName, message: e.message, ...(e.percent === undefined ? {} : { percent: e.percent }) });
    } else {
      const started = this.open.get(e.toolCallId);
      this.open.delete(e.toolCallId);
      const record: ToolCallRecord = {
        toolCallId: e.toolCallId,
        toolName: e.toolName,
        input: started?.input ?? {},
        status: e.status,
        latencyMs: e.latencyMs,
        ...(e.error === undefined ? {} : { error: e.error }),
        ...(e.output === undefined ? {} : { output: e.output }),
        ...(e.approval === undefined ? {} : { approval: e.approval }),
      };
      this.toolCalls.push(record);
      this.cb.onToolEnd?.(record);
    }
  }

  /** Every started tool call ends with a tool:end, even when the run stopped under it. */
  closeOpenToolCalls(reason: string) {
    for (const [toolCallId, call] of [...this.open]) {
      this.onToolEvent({
        source: 'pantheon.tool',
        type: 'end',
        toolCallId,
        toolName: call.toolName,
        status: 'failed',
        latencyMs: Math.round(performance.now() - call.started),
        error: reason,
      });
    }
  }
}
