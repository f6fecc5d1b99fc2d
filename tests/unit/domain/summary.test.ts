import { describe, expect, it } from 'vitest';
import { cleanSummaryText, fallbackSummaryFields, fallbackSummaryText, MAX_SUMMARY_CHARS, parseSummaryFields } from '../../../src/domain/summary';

describe('summary fields', () => {
  it('parses fenced JSON, accepts open_questions, trims, drops empties and fills missing lists', () => {
    const raw = '```json\n{"topics": [" pricing ", ""], "open_questions": ["When to launch?"]}\n```';
    expect(parseSummaryFields(raw)).toEqual({ ok: true, value: { topics: ['pricing'], decisions: [], openQuestions: ['When to launch?'] } });
  });

  it('rejects non-JSON and wrong types with a reason', () => {
    expect(parseSummaryFields('The topics were pricing.')).toMatchObject({ ok: false });
    expect(parseSummaryFields('{"topics": "pricing"}')).toMatchObject({ ok: false, reason: expect.stringContaining('topics') });
  });
});

describe('summary text', () => {
  it('refuses empty answers and caps long ones', () => {
    expect(cleanSummaryText('  ok ')).toMatchObject({ ok: false });
    const long = cleanSummaryText('word '.repeat(2000));
    expect(long.ok && long.value.length).toBe(MAX_SUMMARY_CHARS);
  });

  it('falls back to the previous summary plus one line per message, most recent kept', () => {
    const text = fallbackSummaryText('Earlier: pricing talk.', [
      { author: 'Alice', content: 'We should launch in May. Details later.' },
      { author: 'Writer', content: 'Agreed, May works.' },
    ]);
    expect(text).toBe('Earlier: pricing talk.\n- Alice: We should launch in May.\n- Writer: Agreed, May works.');
    const many = Array.from({ length: 200 }, (_, i) => ({ author: 'A', content: `message number ${i} ${'x'.repeat(40)}` }));
    const capped = fallbackSummaryText(null, many);
    expect(capped.length).toBeLessThanOrEqual(MAX_SUMMARY_CHARS);
    expect(capped.endsWith(`message number 199 ${'x'.repeat(40)}`)).toBe(true);
  });

  it('extracts deterministic fields: frequent words, decision sentences, questions', () => {
    const messages = [
      { author: 'Alice', content: 'The launch budget is tight. What is the launch date?' },
      { author: 'Writer', content: 'We decided to cut the launch budget. The budget goes to ads.' },
    ];
    const fields = fallbackSummaryFields('', messages);
    expect(fields.topics.slice(0, 2)).toEqual(['launch', 'budget']);
    expect(fields.decisions).toEqual(['We decided to cut the launch budget.']);
    expect(fields.openQuestions).toEqual(['What is the launch date?']);
    expect(fallbackSummaryFields('', messages)).toEqual(fields);
  });
});
