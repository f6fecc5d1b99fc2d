import { expect } from 'vitest';
import type { FakeOpenAI, FakeReply, RecordedRequest } from './fake-openai';
import { TestClient } from './socket-client';
import type { ServerHandle } from './test-app';

/** Environment that points the server's model table at a fake OpenAI server. */
export function fakeModelsEnv(fake: FakeOpenAI, extra: Record<string, string> = {}): Record<string, string> {
  return {
    MODELS: JSON.stringify({
      fake: { baseUrl: fake.baseUrl, model: 'fake-model', apiKeyEnv: 'FAKE_OPENAI_KEY', inputPricePerMillion: 1, outputPricePerMillion: 2 },
    }),
    FAKE_OPENAI_KEY: 'sk-test-key-123456',
    DEFAULT_MODEL_ALIAS: 'fake',
    DELTA_FLUSH_MS: '5',
    ...extra,
  };
}

/** The system prompt of a request (agents are told "You are <Name>"). */
export const systemOf = (req: RecordedRequest): string => {
  const m = req.body.messages.find((x) => x.role === 'system');
  return typeof m?.content === 'string' ? m.content : JSON.stringify(m?.content ?? '');
};
export const isManagerRequest = (req: RecordedRequest) => systemOf(req).includes('selected_agent_keys');
export const agentNameOf = (req: RecordedRequest) => systemOf(req).match(/^You are ([^,]+),/)?.[1];

/** A responder that answers each agent with a deterministic text naming it. */
export const answerAs =
  (overrides: Record<string, (req: RecordedRequest) => FakeReply> = {}, manager?: (req: RecordedRequest) => FakeReply) =>
  (req: RecordedRequest): FakeReply => {
    if (isManagerRequest(req)) return manager ? manager(req) : { text: '{"selected_agent_keys": []}' };
    const name = agentNameOf(req) ?? 'unknown';
    return overrides[name]?.(req) ?? { text: `${name} answers: point one, point two.`, usage: { promptTokens: 30, completionTokens: 8 } };
  };

export interface RoomSetup {
  owner: string;
  roomId: string;
  sessionId: string;
  client: TestClient;
}

/** A room with agents, a session, and a joined client of the owner. */
export async function setupRoom(
  app: ServerHandle,
  opts: { mode: 'manual' | 'roundtable' | 'orchestrator'; agents: { key: string; name: string; modelAlias?: string; toolPermissions?: string[] }[]; owner?: string },
): Promise<RoomSetup> {
  const owner = app.token(opts.owner ?? `owner-${Math.random().toString(36).slice(2, 8)}`, { name: 'Olivia' });
  const room = await app.api(owner, 'POST', '/rooms', { name: 'Turns', mode: opts.mode });
  expect(room.status).toBe(201);
  for (const a of opts.agents) {
    const r = await app.api(owner, 'POST', `/rooms/${room.body.id}/agents`, { rolePrompt: `You are the ${a.name}.`, ...a });
    expect(r.status).toBe(201);
  }
  const session = await app.api(owner, 'POST', `/rooms/${room.body.id}/sessions`, { title: 'work' });
  const client = new TestClient(app.url, owner);
  await client.connected();
  const join = await client.request('room:join', { roomId: room.body.id });
  expect(join.ok).toBe(true);
  return { owner, roomId: room.body.id, sessionId: session.body.id, client };
}

let counter = 0;
export const clientMsgId = () => `m-${Date.now()}-${counter++}`;

/** Sends a message and resolves with its ack (messageId, turnId). */
export async function send(c: TestClient, roomId: string, sessionId: string, content: string, id = clientMsgId()) {
  const ack = await c.request('message:send', { roomId, sessionId, clientMsgId: id, content });
  expect(ack.ok, JSON.stringify(ack)).toBe(true);
  return ack as { ok: true; messageId: string; turnId: string; duplicate: boolean };
}

/** Waits for the turn's `turn:end` on this client. */
export async function turnEnd(c: TestClient, turnId: string, timeoutMs = 20_000) {
  await c.until(() => c.received.some((r) => r.event === 'turn:end' && r.data.turnId === turnId), `turn:end ${turnId}`, timeoutMs);
  return c.received.find((r) => r.event === 'turn:end' && r.data.turnId === turnId)!.data;
}

/** The concatenated `agent:delta` text per agent of one turn, as a client saw it. */
export function streamedText(c: TestClient, turnId: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of c.received) {
    if (r.event === 'agent:delta' && r.data.turnId === turnId) out[r.data.agentKey] = (out[r.data.agentKey] ?? '') + r.data.text;
  }
  return out;
}

export const eventsOf = (c: TestClient, turnId: string, name?: string) =>
  c.received.filter((r) => r.data?.turnId === turnId && (!name || r.event === name));
