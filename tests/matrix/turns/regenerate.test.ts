import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RoomMember } from '../../../src/db/entities';
import { startFakeOpenAI, transcriptOf, type FakeOpenAI, type RecordedRequest } from '../../helpers/fake-openai';
import { TestClient } from '../../helpers/socket-client';
import { startTestApp, testDb, type TestApp } from '../../helpers/test-app';
import { agentNameOf, eventsOf, fakeModelsEnv, send, setupRoom, streamedText, turnEnd, type RoomSetup } from '../../helpers/turn-kit';

describe(`regenerating an agent's answer on ${testDb()}`, () => {
  let fake: FakeOpenAI;
  let app: TestApp;
  let r: RoomSetup;
  const writerRequests: RecordedRequest[] = [];

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    app = await startTestApp({ env: fakeModelsEnv(fake) });
    r = await setupRoom(app, {
      mode: 'roundtable',
      agents: [
        { key: 'writer', name: 'Writer' },
        { key: 'critic', name: 'Critic' },
      ],
    });
    fake.setResponder((req) => {
      if (agentNameOf(req) === 'Writer') {
        writerRequests.push(req);
        return { text: `Writer draft number ${writerRequests.length} of the opening line.` };
      }
      return { text: 'Critic finds the draft too long.' };
    });
  });
  afterAll(async () => {
    r?.client.close();
    await app?.close();
    await fake?.close();
  });

  const history = async () => (await app.api(r.owner, 'GET', `/sessions/${r.sessionId}/messages?limit=100`)).body.items as any[];

  it('streams a new version as a turn of its own, commits it, and keeps the earlier one readable', async () => {
    const sent = await send(r.client, r.roomId, r.sessionId, 'Draft an opening line');
    expect((await turnEnd(r.client, sent.turnId)).status).toBe('completed');
    const first = (await history()).find((m) => m.turnId === sent.turnId && m.agentKey === 'writer');
    expect(first).toMatchObject({ version: 1, versionOf: null, content: 'Writer draft number 1 of the opening line.' });

    const ack = await r.client.request('turn:regenerate', { roomId: r.roomId, turnId: sent.turnId, agentKey: 'writer' });
    expect(ack.ok, JSON.stringify(ack)).toBe(true);
    expect(ack.messageId).toBe(first.id);
    expect(ack.turnId).not.toBe(sent.turnId);
    expect((await turnEnd(r.client, ack.turnId)).status).toBe('completed');

    // It streamed like any answer, the writer alone.
    expect(eventsOf(r.client, ack.turnId, 'agent:start').map((e) => e.data.agentKey)).toEqual(['writer']);
    const queued = r.client.received.find((e) => e.event === 'turn:queued' && e.data.turnId === ack.turnId)!;
    expect(queued.data.messageId).toBe(first.id);
    const end = eventsOf(r.client, ack.turnId, 'agent:end')[0]!;
    const streamed = streamedText(r.client, ack.turnId).writer;
    expect(streamed).toBe('Writer draft number 2 of the opening line.');

    const items = await history();
    const second = items.find((m) => m.id === end.data.messageId);
    expect(second).toMatchObject({ version: 2, versionOf: first.id, agentKey: 'writer', turnId: ack.turnId, status: 'complete' });
    expect(second.content).toBe(streamed);
    // The earlier version stays, with its number.
    expect(items.find((m) => m.id === first.id)).toMatchObject({ version: 1, content: 'Writer draft number 1 of the opening line.' });
    // Only the writer was asked again, and it saw the conversation up to the message it answers.
    const regenReq = writerRequests[1]!;
    expect(transcriptOf(regenReq)).toContain('Draft an opening line');
    expect(transcriptOf(regenReq)).not.toContain('Critic finds the draft too long.');

    // The audit of the new turn says what it regenerated.
    const audit = await app.api(r.owner, 'GET', `/sessions/${r.sessionId}/turns/${ack.turnId}`);
    expect(audit.body.turn.regenerates).toEqual({ messageId: first.id, agentKey: 'writer' });
    expect(audit.body.agents).toEqual([expect.objectContaining({ messageId: second.id, version: 2, versionOf: first.id })]);
  });

  it('regenerates over REST as the next version, also from a regeneration turn', async () => {
    const sent = await send(r.client, r.roomId, r.sessionId, 'Another line please');
    await turnEnd(r.client, sent.turnId);
    // Later turns hear the latest version of a regenerated answer in its place, not the earlier one.
    const later = transcriptOf(writerRequests[2]!);
    expect(later).toContain('Writer draft number 2 of the opening line.');
    expect(later).not.toContain('number 1 of the opening line');
    const firstRest = await app.api(r.owner, 'POST', `/sessions/${r.sessionId}/turns/${sent.turnId}/regenerate`, { agentKey: 'WRITER' });
    expect(firstRest.status, JSON.stringify(firstRest.body)).toBe(202);
    await turnEnd(r.client, firstRest.body.turnId);
    // Regenerating the regeneration's turn makes version 3 of the same answer.
    const again = await app.api(r.owner, 'POST', `/sessions/${r.sessionId}/turns/${firstRest.body.turnId}/regenerate`, { agentKey: 'writer' });
    expect(again.status, JSON.stringify(again.body)).toBe(202);
    expect(again.body.messageId).toBe(firstRest.body.messageId);
    await turnEnd(r.client, again.body.turnId);
    const versions = (await history()).filter((m) => m.id === firstRest.body.messageId || m.versionOf === firstRest.body.messageId);
    expect(versions.map((m) => m.version).sort()).toEqual([1, 2, 3]);
  });

  it('refuses a viewer, an agent without an answer in the turn, and a turn of another session', async () => {
    const sent = await send(r.client, r.roomId, r.sessionId, 'One more');
    await turnEnd(r.client, sent.turnId);
    const viewer = app.token('viewer-regen', { name: 'Vera' });
    const added = await app.api(r.owner, 'POST', `/rooms/${r.roomId}/members`, { sub: 'viewer-regen' });
    expect(added.status).toBe(201);
    // Made a viewer in the database: roles are granted over REST elsewhere.
    await app.orm.em.fork().nativeUpdate(RoomMember, { room: r.roomId, user: added.body.userId }, { role: 'viewer' });
    const v = new TestClient(app.url, viewer);
    try {
      await v.connected();
      const refused = await v.request('turn:regenerate', { roomId: r.roomId, turnId: sent.turnId, agentKey: 'writer' });
      expect(refused.ok).toBe(false);
      expect(refused.error.code).toBe('FORBIDDEN');
    } finally {
      v.close();
    }
    const noAnswer = await r.client.request('turn:regenerate', { roomId: r.roomId, turnId: sent.turnId, agentKey: 'nobody' });
    expect(noAnswer.error.code).toBe('AGENT_NOT_FOUND');
    const other = await app.api(r.owner, 'POST', `/rooms/${r.roomId}/sessions`, { title: 'other' });
    const wrongSession = await app.api(r.owner, 'POST', `/sessions/${other.body.id}/turns/${sent.turnId}/regenerate`, { agentKey: 'writer' });
    expect(wrongSession.status).toBe(404);
    expect(wrongSession.body.error.code).toBe('TURN_NOT_FOUND');
    const stranger = app.token('stranger-regen');
    const hidden = await app.api(stranger, 'POST', `/sessions/${r.sessionId}/turns/${sent.turnId}/regenerate`, { agentKey: 'writer' });
    expect(hidden.body.error.code).toBe('SESSION_NOT_FOUND');
  });
});
