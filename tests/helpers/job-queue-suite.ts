/**
 * The behaviour every JobQueue implementation shares. Each implementation's test file calls
 * `jobQueueSuite(name, factory)`; the factory builds a fresh, isolated queue per test.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FileJob, JobAttempt, JobQueue } from '../../src/files/queue/job-queue';
import { ParseError } from '../../src/files/parse-error';

export interface QueueUnderTest {
  queue: JobQueue;
  /** Removes whatever the queue left behind (keys, timers); runs after close(). */
  cleanup?: () => Promise<void>;
}

export type QueueFactory = (opts: { attempts: number; backoffMs: number }) => Promise<QueueUnderTest>;

type Event =
  | { type: 'run'; job: FileJob; attempt: JobAttempt }
  | { type: 'completed'; job: FileJob }
  | { type: 'failed'; job: FileJob; error: unknown; attempt: number; final: boolean };

/** Records what a queue does and lets a test wait for a condition, woken by each new event. */
class Recorder {
  readonly events: Event[] = [];
  private waiters: { check: () => boolean; resolve: () => void }[] = [];

  push(e: Event) {
    this.events.push(e);
    this.waiters = this.waiters.filter((w) => (w.check() ? (w.resolve(), false) : true));
  }

  of<T extends Event['type']>(type: T) {
    return this.events.filter((e): e is Extract<Event, { type: T }> => e.type === type);
  }

  until(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; events: ${JSON.stringify(this.events)}`)), timeoutMs);
      this.waiters.push({
        check,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }
}

const gate = () => {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { open, opened };
};

const job = (n: number | string): FileJob => ({ fileId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`, roomId: 'room-1' });

export function jobQueueSuite(name: string, factory: QueueFactory) {
  describe(`JobQueue contract: ${name}`, () => {
    const open: QueueUnderTest[] = [];
    afterEach(async () => {
      for (const q of open.splice(0)) {
        await q.queue.close().catch(() => undefined);
        await q.cleanup?.();
      }
    });

    async function start(handler: (job: FileJob, attempt: JobAttempt) => Promise<void>, opts = { attempts: 3, backoffMs: 20 }) {
      const made = await factory(opts);
      open.push(made);
      const rec = new Recorder();
      const begin = () =>
        made.queue.process(
          async (j, a) => {
            rec.push({ type: 'run', job: j, attempt: a });
            await handler(j, a);
          },
          {
            completed: (j) => rec.push({ type: 'completed', job: j }),
            failed: (j, error, info) => rec.push({ type: 'failed', job: j, error, attempt: info.attempt, final: info.final }),
          },
        );
      return { queue: made.queue, rec, begin };
    }

    it('runs an enqueued job with its payload and reports it completed', async () => {
      const { queue, rec, begin } = await start(async () => undefined);
      begin();
      await queue.enqueue(job(1));
      await rec.until(() => rec.of('completed').length === 1, 'completion');
      expect(rec.of('run')).toEqual([{ type: 'run', job: job(1), attempt: { attempt: 1, finalAttempt: false } }]);
      expect(rec.of('completed')[0]!.job).toEqual(job(1));
    });

    it('keeps jobs enqueued before process() and runs each once', async () => {
      const { queue, rec, begin } = await start(async () => undefined);
      await queue.enqueue(job(1));
      await queue.enqueue(job(2));
      begin();
      await rec.until(() => rec.of('completed').length === 2, 'two completions');
      expect(rec.of('run').map((e) => e.job.fileId).sort()).toEqual([job(1).fileId, job(2).fileId]);
    });

    it('runs a file id once while it is waiting or running', async () => {
      const release = gate();
      const { queue, rec, begin } = await start(() => release.opened);
      await queue.enqueue(job(7));
      await queue.enqueue(job(7)); // still waiting
      begin();
      await rec.until(() => rec.of('run').length === 1, 'the run to start');
      await queue.enqueue(job(7)); // running now
      release.open();
      await rec.until(() => rec.of('completed').length === 1, 'completion');
      await queue.enqueue(job(8)); // a later job runs after any duplicate would have
      await rec.until(() => rec.of('completed').length === 2, 'the second job');
      expect(rec.of('run').filter((e) => e.job.fileId === job(7).fileId)).toHaveLength(1);
    });

    it('retries a transient error with backoff until it succeeds', async () => {
      const { queue, rec, begin } = await start(async (_j, a) => {
        if (a.attempt < 3) throw new Error(`database unavailable (attempt ${a.attempt})`);
      });
      begin();
      await queue.enqueue(job(1));
      await rec.until(() => rec.of('completed').length === 1, 'completion after retries');
      expect(rec.of('run').map((e) => e.attempt)).toEqual([
        { attempt: 1, finalAttempt: false },
        { attempt: 2, finalAttempt: false },
        { attempt: 3, finalAttempt: true },
      ]);
      expect(rec.of('failed').map((e) => [e.attempt, e.final])).toEqual([
        [1, false],
        [2, false],
      ]);
    });

    it('fails a non-retryable ParseError at once, keeping its code', async () => {
      const { queue, rec, begin } = await start(async () => {
        throw new ParseError('PDF_ENCRYPTED', 'the PDF is password-protected');
      });
      begin();
      await queue.enqueue(job(1));
      await rec.until(() => rec.of('failed').some((e) => e.final), 'the final failure');
      expect(rec.of('run')).toHaveLength(1);
      const failed = rec.of('failed');
      expect(failed).toHaveLength(1);
      expect(failed[0]).toMatchObject({ attempt: 1, final: true, error: { code: 'PDF_ENCRYPTED' } });
    });

    it('retries a retryable ParseError', async () => {
      const { queue, rec, begin } = await start(async (_j, a) => {
        if (a.attempt === 1) throw new ParseError('PARSE_WORKER_FAILED', 'thread died', { retryable: true });
      });
      begin();
      await queue.enqueue(job(1));
      await rec.until(() => rec.of('completed').length === 1, 'completion on the retry');
      expect(rec.of('run')).toHaveLength(2);
    });

    it('gives up after the last attempt and says it is final', async () => {
      const { queue, rec, begin } = await start(async () => {
        throw new Error('still down');
      });
      begin();
      await queue.enqueue(job(1));
      await rec.until(() => rec.of('failed').some((e) => e.final), 'the final failure');
      expect(rec.of('run').map((e) => e.attempt.attempt)).toEqual([1, 2, 3]);
      expect(rec.of('failed').map((e) => [e.attempt, e.final])).toEqual([
        [1, false],
        [2, false],
        [3, true],
      ]);
      expect(rec.of('completed')).toHaveLength(0);
    });

    it('runs many distinct jobs each exactly once', async () => {
      const { queue, rec, begin } = await start(async () => undefined);
      begin();
      const ids = Array.from({ length: 12 }, (_, i) => job(100 + i));
      await Promise.all(ids.map((j) => queue.enqueue(j)));
      await rec.until(() => rec.of('completed').length === ids.length, 'all completions');
      const counts = new Map<string, number>();
      for (const e of rec.of('run')) counts.set(e.job.fileId, (counts.get(e.job.fileId) ?? 0) + 1);
      expect([...counts.values()]).toEqual(ids.map(() => 1));
    });

    it('is healthy while open; close() waits for the running job, then health fails', async () => {
      const release = gate();
      let finished = false;
      const { queue, rec, begin } = await start(async () => {
        await release.opened;
        finished = true;
      });
      await expect(queue.health()).resolves.toBeUndefined();
      begin();
      await queue.enqueue(job(1));
      await rec.until(() => rec.of('run').length === 1, 'the run to start');
      const closing = queue.close().then(() => finished);
      release.open();
      await expect(closing).resolves.toBe(true);
      await expect(queue.health()).rejects.toThrow();
    });
  });
}
