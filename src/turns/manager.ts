import { HumanMessage, SystemMessage } from '@langchain/core/messages';
import { fallbackPlan, planFromManagerAnswer, type Plan, type PlanAgent } from '../domain/plan';
import { parseTags } from '../domain/tags';
import { streamModelCall } from '../llm/call-model';
import { classifyModelError } from '../llm/errors';
import type { ModelDescription, ModelProvider } from '../llm/model-provider';
import { usageOfCall, type ModelCallUsage } from '../llm/usage';
import type { ConversationMessage } from './prompt';

/**
 * The orchestrator's manager call: a model picks which agents answer, as
 * `{ "selected_agent_keys": [...] }`. Anything unusable (a failed call, prose, bad JSON, unknown
 * keys) falls back deterministically (tagged agents, else all in position order) and says why.
 */

export interface ManagerAgent extends PlanAgent {
  rolePrompt: string;
}

export interface ManagerInput {
  models: ModelProvider;
  /** resolveManagerAlias() picks it from the room settings or the server default. */
  alias: string;
  agents: readonly ManagerAgent[];
  /** The message the turn answers. */
  message: { authorName: string; content: string };
  /** A little earlier conversation, oldest first, for context. */
  recent?: readonly ConversationMessage[];
  limits: { managerMaxTokens: number; modelTimeoutMs: number };
  signal?: AbortSignal;
}

export interface ManagerResult {
  plan: Plan;
  /** The manager call's usage (purpose 'manager'); empty when no call was needed. */
  usage: ModelCallUsage[];
}

const ROLE_CHARS = 240;
const CONTEXT_MESSAGES = 6;

/** The room's manager alias when it names a configured model, else the server default. */
export function resolveManagerAlias(settings: { managerModelAlias?: unknown }, defaultAlias: string, models: ModelProvider): string {
  const wanted = settings.managerModelAlias;
  return typeof wanted === 'string' && models.has(wanted) ? wanted : defaultAlias;
}

export function managerMessages(input: Pick<ManagerInput, 'agents' | 'message' | 'recent'>) {
  const roster = input.agents
    .map((a) => {
      const role = a.rolePrompt.replace(/\s+/g, ' ').trim();
      return `- key: ${a.key} | name: ${a.name} | role: ${role.length > ROLE_CHARS ? `${role.slice(0, ROLE_CHARS - 1)}…` : role}`;
    })
    .join('\n');
  const system = [
    'You route the messages of a group chat to a team of AI agents.',
    'Choose the agents who should answer the latest message, in the order they should speak.',
    'Choose only agents whose role fits; choose several only when each adds something. If the message tags agents (@key), include them.',
    `The agents:\n${roster}`,
    'Answer with only a JSON object and no other text: {"selected_agent_keys": ["<key>", ...]}',
  ].join('\n\n');
  const context = (input.recent ?? [])
    .slice(-CONTEXT_MESSAGES)
    .filter((m) => m.authorType !== 'system')
    .map((m) => `${m.authorName}${m.authorType === 'agent' ? ' (agent)' : ''}: ${m.content.slice(0, 500)}`);
  const human = [
    context.length ? `Earlier messages:\n${context.join('\n')}` : '',
    `Latest message, from ${input.message.authorName}:\n${input.message.content}`,
  ]
    .filter(Boolean)
    .join('\n\n');
  return [new SystemMessage(system), new HumanMessage(human)];
}

export async function planWithManager(input: ManagerInput): Promise<ManagerResult> {
  const { agents } = input;
  const tagged = parseTags(input.message.content, agents);
  if (agents.length === 0) return { plan: { agentKeys: [], fallback: false, reason: 'the room has no agents' }, usage: [] };
  // One agent leaves nothing to choose: skip the call rather than pay for it.
  if (agents.length === 1) return { plan: { agentKeys: [agents[0]!.key], fallback: false, reason: 'the room has one agent' }, usage: [] };

  let description: ModelDescription;
  try {
    description = input.models.describe(input.alias);
  } catch {
    return { plan: fallbackPlan(agents, tagged, `the manager model alias "${input.alias}" is not configured`), usage: [] };
  }
  if (description.kind === 'demo') return { plan: fallbackPlan(agents, tagged, 'the offline demo model cannot plan'), usage: [] };

  const messages = managerMessages(input);
  const model = input.models.chatModel(input.alias, { maxTokens: input.limits.managerMaxTokens, timeoutMs: input.limits.modelTimeoutMs });
  const started = performance.now();
  const progress = { streamed: false };
  try {
    const call = await streamModelCall(model, messages, { timeoutMs: input.limits.modelTimeoutMs, signal: input.signal, progress });
    const usage = usageOfCall({
      purpose: 'manager',
      description,
      reported: call.message?.usage_metadata,
      prompt: messages,
      outputText: call.text,
      latencyMs: call.latencyMs,
    });
    return { plan: planFromManagerAnswer(call.text, agents, tagged), usage: [usage] };
  } catch (err) {
    const latencyMs = performance.now() - started;
    const usage = usageOfCall({
      purpose: 'manager',
      description,
      reported: undefined,
      prompt: messages,
      outputText: '',
      latencyMs,
      outcome: input.signal?.aborted ? 'cancelled' : 'failed',
      refused: !progress.streamed,
    });
    const reason = input.signal?.aborted ? 'the turn was cancelled' : `the manager call failed (${classifyModelError(err, { streamStarted: false }).code})`;
    return { plan: fallbackPlan(agents, tagged, reason), usage: [usage] };
  }
}
