import { HumanMessage, SystemMessage } from '@langchain/core/messages';
import { describe, expect, it } from 'vitest';
import { streamModelCall } from '../../../src/llm/call-model';
import { DemoChatModel, demoReply } from '../../../src/llm/demo-model';
import { createModelProvider } from '../../../src/llm/model-provider';
import { DEMO_ALIAS } from '../../../src/config/models';
import { buildAgentMessages } from '../../../src/turns/prompt';

const prompt = buildAgentMessages({
  agent: { key: 'writer', name: 'Writer', rolePrompt: 'You write crisp marketing copy. Keep it short.' },
  recent: [{ authorType: 'user', authorName: 'Alice', content: 'Draft a tagline for our tea shop' }],
  sameTurn: [{ agentKey: 'critic', agentName: 'Critic', content: 'Tea is boring.' }],
});

describe('demo model', () => {
  it('streams a deterministic reply in the persona, quoting the user and saying it is the demo', async () => {
    const model = new DemoChatModel({ wordDelayMs: 0 });
    const chunks: string[] = [];
    for await (const chunk of await model.stream(prompt)) chunks.push(chunk.text);
    const text = chunks.join('');
    expect(chunks.length).toBeGreaterThan(10);
    expect(text).toBe(demoReply(prompt));
    expect(text).toMatch(/^Writer here, answering with the offline demo model\./);
    // The question is the user's line, not the other agent's answer that came after it.
    expect(text).toContain('You said: "Draft a tagline for our tea shop".');
    expect(text).toContain('From my role (You write crisp marketing copy.)');
    expect(demoReply([new SystemMessage('You are Critic, x'), new HumanMessage('Bob: hi')])).toMatch(/^Critic here.*You said: "hi"/);
  });

  it('reports estimated usage and a finish reason on the merged message', async () => {
    const { message, text } = await streamModelCall(new DemoChatModel({ wordDelayMs: 0 }), prompt, { timeoutMs: 5000 });
    expect(message?.usage_metadata?.input_tokens).toBeGreaterThan(20);
    expect(message?.usage_metadata?.output_tokens).toBe(Math.ceil(text.length / 4));
    expect(message?.response_metadata.finish_reason).toBe('stop');
  });

  it('cuts at maxTokens with finish reason length', async () => {
    const { message, text } = await streamModelCall(new DemoChatModel({ wordDelayMs: 0, maxTokens: 5 }), prompt, { timeoutMs: 5000 });
    expect(text.length).toBeLessThanOrEqual(5 * 4 + 4);
    expect(message?.response_metadata.finish_reason).toBe('length');
  });

  it('stops streaming when aborted', async () => {
    const model = new DemoChatModel({ wordDelayMs: 5 });
    const controller = new AbortController();
    const seen: string[] = [];
    const run = (async () => {
      for await (const chunk of await model.stream(prompt, { signal: controller.signal })) {
        seen.push(chunk.text);
        if (seen.length === 3) controller.abort();
      }
    })();
    await expect(run).rejects.toThrow(/abort/i);
    expect(seen).toHaveLength(3);
  });

  it('is what the provider returns for a demo alias', () => {
    const models = createModelProvider({ demo: DEMO_ALIAS });
    expect(models.chatModel('demo', { maxTokens: 10, timeoutMs: 1000 })).toBeInstanceOf(DemoChatModel);
    expect(models.describe('demo')).toEqual({ alias: 'demo', kind: 'demo', model: 'demo', prices: { inputPerMillion: 0, outputPerMillion: 0 } });
  });
});
