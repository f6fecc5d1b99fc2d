import { tavily } from '@tavily/core';

/** Web search behind a small interface, so the tool does not care which engine answers. */

export interface SearchResult {
  title: string;
  url: string;
  content: string;
  score?: number;
}

export interface SearchProvider {
  search(query: string, opts: { maxResults: number; signal?: AbortSignal }): Promise<SearchResult[]>;
}

export interface TavilyOptions {
  apiKey: string;
  /** Tavily's API root (tests point it at a local double); the client appends /search. */
  baseUrl?: string;
  timeoutMs?: number;
}

/**
 * Tavily through @tavily/core 0.7: `tavily({ apiKey, apiBaseURL })` sends the key as
 * `Authorization: Bearer` (never in the JSON body). Its `timeout` option is in seconds, and it
 * takes no AbortSignal, so cancellation races the request instead of closing it.
 */
export function createTavilySearch(options: TavilyOptions): SearchProvider {
  // Without a key the client silently switches to Tavily's keyless mode; never let that happen.
  if (!options.apiKey) throw new Error('Tavily needs an API key');
  const client = tavily({ apiKey: options.apiKey, apiBaseURL: options.baseUrl?.replace(/\/+$/, '') });
  const timeoutSeconds = Math.max(1, Math.ceil((options.timeoutMs ?? 20_000) / 1000));
  return {
    async search(query, { maxResults, signal }) {
      signal?.throwIfAborted();
      const request = client.search(query, { maxResults, searchDepth: 'basic', timeout: timeoutSeconds });
      const response = await (signal ? raceAbort(request, signal) : request);
      return response.results.map((r) => ({ title: r.title, url: r.url, content: r.content, score: r.score }));
    },
  };
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
