import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../../helpers/fake-openai';
import { startTestApp, testDb, type TestApp } from '../../helpers/test-app';
import { answerAs, eventsOf, fakeModelsEnv, send, setupRoom, turnEnd, type RoomSetup } from '../../helpers/turn-kit';

// A message sent while the session's loop makes its last, empty claim: the loop has not stopped
// yet, so the kick of that message reaches a loop that is about to stop. Its turn must start at
// once. The sweep is an hour away here, so nothing else can start it.
describe(`a kick during the scheduler's last claim on ${testDb()}`, () => {
  let fake: FakeOpenAI;
  let app: TestApp;
  let room: RoomSetup | undefined;
  /** Set while the next empty claim of this session should send the second message. */
  let sendDuringLastClaim: { sessionId: string; sent: Promise<{ turnId: string }> | null } | null = null;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    fake.setResponder(answerAs());
    app = await startTestApp({
      env: fakeModelsEnv(fake, { TURN_SWEEP_MS: '3600000' }),
      turnProbes: {
        async afterEmptyClaim(sessionId) {
          const armed = sendDuringLastClaim;
          if (!armed || armed.sessionId !== sessionId || armed.sent || !room) return;
          // The second message commits, is announced and kicks while this loop still exists.
          armed.sent = send(room.client, room.roomId, room.sessionId, '@writer second');
          await armed.sent;
        },
      },
    });
  });
  afterAll(async () => {
    room?.client.close();
    await app?.close();
    await fake?.close();
  });

  it('starts the turn of a message sent between the last empty claim and the end of the loop', async () => {
    room = await setupRoom(app, { mode: 'manual', agents: [{ key: 'writer', name: 'Writer' }] });
    sendDuringLastClaim = { sessionId: room.sessionId, sent: null };
    const first = await send(room.client, room.roomId, room.sessionId, '@writer first');
    expect((await turnEnd(room.client, first.turnId)).status).toBe('completed');
    await room.client.until(() => sendDuringLastClaim!.sent !== null, 'the second message, sent during the last claim');
    const second = await sendDuringLastClaim.sent!;
    // Without the re-claim this turn would wait for the sweep, an hour away.
    expect((await turnEnd(room.client, second.turnId, 5_000)).status).toBe('completed');
    expect(eventsOf(room.client, second.turnId, 'turn:started')).toHaveLength(1);
  });
});
