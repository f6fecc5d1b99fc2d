/**
 * Tag parsing for manual mode: `@Writer` names an agent by key or by name, in any case.
 * Pure: the plan builder and the turn service call it with the room's agents.
 */

export interface TaggableAgent {
  key: string;
  name: string;
}

// Letters and digits of any script, plus `_`: what may not touch a tag on either side.
const WORD_CHAR = /[\p{L}\p{N}_]/u;
// Characters that, right before `@`, make it part of an address (`bob@writer.io`, `x.y@z`).
const ADDRESS_CHAR = /[\p{L}\p{N}_.+-]/u;

/**
 * The keys of the agents tagged in `text`, in order of first appearance, each once.
 * Longer keys/names win (`@code-reviewer` over `@code`); punctuation may follow a tag
 * (`@writer,` `@Writer!`), but a tag that continues as a domain (`@writer.io`) or a longer
 * word (`@writers`) is not one, and nothing inside an email address is.
 */
export function parseTags(text: string, agents: readonly TaggableAgent[]): string[] {
  const candidates = agents
    .flatMap((a) => [a.key, a.name].filter((label) => label.trim() !== '').map((label) => ({ key: a.key, label: label.toLowerCase() })))
    .sort((x, y) => y.label.length - x.label.length);
  const lower = text.toLowerCase();
  const found: string[] = [];

  for (let at = lower.indexOf('@'); at !== -1; at = lower.indexOf('@', at + 1)) {
    const before = at > 0 ? text[at - 1]! : '';
    if (before && ADDRESS_CHAR.test(before)) continue;
    const start = at + 1;
    const match = candidates.find((c) => lower.startsWith(c.label, start) && endsCleanly(lower, start + c.label.length));
    if (match && !found.includes(match.key)) found.push(match.key);
  }
  return found;
}

/** A tag as written: a letter, digit or `_`, then those, `.` or `-` (trailing `.`/`-` are punctuation). */
const TAG_WORD = /^[\p{L}\p{N}_](?:[\p{L}\p{N}_.-]*[\p{L}\p{N}_])?/u;
/** Unknown tags one message reports at most, and the length of each. */
const UNKNOWN_TAGS_MAX = 10;
const TAG_CHARS_MAX = 64;

/**
 * The tags in `text` that name no agent (`@nobody`), as written, in order, each once (any case);
 * addresses (`bob@example.com`) are not tags. Said back to the sender so a typo is not silent.
 */
export function unknownTags(text: string, agents: readonly TaggableAgent[]): string[] {
  const labels = agents.flatMap((a) => [a.key, a.name]).filter((l) => l.trim() !== '').map((l) => l.toLowerCase());
  const lower = text.toLowerCase();
  const found: string[] = [];
  for (let at = lower.indexOf('@'); at !== -1 && found.length < UNKNOWN_TAGS_MAX; at = lower.indexOf('@', at + 1)) {
    const before = at > 0 ? text[at - 1]! : '';
    if (before && ADDRESS_CHAR.test(before)) continue;
    const start = at + 1;
    if (labels.some((l) => lower.startsWith(l, start) && endsCleanly(lower, start + l.length))) continue;
    const word = TAG_WORD.exec(text.slice(start, start + TAG_CHARS_MAX + 1))?.[0];
    if (!word || word.length > TAG_CHARS_MAX) continue;
    if (!found.some((f) => f.toLowerCase() === word.toLowerCase())) found.push(word);
  }
  return found;
}

/** True when the tag may end at `end`: end of text, or a non-word character that does not start a domain/word continuation. */
function endsCleanly(text: string, end: number): boolean {
  const next = text[end];
  if (next === undefined) return true;
  if (WORD_CHAR.test(next)) return false;
  // `@writer.io` or `@writer-bot`: the tag continues as a hostname or a longer handle.
  if ((next === '.' || next === '-') && text[end + 1] !== undefined && WORD_CHAR.test(text[end + 1]!)) return false;
  return true;
}
