import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import type { AIMessageChunk, BaseMessage, BaseMessageChunk } from '@langchain/core/messages';
import type { StructuredToolInterface } from '@langchain/core/tools';
import { END, MessagesAnnotation, START, StateGraph, type LangGraphRunnableConfig } from '@langchain/langgraph';
import { ToolNode, toolsCondition } from '@langchain/langgraph/prebuilt';
import { BoundedCache } from '../shared/bounded-cache';
import { mergeStream, type ChatRunnable, type OnChunk, type StreamProgress } from './call-model';
import { withDeadline } from './deadline';

/**
 * One agent as a LangGraph graph: a `model` node and, when the agent has tools, a ToolNode that
 * loops back to the model until it answers without tool calls. Hand-built instead of
 * createReactAgent so each model call gets its own deadline and usage record.
 */

export const MODEL_NODE = 'model';
export const TOOLS_NODE = 'tools';

export const MODEL_CHUNK_SOURCE = 'pantheon.model';

/**
 * How a model call's chunks reach the runner. With `onModelChunk` in the run's configurable, the
 * node first sends a `start` on LangGraph's `custom` stream (where tool events go too) and waits
 * until the runner has read it, so everything the graph streamed before the call has reached the
 * runner; then each chunk goes to `onModelChunk` directly as it arrives, in order with the rest
 * and without a trip through the graph's stream per token. Without it, each chunk goes on the
 * `custom` stream. Either way no LangChain callback runs per token (the `messages` stream mode
 * would run them all).
 */
export type ModelStreamEvent =
  | { source: typeof MODEL_CHUNK_SOURCE; type: 'chunk'; chunk: BaseMessageChunk }
  | { source: typeof MODEL_CHUNK_SOURCE; type: 'start'; reached(): void };

export const isModelStreamEvent = (e: unknown): e is ModelStreamEvent =>
  typeof e === 'object' && e !== null && (e as { source?: unknown }).source === MODEL_CHUNK_SOURCE;

/** Resolves once the runner has read everything the graph streamed so far (or rejects on abort). */
function reachedRunner(write: (e: ModelStreamEvent) => void, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const onAbort = () => reject(signal!.reason as Error);
    signal?.addEventListener('abort', onAbort, { once: true });
    write({
      source: MODEL_CHUNK_SOURCE,
      type: 'start',
      reached: () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
    });
  });
}

/**
 * What the graph reports about each model call, for usage and latency. The record is created
 * when the call starts and completed when it ends: a call the caller aborted may never end
 * (the graph stops waiting for it), and still has to be counted.
 */
export interface ModelCallReport {
  prompt: BaseMessage[];
  startedAt: number;
  /** The answer; absent while running, or when the call failed or was aborted. */
  message?: AIMessageChunk;
  /** Set when the call ended, answered or not. */
  latencyMs?: number;
  /** Whether its stream started: a call that failed before it was refused by the provider. */
  progress: StreamProgress;
  /** False when `beforeCall` refused it: no request was sent. */
  made: boolean;
}

export interface AgentGraphOptions {
  model: BaseChatModel;
  tools: readonly StructuredToolInterface[];
  /** Whole-call deadline for each model call (the HTTP client's own timeout stops at headers). */
  timeoutMs: number;
}

/** What one run passes in its config's `configurable`: the graph itself is shared between runs. */
export interface AgentRunConfigurable {
  /** Called at the start of each call with a record the graph completes in place when the call ends. */
  onModelCall(report: ModelCallReport): void;
  /** Before the request is sent (a budget reservation); throwing refuses the call and ends the run. */
  beforeCall?(report: ModelCallReport): Promise<void>;
  /** After a call that answered, before the graph goes on (the budget settlement). */
  afterCall?(report: ModelCallReport): Promise<void>;
  /** Each chunk of a model call as it arrives (see ModelStreamEvent); the run must read the `custom` stream. */
  onModelChunk?(chunk: BaseMessageChunk): void;
}

/** Graphs kept per model instance, at most this many each (an agent configuration per key). */
const MAX_GRAPHS_PER_MODEL = 256;
const graphsByModel = new WeakMap<BaseChatModel, BoundedCache<string, AgentGraph>>();

export type AgentGraph = ReturnType<typeof buildAgentGraph>;

/**
 * The compiled graph of an agent configuration, built once and reused by every run of it: binding
 * tools and compiling a graph cost more CPU than a short answer's own streaming. `key` names what
 * the tools are built from (their names, and the room a room-scoped tool reads); the model
 * instance and the deadline complete the configuration. A graph keeps no state between runs.
 */
export function agentGraphFor(key: string, opts: { model: BaseChatModel; timeoutMs: number; tools: () => readonly StructuredToolInterface[] }): AgentGraph {
  let graphs = graphsByModel.get(opts.model);
  if (!graphs) graphsByModel.set(opts.model, (graphs = new BoundedCache(MAX_GRAPHS_PER_MODEL)));
  return graphs.getOrCreate(JSON.stringify([key, opts.timeoutMs]), () => buildAgentGraph({ model: opts.model, timeoutMs: opts.timeoutMs, tools: opts.tools() }));
}

/**
 * One model call as the graph's model node makes it: reported, reserved before and settled after
 * (the run's hooks), streamed to `sink()`'s callback, within the deadline.
 */
async function modelCall(
  runnable: ChatRunnable,
  timeoutMs: number,
  prompt: BaseMessage[],
  run: Partial<AgentRunConfigurable> | undefined,
  signal: AbortSignal | undefined,
  sink: () => Promise<OnChunk | undefined>,
): Promise<AIMessageChunk> {
  const report: ModelCallReport = { prompt, startedAt: performance.now(), progress: { streamed: false }, made: false };
  run?.onModelCall?.(report);
  await run?.beforeCall?.(report);
  const onChunk = await sink();
  report.made = true;
  report.startedAt = performance.now();
  let message: AIMessageChunk | undefined;
  try {
    message = await withDeadline(timeoutMs, signal, (s) => mergeStream(runnable, report.prompt, { signal: s }, report.progress, onChunk));
    if (!message) throw new Error('The model returned an empty stream');
    report.message = message;
  } finally {
    report.latencyMs = performance.now() - report.startedAt;
  }
  await run?.afterCall?.(report);
  return message;
}

/**
 * The run of an agent without tools: its graph would be the model node alone, called once. The
 * same call is made here without the graph, whose run (its channels, tasks and stream, set up and
 * wound down for each run) cost more CPU and time than a short answer's own streaming. Chunks go
 * to `run.onModelChunk` as they arrive; the answer is returned with its finish reason in its
 * `response_metadata`, as the graph's `updates` would carry it.
 */
export function runModelOnce(opts: { model: BaseChatModel; timeoutMs: number }, messages: BaseMessage[], run: AgentRunConfigurable, signal: AbortSignal): Promise<AIMessageChunk> {
  return modelCall(opts.model, opts.timeoutMs, messages, run, signal, async () => run.onModelChunk);
}

export function buildAgentGraph(opts: AgentGraphOptions) {
  const tools = [...opts.tools];
  // An agent without tools gets no `tools` in its request at all, not an empty list.
  const runnable: ChatRunnable = tools.length && opts.model.bindTools ? (opts.model.bindTools(tools) as ChatRunnable) : opts.model;

  const callModel = async (state: typeof MessagesAnnotation.State, config: LangGraphRunnableConfig) => {
    const run = config.configurable as Partial<AgentRunConfigurable> | undefined;
    const write = config.writer as ((e: ModelStreamEvent) => void) | undefined;
    const message = await modelCall(runnable, opts.timeoutMs, state.messages, run, config.signal, async () => {
      if (write && run?.onModelChunk) {
        await reachedRunner(write, config.signal);
        return run.onModelChunk;
      }
      return write ? (chunk) => write({ source: MODEL_CHUNK_SOURCE, type: 'chunk', chunk }) : undefined;
    });
    return { messages: [message] };
  };

  const graph = new StateGraph(MessagesAnnotation).addNode(MODEL_NODE, callModel);
  if (!tools.length) return graph.addEdge(START, MODEL_NODE).addEdge(MODEL_NODE, END).compile();
  return graph
    .addNode(TOOLS_NODE, new ToolNode(tools))
    .addEdge(START, MODEL_NODE)
    .addConditionalEdges(MODEL_NODE, toolsCondition, [TOOLS_NODE, END])
    .addEdge(TOOLS_NODE, MODEL_NODE)
    .compile();
}
