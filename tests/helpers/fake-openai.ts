import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A local OpenAI-compatible server for tests: `POST /v1/chat/completions`, streaming (SSE) or not.
 * Each request is answered by a script the test gives (queued, or from a responder function that
 * sees the parsed request), so a test decides text, tool calls, usage, errors, cuts, hangs and
 * the shape of the stream (FakeStreamShape), and can assert on exactly what the client sent.
 */

/** A chunk of text; `after`: the chunk is written once it settles (a test holds the stream there). */
export type FakeChunk = string | { text: string; delayMs?: number; after?: Promise<unknown> };

export interface FakeToolCall {
  id?: string;
  name: string;
  /** An object is JSON-encoded; a string is sent as is (lets a test send broken arguments). */
  args: Record<string, unknown> | string;
}

/**
 * How a streamed answer is framed. Every variant is a shape OpenAI-compatible servers really send;
 * the defaults are OpenAI's own. A reply's fields win over the server-wide defaults.
 */
export interface FakeStreamShape {
  /**
   * No `delta.role` on any chunk (the field is optional; some servers and proxies never send it),
   * and no opening chunk: the first chunk already carries text or a tool call.
   * Default: an opening chunk `{ role: 'assistant', content: '' }`, no role afterwards.
   */
  omitRole?: boolean;
  /** Every delta carries `content`, `null` when it has no text (opening, tool-call and finish chunks). */
  nullContent?: boolean;
  /**
   * 'own-chunk' (default): `finish_reason: null` on every chunk, then a last chunk `delta: {}` with it.
   * 'last-delta': only the last chunk with text or a tool call has `finish_reason`; no other chunk has the key.
   */
  finishReasonIn?: 'own-chunk' | 'last-delta';
  /**
   * Where the usage goes when the client asked for it (stream_options.include_usage):
   * 'own-chunk' (default, OpenAI): a last chunk with `choices: []`; 'last-delta': on the last chunk that has choices.
   */
  usageIn?: 'own-chunk' | 'last-delta';
}

export interface FakeReply extends FakeStreamShape {
  /** Answer with this HTTP status and an OpenAI-style error body instead of a completion. */
  status?: number;
  errorMessage?: string;
  /** Content, as one string (split into words) or explicit chunks. */
  text?: string | FakeChunk[];
  toolCalls?: FakeToolCall[];
  /** Token counts reported for this call; estimated from the request and reply when absent. */
  usage?: { promptTokens: number; completionTokens: number };
  /** Leave usage out even when the client asked for it. */
  omitUsage?: boolean;
  finishReason?: string;
  /** Delay before each chunk that does not set its own. */
  chunkDelayMs?: number;
  /** Destroy the socket after this many chunks were written (a cut stream). */
  cutAfterChunks?: number;
  /**
   * With cutAfterChunks: wait for this before cutting, e.g. until the test saw the last delta.
   * (A cut right after a write can make the client drop data it had not read yet.)
   */
  cutWhen?: Promise<unknown>;
  /** Write this many chunks, then send nothing more and keep the connection open. */
  hangAfterChunks?: number;
  /** Never answer at all, not even headers. */
  hangBeforeHeaders?: boolean;
}

export type FakeResponder = (req: RecordedRequest) => FakeReply | Promise<FakeReply>;

export type RequestOutcome = 'completed' | 'client-closed' | 'server-cut';

export interface RecordedRequest {
  index: number;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: ChatRequestBody;
  /** How the exchange ended; undefined while it is still open. */
  outcome?: RequestOutcome;
  /** Resolves when the exchange has ended, however it ended. */
  ended: Promise<RequestOutcome>;
}

export interface ChatRequestBody {
  model: string;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  max_tokens?: number;
  max_completion_tokens?: number;
  messages: { role: string; content: unknown; name?: string; tool_calls?: unknown[]; tool_call_id?: string }[];
  tools?: { type: string; function: { name: string; description?: string; parameters?: unknown } }[];
  [key: string]: unknown;
}

export interface FakeOpenAI {
  /** Base URL to give the client, ending in /v1. */
  baseUrl: string;
  requests: RecordedRequest[];
  /** Replies used in order, one per request; a function is called with the request. */
  enqueue(...replies: (FakeReply | FakeResponder)[]): void;
  /** Answers requests when the queue is empty. Without one, such a request gets a 500. */
  setResponder(responder: FakeResponder | undefined): void;
  /** The stream shape of every reply from now on, where the reply does not set its own. */
  setStreamShape(shape: FakeStreamShape): void;
  /** Resolves with the request at `index` once it has arrived. */
  waitForRequest(index: number): Promise<RecordedRequest>;
  close(): Promise<void>;
}

/** Names of the tools a request offered to the model. */
export const toolNamesOf = (req: RecordedRequest): string[] => (req.body.tools ?? []).map((t) => t.function.name);

/** The text of every message of a request, role-prefixed, one per line; handy for prompt assertions. */
export const transcriptOf = (req: RecordedRequest): string =>
  req.body.messages.map((m) => `${m.role}: ${typeof m.content === 'string' ? m.content : JSON.stringify(m.content)}`).join('\n');

/** A model alias (src/config/models.ts shape) pointing at a fake server; prices make cost assertions easy. */
export function fakeModelAlias(fake: Pick<FakeOpenAI, 'baseUrl'>, alias = 'fake', model = 'fake-model') {
  return {
    kind: 'openai' as const,
    alias,
    baseUrl: fake.baseUrl,
    model,
    apiKey: 'sk-test-key-123456',
    inputPricePerMillion: 1,
    outputPricePerMillion: 2,
  };
}

const estimate = (text: string) => Math.max(1, Math.ceil(text.length / 4));

function chunksOf(text: FakeReply['text']): { text: string; delayMs?: number; after?: Promise<unknown> }[] {
  if (text === undefined) return [];
  if (typeof text === 'string') return (text.match(/\S+\s*|\s+/g) ?? []).map((t) => ({ text: t }));
  return text.map((c) => (typeof c === 'string' ? { text: c } : c));
}

export async function startFakeOpenAI(opts: { streamShape?: FakeStreamShape } = {}): Promise<FakeOpenAI> {
  let defaultShape: FakeStreamShape = { ...opts.streamShape };
  const queue: (FakeReply | FakeResponder)[] = [];
  let fallback: FakeResponder | undefined;
  const requests: RecordedRequest[] = [];
  const waiters = new Map<number, ((r: RecordedRequest) => void)[]>();
  let completionCounter = 0;

  const server = http.createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      // A bug in a test script: answer 500 so the test sees it rather than hanging.
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `fake-openai: ${(err as Error).message}` } }));
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const raw = await readBody(req);
    if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}` } }));
      return;
    }
    let resolveEnded!: (o: RequestOutcome) => void;
    const record: RecordedRequest = {
      index: requests.length,
      path: req.url,
      headers: req.headers,
      body: JSON.parse(raw) as ChatRequestBody,
      ended: new Promise((r) => (resolveEnded = r)),
    };
    const end = (outcome: RequestOutcome) => {
      if (record.outcome) return;
      record.outcome = outcome;
      resolveEnded(outcome);
    };
    // 'close' fires however the exchange ends; only an unfinished response means the client left.
    res.on('close', () => end(res.writableFinished ? 'completed' : 'client-closed'));
    requests.push(record);
    for (const w of waiters.get(record.index) ?? []) w(record);
    waiters.delete(record.index);

    const next = queue.shift() ?? fallback;
    if (!next) throw new Error('no scripted reply for this request');
    const reply = typeof next === 'function' ? await next(record) : next;
    const id = `chatcmpl-fake-${++completionCounter}`;

    if (reply.hangBeforeHeaders) return; // leave it open; close() or the client ends it
    if (reply.status && reply.status >= 300) {
      res.writeHead(reply.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: reply.errorMessage ?? `scripted status ${reply.status}`, type: 'server_error' } }));
      return;
    }
    const promptTokens = reply.usage?.promptTokens ?? estimate(raw);
    const fullText = chunksOf(reply.text).map((c) => c.text).join('');
    const completionTokens = reply.usage?.completionTokens ?? estimate(fullText + JSON.stringify(reply.toolCalls ?? []));
    const usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
    const finishReason = reply.finishReason ?? (reply.toolCalls?.length ? 'tool_calls' : 'stop');
    const model = record.body.model;

    if (!record.body.stream) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id,
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model,
          choices: [
            {
              index: 0,
              message: {
                role: 'assistant',
                content: reply.toolCalls?.length && !fullText ? null : fullText,
                ...(reply.toolCalls?.length ? { tool_calls: reply.toolCalls.map((c, i) => wireToolCall(c, i, id)) } : {}),
              },
              finish_reason: finishReason,
            },
          ],
          ...(reply.omitUsage ? {} : { usage }),
        }),
      );
      return;
    }

    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.flushHeaders(); // so "hang after 0 chunks" means headers arrived and then nothing
    const base = { id, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model };
    const shape: FakeStreamShape = { ...defaultShape, ...definedOnly(reply) };
    const frames = streamFrames(base, reply, shape, {
      finishReason,
      usage: record.body.stream_options?.include_usage && !reply.omitUsage ? usage : undefined,
    });

    let written = 0;
    for (const frame of frames) {
      if (record.outcome) return; // the client went away
      const delay = frame.delayMs ?? reply.chunkDelayMs ?? 0;
      if (delay > 0) await sleep(delay);
      if (frame.after) {
        await frame.after.catch(() => undefined);
        if (record.outcome) return;
      }
      if (reply.hangAfterChunks !== undefined && written >= reply.hangAfterChunks) return;
      if (reply.cutAfterChunks !== undefined && written >= reply.cutAfterChunks) {
        await reply.cutWhen;
        end('server-cut');
        res.socket?.destroy();
        return;
      }
      res.write(`data: ${JSON.stringify(frame.data)}\n\n`);
      written++;
    }
    if (record.outcome) return;
    res.end('data: [DONE]\n\n');
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    enqueue: (...replies) => void queue.push(...replies),
    setResponder: (r) => void (fallback = r),
    setStreamShape: (shape) => void (defaultShape = { ...shape }),
    waitForRequest(index) {
      const existing = requests[index];
      if (existing) return Promise.resolve(existing);
      return new Promise((resolve) => waiters.set(index, [...(waiters.get(index) ?? []), resolve]));
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function wireToolCall(call: FakeToolCall, i: number, completionId: string) {
  return {
    id: call.id ?? `call_${completionId.slice(-4)}_${i}`,
    type: 'function' as const,
    function: { name: call.name, arguments: typeof call.args === 'string' ? call.args : JSON.stringify(call.args) },
  };
}

const SHAPE_KEYS = ['omitRole', 'nullContent', 'finishReasonIn', 'usageIn'] as const;
const definedOnly = (reply: FakeReply): FakeStreamShape =>
  Object.fromEntries(SHAPE_KEYS.filter((k) => reply[k] !== undefined).map((k) => [k, reply[k]]));

type Frame = { data: Record<string, unknown>; delayMs?: number; after?: Promise<unknown> };

/** The SSE chunks of one streamed reply, in the shape asked for. */
function streamFrames(
  base: Record<string, unknown>,
  reply: FakeReply,
  shape: FakeStreamShape,
  end: { finishReason: string; usage: Record<string, number> | undefined },
): Frame[] {
  const reasonInline = shape.finishReasonIn === 'last-delta';
  const chunk = (delta: Record<string, unknown>, delayMs?: number, after?: Promise<unknown>): Frame => ({
    data: {
      ...base,
      choices: [
        {
          index: 0,
          delta: shape.nullContent && !('content' in delta) ? { content: null, ...delta } : delta,
          // With the reason inline, chunks before the last leave the key out altogether.
          ...(reasonInline ? {} : { finish_reason: null }),
        },
      ],
    },
    delayMs,
    ...(after ? { after } : {}),
  });

  const frames: Frame[] = [];
  if (!shape.omitRole) frames.push(chunk({ role: 'assistant', content: shape.nullContent ? null : '' }));
  for (const c of chunksOf(reply.text)) frames.push(chunk({ content: c.text }, c.delayMs, c.after));
  (reply.toolCalls ?? []).forEach((call, i) => {
    const wire = wireToolCall(call, i, String(base.id));
    const args = wire.function.arguments;
    const half = Math.ceil(args.length / 2);
    // Name first, then the arguments in two pieces, as real servers split them.
    frames.push(chunk({ tool_calls: [{ index: i, id: wire.id, type: 'function', function: { name: wire.function.name, arguments: '' } }] }));
    frames.push(chunk({ tool_calls: [{ index: i, function: { arguments: args.slice(0, half) } }] }));
    frames.push(chunk({ tool_calls: [{ index: i, function: { arguments: args.slice(half) } }] }));
  });
  const last = frames.at(-1);
  if (reasonInline && last) {
    (last.data.choices as Record<string, unknown>[])[0]!.finish_reason = end.finishReason;
  } else {
    frames.push({ data: { ...base, choices: [{ index: 0, delta: shape.nullContent ? { content: null } : {}, finish_reason: end.finishReason }] } });
  }
  if (end.usage) {
    if (shape.usageIn === 'last-delta') frames.at(-1)!.data.usage = end.usage;
    else frames.push({ data: { ...base, choices: [], usage: end.usage } });
  }
  return frames;
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}
