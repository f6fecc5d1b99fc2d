import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A local Tavily-compatible search server: `POST /search` with the key in `Authorization: Bearer`.
 * Answers with scripted results (or one result per query by default) and records every request.
 */

export interface FakeTavilyResult {
  title: string;
  url: string;
  content: string;
  score?: number;
}

export interface FakeTavilyRequest {
  authorization: string | undefined;
  body: { query?: string; max_results?: number; api_key?: unknown; [key: string]: unknown };
}

export interface FakeTavilyOptions {
  apiKey: string;
  /** Results for a query; defaults to a single result naming the query. */
  results?: (query: string) => FakeTavilyResult[];
  /** Delay before answering, to make a search observably in flight. */
  delayMs?: number;
  /** Answer every search with this status instead of results. */
  failWithStatus?: number;
  /** Whatever the key, fail with this status and an error that quotes the key the request carried (as careless providers do). */
  failQuotingKey?: number;
}

export interface FakeTavily {
  baseUrl: string;
  requests: FakeTavilyRequest[];
  close(): Promise<void>;
}

export async function startFakeTavily(options: FakeTavilyOptions): Promise<FakeTavily> {
  const requests: FakeTavilyRequest[] = [];
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      void (async () => {
        const body = JSON.parse(Buffer.concat(parts).toString('utf8') || '{}') as FakeTavilyRequest['body'];
        requests.push({ authorization: req.headers.authorization, body });
        const send = (status: number, payload: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(payload));
        };
        if (req.method !== 'POST' || req.url !== '/search') return send(404, { detail: { error: 'not found' } });
        if (options.failQuotingKey) {
          const key = req.headers.authorization?.replace(/^Bearer\s+/i, '');
          return send(options.failQuotingKey, { detail: { error: `Unauthorized: invalid API key "${key}"` } });
        }
        if (req.headers.authorization !== `Bearer ${options.apiKey}`) return send(401, { detail: { error: 'Unauthorized: missing or invalid API key.' } });
        if (options.delayMs) await sleep(options.delayMs);
        if (options.failWithStatus) return send(options.failWithStatus, { detail: { error: `scripted status ${options.failWithStatus}` } });
        const query = String(body.query ?? '');
        const results = (options.results ?? defaultResults)(query).slice(0, body.max_results ?? 5);
        send(200, {
          query,
          answer: null,
          images: [],
          results: results.map((r) => ({ ...r, score: r.score ?? 0.9, raw_content: null })),
          response_time: 0.01,
          request_id: `req-${requests.length}`,
        });
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const defaultResults = (query: string): FakeTavilyResult[] => [
  { title: `About ${query}`, url: `https://example.com/${encodeURIComponent(query)}`, content: `Everything about ${query}.` },
];
