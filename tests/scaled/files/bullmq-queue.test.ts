import { describe, expect, it } from 'vitest';
import { BullMqJobQueue } from '../../../src/files/queue/bullmq-queue';
import { jobQueueSuite } from '../../helpers/job-queue-suite';
import { TEST_REDIS_URL, uniqueRedisPrefix } from '../../helpers/services';
import { deleteRedisKeys } from './redis-cleanup';

jobQueueSuite('BullMQ', async (opts) => {
  const keyPrefix = uniqueRedisPrefix();
  return {
    queue: new BullMqJobQueue({ redisUrl: TEST_REDIS_URL, keyPrefix, ...opts }),
    cleanup: async () => {
      await deleteRedisKeys(keyPrefix);
    },
  };
});

describe('BullMqJobQueue specifics', () => {
  it('keeps its keys under the deployment prefix', async () => {
    const keyPrefix = uniqueRedisPrefix();
    const queue = new BullMqJobQueue({ redisUrl: TEST_REDIS_URL, keyPrefix });
    try {
      await queue.enqueue({ fileId: '00000000-0000-4000-8000-000000000001', roomId: 'r' });
    } finally {
      await queue.close();
    }
    // Only keys under this test's prefix exist for the job, and cleanup finds them there.
    expect(await deleteRedisKeys(`${keyPrefix}bull:files:`)).toBeGreaterThan(0);
    await deleteRedisKeys(keyPrefix);
  });

  it('answers UNAVAILABLE instead of hanging when Redis cannot be reached, and its worker does not crash', async () => {
    const queue = new BullMqJobQueue({ redisUrl: 'redis://127.0.0.1:1', keyPrefix: uniqueRedisPrefix(), enqueueTimeoutMs: 300, healthTimeoutMs: 300, closeTimeoutMs: 300 });
    // Connection errors of the producer and the worker are emitted while this test runs: any
    // unhandled 'error' event would fail the run.
    queue.process(async () => undefined);
    try {
      await expect(queue.health()).rejects.toThrow();
      await expect(queue.enqueue({ fileId: '00000000-0000-4000-8000-000000000002', roomId: 'r' })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    } finally {
      await queue.close(); // bounded, even though a graceful close would wait for Redis forever
    }
  });
});
