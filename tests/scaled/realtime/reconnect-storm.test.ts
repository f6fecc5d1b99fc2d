import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../../helpers/fake-openai';
import { auditSeqs, totalOf } from '../../helpers/seq-audit';
import { uniqueRedisPrefix } from '../../helpers/services';
import { TestClient } from '../../helpers/socket-client';
import { startTestApp, type TestApp } from '../../helpers/test-app';
import { answerAs, eventsOf, fakeModelsEnv, send, setupRoom, type RoomSetup } from '../../helpers/turn-kit';

const ROOMS = 20;
const CLIENTS_PER_ROOM = 10;

// A node's relay delivers what Redis publishes a little after the room's log has it; a replay
// read from the log in that moment runs ahead of the node's live delivery.
describe('a reconnect storm while every room streams, on two nodes', () => {
  let fake: FakeOpenAI;
  let nodes: TestApp[];

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    const redisKeyPrefix = uniqueRedisPrefix();
    const env = fakeModelsEnv(fake);
    const a = await startTestApp({ db: 'postgres', redis: true, redisKeyPrefix, env });
    const b = await startTestApp({ db: 'postgres', redis: true, redisKeyPrefix, env, databaseUrl: a.databaseUrl });
    nodes = [a, b];
  });
  afterAll(async () => {
    for (const n of [...(nodes ?? [])].reverse()) await n.close();
    await fake?.close();
  });

  it(`replays to ${ROOMS * CLIENTS_PER_ROOM} sockets rejoining with lastSeq exactly what they missed, then the live events: each once, none skipped`, async () => {
    fake.setResponder(answerAs({ Writer: () => ({ text: Array.from({ length: 200 }, (_, i) => ({ text: `s${i} `, delayMs: 15 })) }) }));
    const rooms: RoomSetup[] = [];
    for (let i = 0; i < ROOMS; i++) rooms.push(await setupRoom(nodes[i % 2]!, { mode: 'manual', agents: [{ key: 'writer', name: 'Writer' }] }));
    const first: { c: TestClient; room: RoomSetup; i: number }[] = [];
    const rejoined: { c: TestClient; room: RoomSetup; lastSeq: number; epoch: string; mode?: string }[] = [];
    try {
      await Promise.all(
        rooms.flatMap((room) =>
          Array.from({ length: CLIENTS_PER_ROOM }, async (_, i) => {
            const c = new TestClient(nodes[i % 2]!.url, room.owner);
            first.push({ c, room, i });
            await c.connected();
            expect((await c.request('room:join', { roomId: room.roomId })).ok).toBe(true);
          }),
        ),
      );
      const turns = await Promise.all(rooms.map((r) => send(r.client, r.roomId, r.sessionId, '@writer stream')));
      const turnOf = (room: RoomSetup) => turns[rooms.indexOf(room)]!.turnId;
      await Promise.all(rooms.map((r) => r.client.until(() => eventsOf(r.client, turnOf(r), 'agent:delta').length >= 10, 'streaming')));

      // Every socket drops at once and comes back on the other node, continuing from its last seq.
      for (const { c } of first) c.close();
      await Promise.all(
        first.map(async ({ c: old, room, i }) => {
          const last = old.roomEvents(room.roomId).at(-1)!.data;
          const entry: (typeof rejoined)[number] = { c: new TestClient(nodes[(i + 1) % 2]!.url, room.owner), room, lastSeq: last.seq, epoch: last.epoch };
          rejoined.push(entry);
          await entry.c.connected();
          entry.mode = (await entry.c.request('room:join', { roomId: room.roomId, lastSeq: entry.lastSeq, epoch: entry.epoch })).mode;
        }),
      );
      await Promise.all(rejoined.map(({ c, room }) => c.until(() => eventsOf(c, turnOf(room), 'turn:end').length > 0, 'turn:end', 60_000)));

      expect(rejoined.filter((r) => r.mode !== 'replay').length).toBe(0);
      const audit = totalOf(rejoined.map(({ c, room, lastSeq }) => auditSeqs(c, room.roomId, lastSeq)));
      expect({ duplicates: audit.duplicates, gaps: audit.gaps }).toEqual({ duplicates: 0, gaps: 0 });
    } finally {
      for (const { c } of [...first, ...rejoined]) c.close();
      for (const r of rooms) r.client.close();
    }
  }, 120_000);
});
