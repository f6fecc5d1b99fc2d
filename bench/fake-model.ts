import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { nowMs } from './stats';

/**
 * A streaming OpenAI-compatible model for the benchmark, in the bench process itself (so its
 * clock is the clients' clock). Every content chunk carries the time it was written,
 * `[t:<epoch ms>] `, so a client that receives a frame knows how old each token in it is.
 * Each call is timed (request read -> last byte written) and filed under the turn marker
 * (`bench-turn-...`) found in the newest user message, so turn overhead can subtract it.
 */

export interface StreamPlan {
  tokens: number;
  /** Delay before each content chunk; 0 writes them back to back. */
  delayMs: number;
}

export interface ModelCall {
  marker: string | undefined;
  stream: boolean;
  startMs: number;
  endMs: number;
  tokens: number;
}

export const TOKEN_RE = /\[t:(\d+(?:\.\d+)?)\]/g;
/** The text of one token chunk. */
export const stamp = (): string => `[t:${nowMs().toFixed(3)}] `;
/** Characters of one token chunk (the bare broadcast sends frames of this length). */
export const STAMP_CHARS = stamp().length;
export const MARKER_RE = /bench-turn-[A-Za-z0-9-]+/g;

export interface FakeModel {
  baseUrl: string;
  plan: StreamPlan;
  calls: ModelCall[];
  /** Model time per marker (sum over the marker's calls). */
  modelMsFor(marker: string): number | undefined;
  close(): Promise<void>;
}

function lastMarker(messages: { role: string; content: unknown }[]): string | undefined {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.role !== 'user') continue;
    const text = typeof m.content === 'string' ? m.content : JSON.stringify(m.content);
    const found = text.match(MARKER_RE);
    if (found) return found.at(-1);
  }
  return undefined;
}

const wait = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function startFakeModel(plan: StreamPlan = { tokens: 50, delayMs: 20 }): Promise<FakeModel> {
  const calls: ModelCall[] = [];
  let counter = 0;

  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      void answer(req, res, Buffer.concat(parts).toString('utf8')).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `bench fake model: ${(err as Error).message}` } }));
      });
    });
  });
  server.keepAliveTimeout = 60_000;

  async function answer(req: http.IncomingMessage, res: http.ServerResponse, raw: string) {
    if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'not found' } }));
      return;
    }
    const startMs = nowMs();
    const body = JSON.parse(raw) as { model: string; stream?: boolean; stream_options?: { include_usage?: boolean }; messages: { role: string; content: unknown }[] };
    const marker = lastMarker(body.messages ?? []);
    const id = `chatcmpl-bench-${++counter}`;
    const created = Math.floor(Date.now() / 1000);
    const { tokens, delayMs } = fake.plan; // read per call: the bench changes the plan between runs
    const usage = { prompt_tokens: Math.ceil(raw.length / 4), completion_tokens: tokens, total_tokens: Math.ceil(raw.length / 4) + tokens };

    if (!body.stream) {
      // Manager or summary calls (the bench configures the server so that none are made).
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id,
          object: 'chat.completion',
          created,
          model: body.model,
          choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
          usage,
        }),
      );
      calls.push({ marker, stream: false, startMs, endMs: nowMs(), tokens: 1 });
      return;
    }

    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const base = { id, object: 'chat.completion.chunk', created, model: body.model };
    const frame = (data: unknown) => `data: ${JSON.stringify(data)}\n\n`;
    res.write(frame({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] }));
    let closed = false;
    res.on('close', () => (closed = true));
    for (let i = 0; i < tokens; i++) {
      if (delayMs > 0) await wait(delayMs);
      if (closed) return;
      // The timestamp is taken right before the write: latency starts when the model "speaks".
      res.write(frame({ ...base, choices: [{ index: 0, delta: { content: stamp() }, finish_reason: null }] }));
    }
    let tail = frame({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
    if (body.stream_options?.include_usage) tail += frame({ ...base, choices: [], usage });
    tail += 'data: [DONE]\n\n';
    await new Promise<void>((resolve) => res.end(tail, () => resolve()));
    calls.push({ marker, stream: true, startMs, endMs: nowMs(), tokens });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const fake: FakeModel = {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    plan,
    calls,
    modelMsFor(marker) {
      const mine = calls.filter((c) => c.marker === marker);
      if (mine.length === 0) return undefined;
      return mine.reduce((s, c) => s + (c.endMs - c.startMs), 0);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return fake;
}
