import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ALIAS } from '../../../src/config/models';
import { createModelProvider } from '../../../src/llm/model-provider';
import { planWithManager, resolveManagerAlias, type ManagerInput } from '../../../src/turns/manager';
import { fakeModelAlias, startFakeOpenAI, transcriptOf, type FakeOpenAI } from '../../helpers/fake-openai';

let fake: FakeOpenAI;
beforeAll(async () => (fake = await startFakeOpenAI()));
afterAll(() => fake.close());

const agents = [
  { key: 'writer', name: 'Writer', position: 1, rolePrompt: 'Writes copy.' },
  { key: 'critic', name: 'Critic', position: 2, rolePrompt: 'Critiques drafts.' },
  { key: 'researcher', name: 'Researcher', position: 3, rolePrompt: 'Finds facts.' },
];

const models = () => createModelProvider({ fake: fakeModelAlias(fake), demo: DEMO_ALIAS }, { maxRetries: 0 });

function input(over: Partial<ManagerInput> = {}): ManagerInput {
  return {
    models: models(),
    alias: 'fake',
    agents,
    message: { authorName: 'Alice', content: 'Find facts about oolong, then write a blurb' },
    recent: [{ authorType: 'user', authorName: 'Alice', content: 'We sell tea.' }],
    limits: { managerMaxTokens: 64, modelTimeoutMs: 2_000 },
    ...over,
  };
}

describe('planWithManager', () => {
  it('uses a valid plan, in its order, and records manager usage', async () => {
    fake.enqueue({ text: '```json\n{"selected_agent_keys": ["researcher", "writer"]}\n```', usage: { promptTokens: 120, completionTokens: 12 } });
    const result = await planWithManager(input());

    expect(result.plan).toEqual({ agentKeys: ['researcher', 'writer'], fallback: false });
    expect(result.usage).toEqual([expect.objectContaining({ purpose: 'manager', modelAlias: 'fake', inputTokens: 120, outputTokens: 12, estimated: false })]);
    const req = fake.requests.at(-1)!;
    expect(req.body.max_tokens).toBe(64);
    const prompt = transcriptOf(req);
    expect(prompt).toContain('- key: critic | name: Critic | role: Critiques drafts.');
    expect(prompt).toContain('{"selected_agent_keys"');
    expect(prompt).toContain('Latest message, from Alice:\nFind facts about oolong, then write a blurb');
    expect(prompt).toContain('Alice: We sell tea.');
  });

  it('falls back to all agents in order when the answer is not JSON', async () => {
    fake.enqueue({ text: 'The researcher should go first, I think.' });
    const result = await planWithManager(input());
    expect(result.plan).toEqual({ agentKeys: ['writer', 'critic', 'researcher'], fallback: true, reason: 'the manager answer was not a JSON object' });
    expect(result.usage).toHaveLength(1);
  });

  it('falls back to the tagged agents when the answer names unknown keys', async () => {
    fake.enqueue({ text: '{"selected_agent_keys": ["poet"]}' });
    const result = await planWithManager(input({ message: { authorName: 'Alice', content: '@critic what do you think?' } }));
    expect(result.plan).toEqual({ agentKeys: ['critic'], fallback: true, reason: 'the manager selected unknown agents: poet' });
  });

  it('falls back when the manager call fails, recording the refused call as failed with nothing billed', async () => {
    fake.enqueue({ status: 503 });
    const result = await planWithManager(input());
    expect(result.plan).toMatchObject({ fallback: true, reason: 'the manager call failed (MODEL_ERROR)' });
    expect(result.usage).toEqual([
      expect.objectContaining({ purpose: 'manager', status: 'failed', inputTokens: 0, outputTokens: 0, costUsd: 0, estimated: false, charged: false }),
    ]);
  });

  it('falls back when the manager times out', async () => {
    fake.enqueue({ hangBeforeHeaders: true });
    const result = await planWithManager(input({ limits: { managerMaxTokens: 64, modelTimeoutMs: 150 } }));
    expect(result.plan).toMatchObject({ fallback: true, reason: 'the manager call failed (MODEL_TIMEOUT)' });
  });

  it('makes no call when there is nothing to choose or no model to ask', async () => {
    const before = fake.requests.length;
    expect(await planWithManager(input({ agents: [agents[1]!] }))).toEqual({ plan: { agentKeys: ['critic'], fallback: false, reason: 'the room has one agent' }, usage: [] });
    expect((await planWithManager(input({ agents: [] }))).plan.agentKeys).toEqual([]);
    expect(await planWithManager(input({ alias: 'demo' }))).toEqual({
      plan: { agentKeys: ['writer', 'critic', 'researcher'], fallback: true, reason: 'the offline demo model cannot plan' },
      usage: [],
    });
    expect((await planWithManager(input({ alias: 'missing' }))).plan).toMatchObject({ fallback: true, reason: expect.stringContaining('not configured') });
    expect(fake.requests.length).toBe(before);
  });
});

describe('resolveManagerAlias', () => {
  it("takes the room's alias when configured, else the default", () => {
    const m = models();
    expect(resolveManagerAlias({ managerModelAlias: 'fake' }, 'demo', m)).toBe('fake');
    expect(resolveManagerAlias({ managerModelAlias: 'removed' }, 'demo', m)).toBe('demo');
    expect(resolveManagerAlias({}, 'fake', m)).toBe('fake');
  });
});
