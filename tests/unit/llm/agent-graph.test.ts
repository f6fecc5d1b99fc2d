import { describe, expect, it } from 'vitest';
import { DEMO_ALIAS } from '../../../src/config/models';
import { agentGraphFor } from '../../../src/llm/agent-graph';
import { createModelProvider } from '../../../src/llm/model-provider';

describe('agentGraphFor', () => {
  it('compiles a configuration once per model instance, key and deadline', () => {
    const models = createModelProvider({ demo: DEMO_ALIAS });
    const model = models.chatModel('demo', { maxTokens: 10, timeoutMs: 1000 });
    let built = 0;
    const tools = () => (built++, []);
    const g = agentGraphFor('k', { model, timeoutMs: 1000, tools });
    expect(agentGraphFor('k', { model, timeoutMs: 1000, tools })).toBe(g);
    expect(built).toBe(1);
    expect(agentGraphFor('other', { model, timeoutMs: 1000, tools })).not.toBe(g);
    expect(agentGraphFor('k', { model, timeoutMs: 2000, tools })).not.toBe(g);
    const otherModel = createModelProvider({ demo: DEMO_ALIAS }).chatModel('demo', { maxTokens: 10, timeoutMs: 1000 });
    expect(agentGraphFor('k', { model: otherModel, timeoutMs: 1000, tools })).not.toBe(g);
    expect(built).toBe(4);
  });
});
