import { z } from 'zod';
import { extractJsonObject } from './json-answer';
import { parseTags, unknownTags } from './tags';

/**
 * Which agents answer a message, and in what order. Pure rules for the three room modes;
 * the orchestrator's model call lives in src/turns/manager.ts and ends up here.
 */

export interface PlanAgent {
  key: string;
  name: string;
  position: number;
}

/** Stored as the turn's `plan`; also the `turn:plan` payload without the turn id. */
export interface Plan {
  agentKeys: string[];
  /** True when the deterministic fallback chose the agents instead of the manager model. */
  fallback: boolean;
  reason?: string;
}

/** The manager model's answer: the keys of the agents to run, in order. */
export const managerAnswerSchema = z.object({
  selected_agent_keys: z.array(z.string().trim().min(1).max(64)).max(50),
});

export type ParseResult<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Agents in position order; ties by key so the order never depends on load order. */
export const inPositionOrder = <A extends PlanAgent>(agents: readonly A[]): A[] =>
  [...agents].sort((a, b) => a.position - b.position || a.key.localeCompare(b.key));

/** Parses the manager's raw text (bare JSON, or JSON inside ```json fences). */
export function parseManagerAnswer(raw: string): ParseResult<string[]> {
  const json = extractJsonObject(raw);
  if (json === undefined) return { ok: false, reason: 'the manager answer was not a JSON object' };
  const parsed = managerAnswerSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { ok: false, reason: `the manager answer did not match the schema (${issue.path.join('.') || 'root'}: ${issue.message})` };
  }
  return { ok: true, value: parsed.data.selected_agent_keys };
}

/**
 * Checks selected keys against the room's agents (case-insensitively), keeping the manager's
 * order and dropping repeats. Any unknown key or an empty selection rejects the whole plan:
 * a half-wrong answer is a sign the manager misread the room, so the fallback is safer.
 */
export function validateSelection(keys: readonly string[], agents: readonly PlanAgent[]): ParseResult<string[]> {
  const byLower = new Map(agents.map((a) => [a.key.toLowerCase(), a.key]));
  const unknown = keys.filter((k) => !byLower.has(k.toLowerCase()));
  if (unknown.length) return { ok: false, reason: `the manager selected unknown agents: ${unknown.join(', ')}` };
  const selected = [...new Set(keys.map((k) => byLower.get(k.toLowerCase())!))];
  if (selected.length === 0) return { ok: false, reason: 'the manager selected no agent' };
  return { ok: true, value: selected };
}

/** The deterministic fallback: the tagged agents if any, else every agent in position order. */
export function fallbackPlan(agents: readonly PlanAgent[], taggedKeys: readonly string[], reason: string): Plan {
  const agentKeys = taggedKeys.length ? [...taggedKeys] : inPositionOrder(agents).map((a) => a.key);
  return { agentKeys, fallback: true, reason };
}

/**
 * Orchestrator mode: the manager's answer if valid (with every tagged agent in it), else the
 * fallback with the reason it was rejected.
 */
export function planFromManagerAnswer(raw: string, agents: readonly PlanAgent[], taggedKeys: readonly string[]): Plan {
  const parsed = parseManagerAnswer(raw);
  const valid = parsed.ok ? validateSelection(parsed.value, agents) : parsed;
  return valid.ok ? withTagged(valid.value, taggedKeys) : fallbackPlan(agents, taggedKeys, valid.reason);
}

/**
 * Agents tagged in the message always answer: the ones the manager left out join its plan. The
 * manager's order stands; a tagged agent goes right before the first agent of the plan that the
 * message tagged after it (so the tags' own order holds among them), else at the end.
 * `@writer @critic` with a plan `researcher, critic` gives `researcher, writer, critic`.
 */
export function withTagged(selected: readonly string[], taggedKeys: readonly string[]): Plan {
  const agentKeys = [...selected];
  const added: string[] = [];
  taggedKeys.forEach((key, i) => {
    if (agentKeys.includes(key)) return;
    const later = taggedKeys.slice(i + 1).map((k) => agentKeys.indexOf(k)).filter((at) => at !== -1);
    agentKeys.splice(later.length ? Math.min(...later) : agentKeys.length, 0, key);
    added.push(key);
  });
  return added.length
    ? { agentKeys, fallback: false, reason: `tagged agents added to the manager's plan: ${added.map((k) => `@${k}`).join(', ')}` }
    : { agentKeys, fallback: false };
}

/**
 * Manual (tag) mode: exactly the tagged agents; none tagged gives an empty plan (no model call).
 * Tags that name no agent are said in the reason.
 */
export function manualPlan(text: string, agents: readonly PlanAgent[]): Plan {
  const agentKeys = parseTags(text, agents);
  const unknown = unknownTags(text, agents);
  const reason = unknown.length ? noAgentNamed(unknown) : agentKeys.length ? undefined : 'no agent was tagged';
  return reason ? { agentKeys, fallback: false, reason } : { agentKeys, fallback: false };
}

/** `no agent named @nobody` (or `@a, @b`). */
export const noAgentNamed = (tags: readonly string[]) => `no agent named ${tags.map((t) => `@${t}`).join(', ')}`;

/**
 * The system message of a manual turn whose message tagged names that no agent has: it says which
 * (and which agents exist). Null when every tag named an agent.
 */
export function unknownTagNotice(text: string, agents: readonly PlanAgent[]): string | null {
  const unknown = unknownTags(text, agents);
  if (!unknown.length) return null;
  const said = noAgentNamed(unknown);
  const head = said.charAt(0).toUpperCase() + said.slice(1);
  if (agents.length === 0) return `${head}: this room has no agents yet.`;
  return `${head} in this room. Its agents: ${inPositionOrder(agents).map((a) => `@${a.key} (${a.name})`).join(', ')}.`;
}

/** Roundtable mode: every agent, in position order. */
export function roundtablePlan(agents: readonly PlanAgent[]): Plan {
  return { agentKeys: inPositionOrder(agents).map((a) => a.key), fallback: false };
}

/** The system message for a turn whose plan is empty: it tells the user which agents exist. */
export function noAgentNotice(agents: readonly PlanAgent[]): string {
  if (agents.length === 0) return 'This room has no agents yet. Add one, then tag it like @writer.';
  const list = inPositionOrder(agents).map((a) => `@${a.key} (${a.name})`).join(', ');
  return `No agent was tagged. Tag one or more of this room's agents: ${list}.`;
}
