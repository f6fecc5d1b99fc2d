import type { RoomEvent, RoomEventName, RoomEventPayloads } from '../contract/events';
import type { Broadcaster } from '../events/broadcaster';
import type { Logger } from '../shared/logger';

/**
 * The room events of one turn, sent strictly in the order they were raised: callbacks from the
 * model stream fire synchronously, publishing is asynchronous, so each publish is chained after
 * the previous one. `drain()` waits for everything raised so far (before a commit or `turn:end`).
 */
export class TurnEventStream {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly broadcaster: Broadcaster,
    private readonly roomId: string,
    private readonly logger: Logger,
  ) {}

  /** Queues an event; `onSent` runs with the stamped event once it has gone out. */
  emit<E extends RoomEventName>(event: E, payload: RoomEventPayloads[E], onSent?: (sent: RoomEvent<E>) => void): void {
    this.chain = this.chain.then(() =>
      this.broadcaster.publish(this.roomId, event, payload).then(onSent, (err) => {
        // A lost live frame must not fail the turn: its records are committed all the same.
        this.logger.warn('room event publish failed', { event, err });
      }),
    );
  }

  drain(): Promise<unknown> {
    return this.chain;
  }
}
