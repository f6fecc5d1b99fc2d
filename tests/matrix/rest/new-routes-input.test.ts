import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../../helpers/fake-openai';
import { startTestApp, testDb, type TestApp } from '../../helpers/test-app';
import { fakeModelsEnv, send, setupRoom, turnEnd, type RoomSetup } from '../../helpers/turn-kit';

/** Bad input to the usage, approval, regenerate and member routes and events: a 400 with its path, and nothing changes. */
describe(`bad input to the newer routes and events on ${testDb()}`, () => {
  let fake: FakeOpenAI;
  let app: TestApp;
  let r: RoomSetup;
  let turnId: string;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    fake.setResponder(() => ({ text: 'Noted.' }));
    app = await startTestApp({ env: fakeModelsEnv(fake) });
    r = await setupRoom(app, { mode: 'manual', agents: [{ key: 'writer', name: 'Writer' }] });
    const sent = await send(r.client, r.roomId, r.sessionId, '@writer hello');
    turnId = sent.turnId;
    await turnEnd(r.client, turnId);
  });
  afterAll(async () => {
    r?.client.close();
    await app?.close();
    await fake?.close();
  });

  const refused = (res: { status: number; body: any }, path: string[]) => {
    expect([res.status, res.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect(res.body.error.details[0].path).toEqual(path);
  };

  it('refuses a usage query with an unknown grouping, a date that is none, or an unknown key', async () => {
    refused(await app.api(r.owner, 'GET', `/rooms/${r.roomId}/usage?groupBy=planet`), ['groupBy']);
    refused(await app.api(r.owner, 'GET', `/users/me/usage?from=yesterday`), ['from']);
    expect((await app.api(r.owner, 'GET', `/users/me/usage?colour=red`)).status).toBe(400);
    expect((await app.api(r.owner, 'GET', `/rooms/${r.roomId}/usage?groupBy=agent`)).status).toBe(200);
  });

  it('refuses an approval answer that is not approve or deny, over REST and the socket', async () => {
    const rest = await app.api(r.owner, 'POST', `/rooms/${r.roomId}/turns/${turnId}/approvals/call_1`, { decision: 'maybe' });
    refused(rest, ['decision']);
    const socket = await r.client.request('tool:approve', { roomId: r.roomId, turnId, toolCallId: 'call_1', decision: 'maybe' });
    expect(socket.error.code).toBe('VALIDATION_FAILED');
    const long = await r.client.request('tool:approve', { roomId: r.roomId, turnId, toolCallId: 'c'.repeat(129), decision: 'approve' });
    expect(long.error.code).toBe('VALIDATION_FAILED');
  });

  it('refuses a regeneration without an agent key and a role that is not one, and changes nothing', async () => {
    const noKey = await r.client.request('turn:regenerate', { roomId: r.roomId, turnId });
    expect(noKey.error.code).toBe('VALIDATION_FAILED');
    refused(await app.api(r.owner, 'POST', `/sessions/${r.sessionId}/turns/${turnId}/regenerate`, { agentKey: '' }), ['agentKey']);
    const members = (await app.api(r.owner, 'GET', `/rooms/${r.roomId}/members`)).body.items;
    const me = members[0].userId as string;
    refused(await app.api(r.owner, 'PATCH', `/rooms/${r.roomId}/members/${me}`, { role: 'emperor' }), ['role']);
    expect((await app.api(r.owner, 'GET', `/rooms/${r.roomId}/members`)).body.items).toEqual(members);
    const history = await app.api(r.owner, 'GET', `/sessions/${r.sessionId}/messages`);
    expect(history.body.items.filter((m: { authorType: string }) => m.authorType === 'agent')).toHaveLength(1);
  });
});
