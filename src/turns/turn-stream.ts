import type { RoomEvent, RoomEventName, RoomEventPayloads } from '../contract/events';
import type { Broadcaster } from '../events/broadcaster';
import type { Logger } from '../shared/logger';
import { DeltaCoalescer } from './delta-coalescer';

/**
 * The text of a turn's `agent:delta` frames sent so far, per agent, and the position (epoch, seq)
 * of its latest event sent; seq 0 before its first.
 */
export interface StreamedText {
  partialText: Record<string, string>;
  epoch: string;
  seq: number;
}

/**
 * The room events of one running turn, sent strictly in the order they were raised (see emit).
 * Agent text is merged by a DeltaCoalescer into fewer `agent:delta`
 * frames, and what those frames carried is kept for the snapshot of a client joining mid-turn.
 */
export class TurnStream {
  private chain: Promise<unknown> = Promise.resolve();
  private readonly coalescer: DeltaCoalescer<string>;
  private readonly sent: Record<string, string> = {};
  private sentAt = { epoch: '', seq: 0 };
  /** An agent's end not sent yet: its last text and its `agent:end` (see endAgent). */
  private closing: { agentKey: string; text: string; end: RoomEventPayloads['agent:end']; timer: NodeJS.Timeout } | undefined;

  constructor(
    private readonly broadcaster: Broadcaster,
    private readonly roomId: string,
    turnId: string,
    deltaFlushMs: number,
    private readonly logger: Logger,
    /** How long an agent's end may wait for the turn's next event (AGENT_END_HOLD_MS); 0: not at all. */
    private readonly endHoldMs: number,
  ) {
    this.coalescer = new DeltaCoalescer<string>(deltaFlushMs, (agentKey, text) => {
      this.sendAgentEnd();
      this.publishDelta(turnId, agentKey, text);
    });
  }

  private publishDelta(turnId: string, agentKey: string, text: string): void {
    this.publish('agent:delta', { turnId, agentKey, text }, () => {
      this.sent[agentKey] = (this.sent[agentKey] ?? '') + text;
    });
  }

  /**
   * Publishes an event now; `onSent` runs with the stamped event once it has gone out, after those
   * of the events raised before it. Publishing starts at once rather than after the previous
   * publish answered: both broadcasters take their seq in the order publish() is called (memory:
   * synchronously; Redis: the scripts go out in call order on one connection, which Redis runs in
   * order), so a burst of tokens is in flight together instead of one Redis round trip apart.
   */
  emit<E extends RoomEventName>(event: E, payload: RoomEventPayloads[E], onSent?: (sent: RoomEvent<E>) => void): void {
    this.sendAgentEnd();
    this.publish(event, payload, onSent);
  }

  /**
   * An agent's end: its last text and its `agent:end`, sent with the turn's next event (the next
   * agent's `agent:start`, `summary:started`) or, for the turn's last agent, when the executor
   * calls sendAgentEnd once the commit answered, so that they leave in one write with `turn:end`
   * and the commit has the machine meanwhile. Sent after `endHoldMs` at the latest (a slow or
   * retrying database does not hold an answer's end from its readers).
   */
  endAgent(agentKey: string, end: RoomEventPayloads['agent:end']): void {
    this.sendAgentEnd();
    if (this.endHoldMs <= 0) {
      this.flush(agentKey);
      this.publish('agent:end', end);
      return;
    }
    const text = this.coalescer.take(agentKey);
    const timer = setTimeout(() => this.sendAgentEnd(), this.endHoldMs);
    timer.unref?.();
    this.closing = { agentKey, text, end, timer };
  }

  /** Sends the agent's end that endAgent holds, if any. */
  sendAgentEnd(): void {
    const c = this.closing;
    if (!c) return;
    this.closing = undefined;
    clearTimeout(c.timer);
    if (c.text) this.publishDelta(c.end.turnId, c.agentKey, c.text);
    this.publish('agent:end', c.end);
  }

  private publish<E extends RoomEventName>(event: E, payload: RoomEventPayloads[E], onSent?: (sent: RoomEvent<E>) => void): void {
    const published = this.broadcaster.publish(this.roomId, event, payload);
    this.chain = this.chain.then(() =>
      published.then(
        (sent) => {
          // The text and the position move together: the text holds every frame of the turn up to
          // its latest event, whatever the event (the later that is, the fresher a snapshot).
          this.sentAt = { epoch: sent.epoch, seq: sent.seq };
          onSent?.(sent);
        },
        (err) => {
          // A lost live frame must not fail the turn: its records are committed all the same.
          this.logger.warn('room event publish failed', { event, err });
        },
      ),
    );
  }

  /** Streams an agent's text: merged, at most one frame per flush interval. */
  delta(agentKey: string, text: string): void {
    this.coalescer.push(agentKey, text);
  }

  /** A boundary of the agent's stream (tool call, agent end): its buffered text goes out now. */
  flush(agentKey: string): void {
    this.coalescer.flush(agentKey);
  }

  /** Every agent's buffered text goes out now (an agent's end held by endAgent keeps its own). */
  flushAll(): void {
    this.coalescer.flushAll();
  }

  /** Waits for everything raised so far (before `turn:end`; an agent's end still held is not raised yet). */
  drain(): Promise<unknown> {
    return this.chain;
  }

  /** What the turn's `agent:delta` frames have carried so far. */
  streamed(): StreamedText {
    return { partialText: { ...this.sent }, ...this.sentAt };
  }
}
