import { describe, expect, it } from 'vitest';
import { parseTags } from '../../../src/domain/tags';

const agents = [
  { key: 'writer', name: 'Writer' },
  { key: 'critic', name: 'The Critic' },
  { key: 'code', name: 'Coder' },
  { key: 'code-reviewer', name: 'Reviewer' },
  { key: 'analyst', name: 'Analyste Données' },
];

describe('parseTags', () => {
  it('matches keys and names in any case, in order of first appearance, each once', () => {
    expect(parseTags('@CRITIC please check what @writer wrote, then @Writer again', agents)).toEqual(['critic', 'writer']);
    expect(parseTags('Hey @the critic and @WRITER', agents)).toEqual(['critic', 'writer']);
  });

  it('allows punctuation right after a tag', () => {
    expect(parseTags('@writer, @critic! (@coder) @reviewer? @code:', agents)).toEqual(['writer', 'critic', 'code', 'code-reviewer']);
    expect(parseTags('ask @writer.', agents)).toEqual(['writer']);
  });

  it('prefers the longest key or name', () => {
    expect(parseTags('@code-reviewer look', agents)).toEqual(['code-reviewer']);
    expect(parseTags('@code look', agents)).toEqual(['code']);
  });

  it('ignores addresses, domains and longer words', () => {
    expect(parseTags('mail bob@writer.com or writer@critic.org', agents)).toEqual([]);
    expect(parseTags('see @writer.io and @writers and @codex', agents)).toEqual([]);
    expect(parseTags('a.b@writer hello', agents)).toEqual([]);
  });

  it('handles names outside ASCII and tags at the very start or end', () => {
    expect(parseTags('@analyste données, ton avis ?', agents)).toEqual(['analyst']);
    expect(parseTags('@writer', agents)).toEqual(['writer']);
    expect(parseTags('thanks @critic', agents)).toEqual(['critic']);
  });

  it('returns nothing for unknown tags or no agents', () => {
    expect(parseTags('@nobody here', agents)).toEqual([]);
    expect(parseTags('@writer', [])).toEqual([]);
  });
});
