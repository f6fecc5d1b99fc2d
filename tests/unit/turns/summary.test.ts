import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ALIAS } from '../../../src/config/models';
import { fallbackSummaryFields, fallbackSummaryText } from '../../../src/domain/summary';
import { createModelProvider } from '../../../src/llm/model-provider';
import { runSummaryPipeline, type SummaryInput } from '../../../src/turns/summary';
import { fakeModelAlias, startFakeOpenAI, transcriptOf, type FakeOpenAI } from '../../helpers/fake-openai';

let fake: FakeOpenAI;
beforeAll(async () => (fake = await startFakeOpenAI()));
afterAll(() => fake.close());

const messages = [
  { author: 'Alice', content: 'We agreed to launch the oolong line in May. Who designs the labels?' },
  { author: 'Writer', content: 'I drafted three taglines for the oolong launch.' },
];
const SUMMARY = 'Alice and the Writer plan the May launch of an oolong line; labels are unassigned.';

function input(over: Partial<SummaryInput> = {}): SummaryInput {
  return {
    models: createModelProvider({ fake: fakeModelAlias(fake), demo: DEMO_ALIAS }, { maxRetries: 0 }),
    alias: 'fake',
    previousSummary: 'Alice runs a tea shop.',
    messages,
    limits: { summaryMaxTokens: 128, modelTimeoutMs: 2_000 },
    ...over,
  };
}

describe('runSummaryPipeline', () => {
  it('generates the text, then extracts the fields from it, recording two summary calls', async () => {
    fake.enqueue(
      { text: SUMMARY, usage: { promptTokens: 80, completionTokens: 20 } },
      { text: '{"topics":["oolong launch"],"decisions":["Launch in May"],"openQuestions":["Who designs the labels?"]}', usage: { promptTokens: 40, completionTokens: 15 } },
    );
    const before = fake.requests.length;
    const result = await runSummaryPipeline(input());

    expect(result.summary).toBe(SUMMARY);
    expect(result.data).toEqual({ topics: ['oolong launch'], decisions: ['Launch in May'], openQuestions: ['Who designs the labels?'], usedFallback: false });
    expect(result.usage.map((u) => [u.purpose, u.inputTokens, u.outputTokens])).toEqual([
      ['summary', 80, 20],
      ['summary', 40, 15],
    ]);
    const generation = transcriptOf(fake.requests[before]!);
    expect(generation).toContain('Previous summary:\nAlice runs a tea shop.');
    expect(generation).toContain('Writer: I drafted three taglines');
    // The extraction step reads the new summary, not the raw messages.
    expect(transcriptOf(fake.requests[before + 1]!)).toContain(`user: ${SUMMARY}`);
  });

  it('keeps a good summary when only the extraction fails', async () => {
    fake.enqueue({ text: SUMMARY }, { text: 'Topics: oolong.' });
    const result = await runSummaryPipeline(input());
    expect(result.summary).toBe(SUMMARY);
    expect(result.data).toEqual({ ...fallbackSummaryFields(SUMMARY, messages), usedFallback: true });
    expect(result.usage).toHaveLength(2);
  });

  it('falls back to the deterministic text when generation fails, then still extracts from it', async () => {
    fake.enqueue({ status: 500 }, { text: '{"topics":["tea"],"decisions":[],"openQuestions":[]}' });
    const result = await runSummaryPipeline(input());
    expect(result.summary).toBe(fallbackSummaryText('Alice runs a tea shop.', messages));
    expect(result.data).toEqual({ topics: ['tea'], decisions: [], openQuestions: [], usedFallback: true });
    // The refused generation call bills nothing; the extraction's usage is the server's.
    expect(result.usage.map((u) => [u.status, u.inputTokens, u.estimated, u.charged])).toEqual([
      ['failed', 0, false, false],
      ['completed', expect.any(Number), false, false],
    ]);
    expect(result.fallback).toEqual([{ stage: 'generation', reason: 'the model call failed (MODEL_ERROR)' }]);
  });

  it('says which stage fell back and why when the extraction is not JSON', async () => {
    fake.enqueue({ text: 'Alice runs a tea shop and wants to launch a new blend in May.' }, { text: 'Sure! Topics: tea.' });
    const result = await runSummaryPipeline(input());
    expect(result.data.usedFallback).toBe(true);
    expect(result.fallback).toEqual([{ stage: 'extraction', reason: 'the extraction answer was not a JSON object' }]);
  });

  it('treats an empty generation as unusable', async () => {
    fake.enqueue({ text: '' }, { text: '{"topics":[],"decisions":[],"openQuestions":[]}' });
    const result = await runSummaryPipeline(input());
    expect(result.summary).toContain('- Alice: We agreed to launch the oolong line in May.');
    expect(result.data.usedFallback).toBe(true);
  });

  it('uses both fallbacks without a call for the demo model', async () => {
    const before = fake.requests.length;
    const result = await runSummaryPipeline(input({ alias: 'demo' }));
    expect(fake.requests.length).toBe(before);
    expect(result.usage).toEqual([]);
    expect(result.data.usedFallback).toBe(true);
    expect(result.data.decisions).toEqual(['We agreed to launch the oolong line in May.']);
    expect(result.data.openQuestions).toEqual(['Who designs the labels?']);
  });

  it('makes no further call once cancelled', async () => {
    const controller = new AbortController();
    controller.abort();
    const before = fake.requests.length;
    const result = await runSummaryPipeline(input({ signal: controller.signal }));
    expect(fake.requests.length).toBe(before);
    expect(result.summary).toBe(fallbackSummaryText('Alice runs a tea shop.', messages));
    expect(result.data).toEqual({ ...fallbackSummaryFields(result.summary, messages), usedFallback: true });
  });
});
