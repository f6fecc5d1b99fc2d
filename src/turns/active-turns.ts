import type { InFlightTurn } from '../contract/events';
import type { PartialAgentText } from '../db/entities';
import type { LocalTurns } from './cross-node-turns';
import type { TurnStream } from './turn-stream';

/** A turn running on this node. */
export interface ActiveTurn {
  readonly roomId: string;
  readonly sessionId: string;
  /** Aborting it cancels the turn: the model call in flight stops, what streamed is kept. */
  readonly abort: AbortController;
  /** The agent speaking now, null between agents. */
  agentKey: string | null;
  /** The agents that have started speaking, in order, with the message each will be stored as. */
  readonly speakers: Omit<PartialAgentText, 'text'>[];
  readonly stream: Pick<TurnStream, 'streamed'>;
  /**
   * Set when the node shut down while the turn waited for a tool approval: the turn is put back in
   * the queue (not committed) and runs again elsewhere, where the stored approval is answered.
   */
  shelved: boolean;
  /** Tool calls of the turn waiting for a member's approval right now. */
  awaitingApproval: number;
  /** Their decisions in progress: a cancelled turn waits for them to close before it commits. */
  readonly approvalWaits: Set<Promise<unknown>>;
}

/** The turns running on this node: what cancels them and what a joining client's snapshot shows. */
/** How long, and how many, cancels of turns not (yet) running here are remembered. */
const EARLY_CANCEL_MS = 60_000;
const EARLY_CANCELS_MAX = 10_000;

export class ActiveTurns implements LocalTurns {
  private readonly turns = new Map<string, ActiveTurn>();
  /**
   * Cancels that came before their turn started here (claimed, still loading its context): the
   * turn is aborted as it registers. Bounded in time and number; most name turns of other nodes.
   */
  private readonly early = new Map<string, number>();

  /** Registers a turn starting here, with a fresh abort controller (aborted already if a cancel came first). */
  start(turnId: string, t: { roomId: string; sessionId: string; stream: ActiveTurn['stream'] }): ActiveTurn {
    const active: ActiveTurn = { roomId: t.roomId, sessionId: t.sessionId, abort: new AbortController(), agentKey: null, speakers: [], stream: t.stream, shelved: false, awaitingApproval: 0, approvalWaits: new Set() };
    this.turns.set(turnId, active);
    const at = this.early.get(turnId);
    if (at !== undefined) {
      this.early.delete(turnId);
      if (Date.now() - at < EARLY_CANCEL_MS) active.abort.abort();
    }
    return active;
  }

  end(turnId: string): void {
    this.turns.delete(turnId);
  }

  /** Aborts a turn running on this node; false when it is not here. */
  cancel(turnId: string): boolean {
    const t = this.turns.get(turnId);
    if (!t) {
      this.rememberEarly(turnId);
      return false;
    }
    t.abort.abort();
    return true;
  }

  private rememberEarly(turnId: string): void {
    const now = Date.now();
    // Oldest first: drop the expired ones, and the oldest past the cap.
    for (const [id, at] of this.early) {
      if (now - at < EARLY_CANCEL_MS && this.early.size < EARLY_CANCELS_MAX) break;
      this.early.delete(id);
    }
    this.early.set(turnId, now);
  }

  /**
   * At shutdown: turns waiting for a tool approval stop here without committing (`shelved`); their
   * executor puts them back in the queue. Marked before any cancel, so none of them ends cancelled.
   */
  shelveAwaiting(): void {
    for (const t of this.turns.values()) {
      if (t.awaitingApproval > 0) {
        t.shelved = true;
        t.abort.abort();
      }
    }
  }

  /** Cancels everything running here (shutdown); each turn still commits and ends. */
  cancelAll(): void {
    for (const t of this.turns.values()) t.abort.abort();
  }

  /**
   * What a turn running here has streamed to the room so far, per agent in speaking order: the
   * heartbeat checkpoints it, so a crash keeps what everyone saw. Undefined when not running here.
   */
  checkpoint(turnId: string): PartialAgentText[] | undefined {
    const t = this.turns.get(turnId);
    if (!t) return undefined;
    const { partialText } = t.stream.streamed();
    return t.speakers.filter((s) => partialText[s.agentKey]).map((s) => ({ ...s, text: partialText[s.agentKey]! }));
  }

  /** Turns running on this node in a room, with the text streamed so far. */
  inFlight(roomId: string): InFlightTurn[] {
    return [...this.turns.entries()]
      .filter(([, t]) => t.roomId === roomId)
      .map(([turnId, t]) => ({ turnId, sessionId: t.sessionId, status: 'running', agentKey: t.agentKey, ...t.stream.streamed() }));
  }
}
