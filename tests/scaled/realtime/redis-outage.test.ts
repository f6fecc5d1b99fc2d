import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClient } from '../../helpers/socket-client';
import { TEST_REDIS_URL, uniqueRedisPrefix } from '../../helpers/services';
import { startTestApp, type TestApp } from '../../helpers/test-app';

// Redis connections dropping under a running node: no crash, and room events flow again after.
describe('a node survives its Redis connections being killed', () => {
  let app: TestApp;
  let admin: Redis;
  const prefix = uniqueRedisPrefix();
  beforeAll(async () => {
    app = await startTestApp({ db: 'postgres', redis: true, redisKeyPrefix: prefix });
    admin = new Redis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    await app?.close();
    await admin?.quit();
  });

  async function killOurConnections(): Promise<number> {
    const list = (await admin.client('LIST')) as string;
    const ids = list
      .split('\n')
      .filter((line) => line.includes(`name=pantheon:${prefix}`))
      .map((line) => line.match(/\bid=(\d+)/)?.[1])
      .filter((id): id is string => Boolean(id));
    for (const id of ids) await admin.client('KILL', 'ID', id);
    return ids.length;
  }

  it('keeps serving, and delivers room events again once Redis is back', async () => {
    const owner = app.token('resilient');
    const roomId = (await app.api(owner, 'POST', '/rooms', { name: 'Outage' })).body.id;
    const c = new TestClient(app.url, owner);
    await c.connected();
    try {
      await c.request('room:join', { roomId });
      expect(await killOurConnections()).toBeGreaterThanOrEqual(3);
      // Publishing while connections come back must neither throw out of the process nor be lost.
      const published = await app.roomEvents.broadcaster.publish(roomId, 'room:updated', { name: 'after-outage' });
      await c.until(() => c.seqs(roomId).includes(published.seq), 'event after outage');
      expect((await app.api(undefined, 'GET', '/health')).status).toBe(200);
      expect(c.socket.connected).toBe(true);
    } finally {
      c.close();
    }
  });
});
