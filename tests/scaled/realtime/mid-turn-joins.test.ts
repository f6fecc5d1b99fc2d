import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Message } from '../../../src/db/entities';
import { startFakeOpenAI, type FakeOpenAI } from '../../helpers/fake-openai';
import { auditSeqs, totalOf } from '../../helpers/seq-audit';
import { TestClient } from '../../helpers/socket-client';
import { startTwoNodes, type TestApp } from '../../helpers/test-app';
import { answerAs, eventsOf, fakeModelsEnv, send, setupRoom } from '../../helpers/turn-kit';

const JOINS = 30;
const CHUNKS = 600;
const FRAMES_BETWEEN_JOINS = 10;

// One frame per token (DELTA_FLUSH_MS=0): the node running the turn learns a frame's seq only when
// Redis answers its publish, while the frame may already have reached a joining socket's node.
describe('joins in the middle of a turn, on two nodes, one frame per token', () => {
  let fake: FakeOpenAI;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    const env = fakeModelsEnv(fake, { DELTA_FLUSH_MS: '0' });
    ({ a, b } = await startTwoNodes({ env }));
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await fake?.close();
  });

  it(`gives ${JOINS} joiners snapshots whose text and seq agree: snapshot text + later frames = the committed text, every event once`, async () => {
    // The last chunk waits for the last join: however fast the stream goes, every join lands mid-turn.
    let joined!: () => void;
    const allJoined = new Promise<void>((resolve) => (joined = resolve));
    fake.setResponder(
      answerAs({
        Writer: () => ({
          text: Array.from({ length: CHUNKS }, (_, i) => ({ text: `w${i} `, delayMs: i % 4 === 0 ? 1 : 0, ...(i === CHUNKS - 1 ? { after: allJoined } : {}) })),
        }),
      }),
    );
    const r = await setupRoom(a, { mode: 'manual', agents: [{ key: 'writer', name: 'Writer' }] });
    const joiners: { c: TestClient; ack: any }[] = [];
    try {
      const { turnId } = await send(r.client, r.roomId, r.sessionId, '@writer go');
      for (let i = 0; i < JOINS; i++) {
        // Joins spread over the turn, alternately on the node running it and on the other one.
        const frames = 5 + i * FRAMES_BETWEEN_JOINS;
        await r.client.until(() => eventsOf(r.client, turnId, 'agent:delta').length >= frames, `frame ${frames}`);
        const c = new TestClient((i % 2 ? b : a).url, r.owner);
        joiners.push({ c, ack: undefined });
        await c.connected();
        joiners[i]!.ack = await c.request('room:join', { roomId: r.roomId });
        expect(joiners[i]!.ack.mode).toBe('snapshot');
      }
      joined();
      await Promise.all(joiners.map(({ c }) => c.until(() => eventsOf(c, turnId, 'turn:end').length === 1, 'turn:end')));
      const committed = (await a.orm.em.fork().findOneOrFail(Message, { turn: turnId, authorType: 'agent' })).content;
      expect(committed).toContain(`w${CHUNKS - 1}`);

      const wrongText = joiners.filter(({ c, ack }) => {
        const inflight = ack.snapshot.turnsInFlight.find((t: { turnId: string }) => t.turnId === turnId);
        const later = eventsOf(c, turnId, 'agent:delta').filter((e) => e.data.seq > (inflight?.seq ?? 0));
        return (inflight?.partialText.writer ?? '') + later.map((e) => e.data.text).join('') !== committed;
      }).length;
      const audit = totalOf(joiners.map(({ c, ack }) => auditSeqs(c, r.roomId, ack.seq)));
      expect({ wrongText, duplicates: audit.duplicates, gaps: audit.gaps }).toEqual({ wrongText: 0, duplicates: 0, gaps: 0 });
    } finally {
      joined();
      for (const { c } of joiners) c.close();
      r.client.close();
    }
  });
});
