import { describe, expect, it } from 'vitest';
import { estimateTokens, MESSAGE_OVERHEAD_TOKENS } from '../../../src/domain/budget';
import { buildAgentMessages, systemPrompt, type AgentPromptInput } from '../../../src/turns/prompt';

const writer = { key: 'writer', name: 'Writer', rolePrompt: 'You write short, vivid copy.' };
const base: AgentPromptInput = {
  agent: writer,
  team: [
    { key: 'writer', name: 'Writer' },
    { key: 'critic', name: 'Critic' },
  ],
  summary: 'Alice runs a tea shop and wants a launch plan.',
  recent: [
    { authorType: 'user', authorName: 'Alice', content: 'Any ideas for the name?' },
    { authorType: 'agent', authorName: 'Writer', agentKey: 'writer', content: 'Leaf & Co.' },
    { authorType: 'agent', authorName: 'Critic', agentKey: 'critic', content: 'Too generic.' },
    { authorType: 'system', authorName: 'system', content: 'No agent was tagged.' },
    { authorType: 'user', authorName: 'Bob', content: 'Now a tagline please' },
  ],
  sameTurn: [
    { agentKey: 'critic', agentName: 'Critic', content: 'Keep it under five words.' },
    { agentKey: 'editor', agentName: 'Editor', content: '', status: 'failed' },
    { agentKey: 'poet', agentName: 'Poet', content: 'Steep your', status: 'cancelled' },
  ],
};

const simple = (msgs: ReturnType<typeof buildAgentMessages>) => msgs.map((m) => [m.getType(), m.content]);

describe('buildAgentMessages', () => {
  it('orders role and summary, history, then the earlier answers of the same turn', () => {
    expect(simple(buildAgentMessages(base))).toEqual([
      ['system', systemPrompt(base)],
      ['human', 'Alice: Any ideas for the name?'],
      // Only the agent's own words are assistant messages; other agents speak as named users.
      ['ai', 'Leaf & Co.'],
      ['human', 'Critic (agent): Too generic.'],
      ['human', 'Bob: Now a tagline please'],
      ['human', 'Critic (agent): Keep it under five words.'],
      ['human', 'Poet (agent): Steep your [cut off]'],
    ]);
  });

  it('puts the persona, the team, the rules and the summary in the system prompt', () => {
    const system = systemPrompt(base);
    expect(system).toMatch(/^You are Writer, one of the AI agents/);
    expect(system).toContain('Your role: You write short, vivid copy.');
    expect(system).toContain('Other agents in the room: Critic (@critic).');
    expect(system).toContain('Summary of the conversation so far:\nAlice runs a tea shop and wants a launch plan.');
    expect(system).not.toContain('read_file');
  });

  it('lists readable files only when given', () => {
    const system = systemPrompt({ ...base, files: [{ id: 'f-1', filename: 'menu.pdf', kind: 'pdf' }] });
    expect(system).toContain('read_file tool:\n- menu.pdf (pdf, id f-1)');
  });

  it('drops the oldest history first to fit a token budget, never the last message', () => {
    const long = { ...base, sameTurn: [], recent: [...base.recent.slice(0, 3), { authorType: 'user' as const, authorName: 'Bob', content: 'x'.repeat(4000) }] };
    const fits = (text: string) => estimateTokens(text) + MESSAGE_OVERHEAD_TOKENS;
    // Room for the system prompt and the last two history lines, not for a third.
    const budget = estimateTokens(systemPrompt(long)) + fits(`Bob: ${'x'.repeat(4000)}`) + fits('Critic (agent): Too generic.');
    const trimmed = simple(buildAgentMessages({ ...long, maxContextTokens: budget }));
    expect(trimmed.map(([, c]) => String(c).slice(0, 12))).toEqual([String(trimmed[0]![1]).slice(0, 12), 'Critic (agen', 'Bob: xxxxxxx']);
    const tiny = simple(buildAgentMessages({ ...long, maxContextTokens: 10 }));
    expect(tiny).toHaveLength(2);
    expect(tiny[1]![1]).toMatch(/^Bob: x/);
  });

  it('keeps the system message within maxSystemChars: persona and rules whole, the rest cut or left out', () => {
    const big: AgentPromptInput = {
      ...base,
      agent: { ...writer, rolePrompt: 'r'.repeat(8000) },
      team: Array.from({ length: 40 }, (_, i) => ({ key: `agent${i}`, name: `Agent number ${i}` })),
      summary: 's'.repeat(5000),
      files: Array.from({ length: 20 }, (_, i) => ({ id: `f-${i}`, filename: `${'n'.repeat(200)}.pdf`, kind: 'pdf' })),
      maxSystemChars: 1000,
    };
    const system = systemPrompt(big);
    expect(system.length).toBeLessThanOrEqual(1000);
    expect(system).toMatch(/^You are Writer, one of the AI agents/);
    expect(system).toContain('Answer as Writer only, in your own voice.');
    expect(system).toMatch(/Your role: r+…/);
    expect(buildAgentMessages(big)[0]!.content).toBe(system);
    // Without a cap nothing is cut.
    expect(systemPrompt({ ...big, maxSystemChars: undefined })).toContain('r'.repeat(8000));
  });
});
