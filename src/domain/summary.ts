import { z } from 'zod';
import { extractJsonObject } from './json-answer';
import type { ParseResult } from './plan';

/**
 * The session summary's structured fields, how a model's answer is validated, and the
 * deterministic fallbacks used when a model's summary or extraction is unusable.
 */

export interface SummaryFields {
  topics: string[];
  decisions: string[];
  openQuestions: string[];
}

export interface SummarySourceMessage {
  /** Display name of the author (a user's name, an agent's name). */
  author: string;
  content: string;
}

const MAX_ITEMS = 10;
const MAX_ITEM_CHARS = 300;

const items = z
  .array(z.string())
  .default([])
  .transform((list) =>
    list
      .map((s) => s.trim().slice(0, MAX_ITEM_CHARS))
      .filter(Boolean)
      .slice(0, MAX_ITEMS),
  );

/** Accepts `openQuestions` or `open_questions`: both spellings come back from models. */
export const summaryFieldsSchema = z.preprocess(
  (v) => {
    if (v && typeof v === 'object' && !Array.isArray(v) && 'open_questions' in v && !('openQuestions' in v)) {
      const { open_questions, ...rest } = v as Record<string, unknown>;
      return { ...rest, openQuestions: open_questions };
    }
    return v;
  },
  z.object({ topics: items, decisions: items, openQuestions: items }),
);

export function parseSummaryFields(raw: string): ParseResult<SummaryFields> {
  const json = extractJsonObject(raw);
  if (json === undefined) return { ok: false, reason: 'the extraction answer was not a JSON object' };
  const parsed = summaryFieldsSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { ok: false, reason: `the extraction answer did not match the schema (${issue.path.join('.') || 'root'}: ${issue.message})` };
  }
  return { ok: true, value: parsed.data };
}

/** Longest summary kept, model-written or not; a summary longer than this defeats its purpose. */
export const MAX_SUMMARY_CHARS = 4000;

/** A summary model answer is usable when it has some substance and is not absurdly long. */
export function cleanSummaryText(raw: string): ParseResult<string> {
  const text = raw.trim();
  if (text.length < 20) return { ok: false, reason: 'the summary answer was empty or too short' };
  return { ok: true, value: text.slice(0, MAX_SUMMARY_CHARS) };
}

const firstSentence = (text: string, max = 160) => {
  const flat = text.replace(/\s+/g, ' ').trim();
  const sentence = /^(.+?[.!?])(\s|$)/.exec(flat)?.[1] ?? flat;
  return sentence.length > max ? `${sentence.slice(0, max - 1)}…` : sentence;
};

/**
 * The deterministic summary: the previous summary, then one line per message (its author and first
 * sentence), keeping the most recent lines that fit in MAX_SUMMARY_CHARS.
 */
export function fallbackSummaryText(previous: string | null | undefined, messages: readonly SummarySourceMessage[]): string {
  const head = previous?.trim() ? previous.trim().slice(0, MAX_SUMMARY_CHARS / 2) : '';
  const lines = messages.filter((m) => m.content.trim()).map((m) => `- ${m.author}: ${firstSentence(m.content)}`);
  const kept: string[] = [];
  let room = MAX_SUMMARY_CHARS - head.length - 2;
  for (let i = lines.length - 1; i >= 0 && room > lines[i]!.length; i--) {
    kept.unshift(lines[i]!);
    room -= lines[i]!.length + 1;
  }
  return [head, kept.join('\n')].filter(Boolean).join('\n');
}

const STOPWORDS = new Set(
  'about above after again against because been before being below between both could does doing down during each from further have having here hers herself himself into itself just more most myself once only other ought ours ourselves over same should some such than that their theirs them themselves then there these they this those through under until very were what when where which while whom with would your yours yourself yourselves also will shall might must like want need make made know think thanks thank please sure okay yeah really using used much many well even still into onto upon'.split(
    ' ',
  ),
);

const sentencesOf = (text: string) =>
  text
    .split(/(?<=[.!?])\s+|\n+/)
    .map((s) => s.replace(/^[-*\s]+/, '').trim())
    .filter(Boolean);

const DECISION = /\b(decided|decide|agreed|agree|we will|we'll|let's|lets go|going with|go with|chose|choose|settled on)\b/i;

/** Deterministic fields: frequent content words as topics, decision-like sentences, questions. */
export function fallbackSummaryFields(summary: string, messages: readonly SummarySourceMessage[]): SummaryFields {
  const texts = [summary, ...messages.map((m) => m.content)];
  const sentences = texts.flatMap(sentencesOf);
  // The fallback summary quotes messages ("- Alice: We agreed…"), so one statement can appear
  // twice, once with an author prefix: keep a sentence only if no kept one contains it or vice versa.
  const uniqueLast = (list: string[]) => {
    const kept: string[] = [];
    for (const s of list.map((x) => x.slice(0, MAX_ITEM_CHARS)).reverse()) {
      if (!kept.some((k) => k.includes(s) || s.includes(k))) kept.unshift(s);
    }
    return kept.slice(-5);
  };

  const counts = new Map<string, { n: number; first: number }>();
  let index = 0;
  for (const word of texts.join(' ').toLowerCase().match(/[\p{L}][\p{L}\p{N}-]{3,}/gu) ?? []) {
    if (STOPWORDS.has(word)) continue;
    const c = counts.get(word) ?? { n: 0, first: index++ };
    c.n++;
    counts.set(word, c);
  }
  const topics = [...counts.entries()]
    .sort((a, b) => b[1].n - a[1].n || a[1].first - b[1].first)
    .slice(0, 5)
    .map(([w]) => w);

  return {
    topics,
    decisions: uniqueLast(sentences.filter((s) => DECISION.test(s) && !s.endsWith('?'))),
    openQuestions: uniqueLast(sentences.filter((s) => s.endsWith('?'))),
  };
}
