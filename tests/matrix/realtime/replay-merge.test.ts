import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PantheonClient, type RoomEvent } from '../../../src/client';
import { startFakeOpenAI, type FakeOpenAI } from '../../helpers/fake-openai';
import { auditSeqs } from '../../helpers/seq-audit';
import { TestClient } from '../../helpers/socket-client';
import { startTestApp, testDb, type TestApp } from '../../helpers/test-app';
import { fakeModelsEnv, send, setupRoom, streamedText, turnEnd } from '../../helpers/turn-kit';

const WORDS = Array.from({ length: 60 }, (_, i) => `w${i} `);

// Every token is its own room event here (DELTA_FLUSH_MS=0); a client that catches up gets them
// merged: fewer frames, the same text, and seqs that still follow on.
describe(`a replay merges consecutive deltas on ${testDb()}`, () => {
  let fake: FakeOpenAI;
  let app: TestApp;
  const closers: (() => void)[] = [];

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    fake.setResponder(() => ({ text: WORDS, usage: { promptTokens: 10, completionTokens: WORDS.length } }));
    app = await startTestApp({ env: fakeModelsEnv(fake, { DELTA_FLUSH_MS: '0' }) });
  });
  afterAll(async () => {
    for (const c of closers) c();
    await app?.close();
    await fake?.close();
  });

  it('replays a turn as fewer agent:delta frames with the same text and seqs that follow on', async () => {
    const r = await setupRoom(app, { mode: 'manual', agents: [{ key: 'writer', name: 'Writer' }] });
    closers.push(() => r.client.close());
    // A second socket of the owner stands where the turn starts, then leaves.
    const away = new TestClient(app.url, r.owner);
    closers.push(() => away.close());
    await away.connected();
    const joined = await away.request('room:join', { roomId: r.roomId });
    expect(joined.ok).toBe(true);
    const sdk = new PantheonClient(app.url, { token: r.owner, socket: { reconnection: false } });
    closers.push(() => sdk.close());
    const sdkDeltas: RoomEvent<'agent:delta'>[] = [];
    sdk.on('agent:delta', (e) => sdkDeltas.push(e));
    await new Promise<void>((resolve) => sdk.socket.once('connect', () => resolve()));
    await sdk.join(r.roomId);

    const ack = await send(r.client, r.roomId, r.sessionId, '@writer go');
    expect((await turnEnd(r.client, ack.turnId)).status).toBe('completed');
    const live = r.client.roomEvents(r.roomId, 'agent:delta').filter((e) => e.data.turnId === ack.turnId);
    expect(live.length).toBe(WORDS.length);
    expect(live.every((e) => e.data.fromSeq === undefined)).toBe(true);

    // A rejoin from the position before the turn: the whole turn comes from the log.
    const back = new TestClient(app.url, r.owner);
    closers.push(() => back.close());
    await back.connected();
    const rejoin = await back.request('room:join', { roomId: r.roomId, lastSeq: joined.seq, epoch: joined.epoch });
    expect(rejoin.mode).toBe('replay');
    const replayed = back.roomEvents(r.roomId, 'agent:delta').filter((e) => e.data.turnId === ack.turnId);
    expect(replayed.length).toBeLessThan(live.length);
    expect(replayed.length).toBeGreaterThan(0);
    expect(streamedText(back, ack.turnId)).toEqual(streamedText(r.client, ack.turnId));
    expect(streamedText(back, ack.turnId).writer).toBe(WORDS.join(''));
    expect(auditSeqs(back, r.roomId, joined.seq)).toMatchObject({ duplicates: 0, gaps: 0 });
    expect(rejoin.replayed).toBe(back.roomEvents(r.roomId).length);

    expect(sdkDeltas.map((e) => e.text).join('')).toBe(WORDS.join(''));
  });
});
