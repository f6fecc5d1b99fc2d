import { z } from 'zod';
import type { Redactor } from '../shared/redactor';
import { instrumentTool, type ToolGuard } from './tool-events';
import type { SearchProvider, SearchResult } from './search-provider';

/** `web_search`: the model calls it when it needs fresh facts; results come back as a short digest. */

export const webSearchSchema = z.object({
  query: z.string().trim().min(1).max(400).describe('What to search the web for'),
  maxResults: z.number().int().min(1).max(10).optional().describe('How many results to return (default 5)'),
});

const SNIPPET_CHARS = 400;

/** The digest the model reads: numbered results with title, URL and a trimmed snippet. */
export function formatResults(query: string, results: readonly SearchResult[]): string {
  if (results.length === 0) return `No web results for "${query}".`;
  const lines = results.map((r, i) => {
    const snippet = r.content.replace(/\s+/g, ' ').trim();
    const cut = snippet.length > SNIPPET_CHARS ? `${snippet.slice(0, SNIPPET_CHARS - 1)}…` : snippet;
    return `${i + 1}. ${r.title}\n   ${r.url}\n   ${cut}`;
  });
  return `Web results for "${query}":\n${lines.join('\n')}`;
}

export function webSearchTool(search: SearchProvider, redactor: Redactor, guard?: ToolGuard) {
  return instrumentTool({
    name: 'web_search',
    description: 'Search the web for current information. Returns titles, URLs and snippets of the top results.',
    schema: webSearchSchema,
    async run(input, ctx) {
      ctx.progress(`Searching the web for "${input.query}"`, 0);
      const results = await search.search(input.query, { maxResults: input.maxResults ?? 5, signal: ctx.signal });
      ctx.progress(`Found ${results.length} result${results.length === 1 ? '' : 's'}`, 100);
      return {
        content: formatResults(input.query, results),
        summary: { query: input.query, resultCount: results.length, urls: results.map((r) => r.url) },
      };
    },
  }, redactor, guard);
}
