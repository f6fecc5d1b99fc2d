import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../../helpers/fake-openai';
import { startTestApp, testDb, type TestApp } from '../../helpers/test-app';
import { answerAs, fakeModelsEnv, send, setupRoom, turnEnd } from '../../helpers/turn-kit';

const METRICS_TOKEN = 'metrics-token-0123456789';

/** One sample's value from the Prometheus text format (0 when the series is absent). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})? (\S+)$/);
    if (!m || m[1] !== name) continue;
    const have = m[2] ? m[2].split(/,(?=[a-zA-Z_]\w*=)/) : [];
    if (want.every((w) => have.includes(w))) return Number(m[3]);
  }
  return 0;
}

describe(`operators' view on ${testDb()}`, () => {
  let fake: FakeOpenAI;
  let app: TestApp;
  const lines: string[] = [];

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    app = await startTestApp({
      env: { ...fakeModelsEnv(fake), LOG_LEVEL: 'info', METRICS_TOKEN },
      logDestination: { write: (line: string) => void lines.push(line) },
    });
  });
  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });

  const scrape = async (token: string | null = METRICS_TOKEN) => {
    const res = await fetch(`${app.url}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
  };
  const logged = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

  it('asks for METRICS_TOKEN at /metrics', async () => {
    expect((await scrape(null)).status).toBe(401);
    expect((await scrape('metrics-token-wrong-value')).status).toBe(401);
    const ok = await scrape();
    expect(ok.status).toBe(200);
    expect(ok.type).toContain('text/plain');
    expect(ok.text).toContain('nodejs_eventloop_lag_seconds');
    expect(ok.text).toContain('pantheon_turn_queue_depth');
  });

  it('echoes a plain X-Request-Id and logs it; replaces anything else', async () => {
    const given = await fetch(`${app.url}/api/v1/health`, { headers: { 'x-request-id': 'lb-abc.123' } });
    expect(given.headers.get('x-request-id')).toBe('lb-abc.123');
    const odd = await fetch(`${app.url}/api/v1/health`, { headers: { 'x-request-id': 'two words "quoted"' } });
    expect(odd.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const http = logged().filter((l) => l.msg === 'http' && l.route === '/api/v1/health');
    expect(http.map((l) => l.requestId)).toEqual(expect.arrayContaining(['lb-abc.123', odd.headers.get('x-request-id')]));
  });

  it('counts a turn, its model call, its socket and its frames; logs its start and end', async () => {
    fake.setResponder(answerAs());
    const before = (await scrape()).text;
    const r = await setupRoom(app, { mode: 'manual', agents: [{ key: 'writer', name: 'Writer' }] });
    const ack = await send(r.client, r.roomId, r.sessionId, '@writer one line, please');
    expect((await turnEnd(r.client, ack.turnId)).status).toBe('completed');
    const after = (await scrape()).text;
    expect(sample(after, 'pantheon_turns_total', { status: 'completed' }) - sample(before, 'pantheon_turns_total', { status: 'completed' })).toBe(1);
    const calls = (t: string) => sample(t, 'pantheon_model_call_duration_seconds_count', { alias: 'fake', purpose: 'agent', outcome: 'ok' });
    expect(calls(after) - calls(before)).toBe(1);
    expect(sample(after, 'pantheon_sockets')).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'pantheon_rooms')).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'pantheon_frames_sent_total') - sample(before, 'pantheon_frames_sent_total')).toBeGreaterThanOrEqual(5);
    expect(sample(after, 'pantheon_turns_running')).toBe(0);

    const ofTurn = logged().filter((l) => l.turnId === ack.turnId);
    expect(ofTurn.find((l) => l.msg === 'turn started')).toMatchObject({ level: 'info', roomId: r.roomId, sessionId: r.sessionId });
    expect(ofTurn.find((l) => l.msg === 'turn ended')).toMatchObject({
      status: 'completed',
      agents: ['writer'],
      durationMs: expect.any(Number),
      inputTokens: 30,
      outputTokens: 8,
    });
    expect(logged().some((l) => l.msg === 'socket connected' && typeof l.socketId === 'string')).toBe(true);
    const http = logged().find((l) => l.msg === 'http' && l.route === '/api/v1/rooms/:roomId/sessions');
    expect(http).toMatchObject({ method: 'POST', status: 201, requestId: expect.any(String) });
    r.client.close();
  });

  it("logs a model error as one line with its code and alias, without the provider's secret", async () => {
    fake.setResponder(() => ({ status: 401, errorMessage: 'Incorrect API key provided: sk-test-key-123456' }));
    const r = await setupRoom(app, { mode: 'manual', agents: [{ key: 'critic', name: 'Critic' }] });
    const ack = await send(r.client, r.roomId, r.sessionId, '@critic go');
    expect((await turnEnd(r.client, ack.turnId)).status).toBe('failed');
    const failures = logged().filter((l) => l.turnId === ack.turnId && l.msg === 'agent failed');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ level: 'warn', code: 'MODEL_ERROR', status: 401, modelAlias: 'fake', agentKey: 'critic', latencyMs: expect.any(Number) });
    expect(lines.join('')).not.toContain('sk-test-key-123456');
    expect(sample((await scrape()).text, 'pantheon_model_call_duration_seconds_count', { alias: 'fake', purpose: 'agent', outcome: 'error' })).toBeGreaterThanOrEqual(1);
    expect(sample((await scrape()).text, 'pantheon_turns_total', { status: 'failed' })).toBe(1);
    r.client.close();
  });
});
