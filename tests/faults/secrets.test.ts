import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI, type RecordedRequest } from '../helpers/fake-openai';
import { startFakeTavily, type FakeTavily } from '../helpers/fake-tavily';
import { createTestDatabase, TEST_REDIS_URL, uniqueRedisPrefix } from '../helpers/services';
import { startTestApp, type TestApp } from '../helpers/test-app';
import { agentNameOf, send, setupRoom, turnEnd, type RoomSetup } from '../helpers/turn-kit';
import { deleteRedisKeys } from '../scaled/files/redis-cleanup';

// Secrets never leave: a canary for every configured secret, upstreams that quote the keys they
// were sent in their error answers, then a search of everything that left the server (log lines,
// socket events, REST answers, database rows, the Redis replay log, the model's context).

const CANARY = {
  FAKE_OPENAI_KEY: 'canary-model-key-0001',
  OLLAMA_KEY: 'canary-ollama-key-0002',
  OPENAI_API_KEY: 'canary-openai-key-0003',
  TAVILY_API_KEY: 'canary-tavily-key-0004',
  JWT_SECRET: 'canary-jwt-secret-0005-abcdefghijklmnopqrstuvwxyz',
  DB_PASSWORD: 'canary-db-password-0006',
  REDIS_PASSWORD: 'canary-redis-password-0007',
};
const canaries = Object.values(CANARY);
const leaked = (text: string) => canaries.filter((c) => text.includes(c) || text.includes(encodeURIComponent(c)));

/** The key a request carried, quoted back the way careless providers do. */
const keyOf = (req: RecordedRequest) => String(req.headers.authorization).replace(/^Bearer\s+/i, '');

describe('secrets never leave', () => {
  let fake: FakeOpenAI;
  let tavily: FakeTavily;
  let app: TestApp;
  let dropDb: () => Promise<void>;
  const prefix = uniqueRedisPrefix();
  const logs: string[] = [];
  const writeStdout = process.stdout.write;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    tavily = await startFakeTavily({ apiKey: 'unused', failQuotingKey: 401 });
    const db = await createTestDatabase();
    dropDb = db.drop;
    // The test PostgreSQL and Redis take any password: the canaries ride along in the URLs.
    const databaseUrl = new URL(db.url);
    databaseUrl.password = CANARY.DB_PASSWORD;
    const redisUrl = new URL(TEST_REDIS_URL);
    redisUrl.password = CANARY.REDIS_PASSWORD;

    process.stdout.write = ((chunk: string | Uint8Array) => {
      logs.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    app = await startTestApp({
      redis: true,
      redisKeyPrefix: prefix,
      databaseUrl: databaseUrl.toString(),
      env: {
        LOG_LEVEL: 'debug',
        REDIS_URL: redisUrl.toString(),
        JWT_SECRET: CANARY.JWT_SECRET,
        MODELS: JSON.stringify({
          fake: { baseUrl: fake.baseUrl, model: 'fake-model', apiKeyEnv: 'FAKE_OPENAI_KEY' },
          local: { baseUrl: fake.baseUrl, model: 'llama', apiKeyEnv: 'OLLAMA_KEY' },
          openai: { baseUrl: fake.baseUrl, model: 'gpt' },
        }),
        FAKE_OPENAI_KEY: CANARY.FAKE_OPENAI_KEY,
        OLLAMA_KEY: CANARY.OLLAMA_KEY,
        OPENAI_API_KEY: CANARY.OPENAI_API_KEY,
        DEFAULT_MODEL_ALIAS: 'fake',
        TAVILY_API_KEY: CANARY.TAVILY_API_KEY,
        TAVILY_BASE_URL: tavily.baseUrl,
        DELTA_FLUSH_MS: '5',
      },
    });
  });
  afterAll(async () => {
    await app?.close();
    process.stdout.write = writeStdout;
    await Promise.all([fake?.close(), tavily?.close(), dropDb?.(), deleteRedisKeys(prefix)]);
  });

  let r: RoomSetup;
  let turnId: string;

  it('runs a turn in which every upstream quotes the key it was sent', async () => {
    fake.setResponder((req) => {
      const name = agentNameOf(req);
      const quoted = `Incorrect API key provided: ${keyOf(req)}. Request: ${JSON.stringify(req.body.messages).slice(0, 200)}`;
      if (name === 'Searcher') {
        const hadTool = req.body.messages.some((m) => m.role === 'tool');
        return hadTool ? { text: 'The search failed, sorry.' } : { toolCalls: [{ id: 'call_s1', name: 'web_search', args: { query: 'tea' } }] };
      }
      if (name === 'Keyed') return { status: 401, errorMessage: quoted };
      if (name === 'Plain') return { status: 429, errorMessage: quoted };
      return { status: 503, errorMessage: quoted };
    });
    r = await setupRoom(app, {
      mode: 'roundtable',
      agents: [
        { key: 'searcher', name: 'Searcher', modelAlias: 'fake', toolPermissions: ['web_search'] },
        { key: 'keyed', name: 'Keyed', modelAlias: 'local' },
        { key: 'plain', name: 'Plain', modelAlias: 'openai' },
        { key: 'down', name: 'Down', modelAlias: 'fake' },
      ],
    });
    turnId = (await send(r.client, r.roomId, r.sessionId, 'Search for tea, everyone.')).turnId;
    const end = await turnEnd(r.client, turnId);
    expect(end.status).toBe('partial');

    // The upstreams did receive the canaries, and quoted them back.
    const sentKeys = new Set([...fake.requests.map(keyOf), ...tavily.requests.map((t) => String(t.authorization).replace(/^Bearer\s+/i, ''))]);
    expect([...sentKeys].sort()).toEqual([CANARY.FAKE_OPENAI_KEY, CANARY.OLLAMA_KEY, CANARY.OPENAI_API_KEY, CANARY.TAVILY_API_KEY].sort());

    // Members get a reason per provider status, not the provider's text.
    const agentEnds = Object.fromEntries(r.client.received.filter((e) => e.event === 'agent:end').map((e) => [e.data.agentKey, e.data]));
    expect(agentEnds.keyed.error).toEqual({ code: 'MODEL_ERROR', message: 'The model provider refused the credentials (401)' });
    expect(agentEnds.plain.error).toEqual({ code: 'MODEL_ERROR', message: 'The model provider is rate limiting requests (429)' });
    expect(agentEnds.down.error).toEqual({ code: 'MODEL_ERROR', message: 'The model provider is unavailable (503)' });
    const toolEnd = r.client.received.find((e) => e.event === 'tool:end')!;
    expect(toolEnd.data).toMatchObject({ toolName: 'web_search', status: 'failed', error: expect.stringContaining('[redacted]') });
  });

  it('finds no canary in the socket events', () => {
    expect(r.client.received.length).toBeGreaterThan(10);
    expect(leaked(JSON.stringify(r.client.received))).toEqual([]);
  });

  it('finds no canary in REST answers: audit, history, usage', async () => {
    const answers = await Promise.all([
      app.api(r.owner, 'GET', `/sessions/${r.sessionId}/turns/${turnId}`),
      app.api(r.owner, 'GET', `/sessions/${r.sessionId}/messages`),
      app.api(r.owner, 'GET', `/rooms/${r.roomId}/usage`),
    ]);
    for (const a of answers) expect(a.status).toBe(200);
    expect(answers[0]!.body.toolCalls).toEqual([expect.objectContaining({ status: 'failed', error: expect.stringContaining('[redacted]') })]);
    expect(leaked(JSON.stringify(answers.map((a) => a.body)))).toEqual([]);
  });

  it('finds no canary in the database rows of messages, turns, tool calls and usage', async () => {
    const conn = app.orm.em.fork().getConnection();
    const rows: unknown[] = [];
    for (const table of ['messages', 'turns', 'tool_call_events', 'llm_usage_events']) rows.push(...(await conn.execute(`select * from "${table}"`)));
    expect(rows.length).toBeGreaterThan(5);
    expect(leaked(JSON.stringify(rows))).toEqual([]);
  });

  it('finds no canary in Redis under the test prefix (the replay log included)', async () => {
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const keys = await redis.keys(`${prefix}*`);
      const dump: unknown[] = [];
      for (const key of keys) {
        const type = await redis.type(key);
        if (type === 'stream') dump.push(await redis.xrange(key, '-', '+'));
        else if (type === 'string') dump.push(await redis.get(key));
        else if (type === 'hash') dump.push(await redis.hgetall(key));
        else if (type === 'list') dump.push(await redis.lrange(key, 0, -1));
        else if (type === 'set') dump.push(await redis.smembers(key));
        else if (type === 'zset') dump.push(await redis.zrange(key, '0', '-1'));
      }
      expect(keys.some((k) => k.endsWith(':log'))).toBe(true);
      expect(JSON.stringify(dump)).toContain('tool:end');
      expect(leaked(JSON.stringify(dump))).toEqual([]);
    } finally {
      redis.disconnect();
    }
  });

  it("finds no canary in the model's context: the error the tool returned is redacted there too", () => {
    const searcherFollowUp = fake.requests.find((q) => q.body.messages.some((m) => m.role === 'tool'))!;
    expect(JSON.stringify(searcherFollowUp.body)).toContain('[redacted]');
    expect(leaked(JSON.stringify(fake.requests.map((q) => q.body)))).toEqual([]);
  });

  it('finds no canary in the log, where the providers’ own words were written', () => {
    const text = logs.join('');
    expect(text).toContain('"msg":"agent failed"');
    expect(text).toContain('Incorrect API key provided: [redacted]');
    expect(leaked(text)).toEqual([]);
  });
});
