import type { Namespace } from 'socket.io';

/**
 * What this batcher uses of a socket's engine.io transport: `writable` (public: false while a
 * write is in flight; engine.io queues packets meanwhile), the `ready` event (engine.io's own
 * signal to flush that queue) and, for websockets, the TCP socket under the `ws` connection.
 */
interface EngineTransport {
  readonly name: string;
  writable: boolean;
  emit(event: 'ready'): boolean;
  readonly socket?: { readonly _socket?: { cork?(): void; uncork?(): void } };
}

/**
 * Writes every frame a websocket gets within one event-loop turn in one TCP write.
 *
 * Room events come in groups (`message:created` and `turn:queued`; `turn:started`, `turn:plan`
 * and `agent:start`; `budget:updated` and `turn:end`), each a broadcast to every socket of the
 * room. Sent one by one, a group costs each socket two or three writes (the first at once, the
 * rest when it completes), and the receiving client wakes for each. Holding a room's transports
 * before the first broadcast (engine.io queues their packets, as it does while a write is in
 * flight) and letting them go once the event loop's callbacks and microtasks have run, with the
 * TCP socket corked, makes one write per socket per group. Order is unchanged: every packet still
 * enters the socket's queue when it is emitted.
 *
 * The release waits for the `setImmediate` after next, not the next: a write that other code began
 * in the same turn and sends from a callback of its own goes out first. The one that matters is
 * the model request that follows `agent:start`: undici sends its headers from a later callback,
 * and a release queued before it made the request wait while the server wrote the group to every
 * socket (about 1.8 ms in a room of 200, measured with undici's diagnostics channels).
 *
 * An `agent:delta` holds only to the end of its task (`queueMicrotask`): what is raised with it
 * (an agent's last text and its `agent:end`, a flush before `tool:start`, deltas of one network
 * read) leaves in its write, and a lone delta waits for nothing else. Holding deltas to the end of
 * the event-loop turn made token latency worse (the bench's p99 at DELTA_FLUSH_MS=0 went from 0.9x
 * to 1.5x bare): the other callbacks of the turn ran first.
 *
 * A volatile emit (typing) to a held transport is dropped, as it is while a write is in flight
 * (which, without batching, lasts until the next tick after any frame): typing stays best-effort.
 */
export class WriteBatcher {
  private held: EngineTransport[] = [];
  /** Channels held in this event-loop turn: their later broadcasts in it need no new look. */
  private readonly channels = new Set<string>();
  /** A release at the end of this event-loop turn is due (the setImmediate after next). */
  private scheduled = false;
  /** A release at the end of the current task is due (queueMicrotask). */
  private taskScheduled = false;

  /**
   * Holds the writes of a channel's sockets (ids of `nsp`) until the end of this event-loop turn
   * (`turn`), or of the current task (`task`: once its microtasks ran) unless something holds them
   * to the turn's end meanwhile. A socket that joins the channel later in the same turn writes at
   * once, as without batching.
   */
  hold(nsp: Namespace, channel: string, socketIds: Iterable<string>, until: 'task' | 'turn' = 'turn'): void {
    if (until === 'turn' && !this.scheduled) {
      this.scheduled = true;
      setImmediate(this.releaseNext);
    }
    if (!this.channels.has(channel)) {
      this.channels.add(channel);
      for (const id of socketIds) {
        const transport = (nsp.sockets.get(id)?.conn as { transport?: EngineTransport } | undefined)?.transport;
        // Not writable: a write is in flight (engine.io flushes its queue when it completes) or
        // this batcher holds it already. Long-polling transports write once per poll anyway.
        if (!transport || transport.name !== 'websocket' || transport.writable !== true) continue;
        transport.writable = false;
        this.held.push(transport);
      }
    }
    if (until === 'task' && !this.scheduled && !this.taskScheduled) {
      this.taskScheduled = true;
      queueMicrotask(this.releaseTask);
    }
  }

  /** One hop more: callbacks queued in this turn, behind the first hop, run before the release. */
  private readonly releaseNext = (): void => {
    setImmediate(this.release);
  };

  /** The end of the task that held only for itself: let go, unless a later event holds to the turn's end. */
  private readonly releaseTask = (): void => {
    this.taskScheduled = false;
    if (!this.scheduled) this.release();
  };

  /** Writes what the held transports queued, one corked write each. */
  private readonly release = (): void => {
    this.scheduled = false;
    this.channels.clear();
    const held = this.held;
    if (held.length === 0) return;
    this.held = [];
    for (const transport of held) {
      transport.writable = true;
      const tcp = transport.socket?._socket;
      tcp?.cork?.();
      try {
        // engine.io's socket flushes its queue to the transport on `ready` (a closed one ignores it).
        transport.emit('ready');
      } finally {
        tcp?.uncork?.();
      }
    }
  };

  /** Transports held now (for tests). */
  get size(): number {
    return this.held.length;
  }
}
