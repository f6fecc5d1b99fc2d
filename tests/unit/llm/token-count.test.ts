import { HumanMessage, SystemMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { charCounter, requestTokens, tokenCounterFor, toolSchemasText } from '../../../src/llm/token-count';

describe('token counts of what is sent', () => {
  it('counts OpenAI-family models with their own encoding and any other model by the character rule', () => {
    expect(tokenCounterFor('gpt-4o-mini').encoding).toBe('o200k_base');
    expect(tokenCounterFor('gpt-5').encoding).toBe('o200k_base');
    expect(tokenCounterFor('o3-mini').encoding).toBe('o200k_base');
    expect(tokenCounterFor('gpt-4-turbo').encoding).toBe('cl100k_base');
    expect(tokenCounterFor('gpt-3.5-turbo').encoding).toBe('cl100k_base');
    expect(tokenCounterFor('llama3.1:8b').encoding).toBe('chars');
    // A real tokenizer: common English words are one token each, not four characters.
    expect(tokenCounterFor('gpt-4o').count('hello world, this is a test')).toBe(7);
    expect(charCounter.count('hello world, this is a test')).toBe(7);
    expect(tokenCounterFor('gpt-4o').count('internationalization '.repeat(10))).toBeLessThan(charCounter.count('internationalization '.repeat(10)));
    // A member's text may hold special-token markers: counted as the plain text they are.
    expect(tokenCounterFor('gpt-4o').count('hi <|endoftext|> there')).toBeGreaterThan(3);
  });

  it('bounds a count from above without encoding: no text counts more than its quick bound', () => {
    const texts = ['', 'a', ' the', 'Hello, world!', '[t:1733526000123.456] ', 'naïve café', '日本語のテキスト', '🙂👍🏽', 'x'.repeat(500), '\n\n  \t'];
    for (const counter of [tokenCounterFor('gpt-4o'), tokenCounterFor('gpt-4'), charCounter]) {
      for (const t of texts) expect(counter.bound(t), `${counter.encoding}: ${JSON.stringify(t)}`).toBeGreaterThanOrEqual(counter.count(t));
    }
  });

  it('truncates to the longest prefix within a count', () => {
    for (const counter of [charCounter, tokenCounterFor('gpt-4o')]) {
      const text = 'The quick brown fox jumps over the lazy dog. '.repeat(20);
      const cut = counter.truncate(text, 25);
      expect(text.startsWith(cut)).toBe(true);
      expect(counter.count(cut)).toBeLessThanOrEqual(25);
      expect(counter.count(text.slice(0, cut.length + 1))).toBeGreaterThan(25);
      expect(counter.truncate(text, 0)).toBe('');
      expect(counter.truncate('short', 100)).toBe('short');
    }
  });

  it('counts the whole request: role prompt, every message with its framing, and the tool schemas', () => {
    const system = new SystemMessage('You are Writer. '.repeat(50));
    const human = new HumanMessage('{"from":"Alice","as":"person","text":"hi"}');
    const messagesOnly = charCounter.count(human.content as string);
    const whole = requestTokens(charCounter, [system, human]);
    expect(whole).toBe(3 + 4 + charCounter.count(system.content as string) + 4 + messagesOnly);
    const search = tool(async () => 'x', { name: 'web_search', description: 'Search the web for a query', schema: z.object({ query: z.string() }) });
    const schemas = toolSchemasText([search]);
    expect(schemas[0]).toContain('web_search');
    expect(requestTokens(charCounter, [system, human], schemas)).toBe(whole + charCounter.count(schemas[0]!));
  });
});
