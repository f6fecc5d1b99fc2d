import type { TestClient } from './socket-client';

/** What one socket received of one room, from its join point on. */
export interface SeqAudit {
  /** Events whose seq was not above every seq already received (sent twice, or out of order). */
  duplicates: number;
  /** Jumps: an event whose seq skipped past the next expected one. */
  gaps: number;
  /** Events counted. */
  received: number;
}

/**
 * Audits the room's seqs as one socket received them: after `from` (the seq its join ack gave),
 * every event must carry the next seq, exactly once.
 */
export function auditSeqs(c: TestClient, roomId: string, from: number): SeqAudit {
  let last = from;
  const a: SeqAudit = { duplicates: 0, gaps: 0, received: 0 };
  for (const { data } of c.roomEvents(roomId)) {
    a.received++;
    if (data.seq <= last) a.duplicates++;
    else {
      // A merged delta of a catch-up stands for fromSeq..seq.
      if ((data.fromSeq ?? data.seq) > last + 1) a.gaps++;
      last = data.seq;
    }
  }
  return a;
}

/** Sums audits. */
export const totalOf = (audits: SeqAudit[]): SeqAudit =>
  audits.reduce((t, a) => ({ duplicates: t.duplicates + a.duplicates, gaps: t.gaps + a.gaps, received: t.received + a.received }), {
    duplicates: 0,
    gaps: 0,
    received: 0,
  });
