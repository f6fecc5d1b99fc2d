import type { PantheonClient, RoomEvent, RoomSnapshot, TurnStatus } from '../../src/client';

const ENDED: readonly TurnStatus[] = ['completed', 'partial', 'failed', 'cancelled', 'interrupted'];

/**
 * What an app built on the SDK shows of one room's turns: each agent's text and whether the turn
 * ended, from live events and from the snapshots that rejoins bring. A committed message in a
 * snapshot is final; a turn in flight shows its partial text, followed by the frames after its
 * position (of its epoch with a higher seq, or of a later epoch).
 */
export class RoomView {
  private readonly texts = new Map<string, Map<string, string>>();
  private readonly final = new Set<string>();
  private readonly from = new Map<string, { epoch: string; seq: number }>();
  /** `turn:end` events received, per turn. */
  readonly endEvents = new Map<string, number>();
  /** How each turn ended, from a `turn:end` or a snapshot. */
  readonly ended = new Map<string, TurnStatus>();
  readonly snapshots: RoomSnapshot[] = [];
  private waiters: (() => boolean)[] = [];

  constructor(client: PantheonClient, roomId: string) {
    client.onSnapshot((s) => s.roomId === roomId && this.snapshot(s));
    client.on('agent:delta', (e) => e.roomId === roomId && this.delta(e));
    client.on('turn:end', (e) => {
      if (e.roomId !== roomId) return;
      this.endEvents.set(e.turnId, (this.endEvents.get(e.turnId) ?? 0) + 1);
      this.ended.set(e.turnId, e.status);
      this.poke();
    });
  }

  textOf(turnId: string, agentKey: string): string | undefined {
    return this.texts.get(turnId)?.get(agentKey);
  }

  /** Resolves once `check` holds, looked at after every event and snapshot. */
  until(check: () => boolean): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve) =>
      this.waiters.push(() => {
        if (!check()) return false;
        resolve();
        return true;
      }),
    );
  }

  private poke() {
    this.waiters = this.waiters.filter((w) => !w());
  }

  private set(turnId: string, agentKey: string, text: string) {
    let t = this.texts.get(turnId);
    if (!t) this.texts.set(turnId, (t = new Map()));
    t.set(agentKey, text);
  }

  private snapshot(s: RoomSnapshot) {
    this.snapshots.push(s);
    for (const m of s.recentMessages) {
      if (m.authorType !== 'agent' || !m.turnId || !m.agentKey) continue;
      this.set(m.turnId, m.agentKey, m.content);
      this.final.add(`${m.turnId}/${m.agentKey}`);
    }
    for (const t of s.recentTurns) if (ENDED.includes(t.status)) this.ended.set(t.turnId, t.status);
    for (const t of s.turnsInFlight) {
      this.from.set(t.turnId, { epoch: t.epoch, seq: t.seq });
      for (const [agentKey, text] of Object.entries(t.partialText)) {
        if (!this.final.has(`${t.turnId}/${agentKey}`)) this.set(t.turnId, agentKey, text);
      }
    }
    this.poke();
  }

  private delta(e: RoomEvent<'agent:delta'>) {
    if (this.final.has(`${e.turnId}/${e.agentKey}`)) return;
    const from = this.from.get(e.turnId);
    if (from && from.epoch === e.epoch && e.seq <= from.seq) return;
    this.set(e.turnId, e.agentKey, (this.textOf(e.turnId, e.agentKey) ?? '') + e.text);
    this.poke();
  }
}
