import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, transcriptOf, type FakeOpenAI, type RecordedRequest } from '../../helpers/fake-openai';
import { TestClient } from '../../helpers/socket-client';
import { startTestApp, testDb, type TestApp } from '../../helpers/test-app';
import { fakeModelsEnv, send, setupRoom, turnEnd, type RoomSetup } from '../../helpers/turn-kit';

describe(`editing and deleting messages on ${testDb()}`, () => {
  let fake: FakeOpenAI;
  let app: TestApp;
  let r: RoomSetup;
  let bob: string;
  let bobClient: TestClient;
  const requests: RecordedRequest[] = [];

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    fake.setResponder((req) => {
      requests.push(req);
      return { text: 'Guide suggests a route.' };
    });
    app = await startTestApp({ env: fakeModelsEnv(fake) });
    r = await setupRoom(app, { mode: 'roundtable', agents: [{ key: 'guide', name: 'Guide' }] });
    bob = app.token('bob-edit', { name: 'Bob' });
    expect((await app.api(r.owner, 'POST', `/rooms/${r.roomId}/members`, { sub: 'bob-edit' })).status).toBe(201);
    bobClient = new TestClient(app.url, bob);
    await bobClient.connected();
    expect((await bobClient.request('room:join', { roomId: r.roomId })).ok).toBe(true);
  });
  afterAll(async () => {
    r?.client.close();
    bobClient?.close();
    await app?.close();
    await fake?.close();
  });

  const history = async () => (await app.api(r.owner, 'GET', `/sessions/${r.sessionId}/messages?limit=100`)).body.items as any[];

  it('lets the author edit, keeps the earlier text in the audit, announces it, and re-runs the turn on the new text', async () => {
    const sent = await send(r.client, r.roomId, r.sessionId, 'Plan the trip to Oslo');
    await turnEnd(r.client, sent.turnId);

    const notAuthor = await bobClient.request('message:edit', { roomId: r.roomId, messageId: sent.messageId, content: 'Hijacked' });
    expect(notAuthor.ok).toBe(false);
    expect(notAuthor.error.code).toBe('FORBIDDEN');

    const before = requests.length;
    const ack = await r.client.request('message:edit', { roomId: r.roomId, messageId: sent.messageId, content: 'Plan the trip to Bergen', rerun: true });
    expect(ack.ok, JSON.stringify(ack)).toBe(true);
    expect(ack.message).toMatchObject({ id: sent.messageId, content: 'Plan the trip to Bergen', editedAt: expect.any(String) });
    expect(ack.turnId).toEqual(expect.any(String));
    await bobClient.until(() => bobClient.received.some((e) => e.event === 'message:updated' && e.data.message.id === sent.messageId), 'message:updated');
    expect((await turnEnd(bobClient, ack.turnId)).status).toBe('completed');
    const queued = bobClient.received.find((e) => e.event === 'turn:queued' && e.data.turnId === ack.turnId)!;
    expect(queued.data.messageId).toBe(sent.messageId);
    // The re-run brought no second copy of the message: it was announced once, when sent.
    expect(bobClient.received.filter((e) => e.event === 'message:created' && e.data.message.id === sent.messageId)).toHaveLength(1);

    const rerunReq = requests.slice(before).map(transcriptOf).join('\n');
    expect(rerunReq).toContain('Plan the trip to Bergen');
    expect(rerunReq).not.toContain('Oslo');

    const audit = await app.api(r.owner, 'GET', `/sessions/${r.sessionId}/turns/${sent.turnId}`);
    expect(audit.body.trigger).toMatchObject({ messageId: sent.messageId, content: 'Plan the trip to Bergen' });
    expect(audit.body.trigger.edits).toEqual([{ content: 'Plan the trip to Oslo', replacedAt: expect.any(String) }]);
    const rerunAudit = await app.api(r.owner, 'GET', `/sessions/${r.sessionId}/turns/${ack.turnId}`);
    expect(rerunAudit.body.turn.triggerMessageId).toBe(sent.messageId);
    expect(rerunAudit.body.agents).toHaveLength(1);
  });

  it('deletes the author’s message as a tombstone, announced, without its text in history or search', async () => {
    const sent = await send(r.client, r.roomId, r.sessionId, 'My passport number is 12345 walrus');
    await turnEnd(r.client, sent.turnId);
    expect((await bobClient.request('message:delete', { roomId: r.roomId, messageId: sent.messageId })).error.code).toBe('FORBIDDEN');

    const ack = await r.client.request('message:delete', { roomId: r.roomId, messageId: sent.messageId });
    expect(ack.ok, JSON.stringify(ack)).toBe(true);
    await bobClient.until(() => bobClient.received.some((e) => e.event === 'message:deleted' && e.data.messageId === sent.messageId), 'message:deleted');
    const tomb = (await history()).find((m) => m.id === sent.messageId);
    expect(tomb).toMatchObject({ content: '', deletedAt: ack.deletedAt, authorType: 'user' });
    expect((await app.api(r.owner, 'GET', `/rooms/${r.roomId}/search?q=walrus`)).body.items).toEqual([]);

    const edit = await r.client.request('message:edit', { roomId: r.roomId, messageId: sent.messageId, content: 'back again' });
    expect(edit.error.code).toBe('MESSAGE_DELETED');
    const md = await fetch(`${app.url}/api/v1/sessions/${r.sessionId}/export?format=md`, { headers: { authorization: `Bearer ${r.owner}` } });
    const text = await md.text();
    expect(text).toContain('_This message was deleted._');
    expect(text).not.toContain('walrus');
  });

  it('edits and deletes over REST; an agent message or a stranger is refused', async () => {
    const sent = await send(r.client, r.roomId, r.sessionId, 'Draft: pack light');
    await turnEnd(r.client, sent.turnId);
    const patched = await app.api(r.owner, 'PATCH', `/messages/${sent.messageId}`, { content: 'Draft: pack very light' });
    expect(patched.status).toBe(200);
    expect(patched.body.message.content).toBe('Draft: pack very light');
    expect(patched.body.turnId).toBeUndefined();

    const agentMsg = (await history()).find((m) => m.turnId === sent.turnId && m.authorType === 'agent');
    expect((await app.api(r.owner, 'PATCH', `/messages/${agentMsg.id}`, { content: 'rewritten' })).body.error.code).toBe('FORBIDDEN');
    const stranger = app.token('stranger-edit');
    const hidden = await app.api(stranger, 'DELETE', `/messages/${sent.messageId}`);
    expect(hidden.status).toBe(404);
    expect(hidden.body.error.code).toBe('MESSAGE_NOT_FOUND');
    expect((await app.api(r.owner, 'PATCH', `/messages/${sent.messageId}`, { content: 'x', extra: 1 })).body.error.code).toBe('VALIDATION_FAILED');

    const deleted = await app.api(r.owner, 'DELETE', `/messages/${sent.messageId}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body.messageId).toBe(sent.messageId);
    // The audit keeps no earlier text of a deleted message either.
    const audit = await app.api(r.owner, 'GET', `/sessions/${r.sessionId}/turns/${sent.turnId}`);
    expect(audit.body.trigger).toMatchObject({ content: '', edits: [], deletedAt: expect.any(String) });
  });

  it('cancels the waiting turn of a deleted message', async () => {
    // The first turn hangs mid-answer, so the second waits behind it.
    let release!: () => void;
    const hold = new Promise<void>((resolve) => (release = resolve));
    fake.setResponder(async () => {
      await hold;
      return { text: 'Guide answers late.' };
    });
    try {
      const first = await send(r.client, r.roomId, r.sessionId, 'First question');
      await r.client.until(() => r.client.received.some((e) => e.event === 'turn:started' && e.data.turnId === first.turnId), 'first started');
      const second = await send(r.client, r.roomId, r.sessionId, 'Second question, taken back');
      expect((await r.client.request('message:delete', { roomId: r.roomId, messageId: second.messageId })).ok).toBe(true);
      expect((await turnEnd(r.client, second.turnId)).status).toBe('cancelled');
      release();
      expect((await turnEnd(r.client, first.turnId)).status).toBe('completed');
      expect(r.client.received.some((e) => e.event === 'turn:started' && e.data.turnId === second.turnId)).toBe(false);
    } finally {
      release();
      fake.setResponder((req) => {
        requests.push(req);
        return { text: 'Guide suggests a route.' };
      });
    }
  });
});
