import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL, uniqueRedisPrefix } from '../../helpers/services';
import { TestClient } from '../../helpers/socket-client';
import { startTwoNodes, type TestApp } from '../../helpers/test-app';

// Deleting a room on node A: its members' sockets on both nodes get `room:deleted` and leave it,
// and the room's Redis keys (head, replay log, presence) are gone.
describe('deleting a room across two nodes', () => {
  let a: TestApp;
  let b: TestApp;
  let redis: Redis;
  const prefix = uniqueRedisPrefix();
  beforeAll(async () => {
    ({ a, b } = await startTwoNodes({ redisKeyPrefix: prefix }));
    redis = new Redis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    redis?.disconnect();
    await b?.close();
    await a?.close();
  });

  const keysOf = async (roomId: string) => {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*${roomId}*`, 'COUNT', 500);
      cursor = next;
      found.push(...keys);
    } while (cursor !== '0');
    return found.sort();
  };

  it('tells every member socket on both nodes, and leaves no Redis key of the room', async () => {
    const owner = a.token('del-owner', { name: 'Owner' });
    const roomId = (await a.api(owner, 'POST', '/rooms', { name: 'Doomed' })).body.id as string;
    expect((await a.api(owner, 'POST', `/rooms/${roomId}/members`, { sub: 'del-viewer', role: 'viewer' })).status).toBe(201);
    const onA = new TestClient(a.url, owner);
    const onB = new TestClient(b.url, b.token('del-viewer', { name: 'Vi' }));
    const keeper = (await a.api(owner, 'POST', '/rooms', { name: 'Kept' })).body.id as string;
    try {
      for (const c of [onA, onB]) {
        await c.connected();
        expect((await c.request('room:join', { roomId })).ok).toBe(true);
      }
      await a.api(owner, 'PATCH', `/rooms/${roomId}`, { name: 'Doomed soon' });
      await onB.until(() => onB.roomEvents(roomId, 'room:updated').length > 0, 'room:updated on B');
      expect((await keysOf(roomId)).length).toBeGreaterThan(0);

      expect((await a.api(owner, 'DELETE', `/rooms/${roomId}`)).status).toBe(204);
      for (const c of [onA, onB]) await c.until(() => c.roomEvents(roomId, 'room:deleted').length === 1, 'room:deleted');
      // The keys go once room:deleted is out; wait for that without sleeping blindly.
      const deadline = Date.now() + 10_000;
      while ((await keysOf(roomId)).length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(await keysOf(roomId)).toEqual([]);
      // The sockets left the room and stay connected; the room is gone for them.
      expect(onB.socket.connected).toBe(true);
      expect((await onB.request('room:join', { roomId })).error.code).toBe('ROOM_NOT_FOUND');
      // Leaving (closing the sockets) announces nothing that would bring keys back.
      onA.close();
      onB.close();
      await a.api(owner, 'PATCH', `/rooms/${keeper}`, { name: 'marker' });
      expect(await keysOf(roomId)).toEqual([]);
    } finally {
      onA.close();
      onB.close();
    }
  });
});
