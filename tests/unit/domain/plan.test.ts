import { describe, expect, it } from 'vitest';
import { extractJsonObject } from '../../../src/domain/json-answer';
import {
  fallbackPlan,
  manualPlan,
  noAgentNotice,
  parseManagerAnswer,
  planFromManagerAnswer,
  roundtablePlan,
  unknownTagNotice,
  validateSelection,
  withTagged,
} from '../../../src/domain/plan';

const agents = [
  { key: 'critic', name: 'Critic', position: 2 },
  { key: 'writer', name: 'Writer', position: 1 },
  { key: 'researcher', name: 'Researcher', position: 3 },
];

describe('extractJsonObject', () => {
  it('reads bare JSON, fenced JSON and JSON inside prose', () => {
    expect(extractJsonObject('{"a":1}')).toEqual({ a: 1 });
    expect(extractJsonObject('```json\n{"a": [1, 2]}\n```')).toEqual({ a: [1, 2] });
    expect(extractJsonObject('Sure! Here it is: {"a": "}"} hope that helps')).toEqual({ a: '}' });
  });

  it('returns undefined when there is no object', () => {
    expect(extractJsonObject('no json here')).toBeUndefined();
    expect(extractJsonObject('[1,2,3]')).toBeUndefined();
    expect(extractJsonObject('{broken')).toBeUndefined();
  });
});

describe('manager answers', () => {
  it('accepts a valid selection, keeping its order, canonical keys and no repeats', () => {
    expect(parseManagerAnswer('```json\n{"selected_agent_keys": ["Researcher", "writer"]}\n```')).toEqual({ ok: true, value: ['Researcher', 'writer'] });
    expect(validateSelection(['Researcher', 'writer', 'researcher'], agents)).toEqual({ ok: true, value: ['researcher', 'writer'] });
    expect(planFromManagerAnswer('{"selected_agent_keys":["critic","writer"]}', agents, [])).toEqual({ agentKeys: ['critic', 'writer'], fallback: false });
  });

  it('rejects prose, the wrong shape, unknown keys and empty selections with a reason', () => {
    expect(parseManagerAnswer('I think the writer should answer.')).toMatchObject({ ok: false, reason: expect.stringContaining('not a JSON object') });
    expect(parseManagerAnswer('{"agents": ["writer"]}')).toMatchObject({ ok: false, reason: expect.stringContaining('selected_agent_keys') });
    expect(validateSelection(['writer', 'ghost'], agents)).toEqual({ ok: false, reason: 'the manager selected unknown agents: ghost' });
    expect(validateSelection([], agents)).toMatchObject({ ok: false, reason: 'the manager selected no agent' });
  });

  it('falls back to the tagged agents, else to all agents in position order', () => {
    expect(planFromManagerAnswer('nonsense', agents, ['critic'])).toMatchObject({ agentKeys: ['critic'], fallback: true });
    const all = planFromManagerAnswer('{"selected_agent_keys":["ghost"]}', agents, []);
    expect(all).toEqual({ agentKeys: ['writer', 'critic', 'researcher'], fallback: true, reason: 'the manager selected unknown agents: ghost' });
  });
});

describe('tagged agents in an orchestrator plan', () => {
  it('adds the tagged agents the manager left out, keeping its order and the tags’ order among them', () => {
    expect(planFromManagerAnswer('{"selected_agent_keys":["researcher","critic"]}', agents, ['writer', 'critic'])).toEqual({
      agentKeys: ['researcher', 'writer', 'critic'],
      fallback: false,
      reason: "tagged agents added to the manager's plan: @writer",
    });
    expect(withTagged(['critic'], ['writer', 'researcher'])).toMatchObject({ agentKeys: ['critic', 'writer', 'researcher'] });
    expect(withTagged(['researcher'], ['critic', 'writer', 'researcher'])).toMatchObject({ agentKeys: ['critic', 'writer', 'researcher'] });
    // A plan that has every tagged agent is the manager's as it is.
    expect(withTagged(['critic', 'writer'], ['writer', 'critic'])).toEqual({ agentKeys: ['critic', 'writer'], fallback: false });
  });
});

describe('mode plans', () => {
  it('manual mode says which tags named no agent', () => {
    expect(manualPlan('@writer and @nobody, also @Ghost.', agents)).toEqual({ agentKeys: ['writer'], fallback: false, reason: 'no agent named @nobody, @Ghost' });
    expect(manualPlan('mail bob@example.com, @writers', agents)).toEqual({ agentKeys: [], fallback: false, reason: 'no agent named @writers' });
    expect(unknownTagNotice('@nobody please', agents)).toBe(
      'No agent named @nobody in this room. Its agents: @writer (Writer), @critic (Critic), @researcher (Researcher).',
    );
    expect(unknownTagNotice('@writer, @Critic! bob@writer.io', agents)).toBeNull();
  });

  it('manual mode takes exactly the tagged agents; none tagged is an empty plan with a reason', () => {
    expect(manualPlan('@critic then @writer', agents)).toEqual({ agentKeys: ['critic', 'writer'], fallback: false });
    expect(manualPlan('hello everyone', agents)).toEqual({ agentKeys: [], fallback: false, reason: 'no agent was tagged' });
  });

  it('roundtable takes every agent by position, ties broken by key', () => {
    expect(roundtablePlan(agents).agentKeys).toEqual(['writer', 'critic', 'researcher']);
    expect(roundtablePlan([{ key: 'b', name: 'B', position: 0 }, { key: 'a', name: 'A', position: 0 }]).agentKeys).toEqual(['a', 'b']);
  });

  it('fallbackPlan copies the reason', () => {
    expect(fallbackPlan(agents, [], 'why')).toEqual({ agentKeys: ['writer', 'critic', 'researcher'], fallback: true, reason: 'why' });
  });

  it('the no-agent notice lists the agents that exist', () => {
    expect(noAgentNotice(agents)).toBe("No agent was tagged. Tag one or more of this room's agents: @writer (Writer), @critic (Critic), @researcher (Researcher).");
    expect(noAgentNotice([])).toMatch(/no agents yet/);
  });
});
