import { tool, type StructuredToolInterface } from '@langchain/core/tools';
import type { ToolRunnableConfig } from '@langchain/core/tools';
import type { z } from 'zod';
import type { RoomEventPayloads, ToolCallApproval } from '../contract/events';
import type { Redactor } from '../shared/redactor';

/**
 * Tools report what they do on LangGraph's `custom` stream (the `writer` LangGraph hands every
 * node, and ToolNode hands each tool). The agent runner turns these events into tool:start,
 * tool:progress and tool:end; measuring latency here, around the tool's own work, keeps it
 * exact even when several tool calls of one model answer run in parallel.
 */

export const TOOL_EVENT_SOURCE = 'pantheon.tool';

/** The tool's part of a room's tool event: the room event minus what the runner adds (turn, agent). */
type ToolPart<E extends 'tool:start' | 'tool:progress' | 'tool:end'> = Omit<RoomEventPayloads[E], 'turnId' | 'agentKey'>;

export type ToolStreamEvent =
  | ({ source: typeof TOOL_EVENT_SOURCE; type: 'start' } & ToolPart<'tool:start'>)
  | ({ source: typeof TOOL_EVENT_SOURCE; type: 'progress' } & ToolPart<'tool:progress'>)
  | ({
      source: typeof TOOL_EVENT_SOURCE;
      type: 'end';
      /** A small summary of the output for the audit record (not the full text the model sees). */
      output?: Record<string, unknown>;
    } & ToolPart<'tool:end'>);

export const isToolStreamEvent = (chunk: unknown): chunk is ToolStreamEvent =>
  typeof chunk === 'object' && chunk !== null && (chunk as { source?: unknown }).source === TOOL_EVENT_SOURCE;

export interface ToolRunContext {
  signal?: AbortSignal;
  /** Reports progress; shows as tool:progress. */
  progress(message: string, percent?: number): void;
}

export interface ToolOutcome {
  /** What the model reads. */
  content: string;
  /** What the audit record keeps. */
  summary: Record<string, unknown>;
}

export interface ToolDefinition<S extends z.ZodObject | Record<string, unknown>> {
  /** A built-in name, or `mcp.<server>.<tool>`: what permissions, policies and events name. */
  name: string;
  /** The name the model calls it by, when `name` is not one a model API accepts (dots). */
  modelName?: string;
  description: string;
  /** A zod object, or a JSON Schema (MCP tools bring their own). */
  schema: S;
  run(input: S extends z.ZodObject ? z.infer<S> : Record<string, unknown>, ctx: ToolRunContext): Promise<ToolOutcome>;
}

/** A call the model made, before it runs. */
export interface ToolCallRequest {
  toolCallId: string;
  toolName: string;
  input: Record<string, unknown>;
}

/**
 * Decides whether a call may run: null runs it (`auto`); a verdict approves or denies it, after a
 * member's answer (`ask`) or by policy (`deny`). Rejects when the turn is cancelled while it waits.
 */
export type ToolGuard = (call: ToolCallRequest, signal?: AbortSignal) => Promise<ToolCallApproval | null>;

/**
 * What a run hands its tools in the run config's `configurable`: tools (and the graph that binds
 * them) are shared between the runs of one agent configuration, so whatever belongs to one turn,
 * such as the approval guard, travels with the run instead.
 */
export interface ToolRunConfigurable {
  toolGuard?: ToolGuard;
}

/** What the model reads instead of a denied tool's output. */
export function denialText(toolName: string, v: ToolCallApproval): string {
  const why =
    v.reason === 'timeout'
      ? 'nobody approved it in time'
      : v.reason === 'policy'
        ? 'this agent is not allowed to run it'
        : v.reason === 'cancelled'
          ? 'the turn was cancelled'
          : 'a member of the room denied it';
  return `The call to ${toolName} was denied (${why})${v.note ? `: ${v.note}` : ''}. It did not run. Answer without its result.`;
}

type WriterConfig = ToolRunnableConfig & { writer?: ((chunk: unknown) => void) | null; toolCallId?: string };

/** Longest error text a tool call reports. */
const TOOL_ERROR_CHARS = 500;

/**
 * A LangChain tool whose runs emit start/progress/end on the custom stream. Errors are re-thrown
 * after the end event so ToolNode turns them into an error ToolMessage the model can read. An
 * error's text may come from a provider quoting our request (its key included): it is redacted
 * here, before the event (members, audit, database) and before the model reads it.
 */
export function instrumentTool<S extends z.ZodObject | Record<string, unknown>>(def: ToolDefinition<S>, redactor: Redactor, guard?: ToolGuard): StructuredToolInterface {
  return tool(
    async (input: Parameters<ToolDefinition<S>['run']>[0], config: WriterConfig) => {
      const toolCallId = config.toolCall?.id ?? config.toolCallId ?? 'unknown';
      const write = (event: ToolStreamEvent) => config.writer?.(event);
      const base = { source: TOOL_EVENT_SOURCE, toolCallId, toolName: def.name } as const;
      // Under `ask` this waits for a member; a denial is the tool's result, which the model reads.
      const activeGuard = guard ?? (config.configurable as ToolRunConfigurable | undefined)?.toolGuard;
      const approval = activeGuard ? await activeGuard({ toolCallId, toolName: def.name, input: input as Record<string, unknown> }, config.signal ?? undefined) : null;
      write({ ...base, type: 'start', input: input as Record<string, unknown> });
      const started = performance.now();
      const latency = () => Math.round(performance.now() - started);
      const approved = approval ? { approval } : {};
      if (approval?.decision === 'deny') {
        const text = denialText(def.name, approval);
        write({ ...base, type: 'end', status: 'failed', latencyMs: 0, error: text, ...approved });
        return text;
      }
      try {
        const outcome = await def.run(input, {
          signal: config.signal,
          progress: (message, percent) => write({ ...base, type: 'progress', message, ...(percent === undefined ? {} : { percent }) }),
        });
        write({ ...base, type: 'end', status: 'succeeded', latencyMs: latency(), output: outcome.summary, ...approved });
        return outcome.content;
      } catch (err) {
        // An abort shows as "cancelled", the same word the runner uses for calls it closes itself.
        const error = config.signal?.aborted
          ? 'cancelled'
          : redactor.redact(err instanceof Error ? err.message : String(err)).slice(0, TOOL_ERROR_CHARS);
        write({ ...base, type: 'end', status: 'failed', latencyMs: latency(), error, ...approved });
        throw new Error(error);
      }
    },
    { name: def.modelName ?? def.name, description: def.description, schema: def.schema as z.ZodObject },
  ) as unknown as StructuredToolInterface;
}
