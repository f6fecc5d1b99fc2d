import { describe, expect, it } from 'vitest';
import { InProcessJobQueue } from '../../../src/files/queue/in-process-queue';
import { jobQueueSuite } from '../../helpers/job-queue-suite';

jobQueueSuite('in-process', async (opts) => ({ queue: new InProcessJobQueue(opts) }));

describe('InProcessJobQueue specifics', () => {
  it('runs at most `concurrency` jobs at a time', async () => {
    const queue = new InProcessJobQueue({ concurrency: 2 });
    let running = 0;
    let peak = 0;
    let done = 0;
    const allDone = new Promise<void>((resolve) =>
      queue.process(async () => {
        peak = Math.max(peak, ++running);
        await new Promise((r) => setImmediate(r));
        running--;
        if (++done === 6) resolve();
      }),
    );
    for (let i = 0; i < 6; i++) await queue.enqueue({ fileId: `f${i}`, roomId: 'r' });
    await allDone;
    await queue.close();
    expect(peak).toBe(2);
  });

  it('refuses jobs after close() with UNAVAILABLE', async () => {
    const queue = new InProcessJobQueue();
    await queue.close();
    await expect(queue.enqueue({ fileId: 'f', roomId: 'r' })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
});
