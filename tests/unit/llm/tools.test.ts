import type { StructuredToolInterface } from '@langchain/core/tools';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedactor } from '../../../src/shared/redactor';
import { createTavilySearch } from '../../../src/tools/search-provider';
import { readFileTool, READ_FILE_MAX_CHARS, type FileContentReader, type FileExcerpt } from '../../../src/tools/read-file';
import { buildTools } from '../../../src/tools/registry';
import { isToolStreamEvent, type ToolStreamEvent } from '../../../src/tools/tool-events';
import { webSearchTool } from '../../../src/tools/web-search';
import { startFakeTavily, type FakeTavily } from '../../helpers/fake-tavily';

/** Calls a tool the way ToolNode does (a tool call plus a writer) and collects its stream events. */
async function callTool(t: StructuredToolInterface, args: Record<string, unknown>) {
  const events: ToolStreamEvent[] = [];
  const writer = (chunk: unknown) => isToolStreamEvent(chunk) && events.push(chunk);
  const call = { id: 'call_1', name: t.name, args, type: 'tool_call' as const };
  try {
    const out = (await t.invoke(call, { writer } as never)) as { content: string };
    return { content: out.content, events };
  } catch (err) {
    return { error: err as Error, events };
  }
}

const redactor = createRedactor([]);
let tavily: FakeTavily;
beforeAll(async () => {
  tavily = await startFakeTavily({
    apiKey: 'tvly-test-key',
    results: (q) => [
      { title: 'First', url: 'https://a.example/1', content: `About ${q}. ${'long '.repeat(200)}` },
      { title: 'Second', url: 'https://b.example/2', content: 'Short.' },
    ],
  });
});
afterAll(() => tavily.close());

describe('web_search', () => {
  it('searches Tavily with the key in the Authorization header and returns a digest', async () => {
    const search = createTavilySearch({ apiKey: 'tvly-test-key', baseUrl: tavily.baseUrl });
    const { content, events } = await callTool(webSearchTool(search, redactor), { query: 'green tea', maxResults: 2 });

    const req = tavily.requests.at(-1)!;
    expect(req.authorization).toBe('Bearer tvly-test-key');
    expect(req.body).toMatchObject({ query: 'green tea', max_results: 2 });
    expect(req.body.api_key).toBeUndefined();
    expect(content).toMatch(/^Web results for "green tea":\n1\. First\n {3}https:\/\/a\.example\/1\n {3}About green tea\./);
    expect(content).toContain('2. Second');
    expect(content!.length).toBeLessThan(1200); // snippets are trimmed
    expect(events.map((e) => e.type)).toEqual(['start', 'progress', 'progress', 'end']);
    expect(events[0]).toMatchObject({ toolCallId: 'call_1', toolName: 'web_search', input: { query: 'green tea', maxResults: 2 } });
    expect(events.at(-1)).toMatchObject({ status: 'succeeded', output: { resultCount: 2, urls: ['https://a.example/1', 'https://b.example/2'] } });
  });

  it('reports a failed end when the search service refuses', async () => {
    const search = createTavilySearch({ apiKey: 'wrong-key', baseUrl: tavily.baseUrl });
    const { error, events } = await callTool(webSearchTool(search, redactor), { query: 'x' });
    expect(error).toBeDefined();
    expect(events.at(-1)).toMatchObject({ type: 'end', status: 'failed', error: expect.any(String) });
  });

  it('redacts a configured key that the search service quotes in its error, for members and for the model', async () => {
    const quoting = await startFakeTavily({ apiKey: 'unused', failQuotingKey: 401 });
    try {
      const key = 'canary-search-key-0001';
      const search = createTavilySearch({ apiKey: key, baseUrl: quoting.baseUrl });
      const { error, events } = await callTool(webSearchTool(search, createRedactor([key])), { query: 'x' });
      expect(quoting.requests.at(-1)!.authorization).toBe(`Bearer ${key}`);
      const end = events.at(-1)!;
      expect(end).toMatchObject({ type: 'end', status: 'failed', error: expect.stringContaining('[redacted]') });
      // What ToolNode hands the model is the thrown error's message.
      expect(error?.message).toBe((end as { error: string }).error);
      expect(JSON.stringify(events) + error?.message).not.toContain(key);
    } finally {
      await quoting.close();
    }
  });

  it('rejects a missing key instead of falling into keyless mode', () => {
    expect(() => createTavilySearch({ apiKey: '' })).toThrow(/API key/);
  });
});

describe('read_file', () => {
  const files = new Map<string, FileExcerpt & { roomId: string }>([
    ['f1', { roomId: 'room-a', fileId: 'f1', filename: 'notes.md', kind: 'md', status: 'ready', text: 'Hello notes' }],
    ['f2', { roomId: 'room-b', fileId: 'f2', filename: 'secret.md', kind: 'md', status: 'ready', text: 'other room' }],
    ['f3', { roomId: 'room-a', fileId: 'f3', filename: 'big.csv', kind: 'csv', status: 'ready', text: 'r'.repeat(READ_FILE_MAX_CHARS + 10), next: { fromRow: 100 }, rows: 500 }],
    ['f4', { roomId: 'room-a', fileId: 'f4', filename: 'slow.pdf', kind: 'pdf', status: 'parsing', text: '' }],
  ]);
  const reads: unknown[] = [];
  const reader: FileContentReader = {
    async read(roomId, fileId, opts) {
      reads.push({ roomId, fileId, opts });
      const f = files.get(fileId);
      return f && f.roomId === roomId ? f : null;
    },
  };
  const t = readFileTool('room-a', reader, redactor);

  it('reads a file of the same room', async () => {
    const { content, events } = await callTool(t, { fileId: 'f1' });
    expect(content).toBe('File notes.md (md):\nHello notes');
    expect(events.at(-1)).toMatchObject({ type: 'end', status: 'succeeded', output: { fileId: 'f1', filename: 'notes.md', truncated: false } });
  });

  it("treats another room's file as missing", async () => {
    const { error, events } = await callTool(t, { fileId: 'f2' });
    expect(error?.message).toBe('No file with id f2 in this room');
    expect(events.at(-1)).toMatchObject({ status: 'failed' });
    expect(reads.at(-1)).toEqual({ roomId: 'room-a', fileId: 'f2', opts: { page: undefined, fromRow: undefined } });
  });

  it('caps long content and says how to read on', async () => {
    const { content } = await callTool(t, { fileId: 'f3', fromRow: 0 });
    expect(content).toContain(`[…cut at ${READ_FILE_MAX_CHARS} characters]`);
    expect(content).toContain('rows from 0 of 500');
    expect(content).toMatch(/\[More: call read_file again with fromRow 100\]$/);
  });

  it('explains a file that is not parsed yet', async () => {
    const { error } = await callTool(t, { fileId: 'f4', page: 2 });
    expect(error?.message).toBe('File slow.pdf is not readable yet (status: parsing)');
  });
});

describe('buildTools', () => {
  const search = { search: async () => [] };
  const reader: FileContentReader = { read: async () => null };

  it('builds only the permitted tools', () => {
    const deps = { roomId: 'r', search, files: reader, redactor };
    expect(buildTools(['web_search'], deps).map((t) => t.name)).toEqual(['web_search']);
    expect(buildTools(['read_file', 'web_search'], deps).map((t) => t.name)).toEqual(['web_search', 'read_file']);
    expect(buildTools([], deps)).toEqual([]);
    expect(buildTools(['shell', 'read_file'], deps).map((t) => t.name)).toEqual(['read_file']);
  });

  it('leaves out a permitted tool whose backend is not configured', () => {
    expect(buildTools(['web_search', 'read_file'], { roomId: 'r', files: reader, redactor }).map((t) => t.name)).toEqual(['read_file']);
  });
});
