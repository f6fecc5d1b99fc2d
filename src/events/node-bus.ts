import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * Signals between the server nodes of one deployment (cancel a turn running elsewhere, gather the
 * partial text of turns in flight). Services use this port; they never see Socket.IO or Redis.
 * Embedded mode has one node: `LocalNodeBus` sends nothing and gathers nothing.
 */
export interface NodeBus {
  /** Tells every other node. */
  publish(topic: string, payload: unknown): void;
  /** Handles a topic sent by other nodes; the handler's result answers their `gather`. */
  handle(topic: string, fn: (payload: unknown) => unknown): void;
  /** Asks every other node and resolves with the answers that arrive within `timeoutMs`. */
  gather<T>(topic: string, payload: unknown, timeoutMs: number): Promise<T[]>;
  close(): Promise<void>;
}

export class LocalNodeBus implements NodeBus {
  publish(): void {}
  handle(): void {}
  async gather<T>(): Promise<T[]> {
    return [];
  }
  async close(): Promise<void> {}
}

interface BusMessage {
  from: string;
  topic: string;
  payload: unknown;
  /** Set on a request that wants answers: the asking node's reply id. */
  requestId?: string;
}

interface Reply {
  requestId: string;
  answer: unknown;
}

interface Pending {
  answers: unknown[];
  expected: number;
  done: (answers: unknown[]) => void;
}

/**
 * Scaled mode: one pub/sub channel for the deployment plus one reply channel per node. `PUBLISH`
 * returns how many nodes received a request, so `gather` knows how many answers to wait for and
 * returns as soon as all are in, or at the timeout with those that came.
 */
export class RedisNodeBus implements NodeBus {
  readonly nodeId = randomUUID();
  private readonly channel: string;
  private readonly replyChannel: string;
  private readonly handlers = new Map<string, (payload: unknown) => unknown>();
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly pub: Redis,
    private readonly sub: Redis,
    keyPrefix: string,
    private readonly onError: (err: unknown) => void,
  ) {
    this.channel = `${keyPrefix}node-bus`;
    this.replyChannel = `${keyPrefix}node-bus:${this.nodeId}`;
  }

  async start(): Promise<void> {
    this.sub.on('message', this.onMessage);
    await this.sub.subscribe(this.channel, this.replyChannel);
  }

  publish(topic: string, payload: unknown): void {
    const m: BusMessage = { from: this.nodeId, topic, payload };
    this.pub.publish(this.channel, JSON.stringify(m)).catch(this.onError);
  }

  handle(topic: string, fn: (payload: unknown) => unknown): void {
    this.handlers.set(topic, fn);
  }

  async gather<T>(topic: string, payload: unknown, timeoutMs: number): Promise<T[]> {
    const requestId = randomUUID();
    const m: BusMessage = { from: this.nodeId, topic, payload, requestId };
    return new Promise<T[]>((resolve) => {
      const timer = setTimeout(() => finish(), timeoutMs);
      timer.unref();
      const p: Pending = { answers: [], expected: Number.POSITIVE_INFINITY, done: () => undefined };
      const finish = () => {
        clearTimeout(timer);
        this.pending.delete(requestId);
        resolve(p.answers as T[]);
      };
      p.done = finish;
      this.pending.set(requestId, p);
      this.pub
        .publish(this.channel, JSON.stringify(m))
        .then((receivers) => {
          // Every node, this one included, subscribes to the channel: the others answer.
          p.expected = Math.max(0, Number(receivers) - 1);
          if (p.answers.length >= p.expected) finish();
        })
        .catch((err: unknown) => {
          this.onError(err);
          finish();
        });
    });
  }

  async close(): Promise<void> {
    this.sub.off('message', this.onMessage);
    await this.sub.unsubscribe(this.channel, this.replyChannel).catch(() => undefined);
    for (const p of this.pending.values()) p.done(p.answers);
  }

  private onMessage = (channel: string, raw: string) => {
    if (channel === this.replyChannel) return this.onReply(raw);
    if (channel !== this.channel) return;
    let m: BusMessage;
    try {
      m = JSON.parse(raw) as BusMessage;
    } catch {
      return;
    }
    if (m.from === this.nodeId) return;
    const fn = this.handlers.get(m.topic);
    if (m.requestId === undefined) {
      if (fn) this.run(fn, m.payload);
      return;
    }
    const requestId = m.requestId;
    // A node without a handler still answers, so the asker does not wait for the timeout.
    // A handler that fails answers null too: the asker waits for no one in vain.
    void Promise.resolve()
      .then(() => (fn ? fn(m.payload) : null))
      .catch((err: unknown) => {
        this.onError(err);
        return null;
      })
      .then((answer) => {
        const reply: Reply = { requestId, answer };
        return this.pub.publish(`${this.channel}:${m.from}`, JSON.stringify(reply));
      })
      .catch(this.onError);
  };

  private onReply(raw: string) {
    let r: Reply;
    try {
      r = JSON.parse(raw) as Reply;
    } catch {
      return;
    }
    const p = this.pending.get(r.requestId);
    if (!p) return;
    p.answers.push(r.answer);
    if (p.answers.length >= p.expected) p.done(p.answers);
  }

  private run(fn: (payload: unknown) => unknown, payload: unknown) {
    try {
      const r = fn(payload);
      if (r instanceof Promise) r.catch(this.onError);
    } catch (err) {
      this.onError(err);
    }
  }
}
