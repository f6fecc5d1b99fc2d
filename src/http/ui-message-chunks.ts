import type { UIMessageChunk } from 'ai';
import type { RoomEvent, RoomEventName, RoomEventPayloads } from '../contract/events';

/**
 * One turn's room events as AI SDK UI message stream chunks: the turn is one assistant message;
 * each agent's answer is a text part (`text-start`/`text-delta`/`text-end`, id `agent:<key>`), and
 * a `data-agent` part with the same id names the agent, its model alias and, once it ended, its
 * status, usage and error. The plan is a `data-plan` part; tool calls are dynamic tool parts
 * (`tool-input-available`, then `tool-output-available` or `tool-output-error`). `turn:end` puts
 * the turn's status and usage in the message metadata and finishes the message.
 */
export type TurnChunk = UIMessageChunk<TurnMetadata, { agent: AgentData; plan: PlanData }>;

export interface TurnMetadata {
  roomId?: string;
  sessionId?: string;
  turnId?: string;
  messageId?: string;
  status?: string;
  usage?: RoomEventPayloads['turn:end']['usage'];
  error?: { code: string; message: string };
  /** The stream could not be replayed from the position asked: the answer was read from the database. */
  replayGap?: boolean;
}
export interface AgentData {
  agentKey: string;
  modelAlias?: string;
  status: 'running' | 'complete' | 'partial' | 'failed' | 'cancelled';
  finishReason?: string | null;
  usage?: RoomEventPayloads['agent:end']['usage'];
  error?: { code: string; message: string };
}
export interface PlanData {
  agentKeys: string[];
  fallback: boolean;
  reason?: string;
}

const FINISH: Record<string, 'stop' | 'error' | 'other'> = { completed: 'stop', partial: 'other', failed: 'error', cancelled: 'other', interrupted: 'error' };

export const partId = (agentKey: string) => `agent:${agentKey}`;

/** The chunks of one room event of the turn (none for events of other turns or without a turn). */
export function turnChunks(turnId: string, event: RoomEventName, data: RoomEvent): TurnChunk[] {
  const d = data as RoomEvent & { turnId?: string };
  if (d.turnId !== turnId) return [];
  switch (event) {
    case 'turn:plan': {
      const e = data as RoomEvent<'turn:plan'>;
      return [{ type: 'data-plan', id: 'plan', data: { agentKeys: e.agentKeys, fallback: e.fallback, ...(e.reason ? { reason: e.reason } : {}) } }];
    }
    case 'agent:start': {
      const e = data as RoomEvent<'agent:start'>;
      return [
        { type: 'data-agent', id: partId(e.agentKey), data: { agentKey: e.agentKey, modelAlias: e.modelAlias, status: 'running' } },
        { type: 'text-start', id: partId(e.agentKey) },
      ];
    }
    case 'agent:delta': {
      const e = data as RoomEvent<'agent:delta'>;
      return [{ type: 'text-delta', id: partId(e.agentKey), delta: e.text }];
    }
    case 'agent:end': {
      const e = data as RoomEvent<'agent:end'>;
      return [
        { type: 'text-end', id: partId(e.agentKey) },
        {
          type: 'data-agent',
          id: partId(e.agentKey),
          data: { agentKey: e.agentKey, status: e.status, finishReason: e.finishReason, usage: e.usage, ...(e.error ? { error: { code: e.error.code, message: e.error.message } } : {}) },
        },
      ];
    }
    case 'tool:start': {
      const e = data as RoomEvent<'tool:start'>;
      return [{ type: 'tool-input-available', toolCallId: e.toolCallId, toolName: e.toolName, input: e.input, dynamic: true, providerExecuted: true }];
    }
    case 'tool:end': {
      const e = data as RoomEvent<'tool:end'>;
      return e.status === 'succeeded'
        ? [{ type: 'tool-output-available', toolCallId: e.toolCallId, output: { status: e.status, latencyMs: e.latencyMs }, dynamic: true, providerExecuted: true }]
        : [{ type: 'tool-output-error', toolCallId: e.toolCallId, errorText: e.error ?? 'failed', dynamic: true, providerExecuted: true }];
    }
    case 'turn:end': {
      const e = data as RoomEvent<'turn:end'>;
      const metadata: TurnMetadata = { status: e.status, usage: e.usage, ...(e.error ? { error: { code: e.error.code, message: e.error.message } } : {}) };
      return [{ type: 'finish', finishReason: FINISH[e.status] ?? 'other', messageMetadata: metadata }];
    }
    default:
      return [];
  }
}

/**
 * A turn that ended, told from what was committed: each agent's answer as one text part, then the
 * finish. For a resume whose position the replay log no longer holds.
 */
export function committedChunks(turn: { status: string; answers: { agentKey: string; content: string; status: string; modelAlias: string | null }[] }): TurnChunk[] {
  const chunks: TurnChunk[] = [];
  for (const a of turn.answers) {
    const id = partId(a.agentKey);
    // A partial answer (kept from an interrupted turn) shows as failed.
    const status = a.status === 'complete' || a.status === 'cancelled' ? a.status : 'failed';
    chunks.push(
      { type: 'data-agent', id, data: { agentKey: a.agentKey, ...(a.modelAlias ? { modelAlias: a.modelAlias } : {}), status } },
      { type: 'text-start', id },
      ...(a.content ? [{ type: 'text-delta' as const, id, delta: a.content }] : []),
      { type: 'text-end', id },
    );
  }
  chunks.push({ type: 'finish', finishReason: FINISH[turn.status] ?? 'other', messageMetadata: { status: turn.status, replayGap: true } });
  return chunks;
}

