import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PantheonClient } from '../../src/client';
import { Message, Turn } from '../../src/db/entities';
import { within } from '../helpers/deadline';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai';
import { startOwnRedis, type OwnRedis } from '../helpers/own-redis';
import { RoomView } from '../helpers/room-view';
import { uniqueRedisPrefix } from '../helpers/services';
import { startTestApp, type TestApp } from '../helpers/test-app';
import { answerAs, fakeModelsEnv } from '../helpers/turn-kit';

const ROOMS = 10;
const SESSIONS_PER_ROOM = 2;
const CHUNKS = 200;

// Redis restarts with nothing (no persistence) while 20 turns stream on two nodes: every room's
// seq begins at 1 again, on a new epoch. Nodes and clients must take the new events as new.
describe('Redis restarted empty while turns stream on two nodes', () => {
  let fake: FakeOpenAI;
  let redis: OwnRedis;
  let nodes: TestApp[] = [];

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    redis = await startOwnRedis();
    const redisKeyPrefix = uniqueRedisPrefix();
    const env = { ...fakeModelsEnv(fake), REDIS_URL: redis.url };
    const a = await startTestApp({ db: 'postgres', redis: true, redisKeyPrefix, env });
    const b = await startTestApp({ db: 'postgres', redis: true, redisKeyPrefix, env, databaseUrl: a.databaseUrl });
    nodes = [a, b];
  });
  afterAll(async () => {
    for (const n of [...nodes].reverse()) await n.close();
    await redis?.stop();
    await fake?.close();
  });

  it(`gives every client every turn's full text and one end, live or by rejoining (${ROOMS * SESSIONS_PER_ROOM} turns)`, async () => {
    fake.setResponder(answerAs({ Writer: () => ({ text: Array.from({ length: CHUNKS }, (_, i) => ({ text: `w${i} `, delayMs: 15 })) }) }));
    const [a] = nodes as [TestApp, TestApp];
    const clients: PantheonClient[] = [];
    const rooms: { roomId: string; sessionIds: string[]; views: RoomView[]; clients: PantheonClient[]; turnIds: string[] }[] = [];
    try {
      for (let r = 0; r < ROOMS; r++) {
        const owner = a.token(`owner-${r}`, { name: `Owner ${r}` });
        const roomId = (await a.api(owner, 'POST', '/rooms', { name: `Restart ${r}`, mode: 'manual' })).body.id as string;
        expect((await a.api(owner, 'POST', `/rooms/${roomId}/agents`, { key: 'writer', name: 'Writer' })).status).toBe(201);
        const sessionIds: string[] = [];
        for (let s = 0; s < SESSIONS_PER_ROOM; s++) sessionIds.push((await a.api(owner, 'POST', `/rooms/${roomId}/sessions`, { title: `s${s}` })).body.id);
        // One client of the room on each node.
        const pair = nodes.map((n) => new PantheonClient(n.url, { token: owner, socket: { reconnectionDelay: 50, reconnectionDelayMax: 200 } }));
        clients.push(...pair);
        const views = pair.map((c) => new RoomView(c, roomId));
        for (const c of pair) await c.join(roomId);
        rooms.push({ roomId, sessionIds, views, clients: pair, turnIds: [] });
      }
      // Every turn starts at once, through both nodes.
      await Promise.all(
        rooms.map(async (r) => {
          const sent = r.sessionIds.map((sessionId, s) => r.clients[s % 2]!.send({ roomId: r.roomId, sessionId, content: '@writer go' }));
          r.turnIds = (await Promise.all(sent)).map((x) => x.turnId);
        }),
      );
      const epochsBefore = clients.map((c, i) => c.epochOf(rooms[Math.floor(i / 2)]!.roomId));
      const streamed = (v: RoomView, turnId: string, n: number) => (v.textOf(turnId, 'writer') ?? '').includes(`w${n} `);
      await within(30_000, 'every turn streaming', Promise.all(rooms.flatMap((r) => r.views.flatMap((v) => r.turnIds.map((t) => v.until(() => streamed(v, t, 5)))))));
      // Turns are mid-stream: none has reached its last chunk yet.
      expect(rooms.some((r) => r.views.some((v) => r.turnIds.some((t) => streamed(v, t, CHUNKS - 1))))).toBe(false);

      await redis.restartEmpty();

      await within(90_000, 'every turn ended on every client', Promise.all(rooms.flatMap((r) => r.views.flatMap((v) => r.turnIds.map((t) => v.until(() => v.ended.has(t)))))));

      const em = a.orm.em.fork();
      const problems: string[] = [];
      for (const r of rooms) {
        for (const turnId of r.turnIds) {
          const turn = await em.findOneOrFail(Turn, { id: turnId });
          const committed = await em.findOneOrFail(Message, { turn: turnId, authorType: 'agent' });
          expect(turn.status).toBe('completed');
          expect(committed.content).toContain(`w${CHUNKS - 1}`);
          for (const [i, v] of r.views.entries()) {
            const who = `room ${rooms.indexOf(r)} client ${i} turn ${turnId}`;
            const text = v.textOf(turnId, 'writer') ?? '';
            if (text !== committed.content) problems.push(`${who}: ${text.length} characters where ${committed.content.length} were committed`);
            if ((v.endEvents.get(turnId) ?? 0) > 1) problems.push(`${who}: ${v.endEvents.get(turnId)} turn:end`);
            if (v.ended.get(turnId) !== 'completed') problems.push(`${who}: ended ${v.ended.get(turnId)}`);
          }
        }
      }
      expect(problems).toEqual([]);
      // The restart happened mid-stream: every client is now on a new epoch of its room.
      expect(clients.filter((c, i) => c.epochOf(rooms[Math.floor(i / 2)]!.roomId) === epochsBefore[i])).toHaveLength(0);
    } finally {
      for (const c of clients) c.close();
    }
  }, 180_000);
});
