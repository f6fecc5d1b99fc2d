import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { RedisBroadcaster } from '../../../src/events/redis-broadcaster';
import { RoomEventRelay } from '../../../src/events/room-event-relay';
import { roomEventsSuite } from '../../helpers/room-events-suite';
import { TEST_REDIS_URL, uniqueRedisPrefix } from '../../helpers/services';
import { deleteRedisKeys } from '../files/redis-cleanup';

const logKey = (prefix: string, roomId: string) => `${prefix}room:{${roomId}}:log`;

/** Polls until Redis has dropped `key` (an expiry ran); fails after `timeoutMs`. */
async function untilGone(redis: Redis, key: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (await redis.exists(key)) {
    if (Date.now() > deadline) throw new Error(`${key} still exists after ${timeoutMs} ms`);
    await sleep(25);
  }
}

// A node: a broadcaster on one connection and a relay on a subscriber connection that delivers to
// the suite. Other publishers (another node, a file worker) use connections of their own.
roomEventsSuite('redis', async ({ maxEvents, ttlSeconds, deliver }) => {
  const keyPrefix = uniqueRedisPrefix();
  const pub = new Redis(TEST_REDIS_URL);
  const sub = new Redis(TEST_REDIS_URL);
  const other = new Redis(TEST_REDIS_URL);
  const rb = new RedisBroadcaster(pub, { keyPrefix, maxEvents, ttlSeconds });
  const otherRb = new RedisBroadcaster(other, { keyPrefix, maxEvents, ttlSeconds });
  const errors: unknown[] = [];
  const relay = new RoomEventRelay(sub, keyPrefix, rb, deliver, () => [], (err) => errors.push(err));
  await relay.start();
  return {
    broadcaster: rb,
    replayLog: rb,
    otherPublishers: [otherRb],
    async outliveTtl(roomId) {
      // The stream carries the TTL the broadcaster was given; let it run out now rather than wait.
      const key = logKey(keyPrefix, roomId);
      const ttl = await pub.ttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(ttlSeconds);
      await pub.pexpire(key, 1);
      await untilGone(pub, key);
    },
    // What an empty restart leaves: none of the deployment's keys (the relay stays subscribed).
    async restartEmpty() {
      await deleteRedisKeys(keyPrefix);
      return { broadcaster: rb, replayLog: rb, otherPublishers: [otherRb] };
    },
    async close() {
      await relay.stop();
      await Promise.all([rb.close(), otherRb.close()]);
      await Promise.all([pub.quit(), sub.quit(), other.quit()]);
      await deleteRedisKeys(keyPrefix);
      expect(errors).toEqual([]);
    },
  };
});

describe('RedisBroadcaster specifics', () => {
  it('lets the room log expire on its own after ttlSeconds without events, keeping the seq counter', async () => {
    const keyPrefix = uniqueRedisPrefix();
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const rb = new RedisBroadcaster(redis, { keyPrefix, maxEvents: 100, ttlSeconds: 1 });
      const room = randomUUID();
      await rb.publish(room, 'room:updated', { name: 'short-lived' });
      await untilGone(redis, logKey(keyPrefix, room));
      expect(await rb.since(room, 0)).toMatchObject({ gap: true, seq: 1 });
      expect((await rb.publish(room, 'room:updated', { name: 'next' })).seq).toBe(2);
    } finally {
      await redis.quit();
      await deleteRedisKeys(keyPrefix);
    }
  });

  it('renews the log TTL on every publish', async () => {
    const keyPrefix = uniqueRedisPrefix();
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const rb = new RedisBroadcaster(redis, { keyPrefix, maxEvents: 100, ttlSeconds: 3600 });
      const room = randomUUID();
      await rb.publish(room, 'room:updated', { name: 'a' });
      await redis.expire(logKey(keyPrefix, room), 5);
      await rb.publish(room, 'room:updated', { name: 'b' });
      expect(await redis.ttl(logKey(keyPrefix, room))).toBeGreaterThan(5);
    } finally {
      await redis.quit();
      await deleteRedisKeys(keyPrefix);
    }
  });

  it('relay: an event that jumps past the last one delivered first pulls the missed ones from the stream', async () => {
    const keyPrefix = uniqueRedisPrefix();
    const pub = new Redis(TEST_REDIS_URL);
    const sub = new Redis(TEST_REDIS_URL);
    const rb = new RedisBroadcaster(pub, { keyPrefix, maxEvents: 100, ttlSeconds: 3600 });
    const seqs: number[] = [];
    let wake: (() => void) | undefined;
    const relay = new RoomEventRelay(sub, keyPrefix, rb, (_r, _e, d) => (seqs.push(d.seq), wake?.()), () => [], (err) => {
      throw err;
    });
    const delivered = (n: number) =>
      new Promise<void>((resolve) => {
        wake = () => seqs.length >= n && resolve();
        wake();
      });
    try {
      await relay.start();
      const room = randomUUID();
      await rb.publish(room, 'room:updated', { name: 'seen' });
      await delivered(1);
      await relay.stop(); // seq 2 goes out while this node does not listen
      await rb.publish(room, 'room:updated', { name: 'missed' });
      await relay.start();
      await rb.publish(room, 'room:updated', { name: 'after' });
      await delivered(3);
      expect(seqs).toEqual([1, 2, 3]);
    } finally {
      await relay.stop();
      await Promise.all([pub.quit(), sub.quit()]);
      await deleteRedisKeys(keyPrefix);
    }
  });

  it('relay: follows a room it has not heard from the log’s head: what the log held is not delivered, what comes after is', async () => {
    const keyPrefix = uniqueRedisPrefix();
    const pub = new Redis(TEST_REDIS_URL);
    const sub = new Redis(TEST_REDIS_URL);
    const rb = new RedisBroadcaster(pub, { keyPrefix, maxEvents: 100, ttlSeconds: 3600 });
    const seqs: number[] = [];
    let wake: (() => void) | undefined;
    const relay = new RoomEventRelay(sub, keyPrefix, rb, (_r, _e, d) => (seqs.push(d.seq), wake?.()), () => [], (err) => {
      throw err;
    });
    try {
      const room = randomUUID();
      for (const name of ['a', 'b', 'c']) await rb.publish(room, 'room:updated', { name });
      await relay.start();
      expect(relay.delivered(room)).toBeUndefined();
      await relay.follow(room);
      expect(relay.delivered(room)).toEqual({ epoch: (await rb.head(room)).epoch, seq: 3 });
      const delivered = new Promise<void>((resolve) => (wake = resolve));
      await rb.publish(room, 'room:updated', { name: 'd' });
      await delivered;
      expect(seqs).toEqual([4]);
      expect(relay.delivered(room)?.seq).toBe(4);
    } finally {
      await relay.stop();
      await Promise.all([pub.quit(), sub.quit()]);
      await deleteRedisKeys(keyPrefix);
    }
  });

  it('relay: a hole the stream no longer holds does not stall the room: the next event goes out, and clients see the jump', async () => {
    const keyPrefix = uniqueRedisPrefix();
    const pub = new Redis(TEST_REDIS_URL);
    const sub = new Redis(TEST_REDIS_URL);
    const rb = new RedisBroadcaster(pub, { keyPrefix, maxEvents: 100, ttlSeconds: 3600 });
    const seqs: number[] = [];
    let wake: (() => void) | undefined;
    const relay = new RoomEventRelay(sub, keyPrefix, rb, (_r, _e, d) => (seqs.push(d.seq), wake?.()), () => [], (err) => {
      throw err;
    });
    const delivered = (n: number) =>
      new Promise<void>((resolve) => {
        wake = () => seqs.length >= n && resolve();
        wake();
      });
    try {
      await relay.start();
      const room = randomUUID();
      await rb.publish(room, 'room:updated', { name: 'seen' });
      await delivered(1);
      await relay.stop(); // seqs 2 and 3 go out while this node does not listen, and the log loses them
      await rb.publish(room, 'room:updated', { name: 'missed' });
      await rb.publish(room, 'room:updated', { name: 'missed too' });
      await pub.del(logKey(keyPrefix, room));
      await relay.start();
      await rb.publish(room, 'room:updated', { name: 'after' });
      await rb.publish(room, 'room:updated', { name: 'and on' });
      await delivered(3);
      expect(seqs).toEqual([1, 4, 5]);
    } finally {
      await relay.stop();
      await Promise.all([pub.quit(), sub.quit()]);
      await deleteRedisKeys(keyPrefix);
    }
  });
});
