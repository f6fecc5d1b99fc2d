import { z } from 'zod';
import { extractJsonObject } from './json-answer';
import { parseTags } from './tags';

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

/** Orchestrator mode: the manager's answer if valid, else the fallback with the reason it was rejected. */
export function planFromManagerAnswer(raw: string, agents: readonly PlanAgent[], taggedKeys: readonly string[]): Plan {
  const parsed = parseManagerAnswer(raw);
  const valid = parsed.ok ? validateSelection(parsed.value, agents) : parsed;
  return valid.ok ? { agentKeys: valid.value, fallback: false } : fallbackPlan(agents, taggedKeys, valid.reason);
}

/** Manual (tag) mode: exactly the tagged agents; none tagged gives an empty plan (no model call). */
export function manualPlan(text: string, agents: readonly PlanAgent[]): Plan {
  const agentKeys = parseTags(text, agents);
  return agentKeys.length ? { agentKeys, fallback: false } : { agentKeys, fallback: false, reason: 'no agent was tagged' };
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
