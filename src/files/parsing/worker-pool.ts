import { Worker } from 'node:worker_threads';
import { ParseError } from '../parse-error';
import { fromWorkerError, type WorkerMessage, type WorkerRunOptions, type WorkerTask } from './worker-task';

const ENTRY = new URL('./pool-entry.mjs', import.meta.url);

export interface WorkerPoolOptions {
  /** Threads at most; tasks beyond wait for one to free up. */
  size: number;
  /**
   * V8 old-generation heap of each thread, and separately what a running task may hold in
   * ArrayBuffers outside that heap (watched, see MEMORY_WATCH_MS).
   */
  memoryMb: number;
  /** A thread is retired after this many tasks, so whatever one parse leaked cannot pile up. */
  maxTasksPerWorker: number;
}

interface Running {
  id: number;
  onMessage(msg: WorkerMessage): void;
  onFailure(err: ParseError): void;
}

interface Slot {
  worker: Worker;
  tasks: number;
  current?: Running;
  dead: boolean;
}

/**
 * How often a running task's memory outside the heap is read. A thread's resourceLimits cap only
 * its JS heap; ArrayBuffers (what pdf.js inflates streams into, what zip readers inflate into)
 * live outside it and could take the process's memory. Reading them is an interrupt in the
 * thread, answered even inside a long synchronous loop, so a task past the cap is stopped within
 * about this interval of crossing it.
 */
const MEMORY_WATCH_MS = 20;

/**
 * Warm parse threads, reused: starting a thread and loading pdf.js costs far more than parsing a
 * small file. The limits stay those of a fresh thread: a task past its time limit, cancelled, out
 * of memory or exiting takes its thread down with it (the next task gets a new one), and every
 * thread is retired after `maxTasksPerWorker` tasks. Idle threads do not keep the process alive.
 */
export class WorkerPool {
  private readonly slots = new Set<Slot>();
  private readonly idle: Slot[] = [];
  private readonly waiting: { resolve: (slot: Slot) => void; reject: (err: Error) => void }[] = [];
  private nextId = 1;
  private closed = false;

  constructor(private readonly opts: WorkerPoolOptions) {}

  /** Threads alive now (busy or idle). */
  get threads(): number {
    return this.slots.size;
  }

  async run<R>(task: WorkerTask<unknown>, timeoutMs: number, o: WorkerRunOptions = {}): Promise<R> {
    if (this.closed) throw new ParseError('PARSE_WORKER_FAILED', 'the parse pool is closed', { retryable: true });
    if (o.signal?.aborted) throw aborted();
    const slot = await this.acquire();
    if (o.signal?.aborted) {
      this.release(slot, true);
      throw aborted();
    }
    return new Promise<R>((resolve, reject) => {
      const id = this.nextId++;
      let done = false;
      const finish = (keepThread: boolean, outcome: () => void) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        clearInterval(watch);
        o.signal?.removeEventListener('abort', onAbort);
        slot.current = undefined;
        this.release(slot, keepThread);
        outcome();
      };
      const timer = setTimeout(
        () => finish(false, () => reject(new ParseError('PARSE_TIMEOUT', `the parse took longer than ${timeoutMs} ms`))),
        timeoutMs,
      );
      const limitBytes = this.opts.memoryMb * 1024 * 1024;
      const watch = setInterval(() => {
        slot.worker.getHeapStatistics().then(
          (h) => {
            if (h.external_memory > limitBytes) {
              finish(false, () => reject(new ParseError('PARSE_MEMORY', `the parse held more than ${this.opts.memoryMb} MB in buffers`)));
            }
          },
          () => undefined, // the thread is gone: its exit reports that
        );
      }, MEMORY_WATCH_MS);
      const onAbort = () => finish(false, () => reject(aborted()));
      o.signal?.addEventListener('abort', onAbort, { once: true });
      slot.current = {
        id,
        onMessage: (msg) => {
          if (msg.type === 'progress') {
            if (!done) o.onProgress?.(msg.fraction);
          } else if (msg.type === 'result') {
            finish(true, () => resolve(msg.result as R));
          } else {
            const e = msg.error;
            // A task that threw leaves a healthy thread: keep it.
            finish(true, () =>
              reject('parseError' in e ? ParseError.fromJSON(e.parseError) : new ParseError('PARSE_FAILED', `the parse failed: ${e.message}`)),
            );
          }
        },
        onFailure: (err) => finish(false, () => reject(err)),
      };
      slot.worker.ref();
      slot.worker.postMessage({ id, moduleUrl: task.moduleUrl, exportName: task.exportName, input: task.input }, task.transferList ?? []);
    });
  }

  private acquire(): Promise<Slot> {
    const slot = this.idle.pop();
    if (slot) return Promise.resolve(slot);
    if (this.slots.size < this.opts.size) return Promise.resolve(this.spawn());
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private spawn(): Slot {
    const worker = new Worker(ENTRY, {
      // Not the parent's flags: under `tsx` they would load tsx's loader into the thread, which
      // transforms node_modules too (10x slower start); worker-ts-hooks.mjs loads only our .ts.
      execArgv: [],
      resourceLimits: { maxOldGenerationSizeMb: this.opts.memoryMb },
    });
    const slot: Slot = { worker, tasks: 0, dead: false };
    worker.on('message', (msg: WorkerMessage & { id: number }) => {
      if (slot.current && msg.id === slot.current.id) slot.current.onMessage(msg);
    });
    worker.on('error', (err) => {
      slot.dead = true;
      slot.current?.onFailure(fromWorkerError(err));
    });
    worker.on('exit', (code) => {
      slot.dead = true;
      slot.current?.onFailure(new ParseError('PARSE_WORKER_FAILED', `the parse worker exited (code ${code}) without an answer`, { retryable: true }));
      this.forget(slot);
    });
    this.slots.add(slot);
    return slot;
  }

  /** Back to the pool after a task, or retired (failed, timed out, or done its share of tasks). */
  private release(slot: Slot, keepThread: boolean) {
    slot.tasks++;
    if (!keepThread || slot.dead || this.closed || slot.tasks >= this.opts.maxTasksPerWorker) {
      this.forget(slot);
      void slot.worker.terminate();
      const next = this.waiting.shift();
      if (next && !this.closed) next.resolve(this.spawn());
      return;
    }
    const next = this.waiting.shift();
    if (next) {
      next.resolve(slot);
      return;
    }
    slot.worker.unref();
    this.idle.push(slot);
  }

  private forget(slot: Slot) {
    this.slots.delete(slot);
    const i = this.idle.indexOf(slot);
    if (i >= 0) this.idle.splice(i, 1);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w.reject(new ParseError('PARSE_WORKER_FAILED', 'the parse pool is closed', { retryable: true }));
    const all = [...this.slots];
    this.slots.clear();
    this.idle.length = 0;
    await Promise.all(all.map((s) => s.worker.terminate()));
  }
}

const aborted = () => new ParseError('PARSE_ABORTED', 'the parse was cancelled', { retryable: true });
