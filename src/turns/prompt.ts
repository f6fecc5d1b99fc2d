import { AIMessage, HumanMessage, SystemMessage, type BaseMessage } from '@langchain/core/messages';
import { estimateMessagesTokens, estimateTokens } from '../domain/budget';

/**
 * The messages one agent sees: its role (system), the session summary, the recent conversation
 * and the answers given earlier in the same turn, so the third agent of a roundtable reads the
 * first two. Other speakers appear as user-role lines prefixed with their name; only this agent's
 * own earlier answers are assistant messages, so the model never mistakes another voice for its own.
 */

export interface PromptAgent {
  key: string;
  name: string;
  rolePrompt: string;
}

export interface ConversationMessage {
  authorType: 'user' | 'agent' | 'system';
  /** Display name of the user, or the agent's name. */
  authorName: string;
  agentKey?: string | null;
  content: string;
}

export interface SameTurnAnswer {
  agentKey: string;
  agentName: string;
  content: string;
  status?: 'complete' | 'partial' | 'failed' | 'cancelled';
}

export interface AgentPromptInput {
  agent: PromptAgent;
  /** The room's agents, so this one knows who else may speak. */
  team?: readonly { key: string; name: string }[];
  summary?: string | null;
  /** Oldest first; ends with the message that started the turn. */
  recent: readonly ConversationMessage[];
  /** Earlier answers of this turn, in the order they were given. */
  sameTurn?: readonly SameTurnAnswer[];
  /** Files of the room the agent can open with read_file (only pass them when it may). */
  files?: readonly { id: string; filename: string; kind: string }[];
  /** Drop the oldest recent messages while the estimate is above this; the last one always stays. */
  maxContextTokens?: number;
  /** Cap on the system message (MAX_SYSTEM_PROMPT_CHARS); the parts that do not fit are cut. */
  maxSystemChars?: number;
}

/** Marks another agent's line; the demo model relies on it to find the user's question. */
export const agentLine = (name: string, content: string) => `${name} (agent): ${content}`;

/** The shortest cut part worth keeping; below it a part is left out. */
const MIN_PART_CHARS = 40;
const SEPARATOR = '\n\n';

/**
 * Gives each part, in order of importance, what is left of `max`: a part that does not fit is cut
 * (marked with …), or dropped when too little is left for it to mean anything.
 */
function fitParts(max: number, parts: readonly string[]): string[] {
  let left = max;
  return parts.map((part) => {
    if (!part) return '';
    const room = left - SEPARATOR.length;
    const fitted = part.length <= room ? part : room >= MIN_PART_CHARS ? `${part.slice(0, room - 1)}…` : '';
    if (fitted) left -= fitted.length + SEPARATOR.length;
    return fitted;
  });
}

export function systemPrompt(input: AgentPromptInput): string {
  const { agent } = input;
  const others = (input.team ?? []).filter((a) => a.key !== agent.key);
  // Most important first: who the agent is and the rules, then its role, then the rest.
  const [persona, rules, role, team, summary, files] = fitParts(input.maxSystemChars ?? Number.POSITIVE_INFINITY, [
    `You are ${agent.name}, one of the AI agents in a shared chat room with people and other agents.`,
    `Answer as ${agent.name} only, in your own voice. Do not write lines for other participants and do not start your answer with your name.`,
    `Your role: ${agent.rolePrompt.trim() || 'a helpful assistant.'}`,
    others.length ? `Other agents in the room: ${others.map((a) => `${a.name} (@${a.key})`).join(', ')}.` : '',
    input.summary?.trim() ? `Summary of the conversation so far:\n${input.summary.trim()}` : '',
    input.files?.length
      ? `Files in this room you can read with the read_file tool:\n${input.files.map((f) => `- ${f.filename} (${f.kind}, id ${f.id})`).join('\n')}`
      : '',
  ]);
  return [persona, role, team, rules, summary, files].filter(Boolean).join(SEPARATOR);
}

function historyMessage(m: ConversationMessage, agentKey: string): BaseMessage | undefined {
  if (!m.content.trim()) return undefined;
  // System notes (such as "no agent was tagged") are for people, not context for the model.
  if (m.authorType === 'system') return undefined;
  if (m.authorType === 'agent' && m.agentKey === agentKey) return new AIMessage(m.content);
  if (m.authorType === 'agent') return new HumanMessage(agentLine(m.authorName, m.content));
  return new HumanMessage(`${m.authorName}: ${m.content}`);
}

function sameTurnMessage(a: SameTurnAnswer): BaseMessage | undefined {
  if (!a.content.trim() || a.status === 'failed') return undefined;
  const cut = a.status === 'partial' || a.status === 'cancelled' ? ' [cut off]' : '';
  return new HumanMessage(agentLine(a.agentName, a.content + cut));
}

export function buildAgentMessages(input: AgentPromptInput): BaseMessage[] {
  const system = new SystemMessage(systemPrompt(input));
  const history = input.recent.map((m) => historyMessage(m, input.agent.key)).filter((m): m is BaseMessage => m !== undefined);
  const sameTurn = (input.sameTurn ?? []).map(sameTurnMessage).filter((m): m is BaseMessage => m !== undefined);

  if (input.maxContextTokens !== undefined) {
    const fixed = estimateTokens(systemPrompt(input)) + estimateMessagesTokens(sameTurn.map((m) => ({ content: m.content as string })));
    let total = fixed + estimateMessagesTokens(history.map((m) => ({ content: m.content as string })));
    while (history.length > 1 && total > input.maxContextTokens) {
      total -= estimateMessagesTokens([{ content: history.shift()!.content as string }]);
    }
  }
  return [system, ...history, ...sameTurn];
}
