import type { InFlightTurn } from '../contract/events';
import type { NodeBus } from '../events/node-bus';
import type { Logger } from '../shared/logger';

/** A snapshot must not wait on a node that does not answer. */
const GATHER_TIMEOUT_MS = 1000;

/** What this node knows of the turns it runs. */
export interface LocalTurns {
  /** Aborts a turn running here; false when it is not here. */
  cancel(turnId: string): boolean;
  inFlight(roomId: string): InFlightTurn[];
}

/**
 * The turns of every node, through the node bus: abort a turn wherever it runs, and collect the
 * partial text of a room's turns in flight on any node (for a joining client's snapshot).
 */
export class CrossNodeTurns {
  constructor(
    private readonly bus: NodeBus,
    private readonly local: LocalTurns,
    private readonly logger: Logger,
  ) {
    bus.handle('turn:cancel', (turnId) => local.cancel(String(turnId)));
    bus.handle('turn:in-flight', (roomId) => local.inFlight(String(roomId)));
  }

  abort(turnId: string): void {
    if (!this.local.cancel(turnId)) this.bus.publish('turn:cancel', turnId);
  }

  async inFlight(roomId: string): Promise<InFlightTurn[]> {
    const local = this.local.inFlight(roomId);
    try {
      const remote = await this.bus.gather<InFlightTurn[] | null>('turn:in-flight', roomId, GATHER_TIMEOUT_MS);
      return [...local, ...remote.flatMap((r) => (Array.isArray(r) ? r : []))];
    } catch (err) {
      this.logger.warn('gathering turns in flight from other nodes failed', { roomId, err });
      return local;
    }
  }
}
